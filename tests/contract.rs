//! The conventions of API.md every response follows: request ids, security headers, error envelope, 404/405.

use e2e::{base_url, send, SECURITY_HEADERS};

#[test]
fn health_routes_answer_with_the_contracts_bodies_and_headers() {
    for (path, body) in [
        ("/health/live", serde_json::json!({"status": "alive"})),
        ("/health", serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})),
    ] {
        let reply = send("GET", &format!("{}{path}", base_url()), &[], None);
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.json, body, "{path}");
        assert_eq!(reply.header("content-type"), Some("application/json; charset=utf-8"), "{path}");
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(reply.header(name), Some(*value), "{path} {name}");
        }
    }
}

#[test]
fn request_ids_are_echoed_when_sane_and_replaced_otherwise() {
    let url = format!("{}/health/live", base_url());
    let kept = send("GET", &url, &[("X-Request-Id", "client-req.42_a")], None);
    assert_eq!(kept.header("x-request-id"), Some("client-req.42_a"));

    let long = "a".repeat(65);
    for bad in [long.as_str(), "bad id", "<x>"] {
        let replaced = send("GET", &url, &[("X-Request-Id", bad)], None);
        let id = replaced.header("x-request-id").expect("request id");
        assert_ne!(id, bad);
        assert!(uuid::Uuid::parse_str(id).is_ok(), "fresh ids are UUIDs: {id}");
    }
    let a = send("GET", &url, &[], None);
    let b = send("GET", &url, &[], None);
    assert_ne!(a.header("x-request-id"), b.header("x-request-id"), "each request gets its own id");
}

#[test]
fn unknown_routes_and_methods_get_json_envelopes() {
    let reply = send("GET", &format!("{}/api/v1/nope", base_url()), &[("X-Request-Id", "rid-404")], None);
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json["error"]["code"], "not_found");
    assert_eq!(reply.json["error"]["request_id"], "rid-404");
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(reply.header(name), Some(*value), "404 {name}");
    }

    let reply = send("DELETE", &format!("{}/health", base_url()), &[], None);
    assert_eq!(reply.status, 405);
    assert_eq!(reply.json["error"]["code"], "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET"));
}

#[test]
fn openapi_document_is_served_and_scripts_token_mints_accepted_tokens() {
    let reply = send("GET", &format!("{}/openapi.json", base_url()), &[], None);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["openapi"], "3.1.0");
    assert!(reply.json["paths"]["/api/v1/leaderboard/update"]["post"].is_object());

    let user = uuid::Uuid::new_v4();
    let output = std::process::Command::new(e2e::repo_root().join("scripts/token"))
        .args(["--sub", &user.to_string()])
        .output()
        .expect("run scripts/token");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let me = send("GET", &format!("{}/api/v1/me", base_url()), &[("Authorization", &format!("Bearer {token}"))], None);
    assert_eq!(me.status, 200, "{:?}", me.json);
    assert_eq!(me.json["user_id"], user.to_string());
}
