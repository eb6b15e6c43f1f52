//! `GET /health` and `GET /health/live`: answered without touching any dependency.

use serde_json::json;

use crate::http::reply::Reply;

/// Version reported by `/health`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `GET /health`
pub fn health() -> Reply {
    Reply::json(200, &json!({ "status": "ok", "version": VERSION }))
}

/// `GET /health/live`
pub fn live() -> Reply {
    Reply::json(200, &json!({ "status": "alive" }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_match_the_contract() {
        let health: serde_json::Value = serde_json::from_slice(&health().body).expect("json");
        assert_eq!(health, json!({"status": "ok", "version": VERSION}));
        let live: serde_json::Value = serde_json::from_slice(&live().body).expect("json");
        assert_eq!(live, json!({"status": "alive"}));
    }
}
