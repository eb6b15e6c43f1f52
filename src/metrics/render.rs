//! The Prometheus text exposition format 0.0.4 from aggregated series values (plain Rust).

use std::collections::BTreeMap;

use super::series::{format_value, Family, Kind};

/// Content type of `/metrics`.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders every series under its family's `# HELP` / `# TYPE`. Every family gets its header, with or without
/// samples, so scrapers see the full catalogue; a stored series of no family (left by an older deploy) is not shown.
pub fn render(values: &BTreeMap<String, f64>) -> String {
    let mut by_family: BTreeMap<Family, Vec<(&String, f64)>> = BTreeMap::new();
    for (series, value) in values {
        if let Some(family) = Family::of_series(series) {
            by_family.entry(family).or_default().push((series, *value));
        }
    }
    let mut out = String::new();
    for family in Family::all() {
        let (kind, help) = (family.kind(), family.help());
        let name = family.name();
        let kind_name = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind_name}\n"));
        let mut samples = by_family.remove(&family).unwrap_or_default();
        if kind == Kind::Histogram {
            // Buckets in ascending `le` per label set, then sum and count: the order the format requires.
            samples.sort_by(|a, b| {
                histogram_order(a.0).partial_cmp(&histogram_order(b.0)).unwrap_or(std::cmp::Ordering::Equal)
            });
        }
        for (series, value) in samples {
            out.push_str(&format!("{series} {}\n", format_value(value)));
        }
    }
    out
}

/// Sort key of a histogram sample: its label set without `le`, then bucket bound (`+Inf` last), then sum, count.
fn histogram_order(series: &str) -> (String, u8, f64) {
    let (name, labels) = series.split_once('{').unwrap_or((series, ""));
    let labels = labels.trim_end_matches('}');
    let mut le = None;
    let rest: Vec<&str> = labels
        .split(',')
        .filter(|part| match part.strip_prefix("le=\"") {
            Some(bound) => {
                le = Some(bound.trim_end_matches('"').to_owned());
                false
            }
            None => true,
        })
        .collect();
    let part = if name.ends_with("_bucket") {
        0
    } else if name.ends_with("_sum") {
        1
    } else {
        2
    };
    let bound = match le.as_deref() {
        Some("+Inf") => f64::INFINITY,
        Some(text) => text.parse().unwrap_or(f64::INFINITY),
        None => 0.0,
    };
    (rest.join(","), part, bound)
}

#[cfg(test)]
mod tests {
    use super::super::series::{Deltas, DURATION_BUCKETS};
    use super::*;

    #[test]
    fn families_are_described_and_histograms_ordered_as_the_format_requires() {
        let mut deltas = Deltas::default();
        let route = ("route", "/api/v1/leaderboard/{competition_id}");
        deltas.add("http_requests_total", &[("method", "GET"), route, ("status", "200")], 3.0);
        deltas.add("http_requests_total", &[("method", "POST"), ("route", "/weird\"route"), ("status", "404")], 1.0);
        deltas.observe("http_request_duration_seconds", &[("method", "GET"), route], 0.003, DURATION_BUCKETS);
        deltas.observe("http_request_duration_seconds", &[("method", "GET"), route], 0.2, DURATION_BUCKETS);
        deltas.add("not_a_family_total", &[], 9.0);
        let text = render(&deltas.take());
        let lines: Vec<&str> = text.lines().collect();

        assert!(!text.contains("not_a_family_total"), "unknown series are left out");
        assert!(lines.contains(&"# TYPE websocket_connections gauge"), "the whole catalogue is described");
        assert!(lines.contains(&"http_requests_total{method=\"POST\",route=\"/weird\\\"route\",status=\"404\"} 1"));
        let histogram: Vec<&str> =
            lines.iter().copied().filter(|l| l.starts_with("http_request_duration_seconds")).collect();
        assert_eq!(histogram.len(), DURATION_BUCKETS.len() + 3, "every bucket, +Inf, sum and count");
        assert!(histogram[0].contains("le=\"0.005\"} 1"), "{}", histogram[0]);
        assert!(histogram[DURATION_BUCKETS.len()].contains("le=\"+Inf\"} 2"));
        assert!(histogram[DURATION_BUCKETS.len() + 1].starts_with("http_request_duration_seconds_sum"));
        assert!(histogram[DURATION_BUCKETS.len() + 2]
            .ends_with("_count{method=\"GET\",route=\"/api/v1/leaderboard/{competition_id}\"} 2"));
        // Cumulative buckets never decrease.
        let counts: Vec<f64> =
            histogram[..=DURATION_BUCKETS.len()].iter().filter_map(|l| l.rsplit(' ').next()?.parse().ok()).collect();
        assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    }
}
