//! How long the Worker waited for Redis during a run, as the Worker itself measured it: `GET /metrics` before and
//! after (a scrape flushes the isolate's own deltas first), differenced. This is the wait the rate limiter's time
//! budget (`rate_limit::REDIS_BUDGET_MS`) is compared against under load, queueing inside the runtime included.

use std::collections::BTreeMap;

/// Every series of a Prometheus text page: `name{labels}` as written, and its value.
pub type Samples = BTreeMap<String, f64>;

/// The series of a Prometheus text page (comments and unreadable lines left out).
pub fn parse(text: &str) -> Samples {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

/// `GET {url}/metrics`, with the operator's token when one is given.
pub fn scrape(url: &str, token: Option<&str>) -> Result<Samples, String> {
    let mut request = ureq::get(&format!("{}/metrics", url.trim_end_matches('/')));
    if let Some(token) = token {
        request = request.set("Authorization", &format!("Bearer {token}"));
    }
    let text = request.call().map_err(|e| format!("GET /metrics: {e}"))?.into_string().map_err(|e| e.to_string())?;
    Ok(parse(&text))
}

/// The labels of `series` (`name{a="x",b="y"}`) when its name is `name`.
fn labels_of<'a>(series: &'a str, name: &str) -> Option<BTreeMap<&'a str, &'a str>> {
    let rest = series.strip_prefix(name)?.strip_prefix('{')?.strip_suffix('}')?;
    rest.split(',')
        .map(|pair| {
            let (key, value) = pair.split_once('=')?;
            Some((key, value.strip_prefix('"')?.strip_suffix('"')?))
        })
        .collect()
}

/// The Worker's calls to one dependency during a run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Waits {
    /// Calls by outcome (`ok`, `timeout`, `circuit_open`, …).
    pub by_outcome: BTreeMap<String, f64>,
    /// Share of the timed calls that took at most each bucket bound (seconds), ascending.
    pub within: Vec<(f64, f64)>,
}

impl Waits {
    /// Calls made or refused.
    pub fn calls(&self) -> f64 {
        self.by_outcome.values().sum()
    }

    /// One line for the report.
    pub fn summary(&self, service: &str) -> String {
        let outcomes: Vec<String> = self.by_outcome.iter().map(|(k, v)| format!("{k} {v:.0}")).collect();
        let within: Vec<String> =
            self.within.iter().map(|(le, share)| format!("≤{:.0} ms {:.2} %", le * 1000.0, share * 100.0)).collect();
        format!(
            "{service} calls seen by the worker: {:.0} ({}); {}",
            self.calls(),
            outcomes.join(", "),
            within.join(", ")
        )
    }
}

/// The calls to `service` between two scrapes (`external_requests_total` and `external_request_duration_seconds`).
pub fn waits(before: &Samples, after: &Samples, service: &str) -> Waits {
    let delta = |series: &str, value: f64| value - before.get(series).copied().unwrap_or(0.0);
    let mut waits = Waits::default();
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    for (series, value) in after {
        if let Some(labels) = labels_of(series, "external_requests_total") {
            if labels.get("service") == Some(&service) {
                let outcome = labels.get("outcome").copied().unwrap_or("-").to_owned();
                *waits.by_outcome.entry(outcome).or_insert(0.0) += delta(series, *value);
            }
        } else if let Some(labels) = labels_of(series, "external_request_duration_seconds_bucket") {
            if labels.get("service") == Some(&service) {
                if let Some(le) = labels.get("le").and_then(|le| le.parse::<f64>().ok()) {
                    buckets.push((le, delta(series, *value)));
                }
            }
        }
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let timed = after
        .iter()
        .find(|(series, _)| {
            labels_of(series, "external_request_duration_seconds_count")
                .is_some_and(|labels| labels.get("service") == Some(&service))
        })
        .map(|(series, value)| delta(series, *value))
        .unwrap_or(0.0);
    if timed > 0.0 {
        waits.within = buckets.into_iter().map(|(le, count)| (le, count / timed)).collect();
    }
    waits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_waits_of_a_run_are_the_difference_of_two_scrapes() {
        let before = parse(
            "# HELP x\n\
             external_requests_total{service=\"redis\",outcome=\"ok\"} 10\n\
             external_request_duration_seconds_bucket{service=\"redis\",le=\"0.05\"} 9\n\
             external_request_duration_seconds_bucket{service=\"redis\",le=\"0.01\"} 5\n\
             external_request_duration_seconds_count{service=\"redis\"} 10\n",
        );
        let after = parse(
            "external_requests_total{service=\"redis\",outcome=\"ok\"} 100\n\
             external_requests_total{service=\"redis\",outcome=\"timeout\"} 4\n\
             external_requests_total{service=\"postgrest\",outcome=\"ok\"} 7\n\
             external_request_duration_seconds_bucket{service=\"redis\",le=\"0.01\"} 55\n\
             external_request_duration_seconds_bucket{service=\"redis\",le=\"0.05\"} 99\n\
             external_request_duration_seconds_bucket{service=\"postgrest\",le=\"0.05\"} 7\n\
             external_request_duration_seconds_count{service=\"redis\"} 110\n\
             not a sample\n",
        );
        let waits = waits(&before, &after, "redis");
        assert_eq!(waits.by_outcome, BTreeMap::from([("ok".to_owned(), 90.0), ("timeout".to_owned(), 4.0)]));
        assert_eq!(waits.calls(), 94.0);
        assert_eq!(waits.within, vec![(0.01, 0.5), (0.05, 0.9)]);
        assert_eq!(
            waits.summary("redis"),
            "redis calls seen by the worker: 94 (ok 90, timeout 4); ≤10 ms 50.00 %, ≤50 ms 90.00 %"
        );
        assert_eq!(super::waits(&before, &before, "redis").within, Vec::<(f64, f64)>::new(), "no calls, no shares");
    }
}
