//! The outbox: every accepted change is queued for the system of record in the same commit as the score, the
//! object's alarm tries to deliver it, and a failed delivery keeps every row and backs off. (Until the PostgREST
//! adapter lands, the object's sink always fails, which is exactly the "database down" case.)

use std::time::{Duration, Instant};

use e2e::{base_url, post_as, send};
use serde_json::json;
use uuid::Uuid;

#[test]
fn changes_wait_in_the_outbox_while_delivery_fails_and_the_alarm_backs_off() {
    let competition = Uuid::new_v4();
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    for (user, score) in [(&alice, 10), (&bob, 20), (&alice, 30), (&alice, 30)] {
        let reply = post_as(
            &base_url(),
            "/api/v1/leaderboard/update",
            user,
            &json!({"competition_id": competition, "score": score}),
        );
        assert_eq!(reply.status, 200, "{:?}", reply.json);
    }
    let stats_url = format!("{}/__test/competitions/{competition}/stats", base_url());
    let deadline = Instant::now() + Duration::from_secs(20);
    let stats = loop {
        let stats = send("GET", &stats_url, &[], None).json;
        if stats["outbox_failures"].as_u64().unwrap_or(0) >= 1 || Instant::now() > deadline {
            break stats;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(stats["outbox_failures"].as_u64() >= Some(1), "the alarm ran and counted the failure: {stats}");
    assert_eq!(stats["outbox_pending"], 3, "three changes (the repeated score is not one), none lost: {stats}");
}
