//! The live leaderboard socket: edge auth, snapshot first, every update in seq order, ping/pong, and resume.

use std::time::Duration;

use e2e::{base_url, connect_live as connect, live_url, next_json, scratch_dir, send, user_token, Socket, WranglerDev};
use serde_json::{json, Value};
use tungstenite::client::IntoClientRequest;
use tungstenite::Message;
use uuid::Uuid;

fn post_score(competition: &Uuid, user: &Uuid, score: i64) -> Value {
    let reply = e2e::post_as(
        &base_url(),
        "/api/v1/leaderboard/update",
        user,
        &json!({"competition_id": competition, "score": score}),
    );
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    reply.json
}

#[test]
fn a_subscriber_gets_a_snapshot_then_every_update_in_order_and_resume_fills_the_gap() {
    let (watcher, alice, bob) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let competition = e2e::competition_with(&[watcher, alice, bob]);
    post_score(&competition, &alice, 5);

    let (mut socket, response) = connect(&competition, &watcher, true);
    assert_eq!(response.headers().get("sec-websocket-protocol").map(|v| v.to_str().ok()), Some(Some("bearer")));
    // The handshake is an /api response like any other: request id, security and rate-limit headers (API.md).
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    for name in ["x-request-id", "x-content-type-options", "strict-transport-security", "ratelimit-policy", "ratelimit"]
    {
        assert!(header(name).is_some_and(|v| !v.is_empty()), "{name} on the 101: {:?}", response.headers());
    }
    assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
    let snapshot = next_json(&mut socket);
    assert_eq!(snapshot["type"], "snapshot");
    assert_eq!((snapshot["seq"].as_u64(), snapshot["total"].as_u64()), (Some(1), Some(1)));
    assert_eq!(snapshot["entries"][0]["user_id"], alice.to_string());
    assert_eq!(snapshot["me"], Value::Null);

    post_score(&competition, &bob, 10);
    post_score(&competition, &alice, 20);
    post_score(&competition, &alice, 20); // unchanged: no frame
    post_score(&competition, &bob, 30);
    let seen: Vec<Value> = (0..3).map(|_| next_json(&mut socket)).collect();
    let seqs: Vec<u64> = seen.iter().filter_map(|f| f["seq"].as_u64()).collect();
    assert_eq!(seqs, vec![2, 3, 4], "{seen:?}");
    assert!(seen.iter().all(|f| f["type"] == "update"));
    assert_eq!(seen[0]["user_id"], bob.to_string());
    assert_eq!(
        (seen[0]["rank"].as_u64(), seen[0]["previous_rank"].clone(), seen[0]["total"].as_u64()),
        (Some(1), Value::Null, Some(2))
    );
    assert_eq!((seen[1]["rank"].as_u64(), seen[1]["previous_rank"].as_u64()), (Some(1), Some(2)));

    socket.send(Message::Text(r#"{"type":"ping"}"#.into())).expect("ping");
    assert_eq!(next_json(&mut socket), json!({"type": "pong"}));
    socket.send(Message::Text(r#"{ "type": "ping" }"#.into())).expect("ping, other spelling");
    assert_eq!(next_json(&mut socket), json!({"type": "pong"}));
    let _ = socket.close(None);
    drop(socket);

    // Missed while away: seq 5 and 6.
    post_score(&competition, &watcher, 1);
    post_score(&competition, &alice, 40);

    let (mut socket, _) = connect(&competition, &watcher, false);
    let snapshot = next_json(&mut socket);
    assert_eq!((snapshot["type"].as_str(), snapshot["seq"].as_u64()), (Some("snapshot"), Some(6)));
    assert_eq!(snapshot["me"], json!({"rank": 3, "display_rank": 3, "score": 1}));
    socket.send(Message::Text(r#"{"type":"resume","since":4}"#.into())).expect("resume");
    let replayed: Vec<u64> = (0..2).map(|_| next_json(&mut socket)["seq"].as_u64().unwrap_or(0)).collect();
    assert_eq!(replayed, vec![5, 6]);
    // Nothing more than the gap: the next frame is a fresh live update.
    post_score(&competition, &bob, 50);
    assert_eq!(next_json(&mut socket)["seq"], 7);
    // Resuming from the future (a client confused by a reset) gets a fresh snapshot.
    socket.send(Message::Text(r#"{"type":"resume","since":999}"#.into())).expect("resume");
    assert_eq!(next_json(&mut socket)["type"], "snapshot");
}

#[test]
fn the_upgrade_is_refused_without_a_valid_token_or_without_upgrade() {
    let competition = Uuid::new_v4();
    let request = live_url(&competition).into_client_request().expect("request");
    match tungstenite::connect(request) {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 401),
        other => panic!("expected 401, got {:?}", other.map(|(_, r)| r.status())),
    }
    let mut request = live_url(&competition).into_client_request().expect("request");
    request.headers_mut().insert("Sec-WebSocket-Protocol", "bearer, not.a.jwt".parse().expect("header"));
    match tungstenite::connect(request) {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 401),
        other => panic!("expected 401, got {:?}", other.map(|(_, r)| r.status())),
    }
    // A competition that exists, asked without the upgrade (an unknown one is 404 first: tests/attacks.rs).
    let known = e2e::active_competition();
    let plain = send(
        "GET",
        &format!("{}/api/v1/competitions/{known}/live", base_url()),
        &[("Authorization", &format!("Bearer {}", user_token(&Uuid::new_v4())))],
        None,
    );
    assert_eq!((plain.status, plain.json["error"]["code"].as_str()), (400, Some("bad_request")));
}

/// The subprotocol comes back as the client offered it: RFC 6455 has a client (browsers, tungstenite) fail a handshake
/// whose protocol it did not offer, and the token is read after `Bearer` as after `bearer`.
#[test]
fn the_bearer_subprotocol_is_echoed_as_the_client_spelled_it() {
    let user = Uuid::new_v4();
    let competition = e2e::competition_with(&[user]);
    let mut request = live_url(&competition).into_client_request().expect("request");
    let offered = format!("Bearer, {}", user_token(&user));
    request.headers_mut().insert("Sec-WebSocket-Protocol", offered.parse().expect("header"));
    let (mut socket, response) = match tungstenite::connect(request) {
        Ok(connected) => connected,
        Err(error) => panic!("the handshake failed: {error}"),
    };
    assert_eq!(response.headers().get("sec-websocket-protocol").map(|v| v.to_str().ok()), Some(Some("Bearer")));
    if let tungstenite::stream::MaybeTlsStream::Plain(stream) = socket.get_ref() {
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    }
    assert_eq!(next_json(&mut socket)["type"], "snapshot");
}

#[test]
fn at_ends_at_the_object_stores_final_prizes_tells_subscribers_and_refuses_writes() {
    let (alice, bob, carol) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    // Pool 1000, payout [6000, 4000]; ends in a few seconds.
    let competition = e2e::create_competition(-86_400, 5);
    for user in [&alice, &bob, &carol] {
        e2e::join(&competition, user);
    }
    post_score(&competition, &alice, 30);
    post_score(&competition, &bob, 20);
    post_score(&competition, &carol, 20);
    let expected = json!([
        {"rank": 1, "user_id": alice, "amount": 600},
        {"rank": 2, "user_id": bob, "amount": 200},
        {"rank": 3, "user_id": carol, "amount": 200},
    ]);
    let prizes_path = format!("/api/v1/leaderboard/{competition}/prizes");
    let provisional = e2e::get_as(&base_url(), &prizes_path, &alice);
    assert_eq!(provisional.status, 200, "{:?}", provisional.json);
    assert_eq!(
        provisional.json,
        json!({"prize_pool": 1000, "final": false, "prizes": expected}),
        "bob and carol tie on 20 and share places 2 and 3"
    );

    let (mut socket, _) = connect(&competition, &alice, true);
    assert_eq!(next_json(&mut socket)["type"], "snapshot");
    let finished = loop {
        let frame = next_json(&mut socket);
        if frame["type"] == "finished" {
            break frame;
        }
    };
    assert_eq!(finished["prizes"], expected);
    assert_eq!(finished["seq"], 3);
    // A client whose socket closed around the end (an app in the background) learns it when it comes back: a new
    // socket gets the snapshot, then `finished`; a resume from the last seq it saw ends with `finished` too.
    let (mut late, _) = connect(&competition, &bob, true);
    assert_eq!(next_json(&mut late)["type"], "snapshot");
    assert_eq!(next_json(&mut late), finished, "a subscriber after the end");
    late.send(Message::Text(r#"{"type":"resume","since":3}"#.into())).expect("resume");
    assert_eq!(next_json(&mut late), finished, "a resume after the end");

    let final_prizes = e2e::get_as(&base_url(), &prizes_path, &alice);
    assert_eq!(final_prizes.json, json!({"prize_pool": 1000, "final": true, "prizes": expected}));
    let late = e2e::post_as(
        &base_url(),
        "/api/v1/leaderboard/update",
        &alice,
        &json!({"competition_id": competition, "score": 40}),
    );
    assert_eq!((late.status, late.json["error"]["code"].as_str()), (409, Some("conflict")));

    // The final standings reach Postgres once.
    let stored = e2e::eventually(Duration::from_secs(20), || {
        let reply = send(
            "GET",
            &format!("{}/final_results?select=rank,prize&competition_id=eq.{competition}&order=rank", e2e::rest_url()),
            &[("Authorization", &format!("Bearer {}", e2e::service_token()))],
            None,
        );
        Some(reply.json).filter(|rows| rows.as_array().is_some_and(|r| r.len() == 3))
    });
    assert_eq!(stored, Some(json!([{"rank": 1, "prize": 600}, {"rank": 2, "prize": 200}, {"rank": 3, "prize": 200}])));
}

#[test]
fn a_competition_nobody_joined_still_ends_for_its_subscribers() {
    // Created in Postgres and never joined: nothing but the socket tells its object that the competition exists.
    let no_prizes = json!({"type": "finished", "seq": 0, "prizes": []});
    let watcher = Uuid::new_v4();
    let ending = e2e::create_competition(-86_400, 3);
    let (mut socket, _) = connect(&ending, &watcher, true);
    assert_eq!(next_json(&mut socket)["type"], "snapshot");
    assert_eq!(next_json(&mut socket), no_prizes, "a subscriber waiting for the end");
    // One that ended before anybody looked: the snapshot, then `finished`.
    let ended = e2e::create_competition(-86_400, -60);
    let (mut late, _) = connect(&ended, &watcher, true);
    assert_eq!(next_json(&mut late)["type"], "snapshot");
    assert_eq!(next_json(&mut late), no_prizes, "a subscriber after the end");
}

#[test]
fn finalizing_twice_or_after_a_half_way_failure_leaves_exactly_one_result() {
    let users: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
    let competition = e2e::create_competition(-86_400, 3_600);
    for (user, score) in users.iter().zip([40, 30, 30, 10]) {
        e2e::join(&competition, user);
        post_score(&competition, user, score);
    }
    let test_route = |path: &str| {
        send(
            "POST",
            &format!("{}/__test/competitions/{competition}/{path}", base_url()),
            &[("Authorization", &e2e::admin_auth())],
            None,
        )
    };

    let failed = test_route("finalize?fail_after=2");
    assert_eq!(failed.status, 500, "the simulated crash half-way: {:?}", failed.json);
    let stats = send(
        "GET",
        &format!("{}/__test/competitions/{competition}/stats", base_url()),
        &[("Authorization", &e2e::admin_auth())],
        None,
    )
    .json;
    assert_eq!((stats["finalized"].clone(), stats["final_results"].clone()), (json!(false), json!(2)), "{stats}");

    for path in ["finalize", "finalize", "alarm", "alarm"] {
        let reply = test_route(path);
        assert_eq!(reply.status, 200, "{path}: {:?}", reply.json);
        assert_eq!((reply.json["finalized"].clone(), reply.json["final_results"].clone()), (json!(true), json!(4)));
    }
    let prizes = e2e::get_as(&base_url(), &format!("/api/v1/leaderboard/{competition}/prizes"), &users[0]);
    let amounts: Vec<(u64, u64)> = prizes.json["prizes"]
        .as_array()
        .expect("prizes")
        .iter()
        .filter_map(|p| Some((p["rank"].as_u64()?, p["amount"].as_u64()?)))
        .collect();
    assert_eq!((prizes.json["final"].clone(), amounts), (json!(true), vec![(1, 600), (2, 200), (3, 200)]));
    let late = e2e::post_as(
        &base_url(),
        "/api/v1/leaderboard/update",
        &users[3],
        &json!({"competition_id": competition, "score": 50}),
    );
    assert_eq!(late.status, 409, "no write after the final standings: {:?}", late.json);

    let rows = e2e::eventually(Duration::from_secs(20), || {
        let reply = send(
            "GET",
            &format!("{}/final_results?select=rank&competition_id=eq.{competition}", e2e::rest_url()),
            &[("Authorization", &format!("Bearer {}", e2e::service_token())), ("Prefer", "count=exact")],
            None,
        );
        Some(reply.header("content-range").unwrap_or_default().to_owned()).filter(|r| r.ends_with("/4"))
    });
    assert_eq!(rows.as_deref(), Some("0-3/4"), "exactly one set of final results in Postgres");
}

#[test]
fn a_full_live_feed_refuses_the_next_subscriber_with_a_503_until_a_socket_closes() {
    // An object takes at most LIVE_SOCKETS_PER_COMPETITION sockets (in production just under the runtime's 32 768,
    // past which accepting would throw); here two, on a Worker of the test's own.
    let worker = WranglerDev::start_with(&scratch_dir("live-full"), &[("LIVE_SOCKETS_PER_COMPETITION", "2")]);
    // A competition Postgres has: the live route answers 404 for any other.
    let competition = e2e::active_competition();
    let url = format!("{}/api/v1/competitions/{competition}/live", worker.base_url().replacen("http", "ws", 1));
    let open = || {
        let mut request = url.as_str().into_client_request().expect("request");
        let token = format!("Bearer {}", user_token(&Uuid::new_v4()));
        request.headers_mut().insert("Authorization", token.parse().expect("header"));
        tungstenite::connect(request)
    };
    let mut first = open().expect("first subscriber").0;
    assert_eq!(next_json(&mut first)["type"], "snapshot");
    let mut second = open().expect("second subscriber").0;
    assert_eq!(next_json(&mut second)["type"], "snapshot");

    match open() {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 503);
            let retry = response.headers().get("Retry-After").and_then(|v| v.to_str().ok());
            assert_eq!(retry, Some("30"));
        }
        other => panic!("expected 503 for the third subscriber, got {:?}", other.map(|(_, r)| r.status())),
    }
    // The refusal's body, read whole by a plain HTTP client (the WebSocket client keeps only what came with the
    // headers): the API's error envelope.
    let refused = send(
        "GET",
        &format!("{}/api/v1/competitions/{competition}/live", worker.base_url()),
        &[("Authorization", &format!("Bearer {}", user_token(&Uuid::new_v4()))), ("Upgrade", "websocket")],
        None,
    );
    assert_eq!(refused.status, 503);
    assert_eq!(refused.json["error"]["code"], "dependency_unavailable", "{:?}", refused.json);
    assert!(refused.json["error"]["request_id"].is_string(), "{:?}", refused.json);
    // The two accepted subscribers are unharmed.
    second.send(Message::Text(r#"{"type":"ping"}"#.into())).expect("ping");
    assert_eq!(next_json(&mut second)["type"], "pong");

    first.close(None).expect("close");
    while first.read().is_ok() {}
    let third = e2e::eventually(Duration::from_secs(10), || open().ok());
    assert!(third.is_some(), "a place freed by a closed socket is taken again");
}

/// Reads frames until `count` updates have arrived, unpacking combined `updates` frames; returns their sequences
/// in arrival order and how many combined frames carried them.
fn read_updates(socket: &mut Socket, count: usize) -> (Vec<u64>, usize) {
    let (mut seqs, mut combined) = (Vec::new(), 0);
    while seqs.len() < count {
        let frame = next_json(socket);
        combined += usize::from(frame["type"] == "updates");
        seqs.extend(e2e::updates_in(&frame).iter().map(|u| u["seq"].as_u64().expect("seq")));
    }
    (seqs, combined)
}

#[test]
fn combined_frames_still_bring_every_update_once_in_order_to_every_socket() {
    // A Worker whose objects combine frames whatever their audience (the default starts at 100 sockets).
    let worker = WranglerDev::start_with(&scratch_dir("live-coalesce"), &[("LIVE_COALESCE_FROM_SOCKETS", "0")]);
    let base = worker.base_url();
    let writers: Vec<Uuid> = (0..8).map(|_| Uuid::new_v4()).collect();
    let competition = e2e::competition_with(&writers);
    let open = || e2e::connect_live_at(&base, &competition, &Uuid::new_v4(), false).0;
    let mut sockets: Vec<Socket> = (0..3).map(|_| open()).collect();
    let start = sockets.iter_mut().map(|s| next_json(s)["seq"].as_u64().unwrap_or(0)).max().unwrap_or(0);

    // Eight writers at once, ten rising scores each: 80 changes, many while a send pass is pending.
    e2e::post_rising_scores(&base, &competition, &writers, 1..11);
    let expected: Vec<u64> = (start + 1..=start + 80).collect();
    let mut combined = 0;
    for socket in &mut sockets {
        let (seqs, frames) = read_updates(socket, 80);
        assert_eq!(seqs, expected, "every update once, in seq order");
        combined += frames;
    }
    // Eight writers at once keep a pass pending often enough that some updates travel together (57 combined
    // frames over the three sockets when this was written); none at all would mean the path went untested.
    assert!(combined > 0, "no combined frame was sent");

    // A resume replays what was sent, once: the last five updates, as separate frames from the ring.
    let mut late = open();
    let snapshot = next_json(&mut late);
    assert_eq!(snapshot["seq"].as_u64(), Some(start + 80));
    late.send(Message::Text(json!({"type": "resume", "since": start + 75}).to_string().into())).expect("resume");
    let (replayed, _) = read_updates(&mut late, 5);
    assert_eq!(replayed, (start + 76..=start + 80).collect::<Vec<_>>());
    let body = json!({"competition_id": competition, "score": 1000});
    assert_eq!(e2e::post_as(&base, "/api/v1/leaderboard/update", &writers[0], &body).status, 200);
    assert_eq!(read_updates(&mut late, 1).0, [start + 81], "then live again");
}

#[test]
fn sockets_that_join_or_resume_while_scores_change_miss_nothing() {
    let writers: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
    let competition = e2e::competition_with(&writers);
    e2e::join_and_resume_while_writers_post(&base_url(), &competition, &writers);
}

/// A `resume` may ask for the whole kept window (about a thousand frames) and a socket may send ten a second, so one
/// user's replays are bounded: four full windows at once (a user's devices all resuming after a deploy), then about a
/// window every ten seconds. Past that a resume gets a snapshot, as when the frames are no longer kept; another user
/// still gets their replay. Without the bound, four accounts' sockets resuming this way made other members' score
/// writes take a second.
#[test]
fn a_users_replays_past_four_windows_get_a_snapshot_and_other_users_still_get_theirs() {
    let writers: Vec<Uuid> = (0..6).map(|_| Uuid::new_v4()).collect();
    let competition = e2e::competition_with(&writers);
    // Six writers, 180 rising scores each (within each one's burst): 1 080 changes.
    e2e::post_rising_scores(&base_url(), &competition, &writers, 1..181);
    let refused = e2e::socket_refusals(&base_url(), "replay_allowance");
    e2e::check_replay_allowance(|user| connect(&competition, user, false).0, &writers[0], &writers[1]);
    e2e::until_socket_refusals(&base_url(), "replay_allowance", refused + 1.0);
}

/// A `resume` from beyond the latest change (a client that kept a sequence from another competition, or a hostile
/// one) gets a snapshot at the latest, whatever the number: one past 2^63 once made the object read every kept frame
/// on each resume, outside the user's replay allowance (stored sequences are signed).
#[test]
fn a_resume_from_beyond_the_latest_change_gets_a_snapshot() {
    let writers: Vec<Uuid> = (0..2).map(|_| Uuid::new_v4()).collect();
    let competition = e2e::competition_with(&writers);
    e2e::post_rising_scores(&base_url(), &competition, &writers, 1..4);
    let (mut socket, _) = connect(&competition, &writers[0], false);
    let latest = next_json(&mut socket)["seq"].as_u64().expect("snapshot seq");
    for since in [latest + 1, 1 << 63, u64::MAX] {
        socket.send(Message::Text(json!({"type": "resume", "since": since}).to_string().into())).expect("resume");
        let answer = next_json(&mut socket);
        assert_eq!((answer["type"].as_str(), answer["seq"].as_u64()), (Some("snapshot"), Some(latest)), "{since}");
    }
    socket.send(Message::Text(json!({"type": "resume", "since": latest}).to_string().into())).expect("resume");
    socket.send(Message::Text(json!({"type": "ping"}).to_string().into())).expect("ping");
    assert_eq!(next_json(&mut socket), json!({"type": "pong"}), "up to date: nothing replayed");
}
