//! Acknowledged writes survive a crash of the whole local runtime (kill -9 of wrangler dev and workerd).

use e2e::{scratch_dir, send, user_token, WranglerDev};
use serde_json::json;
use uuid::Uuid;

#[test]
fn a_score_written_through_the_object_survives_a_killed_wrangler_dev() {
    let persist = scratch_dir("durability");
    let dev = WranglerDev::start(&persist);
    let competition = Uuid::new_v4();
    let users: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    for (i, user) in users.iter().enumerate() {
        let reply = send(
            "POST",
            &format!("{}/api/v1/leaderboard/update", dev.base_url()),
            &[("Authorization", &format!("Bearer {}", user_token(user)))],
            Some(&json!({"competition_id": competition, "score": 10 * (i as i64 + 1)})),
        );
        assert_eq!(reply.status, 200, "{:?}", reply.json);
    }

    let dev = dev.restart_after_crash();

    for (i, user) in users.iter().enumerate() {
        let reply = send(
            "GET",
            &format!("{}/api/v1/leaderboard/{competition}/users/{user}", dev.base_url()),
            &[("Authorization", &format!("Bearer {}", user_token(user)))],
            None,
        );
        assert_eq!(reply.status, 200, "user {i} lost after restart: {:?}", reply.json);
        assert_eq!(reply.json, json!({"rank": 5 - i, "score": 10 * (i + 1)}));
    }
}
