//! Flushes that count once: each batch of an isolate's deltas carries an id, and the Redis script applies a batch
//! only if its id is new (remembered for ten minutes). A batch whose reply was lost or timed out — it may or may not
//! have landed — is sent again with the same id before any new batch is cut, so it lands exactly once unless the
//! isolate dies first (then its deltas are lost, never doubled). Plain Rust; the Redis script is
//! `adapters::redis_ops::ADD_ONCE`.

use std::collections::{BTreeMap, VecDeque};

/// Seconds Redis remembers an applied batch id: far longer than any retry takes.
pub const ID_TTL_SECS: u64 = 600;

/// One batch of deltas and the id that makes applying it idempotent.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Unique per isolate and batch.
    pub id: String,
    /// Series and their increments.
    pub deltas: BTreeMap<String, f64>,
}

/// An isolate's batches on their way to Redis.
#[derive(Debug)]
pub struct Outbound {
    isolate: String,
    next: u64,
    /// Batches sent without a confirmed outcome: resent, with their ids, before anything new.
    unconfirmed: VecDeque<Batch>,
}

impl Outbound {
    /// Batches of the isolate named `isolate` (random per isolate, so ids never collide across isolates).
    pub fn new(isolate: String) -> Self {
        Self { isolate, next: 0, unconfirmed: VecDeque::new() }
    }

    /// The batch to send now: an unconfirmed one first; else a new one cut from `take()`'s deltas (none when there
    /// are none).
    pub fn next_batch(&mut self, take: impl FnOnce() -> BTreeMap<String, f64>) -> Option<Batch> {
        if let Some(batch) = self.unconfirmed.pop_front() {
            return Some(batch);
        }
        let deltas = take();
        if deltas.is_empty() {
            return None;
        }
        self.next += 1;
        Some(Batch { id: format!("{}-{}", self.isolate, self.next), deltas })
    }

    /// `batch` may not have landed (no reply, a timeout, an error): it is sent again, with the same id, next time.
    pub fn unconfirmed(&mut self, batch: Batch) {
        self.unconfirmed.push_back(batch);
    }

    /// Whether batches wait for a confirmed outcome.
    pub fn has_unconfirmed(&self) -> bool {
        !self.unconfirmed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deltas(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    /// Redis as the script sees it: totals, and the batch ids applied.
    #[derive(Default)]
    struct Totals {
        values: BTreeMap<String, f64>,
        applied: std::collections::BTreeSet<String>,
    }

    impl Totals {
        fn apply(&mut self, batch: &Batch) {
            if self.applied.insert(batch.id.clone()) {
                for (k, v) in &batch.deltas {
                    *self.values.entry(k.clone()).or_default() += v;
                }
            }
        }
    }

    #[test]
    fn a_batch_whose_reply_was_lost_lands_once() {
        let mut outbound = Outbound::new("iso".into());
        let mut redis = Totals::default();
        let first = outbound.next_batch(|| deltas(&[("a", 1.0)])).expect("batch");
        // It lands, but the reply is lost: the isolate cannot know, so it sends it again.
        redis.apply(&first);
        outbound.unconfirmed(first.clone());
        let again = outbound.next_batch(|| panic!("no new batch while one is unconfirmed")).expect("resend");
        assert_eq!(again, first, "same id, same deltas");
        redis.apply(&again);
        let next = outbound.next_batch(|| deltas(&[("a", 2.0)])).expect("new batch");
        assert_ne!(next.id, first.id);
        redis.apply(&next);
        assert_eq!(redis.values["a"], 3.0, "1 + 2, never 1 + 1 + 2");
        assert!(outbound.next_batch(BTreeMap::new).is_none(), "nothing to send");
    }

    #[test]
    fn totals_equal_what_was_recorded_whatever_replies_are_lost() {
        // A deterministic mix of outcomes: landed and confirmed, landed with the reply lost, not landed at all.
        let mut outbound = Outbound::new("iso".into());
        let mut redis = Totals::default();
        let mut recorded = 0.0;
        for round in 0u32..300 {
            let value = f64::from(round % 7 + 1);
            recorded += value;
            let mut pending = Some(deltas(&[("requests", value)]));
            let batch = outbound.next_batch(|| pending.take().unwrap_or_default());
            if let Some(left) = pending {
                // An unconfirmed batch went first; these deltas wait in the isolate for the next flush.
                recorded -= left["requests"];
            }
            let Some(batch) = batch else { continue };
            match round % 3 {
                0 => redis.apply(&batch),
                1 => {
                    redis.apply(&batch);
                    outbound.unconfirmed(batch);
                }
                _ => outbound.unconfirmed(batch),
            }
        }
        while let Some(batch) = outbound.next_batch(BTreeMap::new) {
            redis.apply(&batch);
        }
        assert_eq!(redis.values["requests"], recorded);
    }
}
