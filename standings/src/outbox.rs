//! The outbox: accepted score changes waiting to be written to the system of record (Postgres via PostgREST).
//!
//! Rows are appended in the same synchronous block as the score itself (so SQLite commits both or neither) and
//! removed only after the sink accepted them. The object's alarm drains it; alarms run at least once and may run
//! again after a failure half-way, so draining is idempotent: rows carry the object's update `seq`, the sink
//! upserts by it, and acknowledging removes exactly the rows up to the last delivered `seq`.
//!
//! A row the system of record refuses for good (a 4xx: a constraint it breaks, a user deleted meanwhile) must not
//! block the rows behind it. A permanent refusal halves the batch until the refused row is alone; refused alone
//! [`DEAD_AFTER`] times, it moves to the dead letters (kept in the object, counted by the `outbox_dead_letters`
//! gauge, listed and retried by an administrator) and delivery goes on with the next row.

use uuid::Uuid;

/// A row set aside after the system of record refused it for good.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DeadLetter {
    /// The change's update sequence.
    pub seq: i64,
    /// Whose score (as stored).
    pub user_id: String,
    /// The score.
    pub score: i64,
    /// When the change was accepted (epoch ms).
    pub updated_ms: i64,
    /// Why the system of record refused it.
    pub error: String,
    /// When it was set aside (epoch ms).
    pub failed_ms: i64,
}

/// Rows sent to the sink per delivery.
pub const BATCH: usize = 500;
/// First retry delay after a failed delivery.
pub const BACKOFF_BASE_MS: u64 = 1_000;
/// Longest retry delay.
pub const BACKOFF_MAX_MS: u64 = 5 * 60 * 1_000;
/// Permanent refusals of a row delivered alone before it is set aside as a dead letter.
pub const DEAD_AFTER: u32 = 3;

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    /// The system of record refused the rows themselves (a 4xx): sending them again cannot succeed.
    pub permanent: bool,
    /// What went wrong, for the log and the dead letter.
    pub message: String,
}

impl DeliveryError {
    /// A failure that may pass (an outage, a timeout, a 5xx).
    pub fn transient(message: impl Into<String>) -> Self {
        Self { permanent: false, message: message.into() }
    }

    /// A refusal of the rows themselves.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self { permanent: true, message: message.into() }
    }
}

/// One accepted change for the system of record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// The object's update sequence of the change (unique, increasing).
    pub seq: u64,
    /// Whose score.
    pub user_id: Uuid,
    /// The score.
    pub score: u64,
    /// When the Worker accepted it, milliseconds since the epoch.
    pub updated_ms: i64,
}

/// Where pending rows live (the object's SQLite; memory in tests).
pub trait OutboxStore {
    /// Storage failure.
    type Error: std::fmt::Display;
    /// Up to `limit` pending rows, oldest first.
    fn pending(&self, limit: usize) -> Result<Vec<OutboxRow>, Self::Error>;
    /// Removes every row with `seq <= upto`.
    fn acknowledge(&self, upto: u64) -> Result<(), Self::Error>;
    /// Consecutive failed deliveries so far.
    fn failures(&self) -> Result<u32, Self::Error>;
    /// Records the count of consecutive failed deliveries.
    fn set_failures(&self, failures: u32) -> Result<(), Self::Error>;
    /// Rows per delivery now ([`BATCH`] unless a permanent refusal narrowed it).
    fn batch_limit(&self) -> Result<usize, Self::Error>;
    /// Records the rows per delivery.
    fn set_batch_limit(&self, limit: usize) -> Result<(), Self::Error>;
    /// Moves `row` from the outbox to the dead letters, with why it was refused.
    fn dead_letter(&self, row: &OutboxRow, error: &str) -> Result<(), Self::Error>;
}

/// Where rows go (PostgREST in production; a recorder in tests).
#[allow(async_fn_in_trait)] // single-threaded runtime: the futures need not be Send
pub trait OutboxSink {
    /// Writes the rows durably and idempotently (an upsert keyed by competition, user and `seq`).
    async fn deliver(&self, rows: &[OutboxRow]) -> Result<(), DeliveryError>;
}

/// What one drain did, and when the alarm should run next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drained {
    /// Nothing was pending: no alarm needed.
    Empty,
    /// Delivered `rows`; `more` pending means run again soon.
    Delivered { rows: usize, more: bool },
    /// The sink failed; retry after `retry_in_ms`.
    Failed { retry_in_ms: u64, error: String },
    /// The sink refused a batch for good: the next delivery sends `to` rows, to find the refused one.
    Narrowed { to: usize, error: String },
    /// The row with `seq` was refused alone [`DEAD_AFTER`] times and set aside; the rest goes on.
    DeadLettered { seq: u64, error: String },
}

/// Delay before retry number `failures` (1-based): doubling from one second, capped at five minutes.
pub fn backoff_ms(failures: u32) -> u64 {
    let doublings = failures.saturating_sub(1).min(20);
    (BACKOFF_BASE_MS << doublings).min(BACKOFF_MAX_MS)
}

/// Delivers one batch of pending rows and acknowledges them, or records the failure.
pub async fn drain<S: OutboxStore, K: OutboxSink>(store: &S, sink: &K) -> Result<Drained, S::Error> {
    let limit = store.batch_limit()?.clamp(1, BATCH);
    let rows = store.pending(limit + 1)?;
    if rows.is_empty() {
        return Ok(Drained::Empty);
    }
    let batch = &rows[..rows.len().min(limit)];
    let last = batch[batch.len() - 1].seq;
    match sink.deliver(batch).await {
        Ok(()) => {
            store.acknowledge(last)?;
            store.set_failures(0)?;
            if limit < BATCH {
                // The refused row may be behind us: widen again step by step.
                store.set_batch_limit((limit * 2).min(BATCH))?;
            }
            Ok(Drained::Delivered { rows: batch.len(), more: rows.len() > batch.len() })
        }
        Err(DeliveryError { permanent: true, message }) if batch.len() > 1 => {
            let to = batch.len() / 2;
            store.set_batch_limit(to)?;
            Ok(Drained::Narrowed { to, error: message })
        }
        Err(DeliveryError { permanent, message }) => {
            let failures = store.failures()?.saturating_add(1);
            if permanent && failures >= DEAD_AFTER {
                store.dead_letter(&batch[0], &message)?;
                store.set_failures(0)?;
                return Ok(Drained::DeadLettered { seq: batch[0].seq, error: message });
            }
            store.set_failures(failures)?;
            Ok(Drained::Failed { retry_in_ms: backoff_ms(failures), error: message })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// Runs a future whose every await is immediately ready (the test doubles never wait).
    fn ready<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("test doubles never wait"),
        }
    }

    #[derive(Default)]
    struct MemoryStore {
        rows: RefCell<Vec<OutboxRow>>,
        failures: Cell<u32>,
        limit: Cell<Option<usize>>,
        dead: RefCell<Vec<(u64, String)>>,
    }

    impl OutboxStore for MemoryStore {
        type Error = String;
        fn pending(&self, limit: usize) -> Result<Vec<OutboxRow>, String> {
            Ok(self.rows.borrow().iter().take(limit).cloned().collect())
        }
        fn acknowledge(&self, upto: u64) -> Result<(), String> {
            self.rows.borrow_mut().retain(|r| r.seq > upto);
            Ok(())
        }
        fn failures(&self) -> Result<u32, String> {
            Ok(self.failures.get())
        }
        fn set_failures(&self, failures: u32) -> Result<(), String> {
            self.failures.set(failures);
            Ok(())
        }
        fn batch_limit(&self) -> Result<usize, String> {
            Ok(self.limit.get().unwrap_or(BATCH))
        }
        fn set_batch_limit(&self, limit: usize) -> Result<(), String> {
            self.limit.set(Some(limit));
            Ok(())
        }
        fn dead_letter(&self, row: &OutboxRow, error: &str) -> Result<(), String> {
            self.rows.borrow_mut().retain(|r| r.seq != row.seq);
            self.dead.borrow_mut().push((row.seq, error.to_owned()));
            Ok(())
        }
    }

    /// Records every delivery and keeps what it accepted, like the database; fails while `failing` is set, and
    /// refuses for good any batch holding a seq of `poison`.
    #[derive(Default)]
    struct RecordingSink {
        calls: RefCell<Vec<Vec<u64>>>,
        accepted: RefCell<Vec<u64>>,
        failing: Cell<bool>,
        poison: RefCell<Vec<u64>>,
    }

    impl OutboxSink for RecordingSink {
        async fn deliver(&self, rows: &[OutboxRow]) -> Result<(), DeliveryError> {
            self.calls.borrow_mut().push(rows.iter().map(|r| r.seq).collect());
            if self.failing.get() {
                return Err(DeliveryError::transient("database unavailable"));
            }
            if rows.iter().any(|r| self.poison.borrow().contains(&r.seq)) {
                return Err(DeliveryError::permanent("violates a constraint"));
            }
            self.accepted.borrow_mut().extend(rows.iter().map(|r| r.seq));
            Ok(())
        }
    }

    /// Drains until the outbox is empty (at most `runs` times); what each run did.
    fn drain_all(store: &MemoryStore, sink: &RecordingSink, runs: usize) -> Vec<Drained> {
        let mut outcomes = Vec::new();
        for _ in 0..runs {
            match ready(drain(store, sink)) {
                Ok(Drained::Empty) => return outcomes,
                Ok(outcome) => outcomes.push(outcome),
                Err(e) => panic!("{e}"),
            }
        }
        outcomes
    }

    fn store_with(seqs: std::ops::RangeInclusive<u64>) -> MemoryStore {
        let store = MemoryStore::default();
        store.rows.borrow_mut().extend(seqs.map(|seq| OutboxRow {
            seq,
            user_id: Uuid::from_u128(u128::from(seq)),
            score: seq * 10,
            updated_ms: 0,
        }));
        store
    }

    #[test]
    fn an_empty_outbox_needs_no_delivery() {
        let (store, sink) = (MemoryStore::default(), RecordingSink::default());
        assert_eq!(ready(drain(&store, &sink)), Ok(Drained::Empty));
        assert!(sink.calls.borrow().is_empty());
    }

    #[test]
    fn batches_are_delivered_in_order_and_removed_only_after_success() {
        let store = store_with(1..=1_200);
        let sink = RecordingSink::default();
        assert_eq!(ready(drain(&store, &sink)), Ok(Drained::Delivered { rows: BATCH, more: true }));
        assert_eq!(ready(drain(&store, &sink)), Ok(Drained::Delivered { rows: BATCH, more: true }));
        assert_eq!(ready(drain(&store, &sink)), Ok(Drained::Delivered { rows: 200, more: false }));
        assert_eq!(ready(drain(&store, &sink)), Ok(Drained::Empty));
        let calls = sink.calls.borrow();
        assert_eq!(calls.len(), 3);
        assert_eq!((calls[0][0], calls[0][BATCH - 1], calls[2][199]), (1, 500, 1_200));
    }

    #[test]
    fn a_failed_delivery_keeps_every_row_and_backs_off_exponentially() {
        let store = store_with(1..=3);
        let sink = RecordingSink::default();
        sink.failing.set(true);
        let delays: Vec<u64> = (0..4)
            .map(|_| match ready(drain(&store, &sink)) {
                Ok(Drained::Failed { retry_in_ms, .. }) => retry_in_ms,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(delays, vec![1_000, 2_000, 4_000, 8_000]);
        assert_eq!(store.rows.borrow().len(), 3, "nothing lost while the database is down");

        sink.failing.set(false);
        assert_eq!(ready(drain(&store, &sink)), Ok(Drained::Delivered { rows: 3, more: false }));
        assert_eq!(store.failures.get(), 0, "success resets the backoff");
        // Every attempt carried the same rows: a retry after a half-way failure re-sends, never skips.
        assert!(sink.calls.borrow().iter().all(|call| call == &vec![1, 2, 3]));
    }

    #[test]
    fn rows_written_during_a_delivery_are_not_acknowledged_by_it() {
        let store = store_with(1..=2);
        let sink = RecordingSink::default();
        // Simulate a row appended after the batch was read: acknowledge only covers the delivered seqs.
        let rows = store.pending(BATCH).expect("rows");
        store.rows.borrow_mut().push(OutboxRow { seq: 3, user_id: Uuid::nil(), score: 1, updated_ms: 0 });
        ready(sink.deliver(&rows)).expect("delivered");
        store.acknowledge(rows[rows.len() - 1].seq).expect("ack");
        assert_eq!(store.rows.borrow().iter().map(|r| r.seq).collect::<Vec<_>>(), vec![3]);
    }

    #[test]
    fn a_row_refused_for_good_is_set_aside_and_every_other_row_is_delivered() {
        let store = store_with(1..=1_000);
        let sink = RecordingSink::default();
        sink.poison.borrow_mut().push(700);
        let outcomes = drain_all(&store, &sink, 200);
        assert!(store.rows.borrow().is_empty(), "nothing left behind the refused row");
        assert_eq!(store.dead.borrow().iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), vec![700]);
        assert_eq!(store.dead.borrow()[0].1, "violates a constraint");
        let mut accepted = sink.accepted.borrow().clone();
        accepted.sort_unstable();
        assert_eq!(accepted, (1..=1_000).filter(|s| *s != 700).collect::<Vec<_>>(), "each other row exactly once");
        let dead_after = outcomes.iter().filter(|o| matches!(o, Drained::Failed { .. })).count();
        assert_eq!(dead_after as u32, DEAD_AFTER - 1, "refused alone DEAD_AFTER times: {outcomes:?}");
        // Bisecting costs a handful of deliveries, not one per row.
        assert!(sink.calls.borrow().len() < 40, "{} deliveries", sink.calls.borrow().len());
        assert_eq!(store.batch_limit(), Ok(BATCH), "the batch widens again once past the refused row");
    }

    #[test]
    fn an_outage_never_sets_a_row_aside() {
        let store = store_with(1..=3);
        let sink = RecordingSink::default();
        sink.failing.set(true);
        for _ in 0..(DEAD_AFTER * 4) {
            assert!(matches!(ready(drain(&store, &sink)), Ok(Drained::Failed { .. })));
        }
        assert!(store.dead.borrow().is_empty());
        assert_eq!(store.rows.borrow().len(), 3);
    }

    #[test]
    fn backoff_is_capped() {
        assert_eq!(backoff_ms(1), 1_000);
        assert_eq!(backoff_ms(9), 256_000);
        assert_eq!(backoff_ms(10), BACKOFF_MAX_MS);
        assert_eq!(backoff_ms(u32::MAX), BACKOFF_MAX_MS);
    }
}
