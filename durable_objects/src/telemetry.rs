//! What the Competition DO contributes to the Worker's metrics (open sockets, frames sent). The metrics module lives
//! in the Worker crate, which depends on this one, so — like the system-of-record sink — the Worker installs hooks at
//! start-up. Without them the object still works; it just reports nothing.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;

use worker::{Env, State};

/// A metrics flush to run after the response.
pub type Flush = Pin<Box<dyn Future<Output = ()>>>;

/// What an object counts (the Worker maps each onto its metric family; no labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectMetric {
    /// Moves of the open-sockets gauge.
    WebsocketConnections,
    /// Frames sent to subscribers.
    WebsocketMessagesSent,
    /// Moves of the dead-letter gauge.
    OutboxDeadLetters,
}

/// The Worker's metrics entry points.
#[derive(Clone, Copy)]
pub struct Hooks {
    /// Adds `by` to the metric in this isolate's pending deltas.
    pub add: fn(ObjectMetric, f64),
    /// The flush of this isolate's deltas, when one is due.
    pub flush_if_due: fn(&Env) -> Option<Flush>,
}

thread_local! {
    static HOOKS: Cell<Option<Hooks>> = const { Cell::new(None) };
}

/// Installs the hooks (the Worker's start event does this once per isolate).
pub fn install(hooks: Hooks) {
    HOOKS.with(|slot| slot.set(Some(hooks)));
}

/// Adds to a metric; nothing happens when no hooks are installed.
pub fn add(metric: ObjectMetric, by: f64) {
    if let Some(hooks) = HOOKS.with(Cell::get) {
        (hooks.add)(metric, by);
    }
}

/// Hands a due flush to the object's `waitUntil`, so no request or socket event waits on Redis.
pub fn flush(state: &State, env: &Env) {
    if let Some(flush) = HOOKS.with(Cell::get).and_then(|hooks| (hooks.flush_if_due)(env)) {
        state.wait_until(flush);
    }
}
