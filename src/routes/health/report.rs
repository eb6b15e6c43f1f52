//! The health report of `/health/ready` and `/health/detailed` (plain Rust): each component's check, the overall
//! status, and the body of `API.md`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::adapters::breaker::BreakerState;

/// A component of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    Postgrest,
    Redis,
    DurableObjects,
    Storage,
}

impl Component {
    /// Every component, in report order.
    pub const ALL: [Component; 4] =
        [Component::Postgrest, Component::Redis, Component::DurableObjects, Component::Storage];

    /// The key in the report.
    pub fn name(self) -> &'static str {
        match self {
            Component::Postgrest => "postgrest",
            Component::Redis => "redis",
            Component::DurableObjects => "durable_objects",
            Component::Storage => "storage",
        }
    }

    /// Whether serving cannot go on without it (`unhealthy`), or only degrades (`degraded`). Redis down means the
    /// cache is bypassed and rate limits fall back to the isolate (`DESIGN.md`).
    pub fn required(self) -> bool {
        matches!(self, Component::Postgrest | Component::DurableObjects)
    }

    /// Whether `/health/ready` needs it ("when the database API and Redis answer").
    pub fn needed_for_ready(self) -> bool {
        matches!(self, Component::Postgrest | Component::Redis)
    }
}

/// One component's check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub component: Component,
    pub up: bool,
    pub latency_ms: f64,
    pub error: Option<String>,
}

/// Overall status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Overall {
    Healthy,
    Degraded,
    Unhealthy,
}

/// The overall status of a set of checks.
pub fn overall(checks: &[Check]) -> Overall {
    if checks.iter().any(|c| !c.up && c.component.required()) {
        Overall::Unhealthy
    } else if checks.iter().any(|c| !c.up) {
        Overall::Degraded
    } else {
        Overall::Healthy
    }
}

/// Reply of `GET /health/detailed`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = HealthDetailed)]
pub struct Detailed {
    /// `healthy`, `degraded` (an optional component is down) or `unhealthy` (503).
    pub status: Overall,
    /// When the checks ran (they are cached for 5 s), RFC 3339.
    #[schema(format = DateTime)]
    pub checked_at: String,
    /// Each dependency by name.
    pub components: BTreeMap<&'static str, ComponentReport>,
    /// Each dependency's circuit breaker.
    pub circuit_breakers: BTreeMap<String, BreakerState>,
}

/// One dependency's check.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ComponentReport {
    /// Whether it answered.
    #[schema(schema_with = up_or_down)]
    pub status: &'static str,
    /// How long the check took, to 0.1 ms.
    pub latency_ms: f64,
    /// Why it is down: the text for the operator (`METRICS_TOKEN`), `unavailable` for everyone else.
    pub error: Option<String>,
}

fn up_or_down() -> utoipa::openapi::schema::Object {
    crate::http::schema::one_of_words(["up", "down"])
}

/// `/health/detailed`: status and body. The adapters' error text (which may name hosts and ports) is shown only to
/// the operator (`reveal_errors`); anyone else sees that a component is down, not why.
pub fn detailed(
    checks: &[Check],
    breakers: &[(&str, BreakerState)],
    checked_at: &str,
    reveal_errors: bool,
) -> (u16, Detailed) {
    let status = overall(checks);
    let components = checks
        .iter()
        .map(|check| {
            let report = ComponentReport {
                status: if check.up { "up" } else { "down" },
                latency_ms: (check.latency_ms * 10.0).round() / 10.0,
                error: match (&check.error, reveal_errors) {
                    (Some(error), true) => Some(error.clone()),
                    (Some(_), false) => Some("unavailable".to_owned()),
                    (None, _) => None,
                },
            };
            (check.component.name(), report)
        })
        .collect();
    let circuit_breakers = breakers.iter().map(|(name, state)| ((*name).to_owned(), *state)).collect();
    let code = if status == Overall::Unhealthy { 503 } else { 200 };
    (code, Detailed { status, checked_at: checked_at.to_owned(), components, circuit_breakers })
}

/// Reply of `GET /health/ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or `not_ready` (503).
    #[schema(schema_with = ready_or_not)]
    pub status: &'static str,
    /// The components needed for readiness that are down.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failing: Vec<&'static str>,
}

fn ready_or_not() -> utoipa::openapi::schema::Object {
    crate::http::schema::one_of_words(["ready", "not_ready"])
}

/// The readiness report: its status code and body.
pub fn ready(checks: &[Check]) -> (u16, Readiness) {
    let failing: Vec<&'static str> =
        checks.iter().filter(|c| c.component.needed_for_ready() && !c.up).map(|c| c.component.name()).collect();
    let (code, status) = if failing.is_empty() { (200, "ready") } else { (503, "not_ready") };
    (code, Readiness { status, failing })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn checks(down: &[Component]) -> Vec<Check> {
        Component::ALL
            .iter()
            .map(|c| Check { component: *c, up: !down.contains(c), latency_ms: 1.26, error: None })
            .collect()
    }

    #[test]
    fn overall_status_follows_which_component_is_down() {
        let cases = [
            (vec![], Overall::Healthy, 200, 200),
            (vec![Component::Redis], Overall::Degraded, 200, 503),
            (vec![Component::Storage], Overall::Degraded, 200, 200),
            (vec![Component::Postgrest], Overall::Unhealthy, 503, 503),
            (vec![Component::DurableObjects], Overall::Unhealthy, 503, 200),
        ];
        for (down, expected, detailed_status, ready_status) in cases {
            let checks = checks(&down);
            assert_eq!(overall(&checks), expected, "{down:?}");
            assert_eq!(detailed(&checks, &[], "t", false).0, detailed_status, "{down:?}");
            assert_eq!(ready(&checks).0, ready_status, "{down:?}");
        }
    }

    #[test]
    fn bodies_have_the_contract_shape() {
        let (_, body) = detailed(
            &checks(&[Component::Redis]),
            &[("postgrest", BreakerState::Closed), ("redis", BreakerState::Open)],
            "now",
            false,
        );
        let body = serde_json::to_value(body).expect("json");
        assert_eq!(body["status"], "degraded");
        assert_eq!(body["components"]["redis"]["status"], "down");
        assert_eq!(body["components"]["postgrest"]["latency_ms"], 1.3);
        assert_eq!(body["circuit_breakers"], json!({"postgrest": "closed", "redis": "open"}));
        let not_ready = serde_json::to_value(ready(&checks(&[Component::Redis])).1).expect("json");
        assert_eq!(not_ready, json!({"status": "not_ready", "failing": ["redis"]}));
        assert_eq!(serde_json::to_value(ready(&checks(&[])).1).expect("json"), json!({"status": "ready"}));
    }

    #[test]
    fn error_text_is_shown_to_the_operator_only() {
        let mut down = checks(&[Component::Redis]);
        down.iter_mut().for_each(|c| c.error = (!c.up).then(|| "unreachable: http://10.0.0.5:6379".to_owned()));
        let public = serde_json::to_value(detailed(&down, &[], "now", false).1).expect("json");
        assert_eq!(public["components"]["redis"]["error"], "unavailable");
        assert_eq!(public["components"]["postgrest"]["error"], Value::Null);
        assert!(!public.to_string().contains("10.0.0.5"));
        let operator = serde_json::to_value(detailed(&down, &[], "now", true).1).expect("json");
        assert_eq!(operator["components"]["redis"]["error"], "unreachable: http://10.0.0.5:6379");
    }
}
