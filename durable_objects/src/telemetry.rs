//! What the Competition DO contributes to the Worker's metrics (open sockets, frames sent). The metrics module lives
//! in the Worker crate, which depends on this one, so — like the system-of-record sink — the Worker installs hooks at
//! start-up. Without them the object still works; it just reports nothing.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;

use worker::{Env, State};

/// A metrics flush to run after the response.
pub type Flush = Pin<Box<dyn Future<Output = ()>>>;

/// The Worker's metrics entry points.
#[derive(Clone, Copy)]
pub struct Hooks {
    /// Adds `by` to the series `name{labels}` of this isolate's pending deltas.
    pub add: fn(&str, &[(&str, &str)], f64),
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

/// Adds to a series; nothing happens when no hooks are installed.
pub fn add(name: &str, labels: &[(&str, &str)], by: f64) {
    if let Some(hooks) = HOOKS.with(Cell::get) {
        (hooks.add)(name, labels, by);
    }
}

/// Hands a due flush to the object's `waitUntil`, so no request or socket event waits on Redis.
pub fn flush(state: &State, env: &Env) {
    if let Some(flush) = HOOKS.with(Cell::get).and_then(|hooks| (hooks.flush_if_due)(env)) {
        state.wait_until(flush);
    }
}
