//! The one way from a Competition object into the Worker crate: the system-of-record sink, the token verifier and
//! the metrics. The Worker crate depends on this one, and the runtime constructs objects itself with only their
//! `State` and `Env`, so the Worker installs a `WorkerLink` at start-up: this crate's one global, set once per
//! isolate. Without it an object still works: deliveries fail and rows wait in the outbox, socket refreshes are
//! refused (sockets close when their token expires), and nothing is counted.

use std::cell::Cell;
use std::rc::Rc;

use uuid::Uuid;
use worker::{Env, State};

use crate::system_of_record::{RecordSink, SinkFactory};
use crate::telemetry::{Flush, ObjectMetric};
use crate::token_check::{Refusal, Verifier};

/// The Worker's entry points an object calls.
#[derive(Clone, Copy)]
pub struct WorkerLink {
    /// Builds the sink the outbox delivers to, from the object's environment.
    pub record_sink: SinkFactory,
    /// Verifies a live socket's bearer token.
    pub verify: Verifier,
    /// Adds `by` to the metric in this isolate's pending deltas.
    pub add_metric: fn(ObjectMetric, f64),
    /// The flush of this isolate's metric deltas, when one is due.
    pub flush_if_due: fn(&Env) -> Option<Flush>,
}

thread_local! {
    static LINK: Cell<Option<WorkerLink>> = const { Cell::new(None) };
}

/// Installs the link (the Worker's start event does this once per isolate).
pub fn install(link: WorkerLink) {
    LINK.with(|slot| slot.set(Some(link)));
}

fn installed() -> Option<WorkerLink> {
    LINK.with(Cell::get)
}

/// The system-of-record sink for `env`, or why there is none.
pub fn record_sink(env: &Env) -> Result<Rc<dyn RecordSink>, String> {
    let link = installed().ok_or("no system-of-record sink installed")?;
    (link.record_sink)(env)
}

/// Verifies a live socket's `token`: its user and expiry, or why not.
pub async fn verify(env: &Env, token: String) -> Result<(Uuid, i64), Refusal> {
    let link = installed().ok_or_else(|| Refusal::Invalid("no token verifier installed".to_owned()))?;
    (link.verify)(env, token).await
}

/// Adds to a metric; nothing happens when no link is installed.
pub fn add_metric(metric: ObjectMetric, by: f64) {
    if let Some(link) = installed() {
        (link.add_metric)(metric, by);
    }
}

/// Hands a due metrics flush to the object's `waitUntil`, so no request or socket event waits on Redis.
pub fn flush_metrics(state: &State, env: &Env) {
    if let Some(flush) = installed().and_then(|link| (link.flush_if_due)(env)) {
        state.wait_until(flush);
    }
}
