//! Metrics that are right across isolates: each isolate accumulates deltas in memory and flushes them to Redis
//! (one script call adding them all, in `wait_until`, at most every 5 s or 200 observations), so the
//! request path never waits on metrics; `GET /metrics` flushes its own isolate, then renders the Redis totals.
//! Route labels are route templates, never raw paths, so label cardinality stays bounded.

pub mod flush;
pub mod render;
pub mod series;

use std::cell::{Cell, RefCell};

use crate::adapters::breaker::BreakerState;
use crate::adapters::guard::breaker_states;
use crate::adapters::{upstash, AdapterError};
use crate::config::Config;
use crate::error::ApiError;
use crate::http::reply::Reply;

pub use series::Family;
use series::{Deltas, DURATION_BUCKETS, SIZE_BUCKETS};

/// The Redis hash holding every series' total.
pub const HASH: &str = "metrics:v1";
/// Longest time deltas wait in an isolate.
pub const FLUSH_EVERY_MS: i64 = 5_000;
/// Most observations that wait in an isolate.
pub const FLUSH_AFTER: u64 = 200;

thread_local! {
    static DELTAS: RefCell<Deltas> = RefCell::new(Deltas::default());
    static LAST_FLUSH_MS: Cell<i64> = const { Cell::new(0) };
    /// A flush is handed to `wait_until` and has not run yet: later requests need not schedule another.
    static FLUSH_SCHEDULED: Cell<bool> = const { Cell::new(false) };
    /// Batches on their way to Redis, with the ids that make each count once.
    static OUTBOUND: RefCell<flush::Outbound> = RefCell::new(flush::Outbound::new(isolate_id()));
}

/// A random name for this isolate's flush batches.
fn isolate_id() -> String {
    crate::runtime::random_bytes().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Adds to a counter (or moves a gauge).
pub fn add(family: Family, labels: &[(&str, &str)], by: f64) {
    DELTAS.with(|d| d.borrow_mut().add(family.name(), labels, by));
}

/// Records one histogram observation.
pub fn observe(family: Family, labels: &[(&str, &str)], value: f64, buckets: &'static [f64]) {
    DELTAS.with(|d| d.borrow_mut().observe(family.name(), labels, value, buckets));
}

/// Records one served request.
pub fn record_request(method: &str, route: &str, status: u16, seconds: f64, request_bytes: u64, response_bytes: u64) {
    let status = status.to_string();
    add(Family::HttpRequestsTotal, &[("method", method), ("route", route), ("status", &status)], 1.0);
    let labels = [("method", method), ("route", route)];
    observe(Family::HttpRequestDurationSeconds, &labels, seconds, DURATION_BUCKETS);
    observe(Family::HttpRequestSizeBytes, &labels, request_bytes as f64, SIZE_BUCKETS);
    observe(Family::HttpResponseSizeBytes, &labels, response_bytes as f64, SIZE_BUCKETS);
}

/// Whether this isolate should flush now.
pub fn flush_due(now_ms: i64) -> bool {
    let since_last = now_ms - LAST_FLUSH_MS.with(Cell::get);
    if OUTBOUND.with(|o| o.borrow().has_unconfirmed()) {
        // The last flush failed: retry on the clock, not on every request while Redis is away.
        return since_last >= FLUSH_EVERY_MS;
    }
    let pending = DELTAS.with(|d| d.borrow().pending());
    pending > 0 && (pending >= FLUSH_AFTER || since_last >= FLUSH_EVERY_MS)
}

/// The flush to hand to `wait_until` (a request's or a Competition object's), when one is due and none is already
/// waiting to run.
pub fn flush_if_due(env: &worker::Env) -> Option<durable_objects::telemetry::Flush> {
    let now = crate::runtime::now_ms();
    if FLUSH_SCHEDULED.with(Cell::get) || !flush_due(now) {
        return None;
    }
    let config = crate::runtime::config(env).ok()?;
    FLUSH_SCHEDULED.with(|s| s.set(true));
    Some(Box::pin(async move {
        if let Err(error) = flush(config, now).await {
            worker::console_warn!("metrics flush failed, kept for the next one: {error}");
        }
        FLUSH_SCHEDULED.with(|s| s.set(false));
    }))
}

/// Sends this isolate's deltas to Redis: first any batch whose outcome is unknown (with its id, so it counts once),
/// then a new batch. A batch that fails or times out is kept, unconfirmed, for the next flush.
pub async fn flush(config: &Config, now_ms: i64) -> Result<(), AdapterError> {
    LAST_FLUSH_MS.with(|l| l.set(now_ms));
    let redis = upstash::shared(config);
    // At most two batches a flush: a resent one, then the new deltas.
    for _ in 0..2 {
        let next = OUTBOUND.with(|o| o.borrow_mut().next_batch(|| DELTAS.with(|d| d.borrow_mut().take())));
        let Some(batch) = next else { return Ok(()) };
        if let Err(error) = redis.add_once(HASH, &batch.id, flush::ID_TTL_SECS, &batch.deltas).await {
            OUTBOUND.with(|o| o.borrow_mut().unconfirmed(batch));
            return Err(error);
        }
    }
    Ok(())
}

/// The hooks Competition objects report their sockets and frames through (they live in a crate this one depends
/// on, so they cannot call this module directly).
pub fn object_hooks() -> durable_objects::telemetry::Hooks {
    durable_objects::telemetry::Hooks { add: add_for_object, flush_if_due }
}

/// An object's count, under its family.
fn add_for_object(metric: durable_objects::telemetry::ObjectMetric, by: f64) {
    use durable_objects::telemetry::ObjectMetric;
    let family = match metric {
        ObjectMetric::WebsocketConnections => Family::WebsocketConnections,
        ObjectMetric::WebsocketMessagesSent => Family::WebsocketMessagesSentTotal,
        ObjectMetric::OutboxDeadLetters => Family::OutboxDeadLetters,
    };
    add(family, &[], by);
}

/// Whether `authorization` carries the operator's `METRICS_TOKEN` (always, when none is configured). The token is
/// compared in constant time, so response timing tells an attacker nothing about how much of a guess was right.
pub fn operator_authorized(config: &Config, authorization: Option<&str>) -> Result<(), ApiError> {
    use subtle::ConstantTimeEq;
    let Some(token) = &config.metrics_token else { return Ok(()) };
    match authorization.and_then(|v| v.strip_prefix("Bearer ")) {
        None => Err(ApiError::MissingToken),
        Some(given) if bool::from(given.trim().as_bytes().ct_eq(token.as_bytes())) => Ok(()),
        Some(_) => Err(ApiError::InvalidToken("wrong metrics token".into())),
    }
}

/// `GET /metrics`: Prometheus text format 0.0.4; needs `Authorization: Bearer $METRICS_TOKEN` when that is set.
pub async fn handle(config: &Config, authorization: Option<&str>, now_ms: i64) -> Result<Reply, ApiError> {
    operator_authorized(config, authorization)?;
    if let Err(error) = flush(config, now_ms).await {
        worker::console_warn!("metrics flush before a scrape failed: {error}");
    }
    let mut values = upstash::shared(config).totals(HASH).await?;
    // Breaker states are this isolate's own view (breakers are per isolate by design).
    for (dependency, state) in breaker_states() {
        let level = match state {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        };
        values.insert(series::key(Family::CircuitBreakerState.name(), &[("service", dependency.name())]), level);
    }
    Ok(Reply::typed(200, render::CONTENT_TYPE, render::render(&values).into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::BTreeMap;

    /// Metric names a PromQL expression selects (identifiers with an underscore followed by a selector, a range or
    /// the end of an argument; function names are followed by `(` and label names have no underscore here).
    fn selected_names(expr: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut current = String::new();
        for c in expr.chars() {
            if c.is_ascii_alphanumeric() || c == '_' {
                current.push(c);
                continue;
            }
            if matches!(c, '{' | '[' | ')') && current.contains('_') {
                names.push(current.clone());
            }
            current.clear();
        }
        names
    }

    #[test]
    fn the_dashboard_charts_every_family_and_only_known_ones() {
        let dashboard: Value =
            serde_json::from_str(include_str!("../../docs/grafana-dashboard.json")).expect("dashboard JSON");
        let exprs: Vec<&str> = dashboard["panels"]
            .as_array()
            .expect("panels")
            .iter()
            .flat_map(|panel| panel["targets"].as_array().into_iter().flatten())
            .filter_map(|target| target["expr"].as_str())
            .collect();
        let selected: Vec<String> = exprs.iter().flat_map(|e| selected_names(e)).collect();
        for family in Family::all() {
            let wanted = match family.kind() {
                series::Kind::Histogram => format!("{}_bucket", family.name()),
                _ => family.name().to_owned(),
            };
            assert!(selected.contains(&wanted), "the dashboard has no panel for {}", family.name());
        }
        for name in &selected {
            assert!(Family::of_series(name).is_some(), "the dashboard queries unknown {name}");
        }
    }

    #[test]
    fn after_a_failed_flush_the_next_waits_for_the_clock_not_the_next_request() {
        LAST_FLUSH_MS.with(|l| l.set(1_000));
        for _ in 0..FLUSH_AFTER {
            add(Family::LeaderboardUpdatesTotal, &[], 1.0);
        }
        assert!(flush_due(1_001), "enough observations: due at once");
        let batch = OUTBOUND.with(|o| o.borrow_mut().next_batch(|| DELTAS.with(|d| d.borrow_mut().take())));
        OUTBOUND.with(|o| o.borrow_mut().unconfirmed(batch.expect("a batch")));
        for _ in 0..(FLUSH_AFTER * 3) {
            add(Family::LeaderboardUpdatesTotal, &[], 1.0);
        }
        assert!(!flush_due(1_002), "Redis failed: no retry on every request");
        assert!(flush_due(1_000 + FLUSH_EVERY_MS), "retried on the clock");
        // Leave the isolate's state as the other tests expect it.
        OUTBOUND.with(|o| while o.borrow_mut().next_batch(BTreeMap::new).is_some() {});
        DELTAS.with(|d| d.borrow_mut().take());
    }

    /// `docs/alerts.yml` as JSON values.
    #[cfg(not(target_arch = "wasm32"))]
    fn alert_rules() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/alerts.yml");
        let text = std::fs::read_to_string(path).expect("docs/alerts.yml");
        serde_yaml_ng::from_str(&text).expect("docs/alerts.yml is YAML")
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn alert_rules_are_well_formed_and_name_only_exported_series() {
        let rules = alert_rules();
        let rules: Vec<&Value> = rules["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .flat_map(|g| g["rules"].as_array().expect("rules"))
            .collect();
        assert!(rules.len() >= 5);
        for rule in rules {
            let name = rule["alert"].as_str().expect("alert name");
            let expr = rule["expr"].as_str().unwrap_or_else(|| panic!("{name}: expr"));
            assert!(rule["for"].is_string(), "{name}: for");
            assert!(rule["labels"]["severity"].is_string(), "{name}: severity");
            assert!(rule["annotations"]["summary"].is_string(), "{name}: summary");
            assert_eq!(expr.matches('(').count(), expr.matches(')').count(), "{name}: parentheses");
            let names = selected_names(expr);
            assert!(!names.is_empty(), "{name} selects no series");
            for series in names {
                assert!(Family::of_series(&series).is_some(), "{name}: unknown series {series}");
            }
        }
    }
}
