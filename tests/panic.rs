//! The panic guard: a Rust panic becomes the 500 envelope and the Worker keeps serving. A file of its own because a
//! panic fails every request in flight in the isolate, which must not hit the other tests running in parallel.

use e2e::{base_url, send, user_token, SECURITY_HEADERS};

#[test]
fn a_panic_becomes_a_500_envelope_and_the_worker_recovers() {
    // A competition whose object is live in this isolate before the panic: after the wasm instance is re-initialised
    // it must be rebuilt (from its storage) rather than called as a stale wasm object.
    let (writer, competition_before) = {
        let user = uuid::Uuid::new_v4();
        (user, e2e::competition_with(&[user]))
    };
    let post = |user: &uuid::Uuid, competition: &uuid::Uuid, score: u64| {
        send(
            "POST",
            &format!("{}/api/v1/leaderboard/update", base_url()),
            &[("Authorization", &format!("Bearer {}", user_token(user)))],
            Some(&serde_json::json!({"competition_id": competition, "score": score})),
        )
    };
    let first = post(&writer, &competition_before, 5);
    assert_eq!((first.status, first.json["rank"].as_u64()), (200, Some(1)), "{:?}", first.json);

    // A panic in the call that received the request (thrown straight through), then one in a later poll (the
    // runtime's `error` event fails the request's promise): both are the 500 envelope, and the instance recovers.
    for (query, id) in [("", "panic-1"), ("?after=wait", "panic-2")] {
        let reply = send(
            "GET",
            &format!("{}/__test/panic{query}", base_url()),
            &[("X-Request-Id", id), ("Authorization", &e2e::admin_auth())],
            None,
        );
        assert_eq!(reply.status, 500, "{query}");
        assert_eq!(
            reply.json,
            serde_json::json!({"error": {"code": "internal", "message": "internal error", "request_id": id}})
        );
        assert_eq!(reply.header("x-request-id"), Some(id));
        assert_eq!(reply.header("content-type"), Some("application/json; charset=utf-8"));
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(reply.header(name), Some(*value), "panic {query} {name}");
        }
        // The next requests are served by a re-initialised instance.
        for _ in 0..3 {
            let live = send("GET", &format!("{}/health", base_url()), &[], None);
            assert_eq!(live.status, 200, "after the panic {query}");
            let missing = send("GET", &format!("{}/api/v1/nope", base_url()), &[], None);
            assert_eq!(missing.json["error"]["code"], "not_found", "after the panic {query}");
        }
    }
    let user = uuid::Uuid::new_v4();
    let competition = e2e::competition_with(&[user]);
    let write = post(&user, &competition, 3);
    assert_eq!((write.status, write.json["rank"].as_u64()), (200, Some(1)), "{:?}", write.json);
    // The object from before the panic answers too, with what it had stored.
    let again = post(&writer, &competition_before, 8);
    assert_eq!((again.status, again.json["score"].as_u64()), (200, Some(8)), "{:?}", again.json);
    let page = send(
        "GET",
        &format!("{}/api/v1/leaderboard/{competition_before}", base_url()),
        &[("Authorization", &format!("Bearer {}", user_token(&writer)))],
        None,
    );
    assert_eq!(page.json["entries"][0]["score"], 8, "{:?}", page.json);
}
