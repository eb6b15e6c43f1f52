//! One structured JSON log line per request.

use serde::Serialize;

/// The fields of a request's log line.
#[derive(Debug, Serialize)]
pub struct AccessLog<'a> {
    /// When the request arrived, RFC 3339 UTC.
    pub ts: String,
    /// `info` for < 500, `error` otherwise.
    pub level: &'static str,
    /// The request id echoed in `X-Request-Id`.
    pub request_id: &'a str,
    /// W3C trace id of the request (its incoming `traceparent`'s, or a new one).
    pub trace_id: String,
    /// HTTP method.
    pub method: &'a str,
    /// Route template, never the raw path (ids stay out of log cardinality).
    pub route: &'a str,
    /// Response status.
    pub status: u16,
    /// Time spent in the Worker.
    pub duration_ms: f64,
    /// The authenticated caller, when known (a service key without `sub` names nobody).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `service_role` for an administrator's request, so their actions stand out in the logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    /// Cloudflare colo, when the runtime tells.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub colo: Option<String>,
    /// Error code of the envelope, for failed requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    /// Internal error detail (logged, never sent to the caller).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Log level for a status.
pub fn level_for(status: u16) -> &'static str {
    if status >= 500 {
        "error"
    } else {
        "info"
    }
}

/// The log's `user_id` and `role` for a caller: the service key's stand-in nil id is nobody's, so it is left out.
pub fn caller_fields(user: Option<&crate::auth::UserContext>) -> (Option<String>, Option<&'static str>) {
    let user_id = user.filter(|u| !u.names_nobody()).map(|u| u.user_id.to_string());
    (user_id, user.filter(|u| u.is_admin()).map(|_| "service_role"))
}

impl AccessLog<'_> {
    /// The line as JSON.
    pub fn to_line(&self) -> String {
        // Serialising plain strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_json_with_the_documented_fields() {
        let line = AccessLog {
            ts: "2026-11-25T00:00:00Z".into(),
            level: level_for(404),
            request_id: "r1",
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
            method: "GET",
            route: "/api/v1/leaderboard/{competition_id}/users/{user_id}",
            status: 404,
            duration_ms: 1.5,
            user_id: None,
            role: None,
            colo: Some("LHR".into()),
            error: Some("not_found"),
            detail: None,
        }
        .to_line();
        let parsed: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(parsed["level"], "info");
        assert_eq!(parsed["route"], "/api/v1/leaderboard/{competition_id}/users/{user_id}");
        assert_eq!(parsed["error"], "not_found");
        assert_eq!(parsed["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(parsed.get("user_id").is_none());
        assert!(parsed.get("role").is_none());
        assert_eq!(level_for(503), "error");
    }

    #[test]
    fn callers_are_logged_by_id_and_administrators_by_role() {
        use crate::auth::{Role, UserContext};
        let id = uuid::Uuid::from_u128(0x5f0c_1d9e_8a47_4a43_9d0e_3c1f_2a4b_5c6d);
        let context = |user_id, role| UserContext { user_id, role, expires_at: 0 };
        let cases = [
            (None, (None, None)),
            (Some(context(id, Role::Authenticated)), (Some(id.to_string()), None)),
            (Some(context(id, Role::ServiceRole)), (Some(id.to_string()), Some("service_role"))),
            // The service key (no `sub`) is carried with the nil id, which is nobody's.
            (Some(context(uuid::Uuid::nil(), Role::ServiceRole)), (None, Some("service_role"))),
        ];
        for (user, expected) in cases {
            assert_eq!(caller_fields(user.as_ref()), expected, "{user:?}");
        }
    }
}
