//! `Idempotency-Key`: the first reply replayed without re-applying the write (for the same JSON value however it is
//! encoded), 422 for the same key with another body, 422 for a malformed key, scoped to the caller, and one winner
//! among concurrent requests.

use e2e::{base_url, send, user_token, Reply};
use serde_json::{json, Value};
use uuid::Uuid;

fn post(path: &str, user: &Uuid, key: Option<&str>, body: &Value) -> Reply {
    let auth = format!("Bearer {}", user_token(user));
    let mut headers = vec![("Authorization", auth.as_str())];
    if let Some(key) = key {
        headers.push(("Idempotency-Key", key));
    }
    send("POST", &format!("{}{path}", base_url()), &headers, Some(body))
}

const UPDATE: &str = "/api/v1/leaderboard/update";

#[test]
fn a_repeated_update_replays_the_first_reply_without_applying_it_again() {
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let competition = e2e::competition_with(&[alice, bob]);
    let key = format!("update-{}", Uuid::new_v4());
    let first = post(UPDATE, &alice, Some(&key), &json!({"competition_id": competition, "score": 10}));
    assert_eq!(first.status, 200, "{:?}", first.json);
    assert_eq!(first.header("idempotent-replayed"), None);
    let later = post(UPDATE, &alice, None, &json!({"competition_id": competition, "score": 20}));
    assert_eq!(later.status, 200);

    let replayed = post(UPDATE, &alice, Some(&key), &json!({"competition_id": competition, "score": 10}));
    assert_eq!((replayed.status, replayed.json.clone()), (200, first.json.clone()));
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    let standing = e2e::get_as(&base_url(), &format!("/api/v1/leaderboard/{competition}/users/{alice}"), &alice);
    assert_eq!(standing.json["score"], 20, "the replay did not set the score back to 10");

    let mismatch = post(UPDATE, &alice, Some(&key), &json!({"competition_id": competition, "score": 11}));
    assert_eq!((mismatch.status, mismatch.json["error"]["code"].as_str()), (422, Some("idempotency_mismatch")));
    // Another caller's identical key is another key.
    let other = post(UPDATE, &bob, Some(&key), &json!({"competition_id": competition, "score": 10}));
    assert_eq!((other.status, other.header("idempotent-replayed")), (200, None));
    assert_eq!(other.json["user_id"], bob.to_string());
}

#[test]
fn error_replies_are_replayed_too_and_bad_keys_are_refused() {
    let user = Uuid::new_v4();
    let competition = e2e::competition_with(&[user]);
    let key = format!("bad-{}", Uuid::new_v4());
    let body = json!({"competition_id": competition, "score": 10_000_000});
    let first = post(UPDATE, &user, Some(&key), &body);
    assert_eq!(first.status, 422, "implausible: {:?}", first.json);
    let again = post(UPDATE, &user, Some(&key), &body);
    assert_eq!((again.status, again.json.clone()), (422, first.json));
    for bad in ["has space", &"k".repeat(256)] {
        let reply = post(UPDATE, &user, Some(bad), &json!({"competition_id": competition, "score": 1}));
        assert_eq!((reply.status, reply.json["error"]["code"].as_str()), (422, Some("validation_failed")), "{bad}");
    }
}

#[test]
fn concurrent_requests_with_one_key_apply_once() {
    let user = Uuid::new_v4();
    let competition = e2e::competition_with(&[user]);
    let key = format!("race-{}", Uuid::new_v4());
    let body = json!({"competition_id": competition, "score": 42});
    let replies: Vec<Reply> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6).map(|_| scope.spawn(|| post(UPDATE, &user, Some(&key), &body))).collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
    let winners: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    assert!(!winners.is_empty(), "{statuses:?}");
    assert!(winners.iter().all(|r| r.json == winners[0].json), "every 200 is the same reply");
    assert!(replies.iter().filter(|r| r.status == 409).all(|r| r.json["error"]["code"] == "conflict"));
}

#[test]
fn fitness_sync_honours_the_key() {
    let user = Uuid::new_v4();
    e2e::competition_with(&[user]);
    let key = format!("sync-{}", Uuid::new_v4());
    let today = e2e::rfc3339(local::token::now())[..10].to_owned();
    let body = json!({"source": "manual", "samples": [{"date": today, "steps": 100}]});
    let first = post("/api/v1/fitness/sync", &user, Some(&key), &body);
    assert_eq!(first.status, 200, "{:?}", first.json);
    let again = post("/api/v1/fitness/sync", &user, Some(&key), &body);
    assert_eq!((again.json.clone(), again.header("idempotent-replayed")), (first.json.clone(), Some("true")));
    // The same object encoded again for a retry (another key order and spacing, as an app's map encoder may write
    // it) is the same request: replayed, not refused as another body.
    let encoded_again = format!(r#"{{ "samples": [ {{"steps": 100, "date": "{today}"}} ], "source": "manual" }}"#);
    let auth = format!("Bearer {}", user_token(&user));
    let headers =
        [("Authorization", auth.as_str()), ("Idempotency-Key", key.as_str()), ("Content-Type", "application/json")];
    let retried =
        e2e::send_raw("POST", &format!("{}/api/v1/fitness/sync", base_url()), &headers, encoded_again.as_bytes());
    assert_eq!((retried.status, retried.header("idempotent-replayed")), (200, Some("true")), "{:?}", retried.json);
    assert_eq!(retried.json, first.json);
}
