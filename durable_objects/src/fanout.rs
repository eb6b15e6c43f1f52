//! Sending published frames to an object's subscribers. Below the coalescing threshold a frame goes out as it is
//! published. Above it (many sockets: a send pass costs ≈ 12 µs a socket, and sending inside every write makes
//! concurrent writers queue behind passes), the write is acknowledged as soon as it is durable, its frame joins the
//! pending batch, and one pass, run once the current event is over, sends the whole batch (consecutive updates
//! combined into one `updates` frame). At most one pass is pending; writes that arrive during a pass join the
//! next. Snapshots flush first, and resumes answer only what was sent, so every socket sees every update once, in
//! `seq` order.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen::JsValue;

use crate::broadcast;
use crate::telemetry::ObjectMetric;
use crate::worker_link;
use standings::live::{self, PendingFrame};

/// The subscribers' side of an object: frames waiting for the next send pass, and how far sending has got.
pub struct Fanout {
    /// The object's `DurableObjectState` (its sockets).
    state: JsValue,
    pending: RefCell<Vec<PendingFrame>>,
    /// Whether a send pass is scheduled.
    scheduled: Cell<bool>,
    /// The sequence of the last frame sent to subscribers (what a resume may replay).
    sent_through: Cell<u64>,
    /// Open sockets from which on frames are combined.
    coalesce_from: u64,
    /// Whether a burst of writes in one event is publishing: its frames wait for the pass at its end.
    holding: Cell<bool>,
}

impl Fanout {
    /// A fan-out whose subscribers have seen everything up to `sent_through` (at wake: the board's last sequence).
    pub fn new(state: JsValue, sent_through: u64, coalesce_from: u64) -> Rc<Self> {
        Rc::new(Self {
            state,
            pending: RefCell::new(Vec::new()),
            scheduled: Cell::new(false),
            sent_through: Cell::new(sent_through),
            coalesce_from,
            holding: Cell::new(false),
        })
    }

    /// The last sequence subscribers were sent.
    pub fn sent_through(&self) -> u64 {
        self.sent_through.get()
    }

    /// Queues a published frame (kept for resume already); sent now when the object has few sockets and nothing is
    /// pending, else by the next send pass. Returns the frames sent now.
    pub fn publish(self: &Rc<Self>, seq: u64, is_update: bool, text: String, open_sockets: u64) -> u64 {
        if self.holding.get() {
            self.pending.borrow_mut().push((seq, is_update, text));
            return 0;
        }
        if open_sockets < self.coalesce_from && !self.scheduled.get() && self.pending.borrow().is_empty() {
            let sent = broadcast::to_all_raw(&self.state, &text);
            self.sent_through.set(self.sent_through.get().max(seq));
            return sent;
        }
        self.pending.borrow_mut().push((seq, is_update, text));
        if !self.scheduled.replace(true) {
            let fanout = Rc::clone(self);
            wasm_bindgen_futures::spawn_local(async move {
                // A zero timer: the pass runs after the event that published, and after requests already waiting,
                // whose frames join it.
                worker::Delay::from(Duration::ZERO).await;
                let sent = fanout.flush();
                if sent > 0 {
                    worker_link::add_metric(ObjectMetric::WebsocketMessagesSent, sent as f64);
                }
            });
        }
        0
    }

    /// Runs `burst`, a batch of writes in one event (a page of a totals pass or of a moved end's rescoring), with the
    /// frames it publishes held back, then sends them in one pass, consecutive updates in one `updates` frame,
    /// whatever the threshold: a page of 200 writes to N sockets is then N sends, not 200 × N. Returns what `burst`
    /// returned and the frames sent.
    pub fn in_one_pass<R>(&self, burst: impl FnOnce() -> R) -> (R, u64) {
        self.holding.set(true);
        let result = burst();
        self.holding.set(false);
        (result, self.flush())
    }

    /// Sends every pending frame now (one pass); the frames sent.
    pub fn flush(&self) -> u64 {
        self.scheduled.set(false);
        let pending = std::mem::take(&mut *self.pending.borrow_mut());
        let Some(last) = pending.last().map(|(seq, _, _)| *seq) else { return 0 };
        let sent = live::combine(pending).iter().map(|text| broadcast::to_all_raw(&self.state, text)).sum();
        self.sent_through.set(self.sent_through.get().max(last));
        sent
    }
}
