//! The health report of `/health/ready` and `/health/detailed` (plain Rust): each component's check, the overall
//! status, and the body of `API.md`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// `/health/detailed`: status and body. The adapters' error text (which may name hosts and ports) is shown only to
/// the operator (`reveal_errors`); anyone else sees that a component is down, not why.
pub fn detailed(checks: &[Check], breakers: &[(&str, &str)], checked_at: &str, reveal_errors: bool) -> (u16, Value) {
    let status = overall(checks);
    let mut components = Map::new();
    for check in checks {
        components.insert(
            check.component.name().to_owned(),
            json!({
                "status": if check.up { "up" } else { "down" },
                "latency_ms": (check.latency_ms * 10.0).round() / 10.0,
                "error": match (&check.error, reveal_errors) {
                    (Some(error), true) => json!(error),
                    (Some(_), false) => json!("unavailable"),
                    (None, _) => Value::Null,
                },
            }),
        );
    }
    let breakers: Map<String, Value> = breakers.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
    let (code, name) = match status {
        Overall::Healthy => (200, "healthy"),
        Overall::Degraded => (200, "degraded"),
        Overall::Unhealthy => (503, "unhealthy"),
    };
    (code, json!({ "status": name, "checked_at": checked_at, "components": components, "circuit_breakers": breakers }))
}

/// `/health/ready`: status and body.
pub fn ready(checks: &[Check]) -> (u16, Value) {
    let failing: Vec<&str> =
        checks.iter().filter(|c| c.component.needed_for_ready() && !c.up).map(|c| c.component.name()).collect();
    if failing.is_empty() {
        (200, json!({ "status": "ready" }))
    } else {
        (503, json!({ "status": "not_ready", "failing": failing }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let (_, body) =
            detailed(&checks(&[Component::Redis]), &[("postgrest", "closed"), ("redis", "open")], "now", false);
        assert_eq!(body["status"], "degraded");
        assert_eq!(body["components"]["redis"]["status"], "down");
        assert_eq!(body["components"]["postgrest"]["latency_ms"], 1.3);
        assert_eq!(body["circuit_breakers"], json!({"postgrest": "closed", "redis": "open"}));
        assert_eq!(ready(&checks(&[Component::Redis])).1, json!({"status": "not_ready", "failing": ["redis"]}));
    }

    #[test]
    fn error_text_is_shown_to_the_operator_only() {
        let mut down = checks(&[Component::Redis]);
        down.iter_mut().for_each(|c| c.error = (!c.up).then(|| "unreachable: http://10.0.0.5:6379".to_owned()));
        let (_, public) = detailed(&down, &[], "now", false);
        assert_eq!(public["components"]["redis"]["error"], "unavailable");
        assert_eq!(public["components"]["postgrest"]["error"], Value::Null);
        assert!(!public.to_string().contains("10.0.0.5"));
        let (_, operator) = detailed(&down, &[], "now", true);
        assert_eq!(operator["components"]["redis"]["error"], "unreachable: http://10.0.0.5:6379");
    }
}
