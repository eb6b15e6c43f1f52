//! The metrics recorder: each isolate accumulates deltas in memory and flushes them to Redis (one script call adding
//! them all, in `wait_until`: after 5 s, or after 200 observations but at most once a second; a scheduled flush waits
//! for its time on a timer, so the last requests before an isolate goes quiet are not left in memory), so the
//! request path never waits on metrics.
//! This module holds the recorder and the flush schedule; the Redis side (sending batches, reading totals) is
//! `adapters::metrics_totals`, and `GET /metrics` is `routes::metrics`. Route labels are route templates, never raw
//! paths, so label cardinality stays bounded.

pub mod flush;
pub mod render;
pub mod series;

use std::cell::{Cell, RefCell};

pub use series::Family;
use series::{Deltas, DURATION_BUCKETS, SIZE_BUCKETS};

/// Longest time deltas wait in an isolate.
pub const FLUSH_EVERY_MS: i64 = 5_000;
/// Observations after which an isolate flushes before [`FLUSH_EVERY_MS`] is up.
pub const FLUSH_AFTER: u64 = 200;
/// Shortest time between two flushes of one isolate. Each flush is one Redis command; a busy isolate reaching
/// [`FLUSH_AFTER`] every 50 requests spent ≈ 5 % of its samples on flushes in a profile of `GET /health/live` under
/// load (0.1 % with this gap). A batch's size does not grow with its observations (one value per series), so waiting
/// costs nothing but the deltas an isolate that dies would lose: at most this long's worth.
pub const FLUSH_GAP_MS: i64 = 1_000;

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
    crate::platform::random_bytes().iter().take(8).map(|b| format!("{b:02x}")).collect()
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

/// Milliseconds until this isolate's next flush is due at `now_ms` (0: due now), or `None` when nothing waits to be
/// sent.
pub fn wait_before_flush(now_ms: i64) -> Option<i64> {
    let since_last = now_ms - LAST_FLUSH_MS.with(Cell::get);
    if OUTBOUND.with(|o| o.borrow().has_unconfirmed()) {
        // The last flush failed: retry on the clock, not on every request while Redis is away.
        return Some((FLUSH_EVERY_MS - since_last).max(0));
    }
    let pending = DELTAS.with(|d| d.borrow().pending());
    let wait = match pending {
        0 => return None,
        n if n >= FLUSH_AFTER => FLUSH_GAP_MS - since_last,
        _ => FLUSH_EVERY_MS - since_last,
    };
    Some(wait.max(0))
}

/// Claims this isolate's one scheduled flush: true when something waits to be sent and no flush is scheduled. The
/// caller hands the flush to `wait_until`, where it waits for its time ([`wait_before_flush`]) rather than for a
/// later request, which an isolate that goes quiet may never get, and calls `flush_finished` when it ends.
pub fn claim_flush(now_ms: i64) -> bool {
    if FLUSH_SCHEDULED.with(Cell::get) || wait_before_flush(now_ms).is_none() {
        return false;
    }
    FLUSH_SCHEDULED.with(|s| s.set(true));
    true
}

/// The claimed flush has run (whatever its outcome): a later request may schedule the next.
pub fn flush_finished() {
    FLUSH_SCHEDULED.with(|s| s.set(false));
}

/// A flush starts at `now_ms`: the next one is due on the clock from here.
pub fn flush_started(now_ms: i64) {
    LAST_FLUSH_MS.with(|l| l.set(now_ms));
}

/// The batch to send next: one whose outcome is unknown first (with its id, so it counts once), else a new batch of
/// the deltas recorded since.
pub fn next_batch() -> Option<flush::Batch> {
    OUTBOUND.with(|o| o.borrow_mut().next_batch(|| DELTAS.with(|d| d.borrow_mut().take())))
}

/// `batch` failed or timed out, so it may or may not have landed: it is sent again, with its id, next time.
pub fn unconfirmed(batch: flush::Batch) {
    OUTBOUND.with(|o| o.borrow_mut().unconfirmed(batch));
}

/// An object's count, under its family (the hook Competition objects report through: they live in a crate this
/// one depends on, so they cannot call this module directly).
pub fn add_for_object(metric: durable_objects::telemetry::ObjectMetric, by: f64) {
    use durable_objects::telemetry::ObjectMetric;
    let family = match metric {
        ObjectMetric::WebsocketConnections => Family::WebsocketConnections,
        ObjectMetric::WebsocketMessagesSent => Family::WebsocketMessagesSentTotal,
        ObjectMetric::OutboxDeadLetters => Family::OutboxDeadLetters,
        ObjectMetric::WebsocketRefusal(refusal) => {
            return add(Family::WebsocketRefusalsTotal, &[("reason", refusal.reason())], by);
        }
    };
    add(family, &[], by);
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

    /// Whether this isolate's flush is due at `now_ms`.
    fn flush_due(now_ms: i64) -> bool {
        wait_before_flush(now_ms) == Some(0)
    }

    /// Records `n` observations in this thread's recorder.
    fn record_updates(n: u64) {
        for _ in 0..n {
            add(Family::LeaderboardUpdatesTotal, &[], 1.0);
        }
    }

    #[test]
    fn after_a_failed_flush_the_next_waits_for_the_clock_not_the_next_request() {
        LAST_FLUSH_MS.with(|l| l.set(1_000));
        record_updates(FLUSH_AFTER);
        assert!(flush_due(1_000 + FLUSH_GAP_MS), "enough observations: due once the gap is up");
        unconfirmed(next_batch().expect("a batch"));
        record_updates(FLUSH_AFTER * 3);
        assert!(!flush_due(1_000 + FLUSH_GAP_MS + 1), "Redis failed: no retry on every request");
        assert!(flush_due(1_000 + FLUSH_EVERY_MS), "retried on the clock");
        // Leave the isolate's state as the other tests expect it.
        OUTBOUND.with(|o| while o.borrow_mut().next_batch(BTreeMap::new).is_some() {});
        DELTAS.with(|d| d.borrow_mut().take());
    }

    #[test]
    fn a_flush_is_due_by_the_clock_or_by_observations_at_most_once_a_gap() {
        // (observations pending, ms since the last flush, due)
        let cases = [
            (0, FLUSH_EVERY_MS * 2, false),
            (1, FLUSH_EVERY_MS - 1, false),
            (1, FLUSH_EVERY_MS, true),
            (FLUSH_AFTER - 1, FLUSH_GAP_MS, false),
            (FLUSH_AFTER, FLUSH_GAP_MS - 1, false),
            (FLUSH_AFTER * 50, FLUSH_GAP_MS - 1, false),
            (FLUSH_AFTER, FLUSH_GAP_MS, true),
        ];
        for (pending, since_last, due) in cases {
            DELTAS.with(|d| d.borrow_mut().take());
            record_updates(pending);
            LAST_FLUSH_MS.with(|l| l.set(10_000));
            assert_eq!(flush_due(10_000 + since_last), due, "{pending} pending, {since_last} ms since the last flush");
        }
        DELTAS.with(|d| d.borrow_mut().take());
    }

    #[test]
    fn one_flush_is_scheduled_at_a_time_as_soon_as_anything_waits() {
        LAST_FLUSH_MS.with(|l| l.set(0));
        DELTAS.with(|d| d.borrow_mut().take());
        assert!(!claim_flush(FLUSH_EVERY_MS * 2), "nothing recorded: nothing to schedule");
        record_updates(1);
        // Not due for 5 s, but scheduled now: no later request may come to schedule it.
        assert!(claim_flush(1), "one observation waits");
        assert!(!claim_flush(2), "one is already waiting to run");
        flush_finished();
        assert!(claim_flush(3), "the last one ended, the deltas still wait");
        flush_finished();
        DELTAS.with(|d| d.borrow_mut().take());
        assert!(!claim_flush(4), "nothing recorded since");
    }

    #[test]
    fn a_scheduled_flush_waits_for_the_clock_or_the_gap() {
        // (observations pending, a failed batch waiting, ms since the last flush, wait)
        let cases = [
            (0, false, 0, None),
            (1, false, 0, Some(FLUSH_EVERY_MS)),
            (1, false, 4_000, Some(FLUSH_EVERY_MS - 4_000)),
            (1, false, FLUSH_EVERY_MS * 3, Some(0)),
            (FLUSH_AFTER, false, 200, Some(FLUSH_GAP_MS - 200)),
            (FLUSH_AFTER, false, FLUSH_GAP_MS, Some(0)),
            (0, true, 1_000, Some(FLUSH_EVERY_MS - 1_000)),
            (FLUSH_AFTER * 2, true, FLUSH_GAP_MS, Some(FLUSH_EVERY_MS - FLUSH_GAP_MS)),
        ];
        for (pending, failed, since_last, wait) in cases {
            DELTAS.with(|d| d.borrow_mut().take());
            if failed {
                record_updates(1);
                unconfirmed(next_batch().expect("a batch"));
            }
            record_updates(pending);
            LAST_FLUSH_MS.with(|l| l.set(10_000));
            assert_eq!(
                wait_before_flush(10_000 + since_last),
                wait,
                "{pending} pending, failed {failed}, {since_last} ms"
            );
            OUTBOUND.with(|o| while o.borrow_mut().next_batch(BTreeMap::new).is_some() {});
        }
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
