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
    /// The authenticated caller, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
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
        assert_eq!(level_for(503), "error");
    }
}
