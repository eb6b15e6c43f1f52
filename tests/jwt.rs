//! The JWT flow against `wrangler dev`: HS256 with the shared secret, ES256 and RS256 with keys from a JWKS endpoint
//! this test serves itself (fixture keys in `tests/fixtures/jwt`), every attack token of the auth issue refused with
//! the right code and `WWW-Authenticate`, the admin role, and key rotation: an unknown `kid` fetches the key set
//! again, at most once a minute; the fetch continues the caller's W3C trace (`traceparent`). With the key server
//! unreachable, asymmetric tokens answer 503 and the `jwks` breaker opens, after which they answer at once.

use std::time::{Duration, Instant};

use e2e::{free_port, scratch_dir, send, service_token, setting, KeyServer, WranglerDev};
use leaderboard_worker::auth::test_tokens::{
    b64, es256, hs256, private_keys, public_jwks as jwks, rs256, with_payload,
};
use serde_json::{json, Value};
use uuid::Uuid;

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64
}

fn payload(user: &Uuid) -> Value {
    json!({"sub": user, "aud": "authenticated", "role": "authenticated", "exp": now() + 600, "iat": now() - 5})
}

fn with(mut p: Value, key: &str, value: Value) -> Value {
    p[key] = value;
    p
}

fn me(base: &str, token: &str) -> e2e::Reply {
    send("GET", &format!("{base}/api/v1/me"), &[("Authorization", &format!("Bearer {token}"))], None)
}

#[test]
fn tokens_of_every_algorithm_and_every_attack() {
    // The database gateway checks the tokens the Worker forwards, as Supabase's PostgREST does: it trusts every
    // fixture key through the stack's JWKS file. The Worker trusts only what `keys` publishes.
    let trusted = std::path::Path::new(&setting("E2E_STACK_DIR")).join("jwks.json");
    std::fs::write(&trusted, jwks(&["rsa-1", "rsa-2", "ec-1", "ec-2"])).expect("write the stack's JWKS file");
    let keys = KeyServer::start(jwks(&["rsa-1", "ec-1"]));
    let worker = WranglerDev::start_with(
        &scratch_dir("jwt"),
        &[("SUPABASE_JWKS_URL", &keys.url), ("JWT_ISSUER", "https://issuer.test/auth/v1")],
    );
    let base = worker.base_url();
    let secret = setting("E2E_JWT_SECRET");
    let user = Uuid::new_v4();
    let good = || with(payload(&user), "iss", json!("https://issuer.test/auth/v1"));

    // The first asymmetric token fetches the keys, with the caller's trace continued in `traceparent`.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let incoming = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let traced = send(
        "GET",
        &format!("{base}/api/v1/me"),
        &[("Authorization", &format!("Bearer {}", es256("ec-1", good()))), ("traceparent", &incoming)],
        None,
    );
    assert_eq!(traced.status, 200, "{:?}", traced.json);
    let forwarded = keys.last_traceparent().expect("the JWKS fetch carries traceparent");
    let parts: Vec<&str> = forwarded.split('-').collect();
    assert_eq!((parts.len(), parts[0], parts[1], parts[3]), (4, "00", trace_id, "01"), "{forwarded}");
    assert_ne!(parts[2], "00f067aa0ba902b7", "the Worker's own span is the parent of its calls");

    for (name, token) in [
        ("HS256", hs256(secret.as_bytes(), good())),
        ("ES256", es256("ec-1", good())),
        ("RS256", rs256("rsa-1", good())),
    ] {
        let reply = me(&base, &token);
        assert_eq!(reply.status, 200, "{name}: {:?}", reply.json);
        assert_eq!(reply.json["user_id"], json!(user), "{name}");
    }
    assert_eq!(keys.fetches(), 1, "one fetch serves both asymmetric keys");

    // The admin role signed with a JWKS key may create competitions; a user may not.
    let competition = json!({"name": "jwt", "metric": "steps", "starts_at": e2e::rfc3339(now()),
                             "ends_at": e2e::rfc3339(now() + 3600), "prize_pool": 0, "payout": []});
    let create = |token: &str| {
        send(
            "POST",
            &format!("{base}/api/v1/competitions"),
            &[("Authorization", &format!("Bearer {token}"))],
            Some(&competition),
        )
    };
    assert_eq!(create(&es256("ec-1", with(good(), "role", json!("service_role")))).status, 201);
    let refused = create(&rs256("rsa-1", good()));
    assert_eq!((refused.status, refused.json["error"]["code"].as_str()), (403, Some("forbidden")));

    let rsa_public = private_keys()["rsa-1"]["n"].as_str().expect("n").to_owned();
    let tampered = with_payload(&es256("ec-1", good()), &with(good(), "sub", json!(Uuid::new_v4())));
    let none_alg = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), b64(good().to_string().as_bytes()));
    let cases: Vec<(&str, String, &str)> = vec![
        ("alg none", none_alg, "invalid_token"),
        ("HS256 signed with the RS256 public key", hs256(rsa_public.as_bytes(), good()), "invalid_token"),
        ("wrong secret", hs256(b"another-secret-of-at-least-32-characters!!", good()), "invalid_token"),
        ("tampered payload", tampered, "invalid_token"),
        ("expired", es256("ec-1", with(good(), "exp", json!(now() - 120))), "token_expired"),
        ("not yet valid", rs256("rsa-1", with(good(), "nbf", json!(now() + 600))), "invalid_token"),
        ("wrong aud", es256("ec-1", with(good(), "aud", json!("anon"))), "invalid_token"),
        ("wrong iss", rs256("rsa-1", with(good(), "iss", json!("https://evil.test"))), "invalid_token"),
        ("non-UUID sub", hs256(secret.as_bytes(), with(good(), "sub", json!("admin"))), "invalid_token"),
        ("oversized", format!("{}.{}.{}", "e".repeat(4096), "e".repeat(4096), "e".repeat(10)), "invalid_token"),
    ];
    for (name, token, code) in cases {
        let reply = me(&base, &token);
        assert_eq!(reply.status, 401, "{name}: {:?}", reply.json);
        assert_eq!(reply.json["error"]["code"], code, "{name}");
        assert!(reply.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer")), "{name}");
        assert!(reply.json["error"]["request_id"].is_string(), "{name}");
    }
    assert_eq!(keys.fetches(), 1, "refused tokens with known kids fetch nothing");

    // Rotation: a key published after the set was cached is found by one more fetch...
    keys.publish(jwks(&["rsa-1", "ec-1", "ec-2"]));
    let rotated = me(&base, &es256("ec-2", good()));
    assert_eq!(rotated.status, 200, "{:?}", rotated.json);
    assert_eq!(keys.fetches(), 2);
    // ...and an unknown kid within the minute after that is refused without fetching again.
    let unknown = me(&base, &rs256("rsa-2", good()));
    assert_eq!((unknown.status, unknown.json["error"]["code"].as_str()), (401, Some("invalid_token")));
    assert!(unknown.json["error"]["message"].as_str().is_some_and(|m| m.contains("unknown signing key")));
    assert_eq!(keys.fetches(), 2, "at most one refetch a minute");
}

#[test]
fn an_unreachable_key_server_opens_the_jwks_breaker() {
    let closed = format!("http://127.0.0.1:{}/jwks.json", free_port());
    let worker = WranglerDev::start_with(
        &scratch_dir("jwt-breaker"),
        &[("SUPABASE_JWKS_URL", &closed), ("BREAKER_FAILURE_THRESHOLD", "2"), ("BREAKER_OPEN_SECS", "60")],
    );
    let base = worker.base_url();
    let token = es256("ec-1", payload(&Uuid::new_v4()));
    let breakers = || {
        let reply = send(
            "GET",
            &format!("{base}/__test/breakers"),
            &[("Authorization", &format!("Bearer {}", service_token()))],
            None,
        );
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        reply.json["jwks"].as_str().expect("the jwks breaker is listed").to_owned()
    };
    assert_eq!(breakers(), "closed");
    for attempt in 1..=2 {
        let reply = me(&base, &token);
        assert_eq!(reply.status, 503, "attempt {attempt}: {:?}", reply.json);
        assert_eq!(reply.json["error"]["code"], "dependency_unavailable", "attempt {attempt}");
    }
    assert_eq!(breakers(), "open", "two failed fetches open the breaker");
    let started = Instant::now();
    let reply = me(&base, &token);
    assert_eq!((reply.status, reply.json["error"]["code"].as_str()), (503, Some("dependency_unavailable")));
    assert!(reply.header("retry-after").is_some(), "{:?}", reply.json);
    assert!(started.elapsed() < Duration::from_secs(1), "an open breaker answers at once: {:?}", started.elapsed());
    // The shared secret's tokens need no key set and still pass.
    let hs = hs256(setting("E2E_JWT_SECRET").as_bytes(), payload(&Uuid::new_v4()));
    assert_eq!(me(&base, &hs).status, 200);
}
