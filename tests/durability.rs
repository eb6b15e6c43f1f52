//! Acknowledged writes survive a crash of the whole local runtime (kill -9 of wrangler dev and workerd), and their
//! outbox rows still reach Postgres.

use e2e::{get_as, post_as, scratch_dir, send, WranglerDev};
use serde_json::json;
use uuid::Uuid;

#[test]
fn a_score_written_through_the_object_survives_a_killed_wrangler_dev() {
    let persist = scratch_dir("durability");
    let dev = WranglerDev::start(&persist);
    let users: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    let competition = e2e::competition_with(&users);
    for (i, user) in users.iter().enumerate() {
        let body = json!({"competition_id": competition, "score": 10 * (i as i64 + 1)});
        let reply = post_as(&dev.base_url(), "/api/v1/leaderboard/update", user, &body);
        assert_eq!(reply.status, 200, "{:?}", reply.json);
    }

    // A board big enough for a multi-level tree, stored through the object's bulk path.
    let seeded = send(
        "POST",
        &format!("{}/__test/competitions/{competition}/seed?n=3000", dev.base_url()),
        &[("Authorization", &e2e::admin_auth())],
        None,
    );
    assert_eq!(seeded.json["members"], 3005, "{:?}", seeded.json);
    let page = format!("/api/v1/leaderboard/{competition}?limit=200");
    let before = get_as(&dev.base_url(), &page, &users[0]);

    let dev = dev.restart_after_crash();

    let stats = send(
        "GET",
        &format!("{}/__test/competitions/{competition}/stats", dev.base_url()),
        &[("Authorization", &e2e::admin_auth())],
        None,
    );
    assert_eq!(stats.json["rebuilt_members"], 3005, "the board was rebuilt from storage: {:?}", stats.json);
    let after = get_as(&dev.base_url(), &page, &users[0]);
    assert_eq!(after.json, before.json, "the rebuilt board orders exactly as before the crash");

    for (i, user) in users.iter().enumerate() {
        let reply = get_as(&dev.base_url(), &format!("/api/v1/leaderboard/{competition}/users/{user}"), user);
        assert_eq!(reply.status, 200, "user {i} lost after restart: {:?}", reply.json);
        assert_eq!(reply.json["score"], 10 * (i + 1));
    }

    // Whether the outbox had delivered before the crash or not, Postgres ends with every acknowledged score once.
    let mut expected: Vec<(String, i64, i64)> =
        users.iter().enumerate().map(|(i, u)| (u.to_string(), 10 * (i as i64 + 1), i as i64 + 1)).collect();
    expected.sort();
    let stored = e2e::eventually(std::time::Duration::from_secs(30), || {
        Some(e2e::stored_scores(&competition)).filter(|rows| *rows == expected)
    });
    assert_eq!(stored, Some(expected), "the outbox survives the crash and drains into Postgres");
}
