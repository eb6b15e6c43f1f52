//! Relay objects: a competition whose audience calls for relays (`max_participants` 300, `LIVE_RELAY_MEMBERS` 100:
//! three relays) serves its live sockets from them. Every socket gets every update once and in `seq` order; a relay
//! that loses its memory carries on; a relay that closes its sockets (as a deploy does), and the whole runtime
//! crashing and restarting, lose nothing the clients cannot resume. A relay left without sockets stops costing the
//! competition a subrequest per batch until its next subscriber.

use std::collections::BTreeMap;

use e2e::{next_json, scratch_dir, send, Socket, WranglerDev};
use serde_json::{json, Value};
use tungstenite::Message;
use uuid::Uuid;

const RELAYS: u32 = 3;
const SUBSCRIBERS: usize = 240;

/// The relay the Worker assigns `user` to (the rule of `standings::relay::relay_of`).
fn relay_of(user: &Uuid) -> u32 {
    standings::relay::relay_of(user, RELAYS)
}

fn open(base: &str, competition: &Uuid, user: &Uuid) -> Socket {
    e2e::connect_live_at(base, competition, user, false).0
}

/// Reconnects `user`, checks the snapshot is at `last`, resumes from `seen` and checks exactly the missed updates
/// come back, in order; the socket.
fn reconnect_and_resume(base: &str, competition: &Uuid, user: &Uuid, seen: u64, last: u64, when: &str) -> Socket {
    let mut socket = open(base, competition, user);
    let snapshot = next_json(&mut socket);
    assert_eq!((snapshot["type"].as_str(), snapshot["seq"].as_u64()), (Some("snapshot"), Some(last)));
    socket.send(Message::Text(format!(r#"{{"type":"resume","since":{seen}}}"#).into())).expect("resume");
    let missed = (last - seen) as usize;
    let replayed: Vec<u64> = (0..missed).map(|_| next_json(&mut socket)["seq"].as_u64().unwrap_or(0)).collect();
    assert_eq!(replayed, (seen + 1..=last).collect::<Vec<u64>>(), "resume {when}: {user}");
    socket
}

/// Reads frames until the update of `last` has arrived (combined `updates` frames unpacked); their sequences in
/// arrival order.
fn updates_through(socket: &mut Socket, last: u64) -> Vec<u64> {
    let mut seqs: Vec<u64> = Vec::new();
    while seqs.last().is_none_or(|seq| *seq < last) {
        seqs.extend(e2e::updates_in(&next_json(socket)).iter().map(|u| u["seq"].as_u64().expect("seq")));
    }
    seqs
}

/// `rounds` rising scores from each writer at once; the sequence of the last update.
fn write_rounds(base: &str, competition: &Uuid, writers: &[Uuid], rounds: i64, from: i64) -> u64 {
    e2e::post_rising_scores(base, competition, writers, from..from + rounds);
    latest_seq(base, competition, &writers[0])
}

/// The competition's latest `seq`, from a fresh snapshot.
fn latest_seq(base: &str, competition: &Uuid, user: &Uuid) -> u64 {
    let mut socket = open(base, competition, user);
    let snapshot = next_json(&mut socket);
    assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
    let _ = socket.close(None);
    snapshot["seq"].as_u64().expect("seq")
}

fn relay_action(base: &str, competition: &Uuid, index: u32, action: &str) {
    let reply = send(
        "POST",
        &format!("{base}/__test/competitions/{competition}/relays/{index}/{action}"),
        &[("Authorization", &e2e::admin_auth())],
        None,
    );
    assert_eq!(reply.status, 200, "{action} relay {index}: {:?}", reply.json);
}

#[test]
fn three_relays_deliver_every_update_once_in_order_and_lose_nothing_a_client_cannot_resume() {
    let worker = WranglerDev::start_with(&scratch_dir("relays"), &[("LIVE_RELAY_MEMBERS", "100")]);
    let base = worker.base_url();
    let competition =
        e2e::create_competition_with(-86_400, 7 * 86_400, json!({"score_source": "client", "max_participants": 300}));
    let writers: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
    for writer in &writers {
        let reply = e2e::post_as(&base, &format!("/api/v1/competitions/{competition}/join"), writer, &json!({}));
        assert_eq!(reply.status, 200, "join: {:?}", reply.json);
    }
    write_rounds(&base, &competition, &writers, 1, 1);

    // A few hundred subscribers, spread over the three relays by user.
    let users: Vec<Uuid> = (0..SUBSCRIBERS).map(|_| Uuid::new_v4()).collect();
    let mut per_relay: BTreeMap<u32, usize> = BTreeMap::new();
    for user in &users {
        *per_relay.entry(relay_of(user)).or_default() += 1;
    }
    assert_eq!(per_relay.len(), RELAYS as usize, "{per_relay:?}");
    let mut sockets: Vec<(Uuid, Socket, u64)> = users
        .iter()
        .map(|user| {
            let mut socket = open(&base, &competition, user);
            let snapshot = next_json(&mut socket);
            assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
            (*user, socket, snapshot["seq"].as_u64().expect("seq"))
        })
        .collect();

    // 1. Every update reaches every socket once, in order, after its snapshot.
    let last = write_rounds(&base, &competition, &writers, 10, 2);
    for (user, socket, seen) in &mut sockets {
        let seqs = updates_through(socket, last);
        assert_eq!(seqs, (*seen + 1..=last).collect::<Vec<u64>>(), "user {user} on relay {}", relay_of(user));
        *seen = last;
    }

    // 2. Relay 1 loses its memory (ring and place in the stream as held in memory), as eviction does: its sockets
    // stay open and still get everything, once and in order.
    relay_action(&base, &competition, 1, "forget");
    let last = write_rounds(&base, &competition, &writers, 5, 12);
    for (user, socket, seen) in &mut sockets {
        let seqs = updates_through(socket, last);
        assert_eq!(seqs, (*seen + 1..=last).collect::<Vec<u64>>(), "after forget: user {user}");
        *seen = last;
    }
    // Its ring no longer reaches back: a resume from before the loss is answered from the competition.
    let (user, socket, _) = sockets.iter_mut().find(|(user, _, _)| relay_of(user) == 1).expect("a relay-1 socket");
    let since = last - 25;
    socket.send(Message::Text(format!(r#"{{"type":"resume","since":{since}}}"#).into())).expect("resume");
    let replayed: Vec<u64> = (0..25).map(|_| next_json(socket)["seq"].as_u64().unwrap_or(0)).collect();
    assert_eq!(replayed, (since + 1..=last).collect::<Vec<u64>>(), "resume on relay 1 for {user}");

    // 3. Relay 2 closes its sockets, as a deploy does; only its users are cut off.
    relay_action(&base, &competition, 2, "close");
    let mut cut: Vec<(Uuid, u64)> = Vec::new();
    let mut kept: Vec<(Uuid, Socket, u64)> = Vec::new();
    for (user, mut socket, seen) in sockets {
        if relay_of(&user) == 2 {
            match socket.read() {
                Ok(Message::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 1012, "{user}"),
                other => panic!("relay 2's socket of {user} should close with 1012, got {other:?}"),
            }
            cut.push((user, seen));
        } else {
            kept.push((user, socket, seen));
        }
    }
    assert_eq!(cut.len(), per_relay[&2]);
    // Updates while they are away, then each reconnects and resumes from the last seq it saw.
    let last = write_rounds(&base, &competition, &writers, 3, 17);
    for (user, seen) in &cut {
        let socket = reconnect_and_resume(&base, &competition, user, *seen, last, "after the close");
        kept.push((*user, socket, last));
    }
    // Everyone, reconnected or not, gets what follows.
    for (user, socket, seen) in &mut kept {
        if *seen < last {
            let seqs = updates_through(socket, last);
            assert_eq!(seqs, (*seen + 1..=last).collect::<Vec<u64>>(), "kept socket of {user}");
            *seen = last;
        }
    }
    let last = write_rounds(&base, &competition, &writers, 1, 20);
    for (user, socket, seen) in &mut kept {
        assert_eq!(updates_through(socket, last), (*seen + 1..=last).collect::<Vec<u64>>(), "last round: {user}");
    }
    assert_eq!(kept.len(), SUBSCRIBERS);

    // 4. The whole runtime restarts (kill -9 of wrangler dev and its workerd, as a crash would): every socket drops,
    // the relays come back from what they stored, and every client resumes on the new process what it missed.
    // The competition and its relays called each other by RPC: no call fell back to `fetch`.
    assert!(!worker.log().contains("refused RPC"), "{}", worker.log());
    drop(kept);
    let worker = worker.restart_after_crash_with(&[("LIVE_RELAY_MEMBERS", "100")]);
    let base = worker.base_url();
    let seen = last;
    let last = write_rounds(&base, &competition, &writers, 2, 21);
    let mut back: Vec<(Uuid, Socket)> = Vec::new();
    for user in &users {
        back.push((*user, reconnect_and_resume(&base, &competition, user, seen, last, "after the restart")));
    }
    // And the relays publish again after the restart.
    let next = write_rounds(&base, &competition, &writers, 1, 23);
    for (user, socket) in &mut back {
        assert_eq!(updates_through(socket, next), (last + 1..=next).collect::<Vec<u64>>(), "after the restart: {user}");
    }

    // 5. Joining and resuming through a relay while scores change: nothing missed (as on a competition's own sockets).
    let busy =
        e2e::create_competition_with(-86_400, 7 * 86_400, json!({"score_source": "client", "max_participants": 300}));
    for writer in &writers {
        let reply = e2e::post_as(&base, &format!("/api/v1/competitions/{busy}/join"), writer, &json!({}));
        assert_eq!(reply.status, 200, "join: {:?}", reply.json);
    }
    e2e::join_and_resume_while_writers_post(&base, &busy, &writers);

    // 6. A relay bounds one user's replays as the competition does (tests/live.rs).
    let many: Vec<Uuid> = (0..6).map(|_| Uuid::new_v4()).collect();
    let replayed =
        e2e::create_competition_with(-86_400, 7 * 86_400, json!({"score_source": "client", "max_participants": 300}));
    for writer in &many {
        let reply = e2e::post_as(&base, &format!("/api/v1/competitions/{replayed}/join"), writer, &json!({}));
        assert_eq!(reply.status, 200, "join: {:?}", reply.json);
    }
    e2e::post_rising_scores(&base, &replayed, &many, 1..181);
    e2e::check_replay_allowance(|user| open(&base, &replayed, user), &user_on(2), &user_on(2));
}

/// The relays the competition publishes to, as the operators' stats route reports them.
fn linked_relays(base: &str, competition: &Uuid) -> Vec<String> {
    let url = format!("{base}/api/v1/admin/competitions/{competition}/stats");
    let reply = send("GET", &url, &[("Authorization", &e2e::admin_auth())], None);
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    serde_json::from_value(reply.json["relays"].clone()).expect("relay names")
}

/// A user the Worker assigns to relay `index`.
fn user_on(index: u32) -> Uuid {
    std::iter::repeat_with(Uuid::new_v4).find(|user| relay_of(user) == index).expect("a user")
}

#[test]
fn a_relay_without_sockets_leaves_and_its_next_subscriber_brings_it_back() {
    let worker = WranglerDev::start_with(
        &scratch_dir("relays-leave"),
        &[("LIVE_RELAY_MEMBERS", "100"), ("RELAY_LEAVE_AFTER_MS", "300")],
    );
    let base = worker.base_url();
    let competition =
        e2e::create_competition_with(-86_400, 7 * 86_400, json!({"score_source": "client", "max_participants": 300}));
    // The writer's own sockets (`latest_seq`) land on relay 0, which keeps a subscriber throughout.
    let writers = [user_on(0)];
    let reply = e2e::post_as(&base, &format!("/api/v1/competitions/{competition}/join"), &writers[0], &json!({}));
    assert_eq!(reply.status, 200, "join: {:?}", reply.json);
    let (stays, goes) = (user_on(0), user_on(1));
    let name = |index: u32| standings::relay::relay_name(&competition, index);
    let mut staying = open(&base, &competition, &stays);
    assert_eq!(next_json(&mut staying)["type"], "snapshot");
    let mut going = open(&base, &competition, &goes);
    assert_eq!(next_json(&mut going)["type"], "snapshot");
    let mut seen = write_rounds(&base, &competition, &writers, 1, 1);
    assert_eq!(updates_through(&mut going, seen), [seen]);
    assert_eq!(updates_through(&mut staying, seen), [seen]);
    assert_eq!(linked_relays(&base, &competition), [name(0), name(1)]);

    // Relay 1's only subscriber leaves. After its quiet spell the relay answers a batch by leaving, and the
    // competition stops publishing to it; relay 0's subscriber still gets every update once, in order.
    going.close(None).expect("close");
    drop(going);
    let mut score = 2;
    let left = e2e::eventually(std::time::Duration::from_secs(20), || {
        write_rounds(&base, &competition, &writers, 1, score);
        score += 1;
        (linked_relays(&base, &competition) == [name(0)]).then_some(())
    });
    assert!(left.is_some(), "relay 1 left: {:?}", linked_relays(&base, &competition));
    let last = write_rounds(&base, &competition, &writers, 1, score);
    score += 1;
    assert_eq!(updates_through(&mut staying, last), (seen + 1..=last).collect::<Vec<u64>>());
    seen = last;

    // Its next subscriber joins it again: snapshot first, then every update.
    let mut back = open(&base, &competition, &goes);
    let snapshot = next_json(&mut back);
    assert_eq!((snapshot["type"].as_str(), snapshot["seq"].as_u64()), (Some("snapshot"), Some(seen)));
    assert_eq!(linked_relays(&base, &competition), [name(0), name(1)]);
    let last = write_rounds(&base, &competition, &writers, 3, score);
    assert_eq!(updates_through(&mut back, last), (seen + 1..=last).collect::<Vec<u64>>());
    assert_eq!(updates_through(&mut staying, last), (seen + 1..=last).collect::<Vec<u64>>());

    // The end reaches the relays' sockets too (`finished` went only to the competition's own sockets).
    let url = format!("{base}/api/v1/competitions/{competition}/cancel");
    let cancelled = send("POST", &url, &[("Authorization", &e2e::admin_auth())], None);
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.json);
    let mut finished = Value::Null;
    for socket in [&mut back, &mut staying] {
        finished = next_json(socket);
        let got = (finished["type"].as_str(), finished["seq"].as_u64(), finished["prizes"].as_array().map(Vec::len));
        assert_eq!(got, (Some("finished"), Some(last), Some(0)), "{finished}");
    }
    // After the end, a relay's new subscriber (on a relay that served nobody before, so heard no `finished`) gets
    // the snapshot, then `finished`; a resume on a relay's socket ends with it too.
    let mut newcomer = open(&base, &competition, &user_on(2));
    assert_eq!(next_json(&mut newcomer)["type"], "snapshot");
    assert_eq!(next_json(&mut newcomer), finished, "a relay's subscriber after the end");
    staying.send(Message::Text(format!(r#"{{"type":"resume","since":{last}}}"#).into())).expect("resume");
    assert_eq!(next_json(&mut staying), finished, "a resume on a relay after the end");
}

/// A relay that does not answer a batch holds up its sockets only for `OBJECT_TIMEOUT_MS`: the competition gives the
/// call up, sends the batch again, and the relay's sockets get their update. Before, the competition waited for the
/// answer however long it took, and every later frame for that relay queued behind it.
#[test]
fn a_relay_silent_past_the_call_limit_holds_up_its_sockets_only_that_long() {
    let worker = WranglerDev::start_with(
        &scratch_dir("relays-silent"),
        &[("LIVE_RELAY_MEMBERS", "100"), ("OBJECT_TIMEOUT_MS", "1000")],
    );
    let base = worker.base_url();
    let competition =
        e2e::create_competition_with(-86_400, 7 * 86_400, json!({"score_source": "client", "max_participants": 300}));
    let (viewer, writer) = (user_on(0), Uuid::new_v4());
    let reply = e2e::post_as(&base, &format!("/api/v1/competitions/{competition}/join"), &writer, &json!({}));
    assert_eq!(reply.status, 200, "join: {:?}", reply.json);
    let mut socket = open(&base, &competition, &viewer);
    assert_eq!(next_json(&mut socket)["type"], "snapshot");
    let first = write_rounds(&base, &competition, &[writer], 1, 1);
    assert_eq!(updates_through(&mut socket, first), [first], "the relay is linked");

    relay_action(&base, &competition, 0, "stall?ms=30000");
    let started = std::time::Instant::now();
    e2e::post_rising_scores(&base, &competition, &[writer], 2..3);
    // The socket's read gives up after 10 s, well before the relay's first answer (30 s).
    let update = next_json(&mut socket);
    assert_eq!((update["type"].as_str(), update["score"].as_i64()), (Some("update"), Some(20)), "{update}");
    assert!(started.elapsed() < std::time::Duration::from_secs(8), "{:?}", started.elapsed());
}
