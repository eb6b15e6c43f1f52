//! Web clients: CORS for the configured origins only (the test Worker allows `http://localhost:5173`, as
//! `.dev.vars.example` does), preflights answered without a token (rate-limited by address), and ETag / `If-None-Match` → 304 on leaderboard
//! pages and competition reads.

use e2e::{base_url, competition_with, post_as, send, user_token, Reply};
use serde_json::json;
use uuid::Uuid;

const ALLOWED: &str = "http://localhost:5173";

fn get(path: &str, user: &Uuid, extra: &[(&str, &str)]) -> Reply {
    let auth = format!("Bearer {}", user_token(user));
    let mut headers = vec![("Authorization", auth.as_str())];
    headers.extend_from_slice(extra);
    send("GET", &format!("{}{path}", base_url()), &headers, None)
}

#[test]
fn preflights_and_answers_grant_only_the_configured_origins() {
    let preflight = |origin: &str| {
        send(
            "OPTIONS",
            &format!("{}/api/v1/leaderboard/update", base_url()),
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "authorization, content-type, idempotency-key, if-none-match"),
            ],
            None,
        )
    };
    let granted = preflight(ALLOWED);
    assert_eq!(granted.status, 204, "no token needed: {:?}", granted.json);
    assert_eq!(granted.header("access-control-allow-origin"), Some(ALLOWED));
    assert!(granted.header("access-control-allow-methods").is_some_and(|m| m.contains("POST")));
    let allowed_headers = granted.header("access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
    let items = |value: Option<&str>| -> Vec<String> {
        value.unwrap_or_default().split(',').map(|item| item.trim().to_ascii_lowercase()).collect()
    };
    for name in ["authorization", "content-type", "idempotency-key", "if-none-match"] {
        assert!(items(Some(&allowed_headers)).iter().any(|item| item == name), "{name} in {allowed_headers}");
    }
    assert_eq!(granted.header("vary"), Some("Origin"));
    // Like every /api answer, it spends a token of the caller's (here the address's) bucket and says so.
    assert!(granted.header("ratelimit-policy").is_some(), "{granted:?}");
    assert!(granted.header("ratelimit-remaining").is_some_and(|r| r.parse::<u64>().is_ok()), "{granted:?}");
    let refused = preflight("https://elsewhere.example");
    assert_eq!((refused.status, refused.header("access-control-allow-origin")), (204, None));
    assert!(refused.header("ratelimit").is_some(), "{refused:?}");

    let user = Uuid::new_v4();
    let read = get("/api/v1/competitions", &user, &[("Origin", ALLOWED)]);
    assert_eq!(read.status, 200);
    assert_eq!(read.header("access-control-allow-origin"), Some(ALLOWED));
    // Item by item: the structured `RateLimit` field must be readable too, not only `RateLimit-Remaining`.
    let exposed = items(read.header("access-control-expose-headers"));
    for name in ["ratelimit", "ratelimit-remaining", "ratelimit-policy", "retry-after", "x-request-id", "etag"] {
        assert!(exposed.iter().any(|item| item == name), "{name} in {exposed:?}");
    }
    let foreign = get("/api/v1/competitions", &user, &[("Origin", "https://elsewhere.example")]);
    assert_eq!((foreign.header("access-control-allow-origin"), foreign.header("vary")), (None, Some("Origin")));
}

#[test]
fn repeated_reads_of_an_unchanged_page_or_competition_are_304() {
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    let competition = competition_with(&[ana, ben]);
    let post = |user: &Uuid, score: i64| {
        let reply = post_as(
            &base_url(),
            "/api/v1/leaderboard/update",
            user,
            &json!({"competition_id": competition, "score": score}),
        );
        assert_eq!(reply.status, 200, "{:?}", reply.json);
    };
    post(&ana, 10);
    let path = format!("/api/v1/leaderboard/{competition}?limit=10");
    let first = get(&path, &ben, &[]);
    let tag = first.header("etag").expect("ETag").to_owned();
    let again = get(&path, &ben, &[("If-None-Match", &tag)]);
    assert_eq!(again.status, 304);
    assert_eq!(again.header("etag"), Some(tag.as_str()));
    assert!(again.header("ratelimit-remaining").is_some(), "a 304 is still an /api answer");
    post(&ben, 20);
    let changed = get(&path, &ben, &[("If-None-Match", &tag)]);
    assert_eq!(changed.status, 200, "a new score makes a new page");
    assert_ne!(changed.header("etag"), Some(tag.as_str()));

    let competition_path = format!("/api/v1/competitions/{competition}");
    let shown = get(&competition_path, &ben, &[]);
    let tag = shown.header("etag").expect("ETag").to_owned();
    assert_eq!(get(&competition_path, &ben, &[("If-None-Match", &tag)]).status, 304);
    assert_eq!(get(&competition_path, &ben, &[("If-None-Match", "\"something-else\"")]).status, 200);
}
