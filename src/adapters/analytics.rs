//! Analytics Engine: one data point per request through the `ANALYTICS` binding. Local `wrangler dev` accepts the
//! write but keeps nothing readable, so every write is also counted (`analytics_datapoints_total{result}`) — the
//! adapter boundary the tests observe.

use std::cell::OnceCell;

use wasm_bindgen::prelude::*;
use worker::Env;

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

thread_local! {
    /// The dataset binding, looked up on the first request (`None`: not bound). An isolate's bindings do not change
    /// while it lives, and the lookup (with the error workers-rs builds when the binding is absent) was about 2 % of
    /// a `GET /health/live` in a profile under load.
    static DATASET: OnceCell<Option<JsValue>> = const { OnceCell::new() };
}

// One call per point: workers-rs's builder crossed into JavaScript for the object, each array and each of their
// members. The blobs travel as one text, a line each (none of them can hold a line break: route templates, methods,
// status classes, colo codes and error codes).
#[wasm_bindgen(inline_js = "export function write_point(dataset, index, blobs, duration, bytes) {
  dataset.writeDataPoint({ indexes: [index], blobs: blobs.split('\\n'), doubles: [duration, bytes] });
}")]
extern "C" {
    // `catch`: a refused point throws, and a JavaScript exception must not unwind through Rust.
    #[wasm_bindgen(catch)]
    fn write_point(dataset: &JsValue, index: &str, blobs: &str, duration: f64, bytes: f64) -> Result<(), JsValue>;
}

/// Writes the point (never fails the request).
pub fn write(env: &Env, point: &RequestPoint<'_>) {
    let written = DATASET.with(|cell| {
        let dataset = cell.get_or_init(|| {
            let value = js_sys::Reflect::get(env, &JsValue::from_str(BINDING)).ok()?;
            (!value.is_undefined() && !value.is_null()).then_some(value)
        });
        dataset.as_ref().is_some_and(|dataset| {
            let [duration, bytes] = point.doubles();
            write_point(dataset, point.route, &point.blobs().join("\n"), duration, bytes).is_ok()
        })
    });
    let result = if written { "ok" } else { "error" };
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
