//! The Redis side of the metrics: this isolate's recorded batches flushed into one hash of totals (each batch counts
//! once, by its id), and the totals read back for `GET /metrics`. The recorder and its schedule are `metrics`.

use std::collections::BTreeMap;

use crate::adapters::AdapterError;
use crate::metrics;
use crate::services::Services;

/// The Redis hash holding every series' total.
pub const HASH: &str = "metrics:v1";

/// The flush to hand to `wait_until` (a request's or a Competition object's) when deltas wait and no flush is
/// scheduled yet: it sleeps until the flush is due, then sends. Waiting for a later request instead left the deltas
/// of an isolate's last requests in memory for as long as it stayed quiet, and lost them when it was evicted.
pub fn flush_if_due(services: &'static Services, now_ms: i64) -> Option<durable_objects::telemetry::Flush> {
    if !metrics::claim_flush(now_ms) {
        return None;
    }
    Some(Box::pin(async move {
        let mut now = now_ms;
        // Ends within `FLUSH_EVERY_MS` of the last flush, well inside `wait_until`'s 30 s. The sleeps are at most a
        // gap long so that 200 observations recorded meanwhile are flushed a gap after the last flush, as before.
        while let Some(wait) = metrics::wait_before_flush(now) {
            if wait == 0 {
                if let Err(error) = flush(services, now).await {
                    worker::console_warn!("metrics flush failed, kept for the next one: {error}");
                }
                break;
            }
            crate::platform::sleep(wait.min(metrics::FLUSH_GAP_MS) as u64).await;
            now = crate::platform::now_ms();
        }
        metrics::flush_finished();
    }))
}

/// Sends this isolate's deltas to Redis: first any batch whose outcome is unknown (with its id, so it counts once),
/// then a new batch. A batch that fails or times out is kept, unconfirmed, for the next flush.
pub async fn flush(services: &Services, now_ms: i64) -> Result<(), AdapterError> {
    metrics::flush_started(now_ms);
    let redis = &services.redis;
    // At most two batches a flush: a resent one, then the new deltas.
    for _ in 0..2 {
        let Some(batch) = metrics::next_batch() else { return Ok(()) };
        if let Err(error) = redis.add_once(HASH, &batch.id, metrics::flush::ID_TTL_SECS, &batch.deltas).await {
            metrics::unconfirmed(batch);
            return Err(error);
        }
    }
    Ok(())
}

/// Every series' total across isolates, as flushed so far.
pub async fn totals(services: &Services) -> Result<BTreeMap<String, f64>, AdapterError> {
    services.redis.totals(HASH).await
}
