//! Where the Competition DO's outbox goes: a sink the Worker's link builds (the PostgREST adapter lives in the Worker
//! crate, which depends on this one, so the dependency is inverted; `worker_link`). Without one, every delivery fails
//! and rows wait in the outbox — nothing is lost.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use uuid::Uuid;
use worker::Env;

use standings::outbox::{DeliveryError, OutboxRow, OutboxSink};
use standings::protocol::FinalResult;

/// A delivery in flight.
pub type Delivery<'a> = Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + 'a>>;

/// Writes one competition's outbox rows and final results to the system of record, idempotently.
pub trait RecordSink {
    /// Delivers score changes of `competition_id` (idempotent by `seq`).
    fn deliver<'a>(&'a self, competition_id: Uuid, rows: &'a [OutboxRow]) -> Delivery<'a>;
    /// Delivers final results of `competition_id` (idempotent by rank).
    fn deliver_final<'a>(&'a self, competition_id: Uuid, results: &'a [FinalResult]) -> Delivery<'a>;
}

/// Builds the sink from the object's environment (settings and bindings).
pub type SinkFactory = fn(&Env) -> Result<Rc<dyn RecordSink>, String>;

/// Adapts a [`RecordSink`] for one competition to the outbox's delivery interface.
pub struct CompetitionSink {
    /// The competition the rows belong to.
    pub competition_id: Uuid,
    /// The installed sink.
    pub sink: Rc<dyn RecordSink>,
}

impl OutboxSink for CompetitionSink {
    async fn deliver(&self, rows: &[OutboxRow]) -> Result<(), DeliveryError> {
        self.sink.deliver(self.competition_id, rows).await
    }
}
