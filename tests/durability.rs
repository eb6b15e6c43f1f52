//! Acknowledged writes survive a crash of the whole local runtime (kill -9 of wrangler dev and workerd), and their
//! outbox rows still reach Postgres.

use e2e::{get_as, post_as, scratch_dir, send, WranglerDev};
use serde_json::json;
use uuid::Uuid;

/// Calls `competition`'s test route `action` (`seed?n=3`, `stats`, …) on `dev`, as an administrator.
fn object_route(dev: &WranglerDev, competition: &Uuid, method: &str, action: &str) -> e2e::Reply {
    let url = format!("{}/__test/competitions/{competition}/{action}", dev.base_url());
    send(method, &url, &[("Authorization", &e2e::admin_auth())], None)
}

/// The isolate's wasm memory in an object's stats.
fn memory_of(stats: &e2e::Reply) -> u64 {
    stats.json["memory_bytes"].as_u64().expect("memory_bytes")
}

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
    let seeded = object_route(&dev, &competition, "POST", "seed?n=3000");
    assert_eq!(seeded.json["members"], 3005, "{:?}", seeded.json);
    let page = format!("/api/v1/leaderboard/{competition}?limit=200");
    let before = get_as(&dev.base_url(), &page, &users[0]);

    let dev = dev.restart_after_crash();

    let stats = object_route(&dev, &competition, "GET", "stats");
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

/// An object the runtime discards (evicted when idle or hibernating with its sockets open, or reset) wakes at its
/// next call as a new instance, which loads its board again. The discarded instance's board stayed in the isolate's
/// memory until JavaScript's garbage collector collected its wrapper, which a Worker's small JavaScript heap puts off
/// indefinitely: every wake kept one more board (16 MB a wake at 200 000 members; the isolate's limit is 128 MB). The
/// new instance now releases the one before it first. A private wrangler dev: no other test's objects share its
/// isolate, whose memory the object reports.
#[test]
fn a_woken_object_releases_the_board_its_discarded_instance_held() {
    const MEMBERS: u64 = 100_000;
    let persist = scratch_dir("wakes");
    let dev = WranglerDev::start(&persist);
    let competition = Uuid::new_v4();
    let route = |method: &str, action: &str| object_route(&dev, &competition, method, action);
    let seeded = route("POST", &format!("seed?n={MEMBERS}"));
    assert_eq!(seeded.json["members"], MEMBERS, "{:?}", seeded.json);
    let before = memory_of(&seeded);
    for wake in 1..=3 {
        let aborted = route("POST", "abort");
        assert!(aborted.status >= 500, "wake {wake}: the instance was discarded: {:?}", aborted.json);
        let stats = route("GET", "stats");
        assert_eq!(
            stats.json["rebuilt_members"], MEMBERS,
            "wake {wake}: a new instance loaded the board: {:?}",
            stats.json
        );
        assert_eq!(stats.json["boards_in_memory"], 1, "wake {wake}: the discarded instance's board was released");
        let grown = memory_of(&stats).saturating_sub(before);
        assert!(grown < 4_000_000, "wake {wake}: the isolate's memory grew by {grown} bytes (a board is ≈ 10 MB)");
    }
}

/// The final standings of a large board are stored a chunk at a time. Before, finalizing collected every member's
/// ranked entry and then every member's result, ≈ 110 bytes a member on top of the board: a competition of a million
/// (≈ 104 MB of board) needed ≈ 216 MB to finalize, past the isolate's 128 MB, and the object reset by the runtime
/// retried at its next alarm, and was reset again.
#[test]
fn final_standings_of_a_large_board_need_no_second_copy_of_it() {
    const SEEDED: u64 = 100_000;
    let persist = scratch_dir("finalize");
    let dev = WranglerDev::start(&persist);
    let user = Uuid::new_v4();
    let competition = e2e::competition_with(&[user]);
    let body = json!({"competition_id": competition, "score": 5});
    assert_eq!(post_as(&dev.base_url(), "/api/v1/leaderboard/update", &user, &body).status, 200);
    let route = |action: &str| object_route(&dev, &competition, "POST", action);
    let seeded = route(&format!("seed?n={SEEDED}"));
    assert_eq!(seeded.json["members"], SEEDED + 1, "{:?}", seeded.json);
    let finalized = route("finalize");
    assert_eq!(finalized.json["final_results"], SEEDED + 1, "{:?}", finalized.json);
    let grown = memory_of(&finalized).saturating_sub(memory_of(&seeded));
    assert!(grown < 2_000_000, "finalizing grew the isolate's memory by {grown} bytes (a copy of the board ≈ 11 MB)");
    let prizes = get_as(&dev.base_url(), &format!("/api/v1/leaderboard/{competition}/prizes"), &user);
    assert_eq!((prizes.status, prizes.json["final"].as_bool()), (200, Some(true)), "{:?}", prizes.json);
}
