//! The Redis side of the metrics: this isolate's recorded batches flushed into one hash of totals (each batch counts
//! once, by its id), and the totals read back for `GET /metrics`. The recorder and its schedule are `metrics`.

use std::collections::BTreeMap;

use crate::adapters::AdapterError;
use crate::metrics;
use crate::services::Services;

/// The Redis hash holding every series' total.
pub const HASH: &str = "metrics:v1";

/// The flush to hand to `wait_until` (a request's or a Competition object's), when one is due and none is already
/// waiting to run.
pub fn flush_if_due(services: &'static Services, now_ms: i64) -> Option<durable_objects::telemetry::Flush> {
    if !metrics::claim_flush(now_ms) {
        return None;
    }
    Some(Box::pin(async move {
        if let Err(error) = flush(services, now_ms).await {
            worker::console_warn!("metrics flush failed, kept for the next one: {error}");
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
