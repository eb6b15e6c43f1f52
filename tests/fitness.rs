//! `POST /api/v1/fitness/sync`: per-sample rejections, idempotent days, the largest value across sources, and the
//! live leaderboard of every active joined competition updated with the new total.

use e2e::{base_url, rfc3339, send, send_raw, user_token, Reply};
use serde_json::{json, Value};
use uuid::Uuid;

fn sync(user: &Uuid, body: &Value) -> Reply {
    let auth = format!("Bearer {}", user_token(user));
    send("POST", &format!("{}/api/v1/fitness/sync", base_url()), &[("Authorization", &auth)], Some(body))
}

fn today() -> String {
    rfc3339(local::token::now())[..10].to_owned()
}

fn yesterday() -> String {
    rfc3339(local::token::now() - 86_400)[..10].to_owned()
}

fn score_in(reply: &Reply, competition: &Uuid) -> Option<i64> {
    reply.json["competitions"].as_array()?.iter().find(|c| c["competition_id"] == competition.to_string())?["score"]
        .as_i64()
}

#[test]
fn samples_are_stored_rescored_and_ranked_live() {
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let competition = e2e::fitness_competition_with(&[alice, bob]);
    let body = json!({"source": "healthkit", "samples": [
        {"date": yesterday(), "steps": 4000},
        {"date": today(), "steps": 3000, "calories": 200},
        {"date": today(), "steps": -1},
        {"date": "2026-13-01", "steps": 1},
        {"date": today(), "steps": 100_001},
    ]});
    let reply = sync(&alice, &body);
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    assert_eq!(reply.json["accepted"], 2, "the bad samples are rejected alone: {:?}", reply.json);
    let rejected: Vec<u64> =
        reply.json["rejected"].as_array().expect("rejected").iter().filter_map(|r| r["index"].as_u64()).collect();
    assert_eq!(rejected, [2, 3, 4]);
    assert_eq!(score_in(&reply, &competition), Some(7000));
    let entry = &reply.json["competitions"].as_array().expect("list")[0];
    assert_eq!(entry["rank"], 1);

    // The leaderboard shows the synced total.
    let standing = e2e::get_as(&base_url(), &format!("/api/v1/leaderboard/{competition}/users/{alice}"), &bob);
    assert_eq!(standing.json, json!({"rank": 1, "display_rank": 1, "score": 7000}));

    // Re-sending is idempotent; another source's bigger day counts once, as the max — never the sum.
    let again = sync(&alice, &json!({"source": "healthkit", "samples": [{"date": today(), "steps": 3000}]}));
    assert_eq!(score_in(&again, &competition), Some(7000));
    let watch = sync(&alice, &json!({"source": "google_fit", "samples": [{"date": today(), "steps": 3500}]}));
    assert_eq!(score_in(&watch, &competition), Some(7500));
    let smaller = sync(&alice, &json!({"source": "garmin", "samples": [{"date": today(), "steps": 10}]}));
    assert_eq!(score_in(&smaller, &competition), Some(7500));
}

#[test]
fn a_sample_naming_a_field_twice_is_rejected_alone() {
    let alice = Uuid::new_v4();
    let competition = e2e::fitness_competition_with(&[alice]);
    // Parsers differ on which of two values wins, so neither is taken: the sample is refused, its neighbour stored.
    let twice = format!(r#"{{"date":"{}","steps":5,"steps":90000}}"#, today());
    let once = format!(r#"{{"date":"{}","steps":40}}"#, yesterday());
    let body = format!(r#"{{"source":"healthkit","samples":[{twice},{once}]}}"#);
    let auth = format!("Bearer {}", user_token(&alice));
    let reply = send_raw(
        "POST",
        &format!("{}/api/v1/fitness/sync", base_url()),
        &[("Authorization", &auth), ("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    assert_eq!(reply.json["accepted"], 1, "{:?}", reply.json);
    assert_eq!(reply.json["rejected"], json!([{"index": 0, "reason": "steps appears more than once"}]));
    assert_eq!(score_in(&reply, &competition), Some(40));
}

#[test]
fn only_joined_active_competitions_are_rescored() {
    let user = Uuid::new_v4();
    let joined = e2e::fitness_competition_with(&[user]);
    let not_joined = e2e::fitness_competition_with(&[]);
    let reply = sync(&user, &json!({"source": "healthkit", "samples": [{"date": today(), "steps": 1}]}));
    assert_eq!(score_in(&reply, &joined), Some(1));
    assert_eq!(score_in(&reply, &not_joined), None);
}

#[test]
fn the_request_itself_is_validated() {
    let user = Uuid::new_v4();
    let many: Vec<Value> = (0..401).map(|_| json!({"date": today(), "steps": 1})).collect();
    let cases = [
        json!({"source": "pedometer", "samples": []}),
        json!({"source": "fitbit", "samples": [], "time_zone": "Mars/Olympus_Mons"}),
        // Not an IANA name, though the runtime's time-zone database takes it (as Asia/Kolkata; PostgreSQL as +02).
        json!({"source": "fitbit", "samples": [], "time_zone": "IST"}),
        json!({"source": "manual", "samples": many}),
        json!({"source": "manual"}),
        json!({"source": "manual", "samples": [], "extra": 1}),
    ];
    for body in cases {
        let reply = sync(&user, &body);
        assert_eq!((reply.status, reply.json["error"]["code"].as_str()), (422, Some("validation_failed")));
    }
    let anonymous = send("POST", &format!("{}/api/v1/fitness/sync", base_url()), &[], Some(&json!({})));
    assert_eq!(anonymous.status, 401);
}
