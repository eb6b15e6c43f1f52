//! The caches: leaderboard pages are held in isolate memory with the board's update sequence and checked with the
//! competition's object on every read, so a writer never reads a page older than its own acknowledged update and a
//! page costs no Redis command; competition rows drop out of the cache when someone joins.

use e2e::{base_url, get_as, post_as, send, worker_var};
use serde_json::json;
use uuid::Uuid;

fn redis(command: serde_json::Value) -> serde_json::Value {
    let auth = format!("Bearer {}", worker_var("UPSTASH_REDIS_REST_TOKEN"));
    send("POST", &format!("{}/", worker_var("UPSTASH_REDIS_REST_URL")), &[("Authorization", &auth)], Some(&command))
        .json["result"]
        .clone()
}

/// `cache_requests_total{cache="page",result}` as `/metrics` reports it now.
fn page_lookups(result: &str) -> f64 {
    let reply = send(
        "GET",
        &format!("{}/metrics", base_url()),
        &[("Authorization", &format!("Bearer {}", worker_var("METRICS_TOKEN")))],
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    let series = format!("cache_requests_total{{cache=\"page\",result=\"{result}\"}} ");
    reply.text.lines().find_map(|line| line.strip_prefix(&series)?.trim().parse().ok()).unwrap_or(0.0)
}

#[test]
fn pages_come_from_memory_and_are_never_older_than_the_readers_own_update() {
    let users: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    let competition = e2e::competition_with(&users);
    let path = format!("/api/v1/leaderboard/{competition}?limit=10");
    let hits_before = page_lookups("hit");
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
        // A second read between writes is the held page (the object answered "unchanged"), identically.
        assert_eq!(get_as(&base_url(), &path, user).json, page.json);
    }
    let hits = page_lookups("hit") - hits_before;
    assert!(hits >= 15.0, "each second read was served from memory: {hits} hits");
    let keys = redis(json!(["KEYS", format!("lb:*{competition}*")]));
    assert_eq!(keys, json!([]), "no page or version of this board is in Redis");
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

#[test]
fn a_read_that_began_before_an_edit_does_not_cache_the_row_it_read() {
    let member = Uuid::new_v4();
    let competition = e2e::competition_with(&[member]);
    let path = format!("/api/v1/competitions/{competition}");
    // Nothing holds the row yet (the joins dropped it): the next read looks it up in the database, whose answer is
    // held back after it was read, while an administrator renames the competition.
    let row_read = format!("competition_summaries?select=*&id=eq.{competition}");
    e2e::database_delay(&[&row_read], 2_000, Some(1));
    let reader =
        std::thread::spawn(move || get_as(&base_url(), &format!("/api/v1/competitions/{competition}"), &member));
    let read = e2e::eventually(std::time::Duration::from_secs(10), || {
        (!e2e::database_delay_waiting(&[&row_read])).then_some(())
    });
    assert!(read.is_some(), "the reader's database read ran");
    let auth = format!("Bearer {}", e2e::service_token());
    let renamed =
        send("PATCH", &format!("{}{path}", base_url()), &[("Authorization", &auth)], Some(&json!({"name": "renamed"})));
    assert_eq!(renamed.status, 200, "{:?}", renamed.json);
    assert!(!reader.is_finished(), "the rename finished while the reader's answer was still held back");
    let early = reader.join().expect("reader");
    assert_eq!(early.status, 200, "{:?}", early.json);
    assert_eq!(early.json["name"], "e2e", "the reader began before the rename");
    // What it read is older than the rename: neither this runtime's memory nor Redis (every other isolate's) keeps it.
    let cached = redis(json!(["GET", format!("comp:{competition}")]));
    assert!(!cached.as_str().is_some_and(|row| row.contains("\"name\":\"e2e\"")), "Redis holds {cached}");
    assert_eq!(get_as(&base_url(), &path, &member).json["name"], "renamed");
}

#[test]
fn a_page_read_in_another_runtime_is_never_older_than_the_writers_acknowledged_update() {
    // Two runtimes with separate isolate memory share the competition's object, as two Cloudflare locations do.
    let (owner, reader) = e2e::WranglerDev::start_pair(&e2e::scratch_dir("cache-two-runtimes"));
    let users: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    let competition = e2e::active_competition();
    for user in &users {
        let joined = post_as(&owner.base_url(), &format!("/api/v1/competitions/{competition}/join"), user, &json!({}));
        assert_eq!(joined.status, 200, "{:?}", joined.json);
    }
    let path = format!("/api/v1/leaderboard/{competition}?limit=10");
    let score_on = |page: &e2e::Reply, user: &Uuid| {
        let entries = page.json["entries"].as_array().cloned().unwrap_or_default();
        entries.iter().find(|e| e["user_id"] == user.to_string()).map(|e| e["score"].clone())
    };
    let runtimes = [&owner, &reader];
    for round in 1..=12_i64 {
        let user = &users[(round as usize) % users.len()];
        // Writes alternate between the runtimes; the page is read in the other one, which holds the page it built
        // before this write in its own memory.
        let (writes, reads) = (runtimes[(round % 2) as usize], runtimes[((round + 1) % 2) as usize]);
        let held = get_as(&reads.base_url(), &path, user);
        assert_eq!(held.status, 200, "round {round}: {:?}", held.json);
        let score = round * 10;
        let body = json!({"competition_id": competition, "score": score});
        let written = post_as(&writes.base_url(), "/api/v1/leaderboard/update", user, &body);
        assert_eq!(written.status, 200, "round {round}: {:?}", written.json);
        let page = get_as(&reads.base_url(), &path, user);
        assert_eq!(score_on(&page, user), Some(json!(score)), "round {round}: {:?}", page.json);
        let writer_side = get_as(&writes.base_url(), &path, user);
        assert_eq!(writer_side.json["entries"], page.json["entries"], "round {round}: both runtimes agree");
    }
    // The reader has no objects of its own: it reached the owner's, whose storage holds the competition.
    let objects = |dev: &e2e::WranglerDev| -> Vec<String> {
        std::fs::read_dir(dev.persist_dir().join("v3").join("do"))
            .map(|dir| dir.filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned())).collect())
            .unwrap_or_default()
    };
    assert!(objects(&owner).iter().any(|name| name.ends_with("-Competition")), "{:?}", objects(&owner));
    assert_eq!(objects(&reader), Vec::<String>::new(), "the second runtime stored no object of its own");
}
