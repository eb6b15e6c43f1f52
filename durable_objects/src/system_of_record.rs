//! Where the Competition DO's outbox goes: a sink the Worker's link builds (the PostgREST adapter lives in the Worker
//! crate, which depends on this one, so the dependency is inverted; `worker_link`). Without one, every delivery fails
//! and rows wait in the outbox — nothing is lost.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use uuid::Uuid;
use worker::Env;

use standings::outbox::{DeliveryError, OutboxRow, OutboxSink};
use standings::protocol::{FinalResult, Person, ScoreWrite};

/// A delivery in flight.
pub type Delivery<'a> = Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + 'a>>;

/// A read of members' totals in flight (the reason as text when it failed).
pub type TotalsRead<'a> = Pin<Box<dyn Future<Output = Result<DaysTotals, String>> + 'a>>;

/// A read of member changes since the last one applied, in flight (the reason as text when it failed).
pub type MemberChangesRead<'a> = Pin<Box<dyn Future<Output = Result<Vec<MemberChange>, String>> + 'a>>;

/// Something that happened to a member's account in the system of record, however it happened (numbered in the
/// order it happened there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberChange {
    /// The change's number, increasing as changes are written (not as they commit); the object names the ones it
    /// applied at its next read, which deletes them.
    pub id: i64,
    /// The member.
    pub user_id: Uuid,
    /// Their name and avatar as they are now; `None` when the account was deleted.
    pub person: Option<Person>,
}

/// A page of a fitness competition's members' totals computed from their stored days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaysTotals {
    /// One write per member of the page (a total of 0 included), each carrying the member's days version.
    pub writes: Vec<ScoreWrite>,
    /// Where the next page starts; `None` after the last.
    pub next: Option<Uuid>,
}

/// Writes one competition's outbox rows and final results to the system of record, idempotently, and reads its
/// members' totals from their stored days there (a fitness competition's start, and its end).
pub trait RecordSink {
    /// Delivers score changes of `competition_id` (idempotent by `seq`).
    fn deliver<'a>(&'a self, competition_id: Uuid, rows: &'a [OutboxRow]) -> Delivery<'a>;
    /// Delivers final results of `competition_id` (idempotent by rank).
    fn deliver_final<'a>(&'a self, competition_id: Uuid, results: &'a [FinalResult]) -> Delivery<'a>;
    /// Reads a page (after `after`, in user-id order) of the fitness competition's members with a stored day that
    /// may count within `window` (from, to; epoch ms), each member's total computed from their days, written at
    /// `at_ms`.
    /// Fails when the system of record does not consider the competition started yet.
    fn days_totals(&self, competition_id: Uuid, window: (i64, i64), after: Option<Uuid>, at_ms: i64) -> TotalsRead<'_>;
    /// Reads a page (after `after`, in user-id order) of the fitness competition's members with a stored day, each
    /// member's total computed from their days as the competition counted them at `at_ms` and written at `at_ms`, at
    /// their current days version (not raised, so the object takes only totals newer than its own). Members with a
    /// recorded score correction in the competition are left out (corrections stand), and members whose days the
    /// system of record does not count for the competition at `at_ms` get no write.
    fn current_totals(&self, competition_id: Uuid, after: Option<Uuid>, at_ms: i64) -> TotalsRead<'_>;
    /// Reads a page of `competition_id`'s member changes (renames, new avatars, deleted accounts), oldest first,
    /// after deleting there the ones numbered in `done` (applied, and their numbers stored).
    fn member_changes(&self, competition_id: Uuid, done: Vec<i64>) -> MemberChangesRead<'_>;
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
