//! What a run measured: per scenario, statuses and an HDR latency histogram (microseconds); for the whole run, the
//! same per second of the run (the report's latency-over-time chart).

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

/// The outcome of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP status.
    Status(u16),
    /// No answer within the timeout.
    Timeout,
    /// The connection failed.
    Error,
}

impl Outcome {
    /// Label in reports: the status code, `timeout` or `error`.
    pub fn label(self) -> String {
        match self {
            Outcome::Status(status) => status.to_string(),
            Outcome::Timeout => "timeout".into(),
            Outcome::Error => "error".into(),
        }
    }

    /// 2xx and 3xx count as success.
    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Status(s) if s < 400)
    }
}

fn histogram() -> Histogram<u64> {
    // 1 µs .. 10 min at 3 significant digits.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("static histogram bounds are valid")
}

/// Latency and outcomes of one scenario (or of everything).
#[derive(Debug, Clone)]
pub struct Series {
    /// Latency of every answered request, microseconds.
    pub latency: Histogram<u64>,
    /// Requests by outcome label.
    pub outcomes: BTreeMap<String, u64>,
    /// Successful requests.
    pub successes: u64,
}

impl Default for Series {
    fn default() -> Self {
        Self { latency: histogram(), outcomes: BTreeMap::new(), successes: 0 }
    }
}

impl Series {
    /// Counts one request.
    pub fn record(&mut self, outcome: Outcome, latency: Duration) {
        *self.outcomes.entry(outcome.label()).or_insert(0) += 1;
        if outcome.is_success() {
            self.successes += 1;
        }
        let micros = latency.as_micros().clamp(1, 600_000_000) as u64;
        self.latency.saturating_record(micros);
    }

    /// Requests counted.
    pub fn requests(&self) -> u64 {
        self.outcomes.values().sum()
    }

    /// Adds another series' counts.
    pub fn merge(&mut self, other: &Series) {
        for (label, n) in &other.outcomes {
            *self.outcomes.entry(label.clone()).or_insert(0) += n;
        }
        self.successes += other.successes;
        self.latency.add(&other.latency).ok();
    }

    /// Latency at quantile `q`, milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }
}

/// One worker's (and, merged, the run's) measurements.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    /// Per scenario name.
    pub scenarios: BTreeMap<&'static str, Series>,
    /// Per whole second since the start.
    pub timeline: Vec<Series>,
}

impl Recorder {
    /// Counts one request of `scenario` that finished `at` after the start.
    pub fn record(&mut self, scenario: &'static str, outcome: Outcome, latency: Duration, at: Duration) {
        self.scenarios.entry(scenario).or_default().record(outcome, latency);
        let second = at.as_secs() as usize;
        if self.timeline.len() <= second {
            self.timeline.resize_with(second + 1, Series::default);
        }
        self.timeline[second].record(outcome, latency);
    }

    /// Adds another recorder's measurements.
    pub fn merge(&mut self, other: &Recorder) {
        for (name, series) in &other.scenarios {
            self.scenarios.entry(name).or_default().merge(series);
        }
        if self.timeline.len() < other.timeline.len() {
            self.timeline.resize_with(other.timeline.len(), Series::default);
        }
        for (mine, theirs) in self.timeline.iter_mut().zip(&other.timeline) {
            mine.merge(theirs);
        }
    }

    /// Everything together.
    pub fn total(&self) -> Series {
        let mut total = Series::default();
        for series in self.scenarios.values() {
            total.merge(series);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_latencies_and_seconds_add_up() {
        let mut a = Recorder::default();
        a.record("page", Outcome::Status(200), Duration::from_millis(2), Duration::from_millis(100));
        a.record("page", Outcome::Status(429), Duration::from_millis(4), Duration::from_millis(1500));
        let mut b = Recorder::default();
        b.record("me", Outcome::Timeout, Duration::from_millis(10), Duration::from_millis(2500));
        b.record("page", Outcome::Status(200), Duration::from_millis(6), Duration::from_millis(200));
        a.merge(&b);

        let page = &a.scenarios["page"];
        assert_eq!((page.requests(), page.successes), (3, 2));
        assert_eq!(page.outcomes["200"], 2);
        assert_eq!(page.outcomes["429"], 1);
        let total = a.total();
        assert_eq!((total.requests(), total.successes), (4, 2));
        assert_eq!(total.outcomes["timeout"], 1);
        assert!((total.ms(1.0) - 10.0).abs() < 0.1);
        assert_eq!(a.timeline.iter().map(Series::requests).collect::<Vec<_>>(), vec![2, 1, 1]);
    }
}
