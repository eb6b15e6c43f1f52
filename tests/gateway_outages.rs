//! Dependency outages (its own test binary: it stops parts of the shared stack, and cargo runs test binaries one
//! after another; the tests here take turns through `OUTAGE`).
//! - Redis down: the Upstash gateway answers 503 and recovers when Redis is back; serving goes on with the local
//!   rate-limit fallback; health reports `degraded` (from the isolate's own check) and not ready.
//! - Database API down: score updates keep working from the Competition DO, and after recovery its outbox catches up
//!   with nothing lost or duplicated; the PostgREST breaker opens, goes half-open after its cool-down (2 s in the test
//!   settings) and closes on a successful probe; health reports it. A database API that hangs opens it after one
//!   time budget and a few seconds, not five budgets.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use e2e::{active_competition, base_url, eventually, join, post_as, send, stack, stored_scores, worker_var};
use serde_json::json;
use uuid::Uuid;

static OUTAGE: Mutex<()> = Mutex::new(());

/// Restarts whatever part of the stack a test stopped, even when the test fails half-way.
struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        let (ok, text) = stack(&["start"]);
        if !ok {
            eprintln!("restarting the stack failed: {text}");
        }
    }
}

#[test]
fn outbox_catches_up_after_a_database_outage_with_nothing_lost_or_duplicated() {
    let _turn = OUTAGE.lock().unwrap_or_else(|e| e.into_inner());
    let competition = active_competition();
    let users: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
    for user in &users {
        join(&competition, user);
    }
    let post = |user: &Uuid, score: i64| {
        let body = json!({"competition_id": competition, "score": score});
        post_as(&base_url(), "/api/v1/leaderboard/update", user, &body)
    };
    assert_eq!(post(&users[0], 5).status, 200);

    let restart = Restart;
    let (ok, text) = stack(&["stop", "postgrest"]);
    assert!(ok, "{text}");
    // While the database API is down, scores are still accepted, ranked and acknowledged by the object.
    for (i, user) in users.iter().enumerate() {
        for step in 1..=3 {
            let reply = post(user, (i as i64 + 1) * 100 + step);
            assert_eq!(reply.status, 200, "update during the outage: {:?}", reply.json);
        }
    }
    // An administrator's correction stands too, though the audit trail cannot record it now (the Worker logs that).
    let admin = format!("Bearer {}", e2e::token_with_role(&Uuid::new_v4(), "service_role"));
    let correction = json!({"competition_id": competition, "user_id": users[0], "score": 50});
    let corrected = send(
        "POST",
        &format!("{}/api/v1/leaderboard/update", base_url()),
        &[("Authorization", &admin)],
        Some(&correction),
    );
    assert_eq!((corrected.status, &corrected.json["score"]), (200, &json!(50)), "{:?}", corrected.json);
    let unrecorded = format!("correction of {} in {competition} to 50 (seq 14) applied but not recorded", users[0]);
    let logged = eventually(Duration::from_secs(10), || {
        std::fs::read_to_string(e2e::setting("E2E_WORKER_LOG")).ok().filter(|log| log.contains(&unrecorded))
    });
    assert!(logged.is_some(), "the shared Worker's log names the unrecorded correction: {unrecorded}");
    let stats_url = format!("{}/__test/competitions/{competition}/stats", base_url());
    let failing = eventually(Duration::from_secs(15), || {
        Some(send("GET", &stats_url, &[("Authorization", &e2e::admin_auth())], None).json)
            .filter(|s| s["outbox_failures"].as_u64().unwrap_or(0) >= 1)
    });
    assert!(failing.is_some(), "the alarm tried and failed while the database API was down");
    drop(restart);

    // 1 + 4×3 accepted changes and the correction; the last of each user is the one Postgres must end with, at the
    // object's seq.
    let mut expected: Vec<(String, i64, i64)> = users
        .iter()
        .enumerate()
        .map(|(i, user)| (user.to_string(), (i as i64 + 1) * 100 + 3, 1 + (i as i64) * 3 + 3))
        .collect();
    expected[0] = (users[0].to_string(), 50, 14);
    expected.sort();
    let caught_up =
        eventually(Duration::from_secs(60), || Some(stored_scores(&competition)).filter(|rows| *rows == expected));
    assert_eq!(caught_up, Some(expected), "Postgres holds every user's last accepted score once, with its seq");
    let drained = eventually(Duration::from_secs(10), || {
        Some(send("GET", &stats_url, &[("Authorization", &e2e::admin_auth())], None).json)
            .filter(|s| s["outbox_pending"] == 0)
    });
    assert!(drained.is_some(), "the outbox is empty after the catch-up");
}

/// The state of the Worker isolate's breaker of `dependency` (`postgrest`, `storage`, …).
fn breaker(dependency: &str) -> String {
    let reply = send("GET", &format!("{}/__test/breakers", base_url()), &[("Authorization", &e2e::admin_auth())], None);
    reply.json[dependency].as_str().unwrap_or_default().to_owned()
}

/// Starts `call` four times a second, each in its own thread, as an app's users' requests arrive, until the breaker
/// of `dependency` is open or `limit` has passed: how long it took to open, and the calls started.
fn arrivals_until_open(
    dependency: &str,
    limit: Duration,
    call: fn() -> e2e::Reply,
) -> (Option<Duration>, Vec<std::thread::JoinHandle<e2e::Reply>>) {
    let started = Instant::now();
    let mut calls = Vec::new();
    loop {
        if breaker(dependency) == "open" {
            return (Some(started.elapsed()), calls);
        }
        if started.elapsed() > limit {
            return (None, calls);
        }
        calls.push(std::thread::spawn(call));
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn the_postgrest_breaker_opens_half_opens_and_closes_with_the_dependency() {
    let _turn = OUTAGE.lock().unwrap_or_else(|e| e.into_inner());
    let user = Uuid::new_v4();
    let list = || e2e::get_as(&base_url(), "/api/v1/competitions", &user);
    // Settle: a success closes the breaker whatever earlier tests left.
    let settled = eventually(Duration::from_secs(10), || Some(list().status).filter(|s| *s == 200));
    assert_eq!(settled, Some(200));
    assert_eq!(breaker("postgrest"), "closed");

    let restart = Restart;
    let (ok, text) = stack(&["stop", "postgrest"]);
    assert!(ok, "{text}");
    for attempt in 0..5 {
        let reply = list();
        assert_eq!(
            (reply.status, reply.json["error"]["code"].as_str()),
            (503, Some("dependency_unavailable")),
            "{attempt}"
        );
    }
    assert_eq!(breaker("postgrest"), "open", "five consecutive failures open it");
    let started = Instant::now();
    let fast = list();
    assert_eq!((fast.status, fast.header("retry-after")), (503, Some("5")), "an open breaker fails fast");
    assert!(started.elapsed() < Duration::from_millis(500), "{:?}", started.elapsed());
    // Health checks are cached for 5 s: wait for a fresh one.
    let detailed = eventually(Duration::from_secs(8), || {
        Some(send("GET", &format!("{}/health/detailed", base_url()), &[], None)).filter(|r| r.status == 503)
    })
    .expect("health/detailed turns unhealthy");
    assert_eq!(detailed.json["status"], "unhealthy");
    assert_eq!(detailed.json["components"]["postgrest"]["status"], "down");
    let ready = send("GET", &format!("{}/health/ready", base_url()), &[], None);
    assert_eq!((ready.status, ready.json["failing"].clone()), (503, json!(["postgrest"])));

    let half_open = eventually(Duration::from_secs(5), || Some(breaker("postgrest")).filter(|s| s == "half_open"));
    assert_eq!(half_open.as_deref(), Some("half_open"), "after the cool-down one probe may pass");
    let probe = list();
    assert_eq!(probe.status, 503, "the probe fails while the gateway is down");
    assert_eq!(breaker("postgrest"), "open", "a failed probe re-opens it");

    drop(restart);
    let recovered = eventually(Duration::from_secs(10), || Some(list().status).filter(|s| *s == 200));
    assert_eq!(recovered, Some(200), "after the cool-down a successful probe closes it");
    assert_eq!(breaker("postgrest"), "closed");
}

/// Lifts the delay knob's rule on every database call, even when the test fails half-way.
struct Unhold;

impl Drop for Unhold {
    fn drop(&mut self) {
        e2e::database_hold(&["/rest/v1/"], 0, None);
    }
}

#[test]
fn a_hung_database_api_opens_its_breaker_after_one_budget_not_five() {
    let _turn = OUTAGE.lock().unwrap_or_else(|e| e.into_inner());
    let user = Uuid::new_v4();
    let list = |user: &Uuid| e2e::get_as(&base_url(), "/api/v1/competitions", user);
    let settled = eventually(Duration::from_secs(10), || Some(list(&user).status).filter(|s| *s == 200));
    assert_eq!(settled, Some(200));
    assert_eq!(breaker("postgrest"), "closed");
    let budget = Duration::from_millis(worker_var("POSTGREST_TIMEOUT_MS").parse().expect("POSTGREST_TIMEOUT_MS"));

    // Every database call now waits longer than its budget before it runs: the database API accepts and never
    // answers in time. Requests arrive one after another, as an app's users' do, four a second.
    let unhold = Unhold;
    e2e::database_hold(&["/rest/v1/"], budget.as_millis() as u64 + 1_000, None);
    let (opened, calls) = arrivals_until_open("postgrest", budget * 6, || {
        e2e::get_as(&base_url(), "/api/v1/competitions", &Uuid::new_v4())
    });
    // Before, only a call begun after the last failure was reported counted: five budgets passed (25 s) with every
    // request waiting a whole budget. Calls begun a second apart now count apart: one budget and four seconds.
    let opened = opened.expect("the breaker opens while the database API hangs");
    assert!(opened < budget + Duration::from_secs(7), "opened after {opened:?}");
    let fast = Instant::now();
    let refused = list(&user);
    assert_eq!(refused.status, 503, "{:?}", refused.json);
    assert!(fast.elapsed() < Duration::from_millis(500), "an open breaker answers at once: {:?}", fast.elapsed());
    for call in calls {
        let reply = call.join().expect("caller thread");
        assert_eq!((reply.status, reply.json["error"]["code"].as_str()), (503, Some("dependency_unavailable")));
    }

    drop(unhold);
    let recovered = eventually(Duration::from_secs(15), || Some(list(&user).status).filter(|s| *s == 200));
    assert_eq!(recovered, Some(200), "after the cool-down a successful probe closes it");
    assert_eq!(breaker("postgrest"), "closed");
}

/// Lets the avatar bucket answer again, even when the test fails half-way.
struct StorageBack;

impl Drop for StorageBack {
    fn drop(&mut self) {
        set_storage_hang(0);
    }
}

/// Makes every call of the Worker's isolate to the avatar bucket wait `ms` before it starts (the test build's knob).
fn set_storage_hang(ms: u64) {
    set_storage_hang_of(ms, false);
}

/// [`set_storage_hang`] for every call, or (`writes_only`) for puts and removals only: reads still answer.
fn set_storage_hang_of(ms: u64, writes_only: bool) {
    let url = format!("{}/__test/storage?hang_ms={ms}&writes_only={}", base_url(), u8::from(writes_only));
    let reply = send("POST", &url, &[("Authorization", &e2e::admin_auth())], None);
    assert_eq!(reply.status, 200, "{:?}", reply.json);
}

#[test]
fn a_hung_avatar_bucket_answers_503_within_its_budget_and_opens_its_breaker() {
    let _turn = OUTAGE.lock().unwrap_or_else(|e| e.into_inner());
    let budget = Duration::from_millis(worker_var("STORAGE_TIMEOUT_MS").parse().expect("STORAGE_TIMEOUT_MS"));
    let owner = Uuid::new_v4();
    fn upload(user: &Uuid, salt: u8) -> e2e::Reply {
        let mut image = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        image.extend_from_slice(user.as_bytes());
        image.push(salt);
        e2e::upload_avatar(user, "image/png", &image)
    }
    let stored = eventually(Duration::from_secs(10), || Some(upload(&owner, 0)).filter(|r| r.status == 200))
        .expect("an upload while the bucket answers");
    let url = stored.json["avatar_url"].as_str().expect("avatar_url");
    let avatar = format!("{}/api/v1/avatars/{}", base_url(), e2e::avatar_key(url));
    assert_eq!(breaker("storage"), "closed");

    let back = StorageBack;
    set_storage_hang(600_000);
    // One upload alone: answered 503 once its budget is spent, not held until the client gives up.
    let user = Uuid::new_v4();
    assert_eq!(e2e::get_as(&base_url(), "/api/v1/me", &user).status, 200);
    let started = Instant::now();
    let hung = upload(&user, 1);
    assert_eq!((hung.status, hung.json["error"]["code"].as_str()), (503, Some("dependency_unavailable")));
    assert!(started.elapsed() < budget + Duration::from_secs(2), "{:?}", started.elapsed());
    // Uploads of different users (each its own rate-limit bucket) arriving four a second open the breaker: calls
    // begun a second apart count apart, so the fifth failure comes four seconds after the first of them.
    let (opened, calls) = arrivals_until_open("storage", budget * 3, || upload(&Uuid::new_v4(), 2));
    let opened = opened.expect("the storage breaker opens while the bucket hangs");
    assert!(opened < budget + Duration::from_secs(6), "opened after {opened:?}");
    // … after which uploads and avatar reads are refused at once.
    let fast = Instant::now();
    let refused = upload(&user, 3);
    assert_eq!(refused.status, 503, "{:?}", refused.json);
    let read = send("GET", &avatar, &[], None);
    assert_eq!((read.status, read.header("retry-after")), (503, Some("5")), "{:?}", read.json);
    assert!(fast.elapsed() < Duration::from_millis(1_000), "an open breaker answers at once: {:?}", fast.elapsed());
    for call in calls {
        assert_eq!(call.join().expect("uploader").status, 503);
    }

    drop(back);
    let recovered =
        eventually(Duration::from_secs(15), || Some(send("GET", &avatar, &[], None)).filter(|r| r.status == 200));
    assert!(recovered.is_some(), "after the cool-down a successful probe closes it");
    assert_eq!(breaker("storage"), "closed");
    assert_eq!(upload(&user, 4).status, 200);
}

/// Images the bucket's failures leave behind with no profile to show them leave with the cron trigger's next run once
/// the bucket answers: an account deleted while removals hang is deleted all the same (204 once the removal's budget
/// is spent) and its image outlives it; an upload whose put timed out answers 503, and the bucket may still write its
/// image, which the upload queued.
#[test]
fn images_the_buckets_failures_leave_behind_leave_on_the_cron_trigger() {
    let _turn = OUTAGE.lock().unwrap_or_else(|e| e.into_inner());
    let budget = Duration::from_millis(worker_var("STORAGE_TIMEOUT_MS").parse().expect("STORAGE_TIMEOUT_MS"));
    let upload = |user: &Uuid| {
        let mut image = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        image.extend_from_slice(user.as_bytes());
        e2e::upload_avatar(user, "image/png", &image)
    };
    // The images a user's uploads queued: a key begins with its owner's prefix (SHA-256 of the id, 12 bytes).
    let queued_of = |user: &Uuid| {
        use sha2::Digest;
        let prefix: String = sha2::Sha256::digest(user.as_bytes())[..12].iter().map(|b| format!("{b:02x}")).collect();
        e2e::sql(&format!("SELECT avatar_url FROM public.avatar_removals WHERE avatar_url LIKE '%/{prefix}%'"))
    };
    let (leaver, uploader) = (Uuid::new_v4(), Uuid::new_v4());
    let stored = upload(&leaver);
    assert_eq!(stored.status, 200, "{:?}", stored.json);
    let leavers = stored.json["avatar_url"].as_str().expect("avatar_url").to_owned();
    assert_eq!(e2e::get_as(&base_url(), "/api/v1/me", &uploader).status, 200);

    let back = StorageBack;
    set_storage_hang_of(600_000, true);
    let started = Instant::now();
    let auth = format!("Bearer {}", e2e::user_token(&leaver));
    let deleted = send("DELETE", &format!("{}/api/v1/me", base_url()), &[("Authorization", &auth)], None);
    assert_eq!(deleted.status, 204, "{:?}", deleted.json);
    assert!(started.elapsed() < budget + Duration::from_secs(2), "{:?}", started.elapsed());
    let timed_out = upload(&uploader);
    assert_eq!(timed_out.status, 503, "{:?}", timed_out.json);
    assert_eq!(queued_of(&leaver), leavers, "the account's image waits for the cron trigger");
    let uploaders = queued_of(&uploader);
    assert!(uploaders.contains("/api/v1/avatars/"), "so does the timed-out upload's: {uploaders:?}");
    drop(back);
    assert_eq!(send("GET", &leavers, &[], None).status, 200, "the image outlived its account");
    e2e::run_cron();
    assert_eq!(send("GET", &leavers, &[], None).status, 404, "the cron trigger removed it");
    assert_eq!((queued_of(&leaver), queued_of(&uploader)), (String::new(), String::new()));
}

#[test]
fn a_failed_profile_update_leaves_no_orphan_avatar() {
    let _turn = OUTAGE.lock().unwrap_or_else(|e| e.into_inner());
    let user = Uuid::new_v4();
    // The profile exists (and this isolate knows it), so the upload reaches storage before the database fails.
    assert_eq!(e2e::get_as(&base_url(), "/api/v1/me", &user).status, 200);
    let mut image = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    image.extend_from_slice(user.as_bytes());
    let upload = || e2e::upload_avatar(&user, "image/png", &image);

    let restart = Restart;
    let (ok, text) = stack(&["stop", "postgrest"]);
    assert!(ok, "{text}");
    let reply = upload();
    assert_eq!((reply.status, reply.json["error"]["code"].as_str()), (503, Some("dependency_unavailable")));
    assert_eq!(
        e2e::avatar_keys(&user),
        Vec::<String>::new(),
        "the object written before the failed update was removed"
    );
    drop(restart);

    // The same upload once the database is back is stored and shown (so the bucket was asked about this user).
    let again = eventually(Duration::from_secs(10), || Some(upload()).filter(|r| r.status == 200)).expect("upload");
    let url = again.json["avatar_url"].as_str().expect("avatar_url");
    assert_eq!(e2e::avatar_keys(&user), vec![e2e::avatar_key(url)]);
}

#[test]
fn a_crashed_gateway_is_reported_by_stack_status_and_restarted_by_start() {
    let _turn = OUTAGE.lock().unwrap_or_else(|e| e.into_inner());
    let pid_file = std::path::Path::new(&e2e::setting("E2E_STACK_DIR")).join("gateways/upstash.pid");
    let pid = std::fs::read_to_string(&pid_file).expect("pid file").trim().to_owned();
    let restart = Restart;
    let killed = std::process::Command::new("kill").args(["-9", &pid]).status().expect("kill");
    assert!(killed.success());
    let crashed = eventually(Duration::from_secs(5), || {
        let (ok, text) = stack(&["status"]);
        Some(text).filter(|t| !ok && t.contains("upstash:   CRASHED"))
    });
    assert!(crashed.is_some(), "status names the crashed gateway and fails: {}", stack(&["status"]).1);
    drop(restart);
    let (ok, text) = stack(&["status"]);
    assert!(ok && text.contains("upstash:   running"), "{text}");
}

#[test]
fn redis_loss_is_a_503_and_the_gateway_recovers() {
    let _turn = OUTAGE.lock().unwrap_or_else(|e| e.into_inner());
    let url = format!("{}/", worker_var("UPSTASH_REDIS_REST_URL"));
    let auth = format!("Bearer {}", worker_var("UPSTASH_REDIS_REST_TOKEN"));
    let ping = || send("POST", &url, &[("Authorization", auth.as_str())], Some(&json!(["PING"])));
    assert_eq!(ping().json, json!({"result": "PONG"}));

    let (ok, text) = stack(&["stop", "redis"]);
    assert!(ok, "{text}");
    let down = ping();
    // Serving continues without Redis: the rate limit falls back to this isolate's bucket, still with its headers.
    let user = Uuid::new_v4();
    let served = e2e::get_as(&base_url(), "/api/v1/me", &user);
    // Health turns degraded (Redis is not required for serving) once the 5 s result expires; not ready.
    let degraded = eventually(Duration::from_secs(12), || {
        Some(send("GET", &format!("{}/health/detailed", base_url()), &[], None))
            .filter(|r| r.json["components"]["redis"]["status"] == "down")
    });
    let not_ready = send("GET", &format!("{}/health/ready", base_url()), &[], None);
    let restarted = stack(&["start"]);
    let degraded = degraded.expect("health reports Redis down within 12 s");
    assert_eq!((degraded.status, &degraded.json["status"]), (200, &json!("degraded")), "{:?}", degraded.json);
    assert_eq!(degraded.json["components"]["postgrest"]["status"], "up");
    assert_eq!(not_ready.status, 503, "{:?}", not_ready.json);
    assert_eq!(not_ready.json["failing"], json!(["redis"]));
    assert_eq!(served.status, 200, "{:?}", served.json);
    assert_eq!(served.header("ratelimit-limit"), Some("200"), "the local fallback still limits");
    assert_eq!(down.status, 503, "{:?}", down.json);
    assert!(down.json["error"].as_str().is_some_and(|e| e.contains("redis unavailable")), "{:?}", down.json);
    assert!(restarted.0, "{}", restarted.1);

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = ping();
        if reply.status == 200 {
            assert_eq!(reply.json, json!({"result": "PONG"}));
            break;
        }
        assert!(Instant::now() < deadline, "still failing after Redis came back: {:?}", reply.json);
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_account_deletion_while_the_database_api_is_down_fails_clearly_and_changes_nothing() {
    let _turn = OUTAGE.lock().unwrap_or_else(|e| e.into_inner());
    let user = Uuid::new_v4();
    let competition = active_competition();
    join(&competition, &user);
    let body = json!({"competition_id": competition, "score": 42});
    assert_eq!(post_as(&base_url(), "/api/v1/leaderboard/update", &user, &body).status, 200);
    let delete = || {
        send(
            "DELETE",
            &format!("{}/api/v1/me", base_url()),
            &[("Authorization", &format!("Bearer {}", e2e::user_token(&user)))],
            None,
        )
    };
    let standing = || e2e::get_as(&base_url(), &format!("/api/v1/leaderboard/{competition}/users/{user}"), &user);

    let restart = Restart;
    let (ok, text) = stack(&["stop", "postgrest"]);
    assert!(ok, "{text}");
    let refused = delete();
    assert_eq!(
        (refused.status, refused.json["error"]["code"].as_str()),
        (503, Some("dependency_unavailable")),
        "{:?}",
        refused.json
    );
    assert_eq!(standing().json["score"], 42, "still on the board");
    drop(restart);

    let (_, count) =
        stack(&["psql", "-tA", "-c", &format!("SELECT count(*) FROM public.profiles WHERE user_id = '{user}'")]);
    assert_eq!(count.trim(), "1", "the account is intact");
    // Once the database API is back (and the breaker has probed it), the deletion goes through.
    let done = eventually(Duration::from_secs(20), || (delete().status == 204).then_some(()));
    assert!(done.is_some(), "the deletion succeeds after the outage");
    assert_eq!(standing().status, 404, "off the board");
}

/// A fitness competition that starts while the database API is down: the object's alarm at the start cannot read
/// its members' stored days, so it tries again (every 10 s) and writes them once the database is back — a member who
/// synced before the start is not left off the board until their next sync.
#[test]
fn the_starts_totals_wait_for_the_database() {
    let _turn = OUTAGE.lock().unwrap_or_else(|e| e.into_inner());
    let starts_in = 4;
    let starts = local::token::now() + starts_in;
    // A fixed clock at UTC−12: today's UTC date counts whatever the hour.
    let competition = e2e::create_competition_with(starts_in, 7 * 86_400, json!({"clock": "Etc/GMT+12"}));
    let walker = Uuid::new_v4();
    join(&competition, &walker);
    let today = e2e::rfc3339(local::token::now())[..10].to_owned();
    let body = json!({"source": "healthkit", "samples": [{"date": today, "steps": 4321}]});
    let synced = post_as(&base_url(), "/api/v1/fitness/sync", &walker, &body);
    assert_eq!((synced.status, &synced.json["competitions"]), (200, &json!([])), "{:?}", synced.json);
    let standing = || e2e::get_as(&base_url(), &format!("/api/v1/leaderboard/{competition}/users/{walker}"), &walker);

    let restart = Restart;
    let (ok, text) = stack(&["stop", "postgrest"]);
    assert!(ok, "{text}");
    // Past the start (and the alarm's first try) with the database away.
    while local::token::now() <= starts + 1 {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(standing().status, 404, "nothing written while the days cannot be read");
    drop(restart);

    let written = eventually(Duration::from_secs(30), || (standing().json["score"] == 4321).then_some(()));
    assert!(written.is_some(), "the start's totals after the outage: {:?}", standing().json);
}
