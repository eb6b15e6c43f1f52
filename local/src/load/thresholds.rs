//! Pass/fail thresholds of a run (`--threshold 'p99<200ms' --threshold 'errors<1%'`): a run that breaks any of them
//! exits with status 1, so CI and scripts can gate on a load test.

use std::time::Duration;

use super::stats::Series;

/// What a threshold measures.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Measure {
    /// Latency at a quantile (0..=1), milliseconds.
    Latency(f64),
    /// Share of requests that were not 2xx/3xx, percent.
    Errors,
    /// Requests per second over the run.
    Rate,
}

/// One `--threshold`.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    text: String,
    measure: Measure,
    below: bool,
    limit: f64,
}

impl Threshold {
    /// Parses `p50|p90|p95|p99|p99.9|max < N ms|s`, `errors < N%` or `rps > N`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let (name, below, value) = if let Some((name, value)) = compact.split_once('<') {
            (name, true, value)
        } else if let Some((name, value)) = compact.split_once('>') {
            (name, false, value)
        } else {
            return Err(format!("{text}: expected name<value or name>value"));
        };
        let number = |v: &str| v.parse::<f64>().map_err(|_| format!("{text}: {v} is not a number"));
        let (measure, limit) = match name {
            "errors" => (Measure::Errors, number(value.strip_suffix('%').ok_or(format!("{text}: errors take a %"))?)?),
            "rps" => (Measure::Rate, number(value)?),
            _ => {
                let quantile = match name {
                    "max" => 1.0,
                    _ => name
                        .strip_prefix('p')
                        .and_then(|p| p.parse::<f64>().ok())
                        .filter(|p| (0.0..=100.0).contains(p))
                        .map(|p| p / 100.0)
                        .ok_or(format!("{text}: unknown measure {name} (p50, p95, p99, max, errors, rps)"))?,
                };
                let ms = if let Some(v) = value.strip_suffix("ms") {
                    number(v)?
                } else if let Some(v) = value.strip_suffix('s') {
                    number(v)? * 1000.0
                } else {
                    return Err(format!("{text}: latency takes ms or s"));
                };
                (Measure::Latency(quantile), ms)
            }
        };
        Ok(Self { text: text.to_owned(), measure, below, limit })
    }

    /// `None` when the run meets the threshold, else why not.
    pub fn check(&self, total: &Series, elapsed: Duration) -> Option<String> {
        let requests = total.requests();
        let value = match self.measure {
            Measure::Latency(q) => total.ms(q),
            Measure::Errors if requests == 0 => 100.0,
            Measure::Errors => (requests - total.successes) as f64 * 100.0 / requests as f64,
            Measure::Rate => requests as f64 / elapsed.as_secs_f64().max(1e-9),
        };
        // A run that answered nothing meets no latency threshold either.
        let met = requests > 0 && if self.below { value < self.limit } else { value > self.limit };
        (!met).then(|| format!("threshold {} not met: {value:.2}", self.text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::stats::Outcome;

    fn series(latencies_ms: &[u64], failures: usize) -> Series {
        let mut series = Series::default();
        for (i, ms) in latencies_ms.iter().enumerate() {
            let outcome = if i < failures { Outcome::Status(503) } else { Outcome::Status(200) };
            series.record(outcome, Duration::from_millis(*ms));
        }
        series
    }

    #[test]
    fn thresholds_parse_and_judge_a_run() {
        let run = series(&[10, 20, 30, 40, 500], 1);
        let second = Duration::from_secs(1);
        let cases = [
            ("p99<600ms", true),
            ("p99 < 200ms", false),
            ("p50<0.05s", true),
            ("max<400ms", false),
            ("errors<25%", true),
            ("errors<10%", false),
            ("rps>4", true),
            ("rps>10", false),
        ];
        for (text, met) in cases {
            let threshold = Threshold::parse(text).expect(text);
            assert_eq!(threshold.check(&run, second).is_none(), met, "{text}");
        }
        for bad in ["p99", "p99<200", "errors<1", "median<3ms", "p200<1ms", "rps>x"] {
            assert!(Threshold::parse(bad).is_err(), "{bad}");
        }
        let nothing = Series::default();
        assert!(Threshold::parse("errors<1%").expect("parse").check(&nothing, second).is_some(), "no answers fail");
        let all_failed = series(&[5, 5], 2);
        assert!(Threshold::parse("errors<1%").expect("parse").check(&all_failed, second).is_some());
    }
}
