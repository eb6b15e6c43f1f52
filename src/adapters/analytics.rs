//! Analytics Engine: one data point per request through the `ANALYTICS` binding. Local `wrangler dev` accepts the
//! write but keeps nothing readable, so every write is also counted (`analytics_datapoints_total{result}`) — the
//! adapter boundary the tests observe.

use worker::{AnalyticsEngineDataPointBuilder, Env};

/// Binding of the dataset in `wrangler.toml`.
pub const BINDING: &str = "ANALYTICS";

/// What one request contributes.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestPoint<'a> {
    pub route: &'a str,
    pub method: &'a str,
    pub status: u16,
    pub colo: &'a str,
    pub error_code: &'a str,
    pub duration_ms: f64,
    pub response_bytes: f64,
}

impl RequestPoint<'_> {
    /// Blobs in dataset order: route, method, status class, colo, error code.
    pub fn blobs(&self) -> [String; 5] {
        [
            self.route.to_owned(),
            self.method.to_owned(),
            format!("{}xx", self.status / 100),
            self.colo.to_owned(),
            self.error_code.to_owned(),
        ]
    }

    /// Doubles in dataset order: duration (ms), response bytes.
    pub fn doubles(&self) -> [f64; 2] {
        [self.duration_ms, self.response_bytes]
    }
}

/// Writes the point (never fails the request).
pub fn write(env: &Env, point: &RequestPoint<'_>) {
    let written = env.analytics_engine(BINDING).and_then(|dataset| {
        AnalyticsEngineDataPointBuilder::new()
            .indexes([point.route])
            .blobs(point.blobs())
            .doubles(point.doubles())
            .write_to(&dataset)
    });
    let result = if written.is_ok() { "ok" } else { "error" };
    crate::metrics::add(crate::metrics::Family::AnalyticsDatapointsTotal, &[("result", result)], 1.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_has_the_documented_layout() {
        let point = RequestPoint {
            route: "/api/v1/leaderboard/{competition_id}",
            method: "GET",
            status: 404,
            colo: "AMS",
            error_code: "not_found",
            duration_ms: 3.5,
            response_bytes: 120.0,
        };
        assert_eq!(
            point.blobs(),
            ["/api/v1/leaderboard/{competition_id}", "GET", "4xx", "AMS", "not_found"].map(String::from)
        );
        assert_eq!(point.doubles(), [3.5, 120.0]);
    }
}
