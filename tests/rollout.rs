//! A deploy reaches Workers before objects: an object keeps the previous version's code for up to minutes (and a
//! rollback can meet objects of either version). The Worker calls its objects by RPC; an object from before that
//! refuses RPC, and the Worker must then send the same operation as a `fetch`, which every version answers.

use e2e::{competition_with, get_as, post_as, scratch_dir, WranglerDev};
use serde_json::json;
use uuid::Uuid;

#[test]
fn a_worker_meeting_objects_from_before_rpc_still_writes_and_reads_through_them() {
    let worker = WranglerDev::start_with_objects_before_rpc(&scratch_dir("before-rpc"));
    let base = worker.base_url();
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let competition = competition_with(&[first, second]);

    // The first write finds the object unintroduced: the refusal, the introduction and the retry all take the
    // fallback path.
    for (user, score) in [(first, 30), (second, 50), (first, 70)] {
        let reply = post_as(
            &base,
            "/api/v1/leaderboard/update",
            &user,
            &json!({"competition_id": competition, "score": score}),
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.json["score"], score, "{}", reply.text);
    }
    let page = get_as(&base, &format!("/api/v1/leaderboard/{competition}"), &first);
    assert_eq!(page.status, 200, "{}", page.text);
    let rows: Vec<(String, i64)> = page.json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|row| (row["user_id"].as_str().unwrap_or_default().to_owned(), row["score"].as_i64().unwrap_or(-1)))
        .collect();
    assert_eq!(rows, vec![(first.to_string(), 70), (second.to_string(), 50)], "{}", page.text);
    let me = get_as(&base, &format!("/api/v1/leaderboard/{competition}/users/{second}"), &second);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json["rank"], 2, "{}", me.text);

    // The runtime did refuse RPC here (the Worker says so once): otherwise this test would not test the fallback.
    assert!(worker.log().contains("refused RPC, so it is called by fetch"), "{}", worker.log());
}
