//! Metric series (plain Rust): the catalogue of families, series keys with escaped labels, and the per-isolate
//! deltas that are flushed to Redis. Every value is stored as one Redis hash field (`HINCRBYFLOAT`), so counters and
//! histogram buckets from all isolates add up there.

use std::collections::BTreeMap;

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every family the Worker exports. Series are only ever recorded under one of these, and the catalogue, the
/// renderer and the dashboard check all walk [`Family::all`] (every variant, by derive), so no family can be recorded
/// and not rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, strum::EnumIter)]
pub enum Family {
    /// `http_requests_total`: HTTP requests by method, route template and status.
    HttpRequestsTotal,
    /// `http_request_duration_seconds`: Time to answer an HTTP request.
    HttpRequestDurationSeconds,
    /// `http_request_size_bytes`: Size of HTTP request bodies.
    HttpRequestSizeBytes,
    /// `http_response_size_bytes`: Size of HTTP response bodies.
    HttpResponseSizeBytes,
    /// `leaderboard_updates_total`: Score updates accepted by competitions.
    LeaderboardUpdatesTotal,
    /// `fitness_syncs_total`: Fitness syncs by result.
    FitnessSyncsTotal,
    /// `cache_requests_total`: Cache lookups by cache level and result.
    CacheRequestsTotal,
    /// `external_requests_total`: Calls to external services by outcome.
    ExternalRequestsTotal,
    /// `external_request_duration_seconds`: Duration of calls to external services.
    ExternalRequestDurationSeconds,
    /// `db_query_duration_seconds`: Duration of database API calls by operation.
    DbQueryDurationSeconds,
    /// `rate_limited_total`: Requests refused by the rate limiter, by policy.
    RateLimitedTotal,
    /// `rate_limit_fallbacks_total`: Rate-limit decisions made by an isolate's local bucket (Redis down).
    RateLimitFallbacksTotal,
    /// `websocket_connections`: Open live-leaderboard sockets.
    WebsocketConnections,
    /// `outbox_dead_letters`: Score changes the database refused for good, set aside in their competitions' objects.
    OutboxDeadLetters,
    /// `websocket_messages_sent_total`: Frames sent to live-leaderboard sockets.
    WebsocketMessagesSentTotal,
    /// `websocket_refusals_total`: Live-socket clients refused by a socket rule, by reason.
    WebsocketRefusalsTotal,
    /// `analytics_datapoints_total`: Analytics Engine data points written, by result.
    AnalyticsDatapointsTotal,
    /// `competition_call_failures_total`: Calls of the Worker to a competition object that failed, by reason.
    CompetitionCallFailuresTotal,
    /// `circuit_breaker_state`: Breaker state per service in the answering isolate: 0 closed, 1 half-open, 2 open.
    CircuitBreakerState,
}

impl Family {
    /// Every family, in the order `/metrics` renders them (declaration order).
    pub fn all() -> impl Iterator<Item = Family> {
        <Family as strum::IntoEnumIterator>::iter()
    }

    /// Its name in the exposition format.
    pub const fn name(self) -> &'static str {
        match self {
            Family::HttpRequestsTotal => "http_requests_total",
            Family::HttpRequestDurationSeconds => "http_request_duration_seconds",
            Family::HttpRequestSizeBytes => "http_request_size_bytes",
            Family::HttpResponseSizeBytes => "http_response_size_bytes",
            Family::LeaderboardUpdatesTotal => "leaderboard_updates_total",
            Family::FitnessSyncsTotal => "fitness_syncs_total",
            Family::CacheRequestsTotal => "cache_requests_total",
            Family::ExternalRequestsTotal => "external_requests_total",
            Family::ExternalRequestDurationSeconds => "external_request_duration_seconds",
            Family::DbQueryDurationSeconds => "db_query_duration_seconds",
            Family::RateLimitedTotal => "rate_limited_total",
            Family::RateLimitFallbacksTotal => "rate_limit_fallbacks_total",
            Family::WebsocketConnections => "websocket_connections",
            Family::OutboxDeadLetters => "outbox_dead_letters",
            Family::WebsocketMessagesSentTotal => "websocket_messages_sent_total",
            Family::WebsocketRefusalsTotal => "websocket_refusals_total",
            Family::AnalyticsDatapointsTotal => "analytics_datapoints_total",
            Family::CompetitionCallFailuresTotal => "competition_call_failures_total",
            Family::CircuitBreakerState => "circuit_breaker_state",
        }
    }

    /// Its type.
    pub const fn kind(self) -> Kind {
        match self {
            Family::HttpRequestsTotal => Kind::Counter,
            Family::HttpRequestDurationSeconds => Kind::Histogram,
            Family::HttpRequestSizeBytes => Kind::Histogram,
            Family::HttpResponseSizeBytes => Kind::Histogram,
            Family::LeaderboardUpdatesTotal => Kind::Counter,
            Family::FitnessSyncsTotal => Kind::Counter,
            Family::CacheRequestsTotal => Kind::Counter,
            Family::ExternalRequestsTotal => Kind::Counter,
            Family::ExternalRequestDurationSeconds => Kind::Histogram,
            Family::DbQueryDurationSeconds => Kind::Histogram,
            Family::RateLimitedTotal => Kind::Counter,
            Family::RateLimitFallbacksTotal => Kind::Counter,
            Family::WebsocketConnections => Kind::Gauge,
            Family::OutboxDeadLetters => Kind::Gauge,
            Family::WebsocketMessagesSentTotal => Kind::Counter,
            Family::WebsocketRefusalsTotal => Kind::Counter,
            Family::AnalyticsDatapointsTotal => Kind::Counter,
            Family::CompetitionCallFailuresTotal => Kind::Counter,
            Family::CircuitBreakerState => Kind::Gauge,
        }
    }

    /// Its `# HELP` text.
    pub const fn help(self) -> &'static str {
        match self {
            Family::HttpRequestsTotal => "HTTP requests by method, route template and status.",
            Family::HttpRequestDurationSeconds => "Time to answer an HTTP request.",
            Family::HttpRequestSizeBytes => "Size of HTTP request bodies.",
            Family::HttpResponseSizeBytes => "Size of HTTP response bodies.",
            Family::LeaderboardUpdatesTotal => "Score updates accepted by competitions.",
            Family::FitnessSyncsTotal => "Fitness syncs by result.",
            Family::CacheRequestsTotal => "Cache lookups by cache level and result.",
            Family::ExternalRequestsTotal => "Calls to external services by outcome.",
            Family::ExternalRequestDurationSeconds => "Duration of calls to external services.",
            Family::DbQueryDurationSeconds => "Duration of database API calls by operation.",
            Family::RateLimitedTotal => "Requests refused by the rate limiter, by policy.",
            Family::RateLimitFallbacksTotal => "Rate-limit decisions made by an isolate's local bucket (Redis down).",
            Family::WebsocketConnections => "Open live-leaderboard sockets.",
            Family::OutboxDeadLetters => {
                "Score changes the database refused for good, set aside in their competitions' objects."
            }
            Family::WebsocketMessagesSentTotal => "Frames sent to live-leaderboard sockets.",
            Family::WebsocketRefusalsTotal => {
                "Live-socket clients refused by a socket rule: frame_flood and frame_too_large close the socket, \
                 replay_allowance answers a resume with a snapshot."
            }
            Family::AnalyticsDatapointsTotal => "Analytics Engine data points written, by result.",
            Family::CompetitionCallFailuresTotal => {
                "Calls to competition objects that failed, by reason: overloaded, no_answer (OBJECT_TIMEOUT_MS spent), \
                 restarting (the runtime's retryable failure), error."
            }
            Family::CircuitBreakerState => {
                "Breaker state per service in the answering isolate: 0 closed, 1 half-open, 2 open."
            }
        }
    }

    /// The family a stored series belongs to (`x_bucket{…}` → `x` for histograms).
    pub fn of_series(series: &str) -> Option<Family> {
        let name = series.split('{').next().unwrap_or(series);
        Family::all().find(|family| match family.kind() {
            Kind::Histogram => {
                name.strip_prefix(family.name()).is_some_and(|suffix| matches!(suffix, "_bucket" | "_sum" | "_count"))
            }
            _ => family.name() == name,
        })
    }
}

/// Bucket bounds of duration histograms, seconds.
pub const DURATION_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Bucket bounds of size histograms, bytes.
pub const SIZE_BUCKETS: &[f64] = &[100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0, 10_000_000.0];

/// A label value escaped for the text format (backslash, double quote, newline).
pub fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// `name{a="1",b="2"}` (or `name` without labels). Built in one buffer: every request makes a few of these.
pub fn key(name: &str, labels: &[(&str, &str)]) -> String {
    if labels.is_empty() {
        return name.to_owned();
    }
    let mut key =
        String::with_capacity(name.len() + labels.iter().map(|(k, v)| k.len() + v.len() + 4).sum::<usize>() + 2);
    key.push_str(name);
    key.push('{');
    for (i, (label, value)) in labels.iter().enumerate() {
        if i > 0 {
            key.push(',');
        }
        key.push_str(label);
        key.push_str("=\"");
        if value.contains(['\\', '"', '\n']) {
            key.push_str(&escape(value));
        } else {
            key.push_str(value);
        }
        key.push('"');
    }
    key.push('}');
    key
}

/// Changes accumulated by one isolate since its last flush.
#[derive(Debug, Default)]
pub struct Deltas {
    values: BTreeMap<String, f64>,
    /// Histograms by their series key: counted per bucket here, written out as the format's cumulative `_bucket`
    /// series only when a flush takes them (every request observes three histograms; building a dozen label strings
    /// per observation was most of a request's metric bookkeeping).
    histograms: std::collections::HashMap<String, Histogram>,
    observations: u64,
}

/// One histogram series' observations since the last flush.
#[derive(Debug)]
struct Histogram {
    name: String,
    labels: Vec<(String, String)>,
    bounds: &'static [f64],
    /// Observations per bucket: index i counts values in (bounds[i-1], bounds[i]]; the last counts those above all.
    counts: Vec<u64>,
    sum: f64,
}

impl Histogram {
    fn write_into(self, values: &mut BTreeMap<String, f64>) {
        let labels: Vec<(&str, &str)> = self.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let bucket = format!("{}_bucket", self.name);
        let mut cumulative = 0;
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count;
            if cumulative > 0 {
                let le = format_value(*bound);
                *values.entry(key(&bucket, &with(&labels, ("le", &le)))).or_default() += cumulative as f64;
            }
        }
        let total: u64 = self.counts.iter().sum();
        *values.entry(key(&bucket, &with(&labels, ("le", "+Inf")))).or_default() += total as f64;
        *values.entry(key(&format!("{}_sum", self.name), &labels)).or_default() += self.sum;
        *values.entry(key(&format!("{}_count", self.name), &labels)).or_default() += total as f64;
    }
}

impl Deltas {
    /// Adds `by` to a counter or gauge series.
    pub fn add(&mut self, name: &str, labels: &[(&str, &str)], by: f64) {
        *self.values.entry(key(name, labels)).or_default() += by;
        self.observations += 1;
    }

    /// Records one observation of a histogram: every bucket with `le` ≥ `value` (cumulative, as the format wants),
    /// `+Inf`, the sum and the count.
    pub fn observe(&mut self, name: &str, labels: &[(&str, &str)], value: f64, buckets: &'static [f64]) {
        let histogram = self.histograms.entry(key(name, labels)).or_insert_with(|| Histogram {
            name: name.to_owned(),
            labels: labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            bounds: buckets,
            counts: vec![0; buckets.len() + 1],
            sum: 0.0,
        });
        let bucket = histogram.bounds.iter().position(|bound| value <= *bound).unwrap_or(histogram.bounds.len());
        histogram.counts[bucket] += 1;
        histogram.sum += value;
        self.observations += 1;
    }

    /// Observations since the last flush.
    pub fn pending(&self) -> u64 {
        self.observations
    }

    /// Takes every delta, leaving the accumulator empty.
    pub fn take(&mut self) -> BTreeMap<String, f64> {
        self.observations = 0;
        let mut values = std::mem::take(&mut self.values);
        for (_, histogram) in self.histograms.drain() {
            histogram.write_into(&mut values);
        }
        values
    }

    /// Puts deltas back after a failed flush, so nothing is lost.
    pub fn restore(&mut self, deltas: BTreeMap<String, f64>) {
        for (series, value) in deltas {
            *self.values.entry(series).or_default() += value;
        }
    }
}

fn with<'a>(labels: &[(&'a str, &'a str)], extra: (&'a str, &'a str)) -> Vec<(&'a str, &'a str)> {
    let mut all = labels.to_vec();
    all.push(extra);
    all
}

/// A sample value as the text format writes it (integers without a fraction).
pub fn format_value(value: f64) -> String {
    if value.is_infinite() {
        return if value > 0.0 { "+Inf".to_owned() } else { "-Inf".to_owned() };
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_a_distinct_name_and_its_series_are_recognised() {
        let mut names: Vec<&str> = Family::all().map(Family::name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        for family in Family::all() {
            let series = match family.kind() {
                Kind::Histogram => format!("{}_bucket{{le=\"1\"}}", family.name()),
                _ => key(family.name(), &[("a", "b")]),
            };
            assert_eq!(Family::of_series(&series), Some(family));
        }
        assert_eq!(Family::of_series("http_request_duration_seconds"), None);
        assert_eq!(Family::of_series("unknown_total"), None);
    }

    #[test]
    fn keys_escape_label_values() {
        assert_eq!(key("up", &[]), "up");
        assert_eq!(key("x_total", &[("route", "/a\"b\nc\\")]), "x_total{route=\"/a\\\"b\\nc\\\\\"}");
    }

    #[test]
    fn histograms_fill_cumulative_buckets_sum_and_count() {
        let mut deltas = Deltas::default();
        deltas.observe("d_seconds", &[("route", "/r")], 0.02, &[0.01, 0.05, 0.1]);
        deltas.observe("d_seconds", &[("route", "/r")], 0.07, &[0.01, 0.05, 0.1]);
        let values = deltas.take();
        let get = |k: &str| values.get(k).copied();
        assert_eq!(get("d_seconds_bucket{route=\"/r\",le=\"0.01\"}"), None);
        assert_eq!(get("d_seconds_bucket{route=\"/r\",le=\"0.05\"}"), Some(1.0));
        assert_eq!(get("d_seconds_bucket{route=\"/r\",le=\"0.1\"}"), Some(2.0));
        assert_eq!(get("d_seconds_bucket{route=\"/r\",le=\"+Inf\"}"), Some(2.0));
        assert_eq!(get("d_seconds_count{route=\"/r\"}"), Some(2.0));
        assert!((get("d_seconds_sum{route=\"/r\"}").unwrap_or_default() - 0.09).abs() < 1e-9);
        assert_eq!(deltas.pending(), 0);
    }

    #[test]
    fn a_failed_flush_puts_deltas_back() {
        let mut deltas = Deltas::default();
        deltas.add("c_total", &[], 2.0);
        let taken = deltas.take();
        deltas.add("c_total", &[], 1.0);
        deltas.restore(taken);
        assert_eq!(deltas.take().get("c_total"), Some(&3.0));
    }
}
