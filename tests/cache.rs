//! The two cache levels: leaderboard pages come from Redis between writes, and a writer never reads a page older
//! than its own acknowledged update; competition rows drop out of the cache when someone joins.

use e2e::{base_url, get_as, post_as, send, worker_var};
use serde_json::json;
use uuid::Uuid;

fn redis(command: serde_json::Value) -> serde_json::Value {
    let auth = format!("Bearer {}", worker_var("UPSTASH_REDIS_REST_TOKEN"));
    send("POST", &format!("{}/", worker_var("UPSTASH_REDIS_REST_URL")), &[("Authorization", &auth)], Some(&command))
        .json["result"]
        .clone()
}

#[test]
fn pages_are_cached_in_redis_and_never_older_than_the_readers_own_update() {
    let users: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    let competition = e2e::competition_with(&users);
    let path = format!("/api/v1/leaderboard/{competition}?limit=10");
    for round in 1..=15_i64 {
        let user = &users[(round as usize) % users.len()];
        let score = round * 10;
        let reply = post_as(
            &base_url(),
            "/api/v1/leaderboard/update",
            user,
            &json!({"competition_id": competition, "score": score}),
        );
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        // Immediately after the acknowledgement, the writer's page shows its score.
        let page = get_as(&base_url(), &path, user);
        let mine = page.json["entries"].as_array().expect("entries").iter().find(|e| e["user_id"] == user.to_string());
        assert_eq!(mine.map(|e| e["score"].clone()), Some(json!(score)), "round {round}: {:?}", page.json);
        // A second read between writes is served from the cache, identically.
        assert_eq!(get_as(&base_url(), &path, user).json, page.json);
    }
    let keys = redis(json!(["KEYS", format!("lb:p:{competition}:*")]));
    assert!(keys.as_array().is_some_and(|k| !k.is_empty()), "pages were stored in Redis: {keys}");
    let version = redis(json!(["GET", format!("lb:v:{competition}")]));
    assert_eq!(version, json!("15"), "the version follows the competition's update sequence");
}

#[test]
fn a_join_drops_the_cached_competition() {
    let first = Uuid::new_v4();
    let competition = e2e::competition_with(&[first]);
    let path = format!("/api/v1/competitions/{competition}");
    assert_eq!(get_as(&base_url(), &path, &first).json["participants"], 1);
    assert_eq!(get_as(&base_url(), &path, &first).json["participants"], 1, "served from the cache");
    assert!(redis(json!(["GET", format!("comp:{competition}")])).is_string(), "the row is in Redis");
    e2e::join(&competition, &Uuid::new_v4());
    assert_eq!(get_as(&base_url(), &path, &first).json["participants"], 2);
}
