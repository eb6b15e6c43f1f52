//! The JWT flow against `wrangler dev`: HS256 with the shared secret, ES256 and RS256 with keys from a JWKS endpoint
//! this test serves itself (fixture keys in `tests/fixtures/jwt`), every attack token of the auth issue refused with
//! the right code and `WWW-Authenticate`, the admin role, and key rotation: an unknown `kid` fetches the key set
//! again, at most once a minute; the fetch continues the caller's W3C trace (`traceparent`).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use e2e::{scratch_dir, send, setting, WranglerDev};
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

/// A JWKS endpoint on a free port: serves the current document and counts fetches.
struct KeyServer {
    url: String,
    document: Arc<Mutex<String>>,
    fetches: Arc<AtomicUsize>,
    /// The `traceparent` header of the latest fetch.
    traceparent: Arc<Mutex<Option<String>>>,
}

impl KeyServer {
    fn start(document: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url =
            format!("http://127.0.0.1:{}/auth/v1/.well-known/jwks.json", listener.local_addr().expect("addr").port());
        let document = Arc::new(Mutex::new(document));
        let fetches = Arc::new(AtomicUsize::new(0));
        let traceparent = Arc::new(Mutex::new(None));
        let (doc, count, seen) = (Arc::clone(&document), Arc::clone(&fetches), Arc::clone(&traceparent));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(&stream);
                let mut line = String::new();
                // Request line and headers; the body of a GET is empty.
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    if let Some((name, value)) = line.split_once(':') {
                        if name.eq_ignore_ascii_case("traceparent") {
                            *seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(value.trim().to_owned());
                        }
                    }
                    line.clear();
                }
                count.fetch_add(1, Ordering::SeqCst);
                let body = doc.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: public, max-age=600\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = (&stream).write_all(reply.as_bytes());
            }
        });
        Self { url, document, fetches, traceparent }
    }

    fn publish(&self, document: String) {
        *self.document.lock().unwrap_or_else(|e| e.into_inner()) = document;
    }

    fn last_traceparent(&self) -> Option<String> {
        self.traceparent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
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
