//! The competition object's side of its relays: every published frame goes to each relay that joined, once, in
//! batches. One request per relay is in flight at a time; frames published meanwhile wait and leave together with
//! the next one, so a relay sees its batches in order and the competition pays one subrequest per batch and relay,
//! not per frame and socket. A batch that cannot be delivered is retried a few times and then dropped: the relay
//! finds the hole at its next batch and asks for it (`ObjectRequest::Frames`), so nothing a socket needs is lost.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use worker::Env;

use crate::object_call;
use standings::live::PendingFrame;
use standings::relay::{RelayRequest, RELAY_BINDING};

/// Attempts for one batch before it is left to the relay's gap filling.
const ATTEMPTS: u32 = 4;
/// Wait between attempts.
const RETRY_AFTER: Duration = Duration::from_millis(100);

/// One relay: frames waiting for it, and whether a batch is on its way.
struct RelayLink {
    name: String,
    pending: RefCell<Vec<PendingFrame>>,
    sending: Cell<bool>,
}

/// The relays of one competition object.
pub struct RelayLinks {
    env: Env,
    links: RefCell<Vec<Rc<RelayLink>>>,
}

impl RelayLinks {
    /// Links to the relays named (those stored when they joined).
    pub fn new(env: Env, names: Vec<String>) -> Self {
        let links = names.into_iter().map(RelayLink::new).collect();
        Self { env, links: RefCell::new(links) }
    }

    /// Whether `name` is already linked.
    pub fn has(&self, name: &str) -> bool {
        self.links.borrow().iter().any(|link| link.name == name)
    }

    /// Links a relay that joined (frames published from now on reach it).
    pub fn add(&self, name: String) {
        if !self.has(&name) {
            self.links.borrow_mut().push(RelayLink::new(name));
        }
    }

    /// Whether no relay is linked.
    pub fn is_empty(&self) -> bool {
        self.links.borrow().is_empty()
    }

    /// Queues a published frame for every relay, starting a send where none is on its way.
    pub fn publish(&self, frame: &PendingFrame) {
        for link in self.links.borrow().iter() {
            link.pending.borrow_mut().push(frame.clone());
            if !link.sending.replace(true) {
                let link = Rc::clone(link);
                let env = self.env.clone();
                wasm_bindgen_futures::spawn_local(async move { link.send_all(&env).await });
            }
        }
    }
}

impl RelayLink {
    fn new(name: String) -> Rc<Self> {
        Rc::new(Self { name, pending: RefCell::new(Vec::new()), sending: Cell::new(false) })
    }

    /// Sends batches until nothing is pending.
    async fn send_all(&self, env: &Env) {
        loop {
            let frames = std::mem::take(&mut *self.pending.borrow_mut());
            if frames.is_empty() {
                self.sending.set(false);
                return;
            }
            let body = RelayRequest::Publish { frames };
            for attempt in 1..=ATTEMPTS {
                match self.send(env, &body).await {
                    Ok(()) => break,
                    Err(e) if attempt == ATTEMPTS => {
                        worker::console_error!("relay {} missed a batch (it will ask for it): {e}", self.name);
                    }
                    Err(_) => worker::Delay::from(RETRY_AFTER).await,
                }
            }
        }
    }

    async fn send(&self, env: &Env, body: &RelayRequest) -> worker::Result<()> {
        object_call::post(env, RELAY_BINDING, &self.name, body.name(), body).await.map(drop)
    }
}
