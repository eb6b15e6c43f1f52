//! The outbox: every accepted change is queued in the object's SQLite in the same commit as the score, and the
//! object's alarm writes it to Postgres's `scores` table through the PostgREST adapter (idempotent by `seq`). The
//! database-outage case (rows wait, the alarm backs off, catch-up after recovery) is in `gateway_outages.rs`.

use std::time::Duration;

use e2e::{base_url, competition_with, eventually, post_as, send, stored_scores};
use serde_json::{json, Value};
use uuid::Uuid;

fn post_scores(competition: &Uuid, writes: &[(&Uuid, i64)]) {
    for (user, score) in writes {
        let body = json!({"competition_id": competition, "score": score});
        let reply = post_as(&base_url(), "/api/v1/leaderboard/update", user, &body);
        assert_eq!(reply.status, 200, "{:?}", reply.json);
    }
}

fn stats(competition: &Uuid) -> Value {
    send(
        "GET",
        &format!("{}/__test/competitions/{competition}/stats", base_url()),
        &[("Authorization", &e2e::admin_auth())],
        None,
    )
    .json
}

#[test]
fn accepted_scores_reach_postgres_and_leave_the_outbox() {
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let competition = competition_with(&[alice, bob]);
    post_scores(&competition, &[(&alice, 10), (&bob, 20), (&alice, 30), (&alice, 30)]);

    let mut expected = vec![(alice.to_string(), 30, 3), (bob.to_string(), 20, 2)];
    expected.sort();
    let stored = eventually(Duration::from_secs(20), || Some(stored_scores(&competition)).filter(|s| *s == expected));
    assert_eq!(stored, Some(expected.clone()), "latest score and seq per user; the repeated score is not a change");
    let drained =
        eventually(Duration::from_secs(10), || Some(stats(&competition)).filter(|s| s["outbox_pending"] == 0));
    assert!(drained.is_some(), "delivered rows leave the outbox: {}", stats(&competition));
}

#[test]
fn a_member_has_one_waiting_row_however_often_they_write() {
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let competition = competition_with(&[alice, bob]);
    // Well inside the object's one-second wait before its first delivery; a delivery meanwhile only empties it.
    post_scores(&competition, &[(&alice, 10), (&alice, 20), (&bob, 5), (&alice, 30), (&alice, 40), (&bob, 6)]);
    let pending = stats(&competition)["outbox_pending"].as_u64();
    assert!(pending.is_some_and(|n| n <= 2), "one waiting row per member, not one per write: {pending:?}");

    let mut expected = vec![(alice.to_string(), 40, 5), (bob.to_string(), 6, 6)];
    expected.sort();
    let stored = eventually(Duration::from_secs(20), || Some(stored_scores(&competition)).filter(|s| *s == expected));
    assert_eq!(stored, Some(expected), "each member's latest score and its seq reach Postgres");
}
