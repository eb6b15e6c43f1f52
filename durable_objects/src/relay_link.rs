//! The competition object's side of its relays: every published frame goes to each relay that joined, once, in
//! batches. One request per relay is in flight at a time; frames published meanwhile wait and leave together with
//! the next one, so a relay sees its batches in order and the competition pays one subrequest per batch and relay,
//! not per frame and socket. A batch that cannot be delivered, or that the relay does not answer within the call's
//! time limit, is retried a few times and then dropped: the relay finds the hole at its next batch and asks for it
//! (`ObjectRequest::Frames`), so nothing a socket needs is lost. The frames waiting for one relay are bounded
//! (`standings::relay::queue_for_relay`), so a relay that is slow to answer cannot grow the competition's memory.
//! A relay without sockets answers a batch by leaving (`relay::Published::left`): its link ends here, and its stored
//! row goes with the next publish (`RelayLinks::take_left`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use worker::Env;

use crate::object_call;
use standings::live::PendingFrame;
use standings::relay::{ends_link, queue_for_relay, Published, RelayRequest, RELAY_BINDING};

/// Attempts for one batch before it is left to the relay's gap filling.
const ATTEMPTS: u32 = 4;
/// Wait between attempts.
const RETRY_AFTER: Duration = Duration::from_millis(100);

/// One relay: frames waiting for it, whether a batch is on its way, and the latest join heard of in this life.
struct RelayLink {
    name: String,
    epoch: Cell<Option<u64>>,
    pending: RefCell<Vec<PendingFrame>>,
    sending: Cell<bool>,
}

/// The linked relays, shared with the sends in flight (a send that hears "left" unlinks its relay).
type Links = Rc<RefCell<Vec<Rc<RelayLink>>>>;

/// The relays of one competition object.
pub struct RelayLinks {
    env: Env,
    /// How long one batch waits for the relay's answer (`ObjectConfig::call_within_ms`).
    within_ms: u32,
    links: Links,
    /// Relays that left since the store last heard: their rows are deleted with the next publish.
    left: Rc<RefCell<Vec<String>>>,
}

impl RelayLinks {
    /// Links to the relays named (those stored when they joined), each batch waiting at most `within_ms` for its
    /// answer.
    pub fn new(env: Env, names: Vec<String>, within_ms: u32) -> Self {
        let links = names.into_iter().map(|name| RelayLink::new(name, None)).collect();
        Self { env, within_ms, links: Rc::new(RefCell::new(links)), left: Rc::default() }
    }

    /// The linked relays' names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.links.borrow().iter().map(|link| link.name.clone()).collect();
        names.sort();
        names
    }

    /// Whether `name` is linked.
    pub fn has(&self, name: &str) -> bool {
        self.links.borrow().iter().any(|link| link.name == name)
    }

    /// Links a relay that joined (frames published from now on reach it), or notes a later join of a linked one.
    pub fn add(&self, name: String, epoch: u64) {
        let links = self.links.borrow();
        if let Some(link) = links.iter().find(|link| link.name == name) {
            link.epoch.set(Some(link.epoch.get().map_or(epoch, |known| known.max(epoch))));
            return;
        }
        drop(links);
        self.links.borrow_mut().push(RelayLink::new(name, Some(epoch)));
    }

    /// Relays that left and have not joined again since: the caller deletes their stored rows.
    pub fn take_left(&self) -> Vec<String> {
        let left = std::mem::take(&mut *self.left.borrow_mut());
        left.into_iter().filter(|name| !self.has(name)).collect()
    }

    /// Whether no relay is linked.
    pub fn is_empty(&self) -> bool {
        self.links.borrow().is_empty()
    }

    /// Queues a published frame for every relay, starting a send where none is on its way.
    pub fn publish(&self, frame: &PendingFrame) {
        for link in self.links.borrow().iter() {
            queue_for_relay(&mut link.pending.borrow_mut(), frame.clone());
            if !link.sending.replace(true) {
                let (link, env, within_ms) = (Rc::clone(link), self.env.clone(), self.within_ms);
                let (links, left) = (Rc::clone(&self.links), Rc::clone(&self.left));
                wasm_bindgen_futures::spawn_local(async move {
                    if link.send_all(&env, within_ms).await == Sent::Left {
                        links.borrow_mut().retain(|other| !Rc::ptr_eq(other, &link));
                        left.borrow_mut().push(link.name.clone());
                    }
                });
            }
        }
    }
}

/// How a run of sends ended.
#[derive(PartialEq)]
enum Sent {
    /// Nothing is pending.
    Done,
    /// The relay left: unlink it.
    Left,
}

impl RelayLink {
    fn new(name: String, epoch: Option<u64>) -> Rc<Self> {
        Rc::new(Self { name, epoch: Cell::new(epoch), pending: RefCell::new(Vec::new()), sending: Cell::new(false) })
    }

    /// Sends batches until nothing is pending, or until the relay leaves.
    async fn send_all(&self, env: &Env, within_ms: u32) -> Sent {
        loop {
            let frames = std::mem::take(&mut *self.pending.borrow_mut());
            if frames.is_empty() {
                self.sending.set(false);
                return Sent::Done;
            }
            let body = RelayRequest::Publish { frames };
            for attempt in 1..=ATTEMPTS {
                match self.send(env, &body, within_ms).await {
                    // A "left" that a later join overtook (the relay's next subscriber) keeps the link.
                    Ok(Published { left: Some(epoch) }) if ends_link(self.epoch.get(), epoch) => {
                        self.pending.borrow_mut().clear();
                        self.sending.set(false);
                        return Sent::Left;
                    }
                    Ok(_) => break,
                    Err(e) if attempt == ATTEMPTS => {
                        worker::console_error!("relay {} missed a batch (it will ask for it): {e}", self.name);
                    }
                    Err(_) => worker::Delay::from(RETRY_AFTER).await,
                }
            }
        }
    }

    async fn send(&self, env: &Env, body: &RelayRequest, within_ms: u32) -> worker::Result<Published> {
        let reply = object_call::post(env, RELAY_BINDING, &self.name, body.name(), body, within_ms).await?;
        Ok(Published::read(&reply))
    }
}
