//! Score writes through the Worker to the Competition Durable Object: auth, validation, ranks.

use e2e::{base_url, send, user_token};
use serde_json::json;
use uuid::Uuid;

fn update(token: Option<&str>, body: serde_json::Value) -> e2e::Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    send("POST", &format!("{}/api/v1/leaderboard/update", base_url()), &headers, Some(&body))
}

#[test]
fn writes_are_checked_against_the_competition_in_postgres() {
    let member = Uuid::new_v4();
    let post = |user: &Uuid, competition: &Uuid, score: i64| {
        update(Some(&user_token(user)), json!({"competition_id": competition, "score": score}))
    };
    let active = e2e::competition_with(&[member]);
    let upcoming = e2e::create_competition(86_400, 2 * 86_400);
    let finished = e2e::create_competition(-2 * 86_400, -86_400);
    for competition in [&upcoming, &finished] {
        // Joining a finished competition is refused, so write the membership as the database owner would.
        let (ok, text) = e2e::stack(&[
            "psql",
            "-c",
            &format!("INSERT INTO memberships (competition_id, user_id) VALUES ('{competition}', '{member}')"),
        ]);
        assert!(ok, "{text}");
    }
    let cases = [
        (&member, Uuid::new_v4(), 10, 404, "not_found"),
        (&member, upcoming, 10, 409, "conflict"),
        (&member, finished, 10, 409, "conflict"),
        (&member, active, 200_001, 422, "validation_failed"), // two started days of steps: at most 200 000
    ];
    for (user, competition, score, status, code) in cases {
        let reply = post(user, &competition, score);
        assert_eq!((reply.status, reply.json["error"]["code"].as_str()), (status, Some(code)), "{competition} {score}");
    }
    let stranger = post(&Uuid::new_v4(), &active, 10);
    assert_eq!((stranger.status, stranger.json["error"]["code"].as_str()), (403, Some("forbidden")));
    let accepted = post(&member, &active, 200_000);
    assert_eq!(accepted.status, 200, "{:?}", accepted.json);
}

#[test]
fn writes_need_a_valid_token() {
    let competition = Uuid::new_v4();
    let body = json!({"competition_id": competition, "score": 1});
    let missing = update(None, body.clone());
    assert_eq!((missing.status, missing.json["error"]["code"].as_str()), (401, Some("missing_token")));
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));

    let forged = update(Some("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."), body);
    assert_eq!((forged.status, forged.json["error"]["code"].as_str()), (401, Some("invalid_token")));
}

#[test]
fn bad_bodies_get_4xx_envelopes_and_write_nothing() {
    let competition = Uuid::new_v4();
    let user = Uuid::new_v4();
    let token = user_token(&user);
    let cases = [
        (json!({"competition_id": competition, "score": -1}), 422, "validation_failed"),
        (json!({"competition_id": competition, "score": 9_007_199_254_740_992_i64}), 422, "validation_failed"),
        (json!({"competition_id": "nope", "score": 1}), 422, "validation_failed"),
        (json!({"competition_id": competition, "score": 1, "extra": true}), 422, "validation_failed"),
        (json!({"competition_id": competition}), 422, "validation_failed"),
        (json!([competition, 1]), 422, "validation_failed"),
    ];
    for (body, status, code) in cases {
        let reply = update(Some(&token), body.clone());
        assert_eq!(reply.status, status, "{body}");
        assert_eq!(reply.json["error"]["code"], code, "{body}");
    }
    let standing = send(
        "GET",
        &format!("{}/api/v1/leaderboard/{competition}/users/{user}", base_url()),
        &[("Authorization", &format!("Bearer {token}"))],
        None,
    );
    assert_eq!(standing.status, 404, "no partial write: {:?}", standing.json);
}

#[test]
fn scores_are_ranked_higher_first_then_earliest() {
    let (alice, bob, carol) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let competition = e2e::competition_with(&[alice, bob, carol]);
    let write = |user: &Uuid, score: i64| {
        let reply = update(Some(&user_token(user)), json!({"competition_id": competition, "score": score}));
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        reply.json
    };
    let first = write(&alice, 100);
    assert_eq!(first["rank"], 1);
    assert_eq!(first["previous_rank"], serde_json::Value::Null);
    assert_eq!(first["total"], 1);
    assert_eq!(first["user_id"], alice.to_string());

    assert_eq!(write(&bob, 200)["rank"], 1);
    // Carol ties Alice but reached 100 later: she ranks behind her.
    assert_eq!(write(&carol, 100)["rank"], 3);
    // Re-sending an unchanged score keeps Alice's place.
    let again = write(&alice, 100);
    assert_eq!((again["rank"].as_u64(), again["previous_rank"].as_u64()), (Some(2), Some(2)));
    let up = write(&carol, 300);
    assert_eq!((up["rank"].as_u64(), up["previous_rank"].as_u64(), up["total"].as_u64()), (Some(1), Some(3), Some(3)));

    let standing = send(
        "GET",
        &format!("{}/api/v1/leaderboard/{competition}/users/{bob}", base_url()),
        &[("Authorization", &format!("Bearer {}", user_token(&alice)))],
        None,
    );
    assert_eq!(standing.status, 200);
    assert_eq!(standing.json, json!({"rank": 2, "display_rank": 2, "score": 200}));
}

fn get(path: &str, user: &Uuid) -> e2e::Reply {
    e2e::get_as(&base_url(), path, user)
}

#[test]
fn fifty_concurrent_writers_all_land_with_unique_consistent_ranks() {
    let users: Vec<Uuid> = (0..50).map(|_| Uuid::new_v4()).collect();
    let competition = e2e::competition_with(&users);
    let handles: Vec<_> = users
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let user = *user;
            std::thread::spawn(move || {
                // Scores 0, 10, 10, 20, 20, …: pairs tie, so tie-breaking is exercised under concurrency too.
                let score = ((i as i64 + 1) / 2) * 10;
                let reply = update(Some(&user_token(&user)), json!({"competition_id": competition, "score": score}));
                assert_eq!(reply.status, 200, "{:?}", reply.json);
                (user, score)
            })
        })
        .collect();
    let written: Vec<(Uuid, i64)> = handles.into_iter().map(|h| h.join().expect("writer")).collect();

    let page = get(&format!("/api/v1/leaderboard/{competition}?limit=200"), &users[0]);
    assert_eq!(page.status, 200, "{:?}", page.json);
    assert_eq!(page.json["total"], 50);
    assert_eq!(page.json["next_cursor"], serde_json::Value::Null);
    let entries = page.json["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 50);
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry["rank"], i as u64 + 1, "ranks are 1..=50 in order");
        if i > 0 {
            assert!(entry["score"].as_i64() <= entries[i - 1]["score"].as_i64(), "scores descend");
        }
        let user: Uuid = entry["user_id"].as_str().and_then(|s| s.parse().ok()).expect("user id");
        let score = written.iter().find(|(u, _)| *u == user).map(|(_, s)| *s).expect("a writer");
        assert_eq!(entry["score"], score);
        assert_eq!(entry["display_name"], format!("player-{}", &user.to_string()[..8]));
        assert_eq!(entry["avatar_url"], serde_json::Value::Null);
        // Every user's own standing agrees with the page.
        let standing = get(&format!("/api/v1/leaderboard/{competition}/users/{user}"), &users[0]);
        assert_eq!(standing.json["rank"], entry["rank"]);
    }
}

#[test]
fn pages_follow_cursors_and_me_shows_the_window() {
    let users: Vec<Uuid> = (0..7).map(|_| Uuid::new_v4()).collect();
    let competition = e2e::competition_with(&users);
    for (i, user) in users.iter().enumerate() {
        let reply = update(Some(&user_token(user)), json!({"competition_id": competition, "score": 100 - i as i64}));
        assert_eq!(reply.status, 200);
    }
    let first = get(&format!("/api/v1/leaderboard/{competition}?limit=3"), &users[0]);
    assert_eq!(first.status, 200, "{:?}", first.json);
    let cursor = first.json["next_cursor"].as_str().expect("more pages").to_owned();
    let second = get(&format!("/api/v1/leaderboard/{competition}?limit=3&cursor={cursor}"), &users[0]);
    let ranks: Vec<u64> =
        second.json["entries"].as_array().expect("entries").iter().filter_map(|e| e["rank"].as_u64()).collect();
    assert_eq!(ranks, vec![4, 5, 6]);

    let me = get(&format!("/api/v1/leaderboard/{competition}/me?around=1"), &users[1]);
    assert_eq!(me.status, 200, "{:?}", me.json);
    assert_eq!((me.json["rank"].as_u64(), me.json["total"].as_u64()), (Some(2), Some(7)));
    let window: Vec<u64> =
        me.json["entries"].as_array().expect("entries").iter().filter_map(|e| e["rank"].as_u64()).collect();
    assert_eq!(window, vec![1, 2, 3], "rank 2 sees rank 1 above it");

    let stranger = get(&format!("/api/v1/leaderboard/{competition}/me"), &Uuid::new_v4());
    assert_eq!((stranger.status, stranger.json["error"]["code"].as_str()), (404, Some("not_found")));

    for bad in ["?limit=0", "?limit=201", "?limit=x", "?cursor=nonsense"] {
        let reply = get(&format!("/api/v1/leaderboard/{competition}{bad}"), &users[0]);
        assert_eq!((reply.status, reply.json["error"]["code"].as_str()), (422, Some("validation_failed")), "{bad}");
    }
    let reply = get(&format!("/api/v1/leaderboard/{competition}/me?around=99"), &users[0]);
    assert_eq!(reply.status, 422);
    let reply = get("/api/v1/leaderboard/not-a-uuid", &users[0]);
    assert_eq!((reply.status, reply.json["error"]["code"].as_str()), (400, Some("bad_request")));
}

#[test]
fn oversized_mistyped_and_malformed_bodies_get_their_own_4xx() {
    let user = Uuid::new_v4();
    let auth = format!("Bearer {}", user_token(&user));
    let url = format!("{}/api/v1/leaderboard/update", base_url());
    let raw = |content_type: &str, body: String| -> (u16, serde_json::Value) {
        let agent = ureq_agent();
        let response =
            agent.post(&url).set("Authorization", &auth).set("Content-Type", content_type).send_string(&body);
        let response = match response {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{e}"),
        };
        let status = response.status();
        (status, serde_json::from_str(&response.into_string().unwrap_or_default()).unwrap_or_default())
    };
    let competition = Uuid::new_v4();
    let padded = format!(r#"{{"competition_id":"{competition}","score":1,"pad":"{}"}}"#, "x".repeat(70 * 1024));
    let cases = [
        ("application/json", padded, 413, "payload_too_large"),
        ("text/plain", format!(r#"{{"competition_id":"{competition}","score":1}}"#), 415, "unsupported_media_type"),
        ("application/json", r#"{"competition_id": "#.to_owned(), 400, "invalid_json"),
        // A shape error ahead of broken JSON: still malformed, still 400.
        ("application/json", format!(r#"{{"competition_id":"{competition}","score":"1", "#), 400, "invalid_json"),
        // A repeated key is ambiguous (parsers differ on which value wins): refused before anything is written.
        (
            "application/json",
            format!(r#"{{"competition_id":"{competition}","score":1,"score":900}}"#),
            422,
            "validation_failed",
        ),
    ];
    for (content_type, body, status, code) in cases {
        let (got, json) = raw(content_type, body);
        assert_eq!((got, json["error"]["code"].as_str()), (status, Some(code)), "{content_type} {code}");
    }
}

fn ureq_agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(std::time::Duration::from_secs(30)).build()
}

#[test]
fn display_ranks_share_places_among_ties_everywhere_a_rank_appears() {
    let users: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
    let competition = e2e::competition_with(&users);
    let post = |user: &Uuid, score: i64| {
        let reply = update(Some(&user_token(user)), json!({"competition_id": competition, "score": score}));
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        reply.json
    };
    post(&users[0], 50);
    post(&users[1], 40);
    post(&users[2], 40);
    let last = post(&users[3], 30);
    assert_eq!((last["rank"].clone(), last["display_rank"].clone()), (json!(4), json!(4)), "{last}");

    let page = get(&format!("/api/v1/leaderboard/{competition}"), &users[0]);
    let ranks: Vec<(i64, i64)> = page.json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| (e["rank"].as_i64().unwrap_or(0), e["display_rank"].as_i64().unwrap_or(0)))
        .collect();
    assert_eq!(ranks, [(1, 1), (2, 2), (3, 2), (4, 4)], "rank stays unique, display_rank is 1224");

    let me = get(&format!("/api/v1/leaderboard/{competition}/me?around=1"), &users[2]);
    assert_eq!((me.json["rank"].clone(), me.json["display_rank"].clone()), (json!(3), json!(2)), "{:?}", me.json);
    let displayed: Vec<i64> = me.json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["display_rank"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(displayed, [2, 2, 4]);
    let standing = get(&format!("/api/v1/leaderboard/{competition}/users/{}", users[1]), &users[0]);
    assert_eq!((standing.json["rank"].clone(), standing.json["display_rank"].clone()), (json!(2), json!(2)));
    // A tie broken by a new score moves the display ranks of everyone it passes.
    let overtaking = post(&users[3], 45);
    assert_eq!((overtaking["rank"].clone(), overtaking["display_rank"].clone()), (json!(2), json!(2)));
    let standing = get(&format!("/api/v1/leaderboard/{competition}/users/{}", users[2]), &users[0]);
    assert_eq!((standing.json["rank"].clone(), standing.json["display_rank"].clone()), (json!(4), json!(3)));
}

/// Members tied on a paid place share it, and the final prizes name every one of them: 10 001 members tied at the
/// top of a one-place payout are all paid, the pool exactly. The final list used to stop after 10 000 rows (a
/// `goal_days` board, which counts days, ties that many easily).
#[test]
fn final_prizes_name_every_tied_winner() {
    let pool = 1_000_000;
    let competition = e2e::create_competition_with(
        -86_400,
        86_400,
        json!({"score_source": "client", "prize_pool": pool, "payout": [10_000]}),
    );
    let viewer = Uuid::new_v4();
    assert_eq!(get(&format!("/api/v1/leaderboard/{competition}"), &viewer).status, 200, "the object learns its rules");
    let admin = [("Authorization", e2e::admin_auth())];
    let admin: Vec<(&str, &str)> = admin.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let test_route = |action: &str| format!("{}/__test/competitions/{competition}/{action}", base_url());
    let seeded = send("POST", &test_route("seed?n=10001&score=500"), &admin, None);
    assert_eq!(seeded.status, 200, "{:?}", seeded.json);
    let finalized = send("POST", &test_route("finalize"), &admin, None);
    assert_eq!(finalized.status, 200, "{:?}", finalized.json);

    let prizes = get(&format!("/api/v1/leaderboard/{competition}/prizes"), &viewer);
    assert_eq!((prizes.status, prizes.json["final"].as_bool()), (200, Some(true)), "{:?}", prizes.json["final"]);
    let paid = prizes.json["prizes"].as_array().expect("prizes");
    assert_eq!(paid.len(), 10_001, "every tied winner is listed");
    assert_eq!(paid.iter().filter_map(|p| p["amount"].as_i64()).sum::<i64>(), pool, "the pool exactly");
}
