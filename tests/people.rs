//! People on the board: every leaderboard view shows a member's current name and avatar — pages (through the page
//! cache), `me` windows, snapshots and update frames — from the first score on, and right after a change.

use e2e::{base_url, connect_live, next_json, send, send_raw, user_token, Reply};
use serde_json::{json, Value};
use uuid::Uuid;

fn as_user(method: &str, path: &str, user: &Uuid, body: Option<&Value>) -> Reply {
    send(method, &format!("{}{path}", base_url()), &[("Authorization", &format!("Bearer {}", user_token(user)))], body)
}

fn rename(user: &Uuid, name: &str) {
    let reply = as_user("PATCH", "/api/v1/me", user, Some(&json!({"display_name": name})));
    assert_eq!(reply.status, 200, "{:?}", reply.json);
}

fn post_score(competition: &Uuid, user: &Uuid, score: i64) {
    let body = json!({"competition_id": competition, "score": score});
    let reply = as_user("POST", "/api/v1/leaderboard/update", user, Some(&body));
    assert_eq!(reply.status, 200, "{:?}", reply.json);
}

/// `(display_name, avatar_url)` of `user` in `entries`.
fn shown(entries: &Value, user: &Uuid) -> Option<(String, Value)> {
    let entry = entries.as_array()?.iter().find(|e| e["user_id"] == json!(user))?;
    Some((entry["display_name"].as_str()?.to_owned(), entry["avatar_url"].clone()))
}

fn page(competition: &Uuid, reader: &Uuid) -> Value {
    let reply = as_user("GET", &format!("/api/v1/leaderboard/{competition}?limit=200"), reader, None);
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    reply.json["entries"].clone()
}

#[test]
fn names_and_avatars_show_everywhere_and_follow_every_change() {
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    rename(&ana, "Ana");
    let competition = e2e::competition_with(&[ana, ben]);
    post_score(&competition, &ana, 500);
    post_score(&competition, &ben, 300);

    // The name given before joining shows from the first score; a member who never chose one shows the default.
    let entries = page(&competition, &ben);
    assert_eq!(shown(&entries, &ana), Some(("Ana".to_owned(), Value::Null)), "{entries:?}");
    let default = format!("player-{}", &ben.to_string()[..8]);
    assert_eq!(shown(&entries, &ben).map(|(name, _)| name), Some(default));

    let (mut socket, _) = connect_live(&competition, &ben, false);
    let snapshot = next_json(&mut socket);
    assert_eq!(shown(&snapshot["entries"], &ana).map(|(name, _)| name).as_deref(), Some("Ana"), "{snapshot:?}");

    // A rename reaches the cached page, the me window and the socket at once.
    rename(&ana, "Ana Bel");
    let frame = next_json(&mut socket);
    assert_eq!(
        (&frame["type"], &frame["user_id"], &frame["display_name"]),
        (&json!("update"), &json!(ana), &json!("Ana Bel"))
    );
    assert_eq!(
        (&frame["score"], &frame["rank"], &frame["previous_rank"]),
        (&json!(500), &json!(1), &json!(1)),
        "a rename moves nobody"
    );
    let entries = page(&competition, &ben);
    assert_eq!(shown(&entries, &ana).map(|(name, _)| name).as_deref(), Some("Ana Bel"), "no stale cached page");
    let me = as_user("GET", &format!("/api/v1/leaderboard/{competition}/me?around=5"), &ben, None);
    assert_eq!(shown(&me.json["entries"], &ana).map(|(name, _)| name).as_deref(), Some("Ana Bel"), "{:?}", me.json);

    // Every later update frame carries the writer's current name.
    post_score(&competition, &ana, 900);
    let update = next_json(&mut socket);
    assert_eq!((&update["score"], &update["display_name"]), (&json!(900), &json!("Ana Bel")));

    // An avatar shows on the next read too.
    let uploaded = e2e::upload_avatar(&ana, "image/png", &e2e::png(&ana.to_string()));
    assert_eq!(uploaded.status, 200, "{:?}", uploaded.json);
    let entries = page(&competition, &ben);
    assert_eq!(shown(&entries, &ana), Some(("Ana Bel".to_owned(), uploaded.json["avatar_url"].clone())));
}

#[test]
fn a_change_that_arrives_late_does_not_replace_a_newer_one() {
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    let competition = e2e::competition_with(&[ana, ben]);
    post_score(&competition, &ana, 500);
    post_score(&competition, &ben, 300);
    rename(&ana, "First");
    rename(&ana, "Second");
    let counted: i64 =
        sql(&format!("SELECT person_version FROM public.profiles WHERE user_id = '{ana}'")).parse().expect("a count");
    assert!(counted >= 2, "each rename counts: {counted}");
    let (mut socket, _) = connect_live(&competition, &ben, false);
    assert_eq!(next_json(&mut socket)["type"], "snapshot");

    // "First" as a request answered before "Second" would announce it if it reached the object last.
    let announce = |name: &str, version: i64| {
        let path = format!("/__test/competitions/{competition}/members/{ana}?as=rename&name={name}&version={version}");
        let reply = send("POST", &format!("{}{path}", base_url()), &[("Authorization", &e2e::admin_auth())], None);
        assert_eq!(reply.status, 200, "{:?}", reply.json);
    };
    announce("First", counted - 1);
    assert_eq!(shown(&page(&competition, &ben), &ana).map(|(name, _)| name).as_deref(), Some("Second"));
    post_score(&competition, &ana, 600);
    let frame = next_json(&mut socket);
    assert_eq!((&frame["type"], &frame["display_name"]), (&json!("update"), &json!("Second")), "no frame said First");

    // A newer change than the object's is taken, frame and all.
    announce("Third", counted + 1);
    let frame = next_json(&mut socket);
    assert_eq!(
        (&frame["type"], &frame["display_name"], &frame["score"]),
        (&json!("update"), &json!("Third"), &json!(600))
    );
    assert_eq!(shown(&page(&competition, &ben), &ana).map(|(name, _)| name).as_deref(), Some("Third"));
}

/// Renames `user` round the Worker ([`e2e::rename_directly`]), which must be taken.
fn rename_directly(user: &Uuid, name: &str) {
    let reply = e2e::rename_directly(user, name);
    assert!(matches!(reply.status, 200 | 204), "{:?}", reply.json);
}

fn sql(query: &str) -> String {
    let (ok, text) = e2e::stack(&["psql", "-tA", "-c", query]);
    assert!(ok, "{query}: {text}");
    text.trim().to_owned()
}

/// Waits (at most 20 s) until another database session whose statement contains `marker` meets `condition` (SQL on
/// `pg_stat_activity`): a transaction a test started through `psql` has taken its locks.
fn until_a_session(condition: &str, marker: &str) {
    let query = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND {condition} \
         AND position('{marker}' IN query) > 0"
    );
    let found = e2e::eventually(std::time::Duration::from_secs(20), || (sql(&query) != "0").then_some(()));
    assert!(found.is_some(), "no session with {marker:?} where {condition}");
}

#[test]
fn a_deleted_account_leaves_running_boards_and_stays_on_final_standings_as_deleted_player() {
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    rename(&ana, "Ana");
    let png = e2e::png(&format!("deleted {ana}"));
    let auth = format!("Bearer {}", user_token(&ana));
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "image/png")];
    let avatar = send_raw("POST", &format!("{}/api/v1/me/avatar", base_url()), &headers, &png);
    assert_eq!(avatar.status, 200, "{:?}", avatar.json);
    let avatar_url = avatar.json["avatar_url"].as_str().expect("url").to_owned();

    let running = e2e::competition_with(&[ana, ben]);
    let ending = e2e::create_competition(-60, 3);
    e2e::join(&ending, &ana);
    e2e::join(&ending, &ben);
    for competition in [&running, &ending] {
        post_score(competition, &ana, 900);
        post_score(competition, &ben, 300);
    }
    let sync =
        json!({"source": "healthkit", "samples": [{"date": e2e::rfc3339(local::token::now())[..10], "steps": 5}]});
    assert_eq!(as_user("POST", "/api/v1/fitness/sync", &ana, Some(&sync)).status, 200);
    let prizes = |id: &Uuid| as_user("GET", &format!("/api/v1/leaderboard/{id}/prizes"), &ben, None).json;
    let final_prizes = e2e::eventually(std::time::Duration::from_secs(15), || {
        let p = prizes(&ending);
        (p["final"] == true).then_some(p)
    })
    .expect("the short competition ends");

    let (mut socket, _) = connect_live(&running, &ben, false);
    let _snapshot = next_json(&mut socket);
    let participants =
        || as_user("GET", &format!("/api/v1/competitions/{running}"), &ben, None).json["participants"].clone();
    assert_eq!(participants(), json!(2), "read, so the row is cached");
    let deleted = as_user("DELETE", "/api/v1/me", &ana, None);
    assert_eq!(deleted.status, 204, "{:?}", deleted.json);
    assert_eq!(participants(), json!(1), "the cached row was dropped with the membership");

    let removed = next_json(&mut socket);
    assert_eq!((&removed["type"], &removed["user_id"], &removed["total"]), (&json!("removed"), &json!(ana), &json!(1)));
    let entries = page(&running, &ben);
    assert_eq!(shown(&entries, &ana), None, "off the running board: {entries:?}");
    assert_eq!(entries[0]["rank"], 1, "everyone behind moves up");

    let standings = page(&ending, &ben);
    assert_eq!(shown(&standings, &ana), Some(("deleted player".to_owned(), Value::Null)), "{standings:?}");
    assert_eq!(prizes(&ending), final_prizes, "final amounts stay, under the same user id");

    for table in ["profiles", "memberships", "fitness_days", "fitness_holds", "scores"] {
        assert_eq!(sql(&format!("SELECT count(*) FROM public.{table} WHERE user_id = '{ana}'")), "0", "{table}");
    }
    assert_eq!(sql(&format!("SELECT count(*) FROM auth.users WHERE id = '{ana}'")), "0");
    assert_eq!(sql(&format!("SELECT count(*) FROM public.final_results WHERE user_id = '{ana}'")), "1");
    let image = ureq::AgentBuilder::new().build().get(&avatar_url).call();
    assert!(matches!(image, Err(ureq::Error::Status(404, _))), "the avatar image is gone: {image:?}");

    // A join the database took just before the deletion may reach an object after it: it brings nobody back, on a
    // board that still moves (an administrator's correction finds no member) or on final standings (no name).
    let admin = |method: &str, path: &str, body: Option<&Value>| {
        send(method, &format!("{}{path}", base_url()), &[("Authorization", &e2e::admin_auth())], body)
    };
    for competition in [&running, &ending] {
        let late = admin("POST", &format!("/__test/competitions/{competition}/members/{ana}"), None);
        assert_eq!(late.status, 200, "{:?}", late.json);
    }
    let correction = json!({"competition_id": running, "user_id": ana, "score": 950});
    let corrected = admin("POST", "/api/v1/leaderboard/update", Some(&correction));
    assert_eq!(corrected.status, 403, "no member to correct: {:?}", corrected.json);
    assert_eq!(shown(&page(&running, &ben), &ana), None, "still off the running board");
    assert_eq!(shown(&page(&ending, &ben), &ana), Some(("deleted player".to_owned(), Value::Null)));

    // The deleted account's token stays valid until it expires; what would bring the profile back refuses it.
    let sync = json!({"source": "healthkit", "samples": []});
    let calls = [
        ("GET", "/api/v1/me".to_owned(), None),
        ("PATCH", "/api/v1/me".to_owned(), Some(json!({"display_name": "Ana again"}))),
        ("POST", format!("/api/v1/competitions/{running}/join"), None),
        ("POST", "/api/v1/fitness/sync".to_owned(), Some(sync)),
    ];
    for (method, path, body) in calls {
        let reply = as_user(method, &path, &ana, body.as_ref());
        assert_eq!(
            (reply.status, reply.json["error"]["code"].as_str()),
            (401, Some("invalid_token")),
            "{method} {path}"
        );
    }
    let again = send_raw("POST", &format!("{}/api/v1/me/avatar", base_url()), &headers, &png);
    assert_eq!((again.status, again.json["error"]["code"].as_str()), (401, Some("invalid_token")));
    assert_eq!(sql(&format!("SELECT count(*) FROM public.profiles WHERE user_id = '{ana}'")), "0", "nothing came back");
    assert_eq!(as_user("DELETE", "/api/v1/me", &ana, None).status, 204, "deleting again changes nothing");
}

/// Final standings take no new sequence when a member is renamed or deletes their account (no frame follows
/// `finished`), and a page of them the Worker held used to be served unchanged for up to 15 s: the next read shows both.
#[test]
fn final_standings_show_a_rename_and_a_deletion_on_the_next_read() {
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    let ending = e2e::create_competition(-60, 3);
    e2e::join(&ending, &ana);
    e2e::join(&ending, &ben);
    post_score(&ending, &ana, 900);
    post_score(&ending, &ben, 300);
    let prizes = || as_user("GET", &format!("/api/v1/leaderboard/{ending}/prizes"), &ben, None).json;
    e2e::eventually(std::time::Duration::from_secs(15), || (prizes()["final"] == true).then_some(()))
        .expect("the short competition ends");
    let before = page(&ending, &ben);
    assert_eq!(page(&ending, &ben), before, "read twice, so the Worker holds the page");

    rename(&ben, "Ben Final");
    assert_eq!(as_user("DELETE", "/api/v1/me", &ana, None).status, 204);
    let entries = page(&ending, &ben);
    assert_eq!(shown(&entries, &ben).map(|(name, _)| name).as_deref(), Some("Ben Final"), "{entries:?}");
    assert_eq!(shown(&entries, &ana), Some(("deleted player".to_owned(), Value::Null)), "{entries:?}");
    assert_eq!((&entries[0]["user_id"], &entries[0]["score"]), (&json!(ana), &json!(900)), "places kept");
}

/// An account deleted in Supabase itself (its dashboard or Auth admin API: not `DELETE /api/v1/me`, so no object is
/// told) leaves the boards too. A board that still moves drops the member when the next scores are delivered to the
/// database; one that stands still drops them before its standings become final. The prizes and `final_results` pay
/// only accounts that exist.
#[test]
fn an_account_deleted_in_supabase_leaves_the_boards_and_is_never_paid() {
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    let moving = e2e::competition_with(&[ana, ben]);
    let ending = e2e::create_competition(-60, 6);
    e2e::join(&ending, &ana);
    e2e::join(&ending, &ben);
    for competition in [&moving, &ending] {
        post_score(competition, &ana, 900);
        post_score(competition, &ben, 300);
    }
    let (mut socket, _) = connect_live(&moving, &ben, false);
    let _snapshot = next_json(&mut socket);

    assert_eq!(sql(&format!("DELETE FROM auth.users WHERE id = '{ana}' RETURNING 1")), "1");
    post_score(&moving, &ben, 400);
    let removed = loop {
        let frame = next_json(&mut socket);
        if frame["type"] == "removed" {
            break frame;
        }
        assert!(frame["type"] == "update" || frame["type"] == "updates", "{frame:?}");
    };
    assert_eq!((&removed["user_id"], &removed["total"]), (&json!(ana), &json!(1)));
    let entries = page(&moving, &ben);
    assert_eq!(shown(&entries, &ana), None, "off the moving board: {entries:?}");
    assert_eq!((&entries[0]["user_id"], &entries[0]["rank"]), (&json!(ben), &json!(1)));
    let again =
        as_user("POST", "/api/v1/leaderboard/update", &ana, Some(&json!({"competition_id": moving, "score": 999})));
    assert!(matches!(again.status, 401 | 403), "the deleted account's token posts nothing: {:?}", again.json);
    assert_eq!(shown(&page(&moving, &ben), &ana), None);

    let prizes = e2e::eventually(std::time::Duration::from_secs(20), || {
        let p = as_user("GET", &format!("/api/v1/leaderboard/{ending}/prizes"), &ben, None).json;
        (p["final"] == true).then_some(p)
    })
    .expect("the short competition ends");
    assert_eq!(prizes["prizes"], json!([{"rank": 1, "user_id": ben, "amount": 600}]), "{prizes:?}");
    let standings = page(&ending, &ben);
    assert_eq!(shown(&standings, &ana), None, "{standings:?}");
    let recorded = || {
        sql(&format!(
            "SELECT string_agg(user_id::text, ',') FROM public.final_results WHERE competition_id = '{ending}'"
        ))
    };
    let recorded = e2e::eventually(std::time::Duration::from_secs(10), || Some(recorded()).filter(|r| !r.is_empty()))
        .expect("final results recorded");
    assert_eq!(recorded, ben.to_string());
}

/// A sync that reaches the database while the account's deletion is under way is refused as the deleted account's
/// (401), not answered 503: the profile it read a moment before was gone when it updated it, and the database's
/// null reply counted against the breaker too.
#[test]
fn a_sync_racing_the_accounts_deletion_is_refused_as_a_deleted_account() {
    let ana = Uuid::new_v4();
    assert_eq!(as_user("GET", "/api/v1/me", &ana, None).status, 200);
    // The deletion takes the profile's lock and holds it, uncommitted, for two seconds.
    let query = format!("BEGIN; SELECT public.delete_account('{ana}'); SELECT pg_sleep(2); COMMIT;");
    let mut deletion = std::process::Command::new(e2e::repo_root().join("scripts/stack"))
        .args(["psql", "-tA", "-c", &query])
        .env("STACK_DIR", e2e::setting("E2E_STACK_DIR"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("psql");
    // Sleeping: the deletion before the sleep holds the profile's lock.
    until_a_session("wait_event = 'PgSleep'", "delete_account");
    let body = json!({"source": "healthkit", "samples": [{"date": "2026-11-24", "steps": 10}]});
    let sync = as_user("POST", "/api/v1/fitness/sync", &ana, Some(&body));
    assert!(deletion.wait().expect("psql ends").success());
    assert_eq!((sync.status, sync.json["error"]["code"].as_str()), (401, Some("invalid_token")), "{:?}", sync.json);
    assert_eq!(sql(&format!("SELECT count(*) FROM public.fitness_days WHERE user_id = '{ana}'")), "0");
}

/// An account deleted in Supabase after the standings became final leaves its rank and amount there under
/// `deleted player`, as `DELETE /api/v1/me` after the end does. Final boards used not to read the member-change log,
/// so the deleted user's own name stayed on them for good.
#[test]
fn an_account_deleted_in_supabase_after_the_end_shows_as_deleted_player() {
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    let ending = e2e::create_competition(-60, 4);
    e2e::join(&ending, &ana);
    e2e::join(&ending, &ben);
    rename(&ana, "Ana Gone");
    post_score(&ending, &ana, 900);
    post_score(&ending, &ben, 300);
    let prizes_of = || as_user("GET", &format!("/api/v1/leaderboard/{ending}/prizes"), &ben, None).json;
    let prizes = e2e::eventually(std::time::Duration::from_secs(20), || {
        let p = prizes_of();
        (p["final"] == true).then_some(p)
    })
    .expect("the short competition ends");
    assert_eq!(shown(&page(&ending, &ben), &ana).map(|(name, _)| name).as_deref(), Some("Ana Gone"));

    assert_eq!(sql(&format!("DELETE FROM auth.users WHERE id = '{ana}' RETURNING 1")), "1");
    let gone = e2e::eventually(std::time::Duration::from_secs(20), || {
        let entries = page(&ending, &ben);
        (shown(&entries, &ana).map(|(name, _)| name).as_deref() == Some("deleted player")).then_some(entries)
    });
    let entries = gone.unwrap_or_else(|| panic!("the final board names a deleted account: {:?}", page(&ending, &ben)));
    assert_eq!(shown(&entries, &ana), Some(("deleted player".to_owned(), Value::Null)));
    assert_eq!(
        (&entries[0]["user_id"], &entries[0]["rank"], &entries[0]["score"]),
        (&json!(ana), &json!(1), &json!(900))
    );
    assert_eq!(prizes_of(), prizes, "rank and amount kept");
}

/// A rename written straight through the database API (a user's one direct write there) reaches the boards too: the
/// object reads its members' changes when its board is read (at most every few seconds), so the next reads show the
/// new name and subscribers get an update frame with it.
#[test]
fn a_rename_through_the_database_api_shows_on_the_boards() {
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    let competition = e2e::competition_with(&[ana, ben]);
    post_score(&competition, &ana, 700);
    post_score(&competition, &ben, 200);
    let (mut socket, _) = connect_live(&competition, &ben, false);
    let _snapshot = next_json(&mut socket);

    rename_directly(&ana, "Ana Direct");

    let shown_now = e2e::eventually(std::time::Duration::from_secs(20), || {
        let name = shown(&page(&competition, &ben), &ana).map(|(name, _)| name);
        (name.as_deref() == Some("Ana Direct")).then_some(())
    });
    assert!(shown_now.is_some(), "the board shows the new name: {:?}", page(&competition, &ben));
    let frame = next_json(&mut socket);
    assert_eq!(
        (&frame["type"], &frame["user_id"], &frame["display_name"]),
        (&json!("update"), &json!(ana), &json!("Ana Direct"))
    );
    let me = as_user("GET", &format!("/api/v1/leaderboard/{competition}/me"), &ben, None);
    assert_eq!(shown(&me.json["entries"], &ana).map(|(name, _)| name).as_deref(), Some("Ana Direct"), "{:?}", me.json);

    // A rename through the Worker reaches the object twice (its announcement, then the change log once a read asks
    // for it): one frame, not two.
    rename(&ana, "Ana Again");
    let frame = next_json(&mut socket);
    assert_eq!((&frame["type"], &frame["display_name"]), (&json!("update"), &json!("Ana Again")));
    let until = std::time::Instant::now() + std::time::Duration::from_secs(7);
    while std::time::Instant::now() < until {
        assert_eq!(shown(&page(&competition, &ben), &ana).map(|(name, _)| name).as_deref(), Some("Ana Again"));
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    post_score(&competition, &ana, 800);
    let frame = next_json(&mut socket);
    assert_eq!(
        (&frame["type"], &frame["display_name"], &frame["score"]),
        (&json!("update"), &json!("Ana Again"), &json!(800)),
        "the log's copy of the rename sent no frame"
    );
}

/// A change whose transaction commits after a later-numbered change was read still reaches the boards. Numbers are
/// taken when a change is written, not when it commits: the objects used to read after the last number they had
/// applied, so a rename (or an account deletion, with its cascades) still uncommitted while a later change was read
/// was passed over for good — and the next read deleted it.
#[test]
fn a_change_that_commits_after_a_later_numbered_one_still_reaches_the_boards() {
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    let competition = e2e::competition_with(&[ana, ben]);
    post_score(&competition, &ana, 700);
    post_score(&competition, &ben, 200);
    // An operator's session renames Ana and keeps its transaction open: its change has a number, unseen by others.
    let rename = OpenTransaction::begin(
        &format!("UPDATE public.profiles SET display_name = 'Ana Late' WHERE user_id = '{ana}'"),
        "Ana Late",
    );
    // Ben's rename commits with a later number, and the object reads the log (after a delivery, and after a read
    // once its last check is older than a few seconds) while Ana's is still open.
    rename_directly(&ben, "Ben Direct");
    let read = e2e::eventually(std::time::Duration::from_secs(20), || {
        post_score(&competition, &ben, 210);
        std::thread::sleep(std::time::Duration::from_millis(500));
        let name = shown(&page(&competition, &ana), &ben).map(|(name, _)| name);
        (name.as_deref() == Some("Ben Direct")).then_some(())
    });
    assert!(read.is_some(), "the object read Ben's change: {:?}", page(&competition, &ana));
    rename.commit();

    let shown_late = e2e::eventually(std::time::Duration::from_secs(20), || {
        post_score(&competition, &ben, 220);
        std::thread::sleep(std::time::Duration::from_millis(500));
        let name = shown(&page(&competition, &ben), &ana).map(|(name, _)| name);
        (name.as_deref() == Some("Ana Late")).then_some(())
    });
    assert!(shown_late.is_some(), "the late change was passed over: {:?}", page(&competition, &ben));
}

/// An operator's `psql` session with a transaction left open, whose locks (and uncommitted writes) other requests meet.
struct OpenTransaction {
    session: std::process::Child,
    input: std::process::ChildStdin,
}

impl OpenTransaction {
    /// Runs `statement` in a transaction it keeps open; returned once the database shows the session idle in it
    /// (`marker`: text of the statement).
    fn begin(statement: &str, marker: &str) -> OpenTransaction {
        use std::io::Write;
        let mut session = std::process::Command::new(e2e::repo_root().join("scripts/stack"))
            .args(["psql", "-tA", "-v", "ON_ERROR_STOP=1"])
            .env("STACK_DIR", e2e::setting("E2E_STACK_DIR"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("psql");
        let mut input = session.stdin.take().expect("psql's input");
        writeln!(input, "BEGIN; {statement};").expect("begin");
        input.flush().expect("send it");
        until_a_session("state = 'idle in transaction'", marker);
        OpenTransaction { session, input }
    }

    /// One that has locked `competition`'s row (`SELECT … FOR UPDATE`).
    fn holding_competition_row(competition: &Uuid) -> OpenTransaction {
        let lock = format!("SELECT 1 FROM public.competitions WHERE id = '{competition}' FOR UPDATE");
        OpenTransaction::begin(&lock, &competition.to_string())
    }

    /// Commits (what waited on it goes on) and ends the session.
    fn commit(self) {
        use std::io::Write;
        let OpenTransaction { mut session, mut input } = self;
        writeln!(input, "COMMIT;").expect("commit");
        input.flush().expect("send it");
        drop(input);
        assert!(session.wait().expect("psql ends").success());
    }
}

/// A join whose transaction is open when the account's deletion starts: the deletion waits for it (the join holds the
/// profile's row), so the membership the join commits goes with the account, and the board the join then writes the
/// member to must let them go as well. The deletion used to list the competitions it tells before taking that lock:
/// it missed the one being joined, whose board kept the deleted account (name, score and place) until its next read
/// of the member-change log, if any came before the end.
#[test]
fn a_join_in_flight_when_the_account_is_deleted_leaves_no_one_on_that_board() {
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    // Started, so the join raises Ana's days version (her profile's row) before it takes the competition's row.
    let competition = e2e::create_competition_with(-2 * 86_400, 2 * 86_400, json!({"clock": "UTC"}));
    e2e::join(&competition, &ben);
    let yesterday = e2e::rfc3339(local::token::now() - 86_400)[..10].to_owned();
    let body = json!({"source": "healthkit", "samples": [{"date": yesterday, "steps": 4_000}]});
    assert_eq!(as_user("POST", "/api/v1/fitness/sync", &ana, Some(&body)).status, 200);
    assert_eq!(as_user("POST", "/api/v1/fitness/sync", &ben, Some(&body)).status, 200);
    let held = OpenTransaction::holding_competition_row(&competition);
    std::thread::scope(|scope| {
        // Ana's join has her profile's row and waits for the competition's; her deletion waits for the join.
        let join = scope.spawn(|| as_user("POST", &format!("/api/v1/competitions/{competition}/join"), &ana, None));
        until_a_session("wait_event_type = 'Lock'", "join_and_introduce");
        let deletion = scope.spawn(|| as_user("DELETE", "/api/v1/me", &ana, None));
        until_a_session("wait_event_type = 'Lock'", "delete_account");
        held.commit();
        let joined = join.join().expect("the join");
        assert!(joined.status < 500, "{} {:?}", joined.status, joined.json);
        assert_eq!(deletion.join().expect("the deletion").status, 204);
    });
    assert_eq!(sql(&format!("SELECT count(*) FROM public.memberships WHERE user_id = '{ana}'")), "0");
    let entries = page(&competition, &ben);
    assert_eq!(shown(&entries, &ana), None, "a deleted account on the board: {entries:?}");
    let standing = as_user("GET", &format!("/api/v1/leaderboard/{competition}/users/{ana}"), &ben, None);
    assert_eq!(standing.status, 404, "{:?}", standing.json);
}

/// A rename while a join of the same member waits for the competition's row: the board shows the new name. Neither
/// the rename nor the member-change log can name a competition whose membership has not committed, so the join must
/// read the name it introduces after its wait (it does: in its last statement).
#[test]
fn a_rename_while_a_join_is_in_flight_shows_on_that_board() {
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    let competition = e2e::competition_with(&[ben]);
    post_score(&competition, &ben, 100);
    rename(&ana, "Ana Before");
    let held = OpenTransaction::holding_competition_row(&competition);
    std::thread::scope(|scope| {
        // Ana's join has read her profile and waits for the competition's row; she renames herself meanwhile.
        let join = scope.spawn(|| as_user("POST", &format!("/api/v1/competitions/{competition}/join"), &ana, None));
        until_a_session("wait_event_type = 'Lock'", "join_and_introduce");
        let renamed = scope.spawn(|| as_user("PATCH", "/api/v1/me", &ana, Some(&json!({"display_name": "Ana After"}))));
        // The rename either ends (nothing orders it after the join) or waits for the join's hold on the profile.
        let waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                       AND position('profiles' IN query) > 0 AND position('join_and_introduce' IN query) = 0";
        let settled = e2e::eventually(std::time::Duration::from_secs(20), || {
            (renamed.is_finished() || sql(waiting) != "0").then_some(())
        });
        assert!(settled.is_some(), "the rename neither ended nor waited");
        held.commit();
        assert_eq!(join.join().expect("the join").status, 200);
        assert_eq!(renamed.join().expect("the rename").status, 200);
    });
    post_score(&competition, &ana, 300);
    let entries = page(&competition, &ben);
    assert_eq!(shown(&entries, &ana).map(|(name, _)| name).as_deref(), Some("Ana After"), "{entries:?}");
}

/// A rename that commits while a join of the same member is finishing: the join must introduce the new name. The
/// rename's change log names only the competitions its member was in when it ran, and the Worker's rename tells only
/// the boards of memberships committed by then; a join that read the old name without waiting for the uncommitted
/// rename put it on its board, where it stayed until the member's next change.
#[test]
fn a_join_finishing_while_a_rename_commits_introduces_the_new_name() {
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    let competition = e2e::competition_with(&[ben]);
    post_score(&competition, &ben, 100);
    rename(&ana, "Ana Before");
    // An operator's session renames Ana and keeps its transaction open.
    let rename = OpenTransaction::begin(
        &format!("UPDATE public.profiles SET display_name = 'Ana After' WHERE user_id = '{ana}'"),
        "Ana After",
    );
    std::thread::scope(|scope| {
        let join = scope.spawn(|| as_user("POST", &format!("/api/v1/competitions/{competition}/join"), &ana, None));
        // The join either ends (it did not wait for the rename) or waits for it.
        let waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                       AND position('join_and_introduce' IN query) > 0";
        let settled = e2e::eventually(std::time::Duration::from_secs(20), || {
            (join.is_finished() || sql(waiting) != "0").then_some(())
        });
        assert!(settled.is_some(), "the join neither ended nor waited");
        rename.commit();
        assert_eq!(join.join().expect("the join").status, 200);
    });
    post_score(&competition, &ana, 300);
    let entries = page(&competition, &ben);
    assert_eq!(shown(&entries, &ana).map(|(name, _)| name).as_deref(), Some("Ana After"), "{entries:?}");
}

/// A join again (the app retrying, or a second device) brings the member's current name to an object that shows the
/// old one: the board must show it on the next read. The object stored it without moving the board's sequence, so
/// cached pages (checked against that sequence) kept the old name, and the rename's own announcement then found
/// nothing new to tell: the old name stayed until the board next changed.
#[test]
fn a_name_brought_by_a_repeated_join_shows_on_the_next_read() {
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    let competition = e2e::competition_with(&[ana, ben]);
    post_score(&competition, &ana, 500);
    post_score(&competition, &ben, 300);
    // Once the scores are delivered (the object has read the change log after it), the page is held.
    let delivered = format!("SELECT count(*) FROM public.scores WHERE competition_id = '{competition}'");
    e2e::eventually(std::time::Duration::from_secs(15), || (sql(&delivered) == "2").then_some(()))
        .expect("the scores reach Postgres");
    let default = format!("player-{}", &ana.to_string()[..8]);
    assert_eq!(shown(&page(&competition, &ben), &ana).map(|(name, _)| name), Some(default));
    // Renamed by an operator round the Worker (no board is told but through the change log), then joined again.
    sql(&format!("UPDATE public.profiles SET display_name = 'Ana Again' WHERE user_id = '{ana}'"));
    let again = as_user("POST", &format!("/api/v1/competitions/{competition}/join"), &ana, None);
    assert_eq!(again.status, 200, "{:?}", again.json);
    let entries = page(&competition, &ben);
    assert_eq!(shown(&entries, &ana).map(|(name, _)| name).as_deref(), Some("Ana Again"), "{entries:?}");
}
