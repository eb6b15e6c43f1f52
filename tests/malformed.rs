//! Bad input never gets a 5xx: 240 malformed requests (random bytes, truncated JSON, wrong types, huge numbers,
//! unicode edge cases, odd paths and queries) against every write route and the readers, each answered with a 4xx
//! in the error envelope, a request id and the security headers.

use e2e::{active_competition, base_url, send_raw, token_with_role, user_token};
use serde_json::{json, Value};
use uuid::Uuid;

/// Method, path, headers, body.
type Case = (String, String, Vec<(String, String)>, Vec<u8>);

/// A small deterministic generator (xorshift64*), so a failure reproduces with the same inputs.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// Values that break naive parsers and validators.
fn odd_values() -> Vec<Value> {
    vec![
        json!(null),
        json!(true),
        json!(-1),
        json!(1.5),
        json!(9_007_199_254_740_992_u64),
        json!(u64::MAX),
        json!(-9_223_372_036_854_775_808_i64),
        json!(1e308),
        json!(""),
        json!("\u{0000}"),
        json!("\u{202e}evil"),
        json!("🏃‍♀️".repeat(30)),
        json!("a".repeat(70_000)),
        json!([]),
        json!({}),
        json!([1, 2, 3]),
        json!({"nested": {"deeper": [null]}}),
        json!("00000000-0000-0000-0000-000000000000"),
        json!("not-a-uuid"),
        json!("2026-02-30"),
        json!("2026-11-24T25:00:00Z"),
    ]
}

/// A body that is valid for `route` except for one field set to `value`, or one extra field.
fn mutated(route: &str, competition: &Uuid, field_pick: u64, value: &Value) -> Value {
    let mut body = match route {
        "/api/v1/leaderboard/update" => json!({"competition_id": competition, "score": 10}),
        "/api/v1/me" => json!({"display_name": "runner"}),
        "/api/v1/competitions" => json!({"name": "x", "metric": "steps", "starts_at": "2026-11-01T00:00:00Z",
                                         "ends_at": "2026-12-01T00:00:00Z", "prize_pool": 0, "payout": []}),
        _ => json!({"source": "manual", "samples": [{"date": "2026-11-24", "steps": 100}]}),
    };
    let fields: Vec<String> = body.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    if field_pick as usize % (fields.len() + 1) == fields.len() {
        body["unexpected"] = value.clone();
    } else {
        let field = &fields[field_pick as usize % fields.len()];
        if field == "samples" {
            body["samples"][0]["steps"] = value.clone();
        } else {
            body[field] = value.clone();
        }
    }
    body
}

#[test]
fn malformed_requests_get_4xx_envelopes_never_5xx() {
    let base = base_url();
    let competition = active_competition();
    let writes = [
        ("POST", "/api/v1/leaderboard/update"),
        ("PATCH", "/api/v1/me"),
        ("POST", "/api/v1/competitions"),
        ("POST", "/api/v1/fitness/sync"),
    ];
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let odd = odd_values();
    let mut cases: Vec<Case> = Vec::new();
    for i in 0..240_u64 {
        // A caller per request: per-route limits (competition creation 10/min, avatars 10/min) would otherwise
        // answer 429 before validation is reached.
        let caller = Uuid::new_v4();
        let (method, route) = *noise.pick(&writes);
        let token = if route == "/api/v1/competitions" {
            token_with_role(&caller, "service_role")
        } else {
            user_token(&caller)
        };
        let mut headers = vec![("Authorization".to_owned(), format!("Bearer {token}"))];
        let json_type = ("Content-Type".to_owned(), "application/json".to_owned());
        let (method, path, body) = match i % 8 {
            // Random bytes as JSON.
            0 => {
                headers.push(json_type);
                let len = (noise.next() % 300) as usize;
                (method.to_owned(), route.to_owned(), noise.bytes(len))
            }
            // Truncated valid JSON.
            1 => {
                headers.push(json_type);
                let full = mutated(route, &competition, 0, &json!("x")).to_string().into_bytes();
                let cut = (noise.next() as usize % full.len().max(1)).max(1);
                (method.to_owned(), route.to_owned(), full[..cut].to_vec())
            }
            // Wrong types, huge numbers, unicode edge cases in one field (or an unknown field).
            2..=4 => {
                headers.push(json_type);
                let value = noise.pick(&odd).clone();
                let pick = noise.next();
                (
                    method.to_owned(),
                    route.to_owned(),
                    mutated(route, &competition, pick, &value).to_string().into_bytes(),
                )
            }
            // Not JSON at all, or no content type.
            5 => {
                if noise.next().is_multiple_of(2) {
                    headers.push(("Content-Type".to_owned(), "text/plain".to_owned()));
                }
                (method.to_owned(), route.to_owned(), b"score=10".to_vec())
            }
            // Odd paths and queries on the readers.
            6 => {
                let garbage = ["-1", "abc", "%00", "99999999999999999999", "%F0%9F%8F%83", "..%2F..", "&&&"];
                let value = *noise.pick(&garbage);
                let path = match noise.next() % 4 {
                    0 => format!("/api/v1/leaderboard/{competition}?limit={value}"),
                    1 => format!("/api/v1/leaderboard/{competition}?cursor={value}"),
                    2 => format!("/api/v1/leaderboard/{value}/users/{value}"),
                    _ => format!("/api/v1/competitions/{value}"),
                };
                ("GET".to_owned(), path, Vec::new())
            }
            // Random bytes as an avatar, or a broken Idempotency-Key.
            _ => {
                if noise.next().is_multiple_of(2) {
                    headers.push(("Content-Type".to_owned(), "image/png".to_owned()));
                    let len = (noise.next() % 2000) as usize;
                    ("POST".to_owned(), "/api/v1/me/avatar".to_owned(), noise.bytes(len))
                } else {
                    headers.push(json_type);
                    headers.push(("Idempotency-Key".to_owned(), "bad key with spaces and * ?".to_owned()));
                    let body = json!({"competition_id": competition, "score": 1}).to_string().into_bytes();
                    ("POST".to_owned(), "/api/v1/leaderboard/update".to_owned(), body)
                }
            }
        };
        cases.push((method, path, headers, body));
    }

    let mut statuses = std::collections::BTreeMap::new();
    for (method, path, headers, body) in &cases {
        let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let reply = send_raw(method, &format!("{base}{path}"), &header_refs, body);
        let shown = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
        assert!(reply.status < 500, "{method} {path} {shown:?} → {} {:?}", reply.status, reply.json);
        assert!(reply.header("x-request-id").is_some(), "{method} {path}: request id");
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{method} {path}");
        if reply.status >= 400 {
            let code = reply.json["error"]["code"].as_str();
            assert!(code.is_some_and(|c| !c.is_empty()), "{method} {path} {shown:?}: envelope {:?}", reply.json);
        }
        *statuses.entry(reply.status).or_insert(0) += 1;
    }
    eprintln!("statuses of {} malformed requests: {statuses:?}", cases.len());
    assert!(statuses.keys().any(|s| *s == 422), "validation is exercised");
    assert!(statuses.keys().any(|s| *s == 400), "parsing is exercised");
}

#[test]
fn a_refused_body_names_the_field_at_fault() {
    let base = base_url();
    let user = Uuid::new_v4();
    let competition = e2e::competition_with(&[user]);
    let admin = token_with_role(&Uuid::new_v4(), "service_role");
    let update = "/api/v1/leaderboard/update";
    let cases: Vec<(&str, String, Value, &str)> = vec![
        (update, user_token(&user), json!({"competition_id": competition, "score": "7"}), "score"),
        (update, user_token(&user), json!({"competition_id": competition, "score": 1.5}), "score"),
        (update, user_token(&user), json!({"competition_id": competition, "score": null}), "score"),
        (update, user_token(&user), json!({"competition_id": 5, "score": 1}), "competition_id"),
        (update, user_token(&user), json!({"competition_id": competition}), "score"),
        (update, user_token(&user), json!({"competition_id": competition, "score": 1, "bonus": 2}), "bonus"),
        // Refused by the competition's rules (implausible so soon after the start), not by the parser.
        (update, user_token(&user), json!({"competition_id": competition, "score": 10_000_000}), "score"),
        ("/api/v1/fitness/sync", user_token(&user), json!({"source": "manual", "samples": {}}), "samples"),
        ("/api/v1/fitness/sync", user_token(&user), json!({"samples": []}), "source"),
        (
            "/api/v1/competitions",
            admin.clone(),
            json!({"name": "x", "metric": "steps", "starts_at": "2026-11-01T00:00:00Z",
                   "ends_at": "2026-12-01T00:00:00Z", "prize_pool": "lots"}),
            "prize_pool",
        ),
        (
            "/api/v1/competitions",
            admin,
            json!({"metric": "steps", "starts_at": "2026-11-01T00:00:00Z", "ends_at": "2026-12-01T00:00:00Z"}),
            "name",
        ),
    ];
    for (route, token, body, field) in cases {
        let auth = format!("Bearer {token}");
        let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
        let reply = send_raw("POST", &format!("{base}{route}"), &headers, body.to_string().as_bytes());
        assert_eq!(reply.status, 422, "{route} {body}: {:?}", reply.json);
        let details = &reply.json["error"]["details"];
        assert_eq!(details[0]["field"].as_str(), Some(field), "{route} {body}: {details}");
        let message = details[0]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty() && !message.contains(" at line "), "{route} {body}: {message:?}");
    }
}

#[test]
fn times_outside_the_databases_calendar_are_refused_with_4xx() {
    // Postgres has no year 0, and a UTC instant in year 10000 has no RFC 3339 form to write back: both were 500s
    // (the database refused what the Worker had accepted).
    let base = base_url();
    let user = Uuid::new_v4();
    let admin = e2e::admin_auth();
    let admin_headers = [("Authorization", admin.as_str())];
    let create = |starts_at: &str, ends_at: &str| {
        let body = json!({"name": "calendar", "metric": "steps", "starts_at": starts_at, "ends_at": ends_at,
                          "prize_pool": 0, "payout": [], "score_source": "client"});
        e2e::send("POST", &format!("{base}/api/v1/competitions"), &admin_headers, Some(&body))
    };
    for (starts_at, ends_at, field) in [
        ("0000-01-01T00:00:00Z", "2026-12-01T00:00:00Z", "starts_at"),
        ("0001-01-01T00:00:00+01:00", "2026-12-01T00:00:00Z", "starts_at"),
        ("2026-11-01T00:00:00Z", "9999-12-31T23:00:00-05:00", "ends_at"),
    ] {
        let reply = create(starts_at, ends_at);
        assert_eq!(reply.status, 422, "{starts_at} {ends_at}: {:?}", reply.json);
        assert_eq!(reply.json["error"]["details"][0]["field"], field, "{:?}", reply.json);
    }
    // The calendar's own edges stay open.
    let edges = create("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z");
    assert_eq!(edges.status, 201, "{:?}", edges.json);
    assert_eq!(edges.json["starts_at"], "0001-01-01T00:00:00Z");
    assert_eq!(edges.json["ends_at"], "9999-12-31T23:59:59Z");
    let competition = edges.json["id"].as_str().unwrap_or_default().to_owned();
    let patch = json!({"ends_at": "9999-12-31T23:00:00-05:00"});
    let reply = e2e::send("PATCH", &format!("{base}/api/v1/competitions/{competition}"), &admin_headers, Some(&patch));
    assert_eq!(reply.status, 422, "{:?}", reply.json);

    // A sync's day in year 0 is refused alone; the other sample is stored (year 1 is refused too now, as more than
    // three years back: `too_old`).
    let yesterday = e2e::rfc3339(local::token::now() - 86_400)[..10].to_owned();
    let sync = json!({"source": "healthkit", "samples": [{"date": "0000-01-01", "steps": 10},
                                                         {"date": yesterday, "steps": 10},
                                                         {"date": "0001-01-01", "steps": 10}]});
    let reply = e2e::post_as(&base, "/api/v1/fitness/sync", &user, &sync);
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    assert_eq!(reply.json["accepted"], 1, "{:?}", reply.json);
    assert_eq!(reply.json["rejected"][0]["index"], 0, "{:?}", reply.json);
    assert_eq!(reply.json["rejected"][1], json!({"index": 2, "reason": "too_old"}), "{:?}", reply.json);

    let decision = json!({"decision": "approve"});
    let path = format!("{base}/api/v1/admin/holds/{user}/0000-01-01");
    let reply = e2e::send("POST", &path, &admin_headers, Some(&decision));
    assert_eq!(reply.status, 400, "{:?}", reply.json);
    assert_eq!(reply.json["error"]["code"], "bad_request", "{:?}", reply.json);
}
