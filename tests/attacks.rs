//! The score-integrity issue, walked as an attacker would: through the Worker, through the local database API with
//! the anon key and a user token (on Supabase anyone with the app's public anon key reaches it), and through Redis
//! where an attack needs it. Each test names the numbered item it proves and checks that the attack fails with the
//! contract's error and changes nothing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use e2e::{
    base_url, free_port, join, rest_url, rfc3339, scratch_dir, send, send_chunked, service_token, stack, user_token,
    worker_var, KeyServer, Reply, WranglerDev,
};
use leaderboard_worker::auth::test_tokens::{es256, public_jwks};
use serde_json::{json, Value};
use uuid::Uuid;

const DAY: i64 = 86_400;

fn now() -> i64 {
    local::token::now()
}

fn day(offset_days: i64) -> String {
    rfc3339(now() + offset_days * DAY)[..10].to_owned()
}

/// The database API as a user of the app: the public anon key, and the user's own access token.
fn rest_as(method: &str, path: &str, token: Option<&str>, extra: &[(&str, &str)], body: Option<&Value>) -> Reply {
    let anon = worker_var("SUPABASE_ANON_KEY");
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("apikey", anon.as_str())];
    if let Some(bearer) = &bearer {
        headers.push(("Authorization", bearer.as_str()));
    }
    headers.extend_from_slice(extra);
    send(method, &format!("{}{path}", rest_url()), &headers, body)
}

fn api(method: &str, path: &str, user: &Uuid, body: Option<&Value>) -> Reply {
    send(method, &format!("{}{path}", base_url()), &[("Authorization", &format!("Bearer {}", user_token(user)))], body)
}

/// One SQL value from the stack's database (as its owner).
fn sql(query: &str) -> String {
    let (ok, text) = stack(&["psql", "-tA", "-c", query]);
    assert!(ok, "{query}: {text}");
    text.trim().to_owned()
}

/// A competition starting at midnight UTC `starts_days` from today and ending at midnight `ends_days` from today.
fn competition_at_midnights(starts_days: i64, ends_days: i64) -> Uuid {
    let midnight = now() - now().rem_euclid(DAY);
    let body = json!({
        "name": "attack", "metric": "steps", "prize_pool": 1000, "payout": [10000],
        "starts_at": rfc3339(midnight + starts_days * DAY), "ends_at": rfc3339(midnight + ends_days * DAY),
    });
    let reply = send(
        "POST",
        &format!("{}/api/v1/competitions", base_url()),
        &[("Authorization", &format!("Bearer {}", service_token()))],
        Some(&body),
    );
    assert_eq!(reply.status, 201, "{:?}", reply.json);
    reply.json["id"].as_str().and_then(|id| Uuid::try_parse(id).ok()).expect("id")
}

fn score_of(competition: &Uuid, user: &Uuid) -> Option<i64> {
    let reply = api("GET", &format!("/api/v1/leaderboard/{competition}/users/{user}"), user, None);
    (reply.status == 200).then(|| reply.json["score"].as_i64()).flatten()
}

fn sync(user: &Uuid, samples: Value) -> Reply {
    api("POST", "/api/v1/fitness/sync", user, Some(&json!({"source": "healthkit", "samples": samples})))
}

/// Item 1 (critical): a user stores 100 000 steps for every day up to the end round the Worker, then syncs nothing.
#[test]
fn fitness_days_cannot_be_written_round_the_worker() {
    let attacker = Uuid::new_v4();
    let competition = competition_at_midnights(-1, 10);
    join(&competition, &attacker);
    let token = user_token(&attacker);
    let forged: Vec<Value> = (-1..10)
        .map(|d| json!({"user_id": attacker, "source": "healthkit", "day": day(d), "steps": 100_000}))
        .collect();

    let inserted = rest_as("POST", "/fitness_days", Some(&token), &[], Some(&json!(forged)));
    assert_eq!(inserted.status, 403, "insert of own days: {:?}", inserted.json);
    let upsert = rest_as(
        "POST",
        "/fitness_days?on_conflict=user_id,source,day",
        Some(&token),
        &[("Prefer", "resolution=merge-duplicates")],
        Some(&json!(forged)),
    );
    assert_eq!(upsert.status, 403, "upsert of own days: {:?}", upsert.json);
    let anonymous = rest_as("POST", "/fitness_days", None, &[], Some(&json!(forged)));
    assert_eq!(anonymous.status, 401, "anon insert: {:?}", anonymous.json);
    let days = json!([{"day": day(0), "steps": 100_000}]);
    let direct = rest_as(
        "POST",
        "/rpc/sync_fitness_days",
        Some(&token),
        &[],
        Some(&json!({"p_user": attacker, "p_source": "healthkit", "p_days": days})),
    );
    assert!(matches!(direct.status, 401 | 403), "the function is the Worker's: {} {:?}", direct.status, direct.json);
    let legacy =
        rest_as("POST", "/rpc/sync_fitness_days", Some(&token), &[], Some(&json!({"source": "x", "days": []})));
    assert!(legacy.status >= 400, "the old signature is gone: {:?}", legacy.json);
    assert_eq!(sql(&format!("SELECT count(*) FROM public.fitness_days WHERE user_id = '{attacker}'")), "0");

    // A sync with no samples scores what was stored through the Worker: nothing.
    let synced = sync(&attacker, json!([]));
    assert_eq!(synced.status, 200, "{:?}", synced.json);
    let scored = synced.json["competitions"].as_array().cloned().unwrap_or_default();
    let mine = scored.iter().find(|c| c["competition_id"] == json!(competition)).expect("the competition is rescored");
    assert_eq!(mine["score"], 0);
    assert_eq!(score_of(&competition, &attacker), Some(0));

    // Days after tomorrow (UTC) are in nobody's past: refused alone, and nothing is stored for them.
    let future = sync(&attacker, json!([{"date": day(2), "steps": 100}, {"date": day(0), "steps": 100}]));
    assert_eq!(future.json["rejected"][0]["index"], 0, "{:?}", future.json);
    assert_eq!(future.json["accepted"], 1);
    assert_eq!(score_of(&competition, &attacker), Some(100));
}

/// Item 2: the window is `[starts_at, ends_at)`; the date `ends_at` falls on at 00:00Z is not counted.
#[test]
fn the_day_the_competition_ends_on_does_not_count() {
    let walker = Uuid::new_v4();
    let competition = competition_at_midnights(-1, 1);
    join(&competition, &walker);
    let reply = sync(
        &walker,
        json!([{"date": day(-1), "steps": 1000}, {"date": day(0), "steps": 2000}, {"date": day(1), "steps": 4000}]),
    );
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    assert_eq!(reply.json["accepted"], 2, "tomorrow is after the walker's local today (UTC): {:?}", reply.json);
    assert_eq!(reply.json["rejected"][0]["reason"], "future_date");
    assert_eq!(score_of(&competition, &walker), Some(3000), "the day ends_at falls on does not count");
}

/// Item 3: concurrent syncs of one user, each replacing the same day, leave the board at the stored value.
#[test]
fn concurrent_syncs_never_leave_an_older_total_on_the_board() {
    let walker = Uuid::new_v4();
    let competition = competition_at_midnights(-1, 10);
    join(&competition, &walker);
    let today = day(0);
    let threads: Vec<_> = (1..=16)
        .map(|i| {
            let today = today.clone();
            std::thread::spawn(move || sync(&walker, json!([{"date": today, "steps": i * 1000}])).status)
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().expect("sync thread"), 200);
    }
    let stored: i64 =
        sql(&format!("SELECT max(steps) FROM public.fitness_days WHERE user_id = '{walker}' AND day = '{today}'"))
            .parse()
            .expect("stored steps");
    assert_eq!(score_of(&competition, &walker), Some(stored), "the board shows the last stored total");
}

/// Item 4: profiles, memberships and scores through the database API.
#[test]
fn the_database_api_lets_a_user_read_their_own_rows_and_write_only_their_name() {
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let competition = competition_at_midnights(-1, 10);
    join(&competition, &alice);
    join(&competition, &bob);
    let token = user_token(&alice);
    let patch = |body: Value| {
        rest_as(
            "PATCH",
            &format!("/profiles?user_id=eq.{alice}"),
            Some(&token),
            &[("Prefer", "return=representation")],
            Some(&body),
        )
    };
    let tracker = patch(json!({"avatar_url": "javascript:alert(1)"}));
    assert_eq!(tracker.status, 403, "avatar_url is the Worker's to write: {:?}", tracker.json);
    let args = json!({"p_user": alice, "p_url": format!("http://x/api/v1/avatars/{}.png", "0".repeat(64))});
    let direct = rest_as("POST", "/rpc/set_avatar", Some(&token), &[], Some(&args));
    assert!(matches!(direct.status, 401 | 403), "set_avatar is the Worker's: {} {:?}", direct.status, direct.json);
    let control = patch(json!({"display_name": "evil\u{7}bell"}));
    assert_eq!(control.status, 400, "control characters: {:?}", control.json);
    let empty = patch(json!({"display_name": ""}));
    assert_eq!(empty.status, 400, "empty name: {:?}", empty.json);
    let version = patch(json!({"days_version": 1_000_000}));
    assert_eq!(version.status, 403, "{:?}", version.json);
    let person = patch(json!({"person_version": 1_000_000}));
    assert_eq!(person.status, 403, "the boards' change count is the database's: {:?}", person.json);
    let fine = patch(json!({"display_name": "Alice"}));
    assert_eq!((fine.status, fine.json[0]["display_name"].as_str()), (200, Some("Alice")), "{:?}", fine.json);
    // Even the service key cannot store an avatar that is not the project's own avatar route.
    let foreign = send(
        "PATCH",
        &format!("{}/profiles?user_id=eq.{alice}", rest_url()),
        &[("Authorization", &format!("Bearer {}", service_token()))],
        Some(&json!({"avatar_url": "https://tracker.example/pixel.gif"})),
    );
    assert_eq!(foreign.status, 400, "{:?}", foreign.json);

    let memberships = rest_as("GET", &format!("/memberships?competition_id=eq.{competition}"), Some(&token), &[], None);
    assert_eq!(memberships.json.as_array().map(Vec::len), Some(1), "only her own: {:?}", memberships.json);
    let forged = rest_as(
        "POST",
        "/memberships",
        Some(&token),
        &[],
        Some(&json!({"competition_id": competition, "user_id": alice, "joined_at": "2000-01-01T00:00:00Z"})),
    );
    assert_eq!(forged.status, 403, "{:?}", forged.json);
    // Joining is the Worker's too: neither join function may be called with a user's token, for anyone.
    let stranger = Uuid::new_v4();
    for function in ["join_competition", "join_and_introduce"] {
        let args = json!({"competition": competition, "p_user": stranger});
        let direct = rest_as("POST", &format!("/rpc/{function}"), Some(&token), &[], Some(&args));
        assert!(matches!(direct.status, 401 | 403), "{function}: {} {:?}", direct.status, direct.json);
    }
    let joined = sql(&format!("SELECT count(*) FROM public.memberships WHERE user_id = '{stranger}'"));
    assert_eq!(joined, "0", "no membership made round the Worker");
    let others =
        rest_as("GET", &format!("/scores?competition_id=eq.{competition}&user_id=eq.{bob}"), Some(&token), &[], None);
    assert_eq!(others.json, json!([]), "another user's score row");
    let anon = rest_as("GET", "/memberships", None, &[], None);
    assert!(anon.status == 401 || anon.json == json!([]), "{:?}", anon.json);
    // The participant count stays public though memberships are not.
    let listed =
        rest_as("GET", &format!("/competitions?id=eq.{competition}&select=participants"), Some(&token), &[], None);
    assert_eq!(listed.json, json!([{"participants": 2}]));
}

/// The queue of avatar images the cron trigger removes from the bucket is the Worker's alone: a user with the app's
/// key and their own token can neither read it, nor empty it (and so keep an image public), nor put another user's
/// image on it (and so have it removed), nor call its functions.
#[test]
fn the_avatar_removal_queue_is_out_of_a_users_reach() {
    let (mallory, victim) = (Uuid::new_v4(), Uuid::new_v4());
    let token = user_token(&mallory);
    let queued_url = format!("http://x/api/v1/avatars/{}.png", victim.simple());
    sql(&format!("INSERT INTO public.avatar_removals (avatar_url) VALUES ('{queued_url}')"));
    let shown_url = format!("http://x/api/v1/avatars/{}{}.png", victim.simple(), victim.simple());
    let queued = |url: &str| sql(&format!("SELECT count(*) FROM public.avatar_removals WHERE avatar_url = '{url}'"));

    let read = rest_as("GET", "/avatar_removals", Some(&token), &[], None);
    assert!(matches!(read.status, 401 | 403), "read: {} {:?}", read.status, read.json);
    let emptied = rest_as("DELETE", &format!("/avatar_removals?avatar_url=eq.{queued_url}"), Some(&token), &[], None);
    assert!(matches!(emptied.status, 401 | 403), "delete: {} {:?}", emptied.status, emptied.json);
    let added = rest_as("POST", "/avatar_removals", Some(&token), &[], Some(&json!({"avatar_url": shown_url})));
    assert!(matches!(added.status, 401 | 403), "insert: {} {:?}", added.status, added.json);
    let calls = [
        ("queue_avatar_removal_of", json!({"p_url": shown_url})),
        ("avatar_removals_due", json!({"p_after_secs": 0, "p_limit": 10})),
        ("avatar_removals_done", json!({"p_urls": [queued_url]})),
    ];
    for (function, args) in calls {
        let direct = rest_as("POST", &format!("/rpc/{function}"), Some(&token), &[], Some(&args));
        assert!(matches!(direct.status, 401 | 403), "{function}: {} {:?}", direct.status, direct.json);
    }
    assert_eq!((queued(&queued_url), queued(&shown_url)), ("1".into(), "0".into()), "the queue is as it was");
    sql(&format!("DELETE FROM public.avatar_removals WHERE avatar_url = '{queued_url}'"));
}

/// Item 4: deleting the auth user deletes their rows (Supabase Auth deletes from `auth.users`).
#[test]
fn deleting_the_auth_user_deletes_their_rows() {
    let leaver = Uuid::new_v4();
    let competition = competition_at_midnights(-1, 10);
    join(&competition, &leaver);
    assert_eq!(sync(&leaver, json!([{"date": day(0), "steps": 10}])).status, 200);
    let count = |table: &str| sql(&format!("SELECT count(*) FROM public.{table} WHERE user_id = '{leaver}'"));
    assert_eq!((count("profiles"), count("memberships"), count("fitness_days")), ("1".into(), "1".into(), "1".into()));
    sql(&format!("DELETE FROM auth.users WHERE id = '{leaver}'"));
    assert_eq!((count("profiles"), count("memberships"), count("fitness_days")), ("0".into(), "0".into(), "0".into()));
    assert_eq!(sql(&format!("SELECT participants FROM public.competitions WHERE id = '{competition}'")), "0");
}

/// Item 4: Supabase's security advisor, as SQL over the migrated schema.
#[test]
fn the_security_advisor_finds_nothing() {
    let rules = [
        (
            "RLS disabled on a table of an exposed schema",
            "SELECT string_agg(c.relname, ',') FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace \
             AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity",
        ),
        (
            "function with a mutable search_path",
            "SELECT string_agg(p.proname, ',') FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace \
             AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{}')) c WHERE c LIKE 'search_path=%')",
        ),
        (
            "security-definer view",
            "SELECT string_agg(c.relname, ',') FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace \
             AND c.relkind = 'v' AND NOT coalesce(c.reloptions @> '{security_invoker=true}', false)",
        ),
        (
            "auth.users exposed",
            "SELECT string_agg(DISTINCT v.relname, ',') FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid \
             JOIN pg_class v ON v.oid = r.ev_class WHERE d.refobjid = 'auth.users'::regclass \
             AND v.relnamespace = 'public'::regnamespace",
        ),
        (
            "auth.users readable by an API role",
            "SELECT string_agg(r, ',') FROM unnest(ARRAY['anon', 'authenticated']) r \
             WHERE has_table_privilege(r, 'auth.users', 'SELECT')",
        ),
        (
            "policy on a table without RLS",
            "SELECT string_agg(p.tablename, ',') FROM pg_policies p JOIN pg_class c ON c.relname = p.tablename \
             AND c.relnamespace = p.schemaname::regnamespace WHERE p.schemaname = 'public' AND NOT c.relrowsecurity",
        ),
        (
            "function a user may execute",
            "SELECT string_agg(p.proname, ',') FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace \
             AND (has_function_privilege('authenticated', p.oid, 'EXECUTE') \
                  OR has_function_privilege('anon', p.oid, 'EXECUTE'))",
        ),
        (
            "table a user may write",
            "SELECT string_agg(c.relname || ':' || r || ':' || w, ',') FROM pg_class c, \
             unnest(ARRAY['anon', 'authenticated']) r, unnest(ARRAY['INSERT', 'DELETE', 'TRUNCATE']) w \
             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v') \
             AND has_table_privilege(r, c.oid, w)",
        ),
    ];
    for (rule, query) in rules {
        assert_eq!(sql(query), "", "advisor rule: {rule}");
    }
}

/// Item 5: a chunked body is refused as soon as it passes the limit, not after it was read whole, and the refusal
/// leaves the server answering: `wrangler dev`'s proxy hung the next request when the Worker answered without
/// reading the rest of the upload.
#[test]
fn a_chunked_body_is_refused_while_it_streams() {
    // A Worker of its own: a request whose body never ends must not disturb the requests of the other tests.
    let worker = WranglerDev::start_with(&scratch_dir("attack-chunked"), &[]);
    let address = worker.base_url().trim_start_matches("http://").to_owned();
    let token = user_token(&Uuid::new_v4());
    // 96 KiB in 8 KiB chunks, ended: refused, and the next request on another connection is answered at once.
    let (_, answer) = chunked_update(&address, &token, 12, true);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    for attempt in 0..3 {
        let mut next = TcpStream::connect(&address).expect("connect");
        next.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let request = format!("GET /health/live HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
        next.write_all(request.as_bytes()).expect("request");
        let mut reply = String::new();
        let _ = next.read_to_string(&mut reply);
        assert!(reply.starts_with("HTTP/1.1 200"), "request {attempt} after the refused body: {reply:?}");
    }
    // 128 KiB, then the body never ends: only a reader that counts while reading can answer.
    let (mut stream, answer) = chunked_update(&address, &token, 16, false);
    // End the body now, so the local proxy is not left with a request that never finishes.
    let _ = stream.write_all(b"0\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

/// A chunked body within the limit is read whole (it is gathered in the runtime's memory, `held_body.rs`).
#[test]
fn a_chunked_body_within_the_limit_is_read_whole() {
    let user = Uuid::new_v4();
    let samples: Vec<Value> =
        (1..=400).map(|back| json!({"date": day(-back), "steps": 1_000 + back, "active_minutes": 30})).collect();
    let body = json!({"source": "healthkit", "samples": samples}).to_string();
    assert!(body.len() > 16 * 1024, "several chunks");
    let auth = format!("Bearer {}", user_token(&user));
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    let reply = send_chunked("POST", &format!("{}/api/v1/fitness/sync", base_url()), &headers, body.as_bytes());
    assert_eq!((reply.status, reply.json["accepted"].as_u64()), (200, Some(400)), "{:?}", reply.json);
}

/// Posts `chunks` chunks of 8 KiB to the score route, with the body's end when `end`; the connection and the first
/// read of its answer (15 s at most).
fn chunked_update(address: &str, token: &str, chunks: usize, end: bool) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(15))).expect("timeout");
    let head = format!(
        "POST /api/v1/leaderboard/update HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("head");
    let chunk = vec![b' '; 8 * 1024];
    for _ in 0..chunks {
        stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).expect("size");
        stream.write_all(&chunk).expect("chunk");
        stream.write_all(b"\r\n").expect("end of chunk");
    }
    if end {
        stream.write_all(b"0\r\n\r\n").expect("end of body");
    }
    let mut answer = [0u8; 4096];
    let read = stream.read(&mut answer).expect("an answer");
    let text = String::from_utf8_lossy(&answer[..read]).into_owned();
    (stream, text)
}

/// Item 7: test routes need a service_role token even in builds made for tests (and are absent from the deployable
/// bundle: scripts/test checks the dry run).
#[test]
fn test_routes_need_a_service_role_token() {
    let competition = competition_at_midnights(-1, 10);
    let path = format!("{}/__test/competitions/{competition}/finalize", base_url());
    let anonymous = send("POST", &path, &[], None);
    assert_eq!(anonymous.status, 401, "{:?}", anonymous.json);
    let user = send("POST", &path, &[("Authorization", &format!("Bearer {}", user_token(&Uuid::new_v4())))], None);
    assert_eq!((user.status, user.json["error"]["code"].as_str()), (403, Some("forbidden")));
    let seed = format!("{}/__test/competitions/{competition}/seed?n=1000000", base_url());
    assert_eq!(send("POST", &seed, &[], None).status, 401);
    let prizes = api("GET", &format!("/api/v1/leaderboard/{competition}/prizes"), &Uuid::new_v4(), None);
    assert_eq!(prizes.json["final"], false, "the competition was not finalized");
}

/// Item 8: a key set planted in Redis is never trusted; keys come only from the configured JWKS URL.
#[test]
fn a_key_set_planted_in_redis_is_refused() {
    let keys = KeyServer::start(public_jwks(&["rsa-1"]));
    let planted = json!({"document": public_jwks(&["ec-2"]), "expires_ms": (now() + 3600) * 1000}).to_string();
    let redis = worker_var("UPSTASH_REDIS_REST_URL");
    let redis_token = format!("Bearer {}", worker_var("UPSTASH_REDIS_REST_TOKEN"));
    let set = send(
        "POST",
        &redis,
        &[("Authorization", &redis_token)],
        Some(&json!(["SET", format!("jwks:v1:{}", keys.url), planted])),
    );
    assert_eq!(set.status, 200, "{:?}", set.json);

    let worker = WranglerDev::start_with(&scratch_dir("attack-jwks"), &[("SUPABASE_JWKS_URL", &keys.url)]);
    let user = Uuid::new_v4();
    let claims = json!({"sub": user, "aud": "authenticated", "role": "service_role", "exp": now() + 600, "iat": now()});
    let minted = es256("ec-2", claims);
    let reply = send(
        "GET",
        &format!("{}/api/v1/me", worker.base_url()),
        &[("Authorization", &format!("Bearer {minted}"))],
        None,
    );
    assert_eq!((reply.status, reply.json["error"]["code"].as_str()), (401, Some("invalid_token")), "{:?}", reply.json);
    assert!(keys.fetches() >= 1, "the Worker asked the real key endpoint");
}

/// Item 9: no public answer shows adapter error text; the operator sees it with the metrics token.
#[test]
fn health_shows_why_only_to_the_operator() {
    let closed = format!("http://127.0.0.1:{}", free_port());
    let worker = WranglerDev::start_with(&scratch_dir("attack-health"), &[("UPSTASH_REDIS_REST_URL", &closed)]);
    let url = format!("{}/health/detailed", worker.base_url());
    let public = send("GET", &url, &[], None);
    assert_eq!(public.json["components"]["redis"]["status"], "down", "{:?}", public.json);
    assert_eq!(public.json["components"]["redis"]["error"], "unavailable");
    assert!(!public.text.contains("127.0.0.1"), "{}", public.text);
    let token = format!("Bearer {}", worker_var("METRICS_TOKEN"));
    let operator = send("GET", &url, &[("Authorization", &token)], None);
    assert_ne!(operator.json["components"]["redis"]["error"], "unavailable", "{:?}", operator.json);
}

/// Item 10: unknown competitions are 404 everywhere, cost no object and no cache keys; cursors have one spelling.
#[test]
fn unknown_competitions_are_not_found_and_create_nothing() {
    let stranger = Uuid::new_v4();
    let unknown = Uuid::new_v4();
    for path in [
        format!("/api/v1/leaderboard/{unknown}"),
        format!("/api/v1/leaderboard/{unknown}/me"),
        format!("/api/v1/leaderboard/{unknown}/users/{stranger}"),
        format!("/api/v1/leaderboard/{unknown}/prizes"),
    ] {
        let reply = api("GET", &path, &stranger, None);
        assert_eq!((reply.status, reply.json["error"]["code"].as_str()), (404, Some("not_found")), "{path}");
    }
    let update =
        api("POST", "/api/v1/leaderboard/update", &stranger, Some(&json!({"competition_id": unknown, "score": 1})));
    assert_eq!(update.status, 404, "{:?}", update.json);
    let live = send(
        "GET",
        &format!("{}/api/v1/competitions/{unknown}/live", base_url()),
        &[
            ("Authorization", &format!("Bearer {}", user_token(&stranger))),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ],
        None,
    );
    assert_eq!(live.status, 404, "{:?}", live.json);
    // Without the upgrade headers too: the competition's absence is the answer, not the missing upgrade.
    let plain = api("GET", &format!("/api/v1/competitions/{unknown}/live"), &stranger, None);
    assert_eq!((plain.status, plain.json["error"]["code"].as_str()), (404, Some("not_found")), "{:?}", plain.json);
    let redis = worker_var("UPSTASH_REDIS_REST_URL");
    let redis_token = format!("Bearer {}", worker_var("UPSTASH_REDIS_REST_TOKEN"));
    let keys = send("POST", &redis, &[("Authorization", &redis_token)], Some(&json!(["KEYS", format!("*{unknown}*")])));
    assert_eq!(keys.json["result"], json!([]), "no cache keys for an unknown competition");

    // A cursor is accepted only as it was handed out: other spellings would be other cache keys.
    let known = competition_at_midnights(-1, 10);
    let members: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    for (i, member) in members.iter().enumerate() {
        join(&known, member);
        assert_eq!(sync(member, json!([{"date": day(0), "steps": 10 * (i + 1)}])).status, 200);
    }
    let first = api("GET", &format!("/api/v1/leaderboard/{known}?limit=1"), &stranger, None);
    let cursor = first.json["next_cursor"].as_str().expect("a next cursor").to_owned();
    let next = api("GET", &format!("/api/v1/leaderboard/{known}?limit=1&cursor={cursor}"), &stranger, None);
    assert_eq!(next.status, 200, "{:?}", next.json);
    for spelling in [cursor.to_uppercase(), format!("0{cursor}")] {
        let reply = api("GET", &format!("/api/v1/leaderboard/{known}?limit=1&cursor={spelling}"), &stranger, None);
        assert_eq!((reply.status, reply.json["error"]["code"].as_str()), (400, Some("bad_request")), "{spelling}");
    }
}

/// Item 12 and every /api response: administrators have their own policy; 404 and 405 carry the limit headers.
#[test]
fn administrators_have_their_own_policy_and_every_api_answer_is_limited() {
    let admin = format!("Bearer {}", service_token());
    for i in 0..12 {
        let body = json!({
            "name": format!("season {i}"), "metric": "steps", "starts_at": rfc3339(now() + DAY),
            "ends_at": rfc3339(now() + 8 * DAY),
        });
        let reply =
            send("POST", &format!("{}/api/v1/competitions", base_url()), &[("Authorization", &admin)], Some(&body));
        assert_eq!(reply.status, 201, "competition {i}: {:?}", reply.json);
        assert!(reply.header("ratelimit-policy").is_some_and(|p| p.starts_with("\"admin\"")), "{:?}", reply.headers);
    }
    let user = Uuid::new_v4();
    for (method, path, status) in [("GET", "/api/v1/nothing-here", 404), ("DELETE", "/api/v1/fitness/sync", 405)] {
        let reply = api(method, path, &user, None);
        assert_eq!(reply.status, status, "{method} {path}");
        for header in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "ratelimit-policy", "ratelimit"] {
            assert!(reply.header(header).is_some(), "{method} {path} lacks {header}: {:?}", reply.headers);
        }
    }
    let anonymous = send("GET", &format!("{}/api/v1/nothing-here", base_url()), &[], None);
    assert!(anonymous.header("ratelimit-policy").is_some_and(|p| p.starts_with("\"anonymous\"")));
}

/// A token of `user` expiring `ttl_secs` from now.
fn token_for(user: &Uuid, ttl_secs: i64) -> String {
    let claims = local::token::access_claims(&user.to_string(), "authenticated", "authenticated", now(), ttl_secs);
    local::token::sign(e2e::setting("E2E_JWT_SECRET").as_bytes(), &claims)
}

/// A live socket opened with `token`; reads time out after `read_secs`.
fn live_socket(competition: &Uuid, token: &str, read_secs: u64) -> e2e::Socket {
    socket_at(&e2e::live_url(competition), token, None, read_secs)
}

/// A live socket at `url` (a Worker of a test's own), with `request_id` as its `X-Request-Id` when given.
fn socket_at(url: &str, token: &str, request_id: Option<&str>, read_secs: u64) -> e2e::Socket {
    use tungstenite::client::IntoClientRequest;
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert("Authorization", format!("Bearer {token}").parse().expect("header"));
    if let Some(id) = request_id {
        request.headers_mut().insert("X-Request-Id", id.parse().expect("header"));
    }
    let (socket, _) = tungstenite::connect(request).expect("upgrade");
    if let tungstenite::stream::MaybeTlsStream::Plain(stream) = socket.get_ref() {
        stream.set_read_timeout(Some(Duration::from_secs(read_secs))).expect("timeout");
    }
    socket
}

/// What a socket receives until it closes: its text frames and the close code (`None` if it did not close).
fn until_closed(socket: &mut e2e::Socket) -> (Vec<Value>, Option<u16>) {
    let mut frames = Vec::new();
    loop {
        match socket.read() {
            Ok(tungstenite::Message::Text(text)) => frames.push(serde_json::from_str(&text).unwrap_or(Value::Null)),
            Ok(tungstenite::Message::Close(frame)) => return (frames, frame.map(|f| u16::from(f.code))),
            Ok(_) => {}
            Err(_) => return (frames, None),
        }
    }
}

fn send_text(socket: &mut e2e::Socket, text: String) {
    // A socket the server already closed refuses further frames; that is the point of some tests.
    let _ = socket.send(tungstenite::Message::text(text));
}

/// Item 6: one socket flooding frames is told `rate_limited` and closed with 1008.
#[test]
fn a_socket_flooding_frames_is_closed() {
    let user = Uuid::new_v4();
    let competition = competition_at_midnights(-1, 10);
    join(&competition, &user);
    let mut socket = live_socket(&competition, &user_token(&user), 10);
    for _ in 0..60 {
        send_text(&mut socket, json!({"type": "resume", "since": 0}).to_string());
    }
    let (frames, code) = until_closed(&mut socket);
    assert!(frames.iter().any(|f| f == &json!({"type": "error", "code": "rate_limited"})), "{frames:?}");
    assert_eq!(code, Some(1008));
}

/// Item 6: binary frames are client frames too (API.md: the limit counts the client's WebSocket messages). The
/// protocol has none, so each is ignored, but a flood of them is closed like any other.
#[test]
fn a_socket_flooding_binary_frames_is_closed() {
    let user = Uuid::new_v4();
    let competition = competition_at_midnights(-1, 10);
    join(&competition, &user);
    let floods = e2e::socket_refusals(&base_url(), "frame_flood");
    let mut socket = live_socket(&competition, &user_token(&user), 10);
    for _ in 0..60 {
        let _ = socket.send(tungstenite::Message::binary(vec![0u8; 64]));
    }
    let (frames, code) = until_closed(&mut socket);
    assert!(frames.iter().any(|f| f == &json!({"type": "error", "code": "rate_limited"})), "{frames:?}");
    assert_eq!(code, Some(1008));
    // Counted for the operators (`websocket_refusals_total{reason="frame_flood"}`).
    e2e::until_socket_refusals(&base_url(), "frame_flood", floods + 1.0);
}

/// A client frame longer than any frame of the protocol (16 KiB; the longest it needs is an `auth` frame with an
/// 8 KiB token) closes its socket with 1009 before the object copies it into its memory; the runtime delivers frames
/// of up to 32 MiB, and wasm memory never shrinks. Frames up to the limit are read as usual.
#[test]
fn a_frame_longer_than_the_protocol_needs_closes_its_socket() {
    const LIMIT: usize = 16 * 1024;
    let user = Uuid::new_v4();
    let competition = competition_at_midnights(-1, 10);
    join(&competition, &user);
    let padded_ping = |len: usize| {
        let frame = format!("{{\"type\":\"ping\"{}}}", " ".repeat(len - 15));
        assert_eq!(frame.len(), len);
        frame
    };
    let largest_auth = json!({"type": "auth", "token": format!("{}.b.c", "a".repeat(8 * 1024 - 4))}).to_string();
    let too_large = e2e::socket_refusals(&base_url(), "frame_too_large");
    let cases: [(&str, String, Option<Value>, Option<u16>); 5] = [
        ("a ping padded to the limit", padded_ping(LIMIT), Some(json!({"type": "pong"})), None),
        (
            "an auth frame with the longest token",
            largest_auth,
            Some(json!({"type": "error", "code": "invalid_token"})),
            Some(1008),
        ),
        ("a ping one past the limit", padded_ping(LIMIT + 1), None, Some(1009)),
        ("a frame of 4 MiB", "x".repeat(4 << 20), None, Some(1009)),
        // The entry's stand-in for a long frame, sent by the client itself: closed as what it stands for.
        ("the stand-in itself", "\u{0}".to_owned(), None, Some(1009)),
    ];
    for (case, frame, reply, code) in cases {
        let mut socket = live_socket(&competition, &user_token(&user), 10);
        assert!(socket.read().expect("snapshot").to_text().unwrap_or_default().contains("snapshot"), "{case}");
        send_text(&mut socket, frame);
        if code.is_none() {
            let answer = socket.read().expect("an answer");
            let answer: Value = serde_json::from_str(answer.to_text().unwrap_or_default()).unwrap_or(Value::Null);
            assert_eq!(Some(answer), reply, "{case}");
            continue;
        }
        let (frames, closed) = until_closed(&mut socket);
        assert_eq!(frames.first().cloned(), reply, "{case}");
        assert_eq!(closed, code, "{case}");
    }
    // Counted for the operators (`websocket_refusals_total{reason="frame_too_large"}`).
    e2e::until_socket_refusals(&base_url(), "frame_too_large", too_large + 3.0);
}

/// Item 6: the frames of a flood that arrive after its socket was closed are dropped unanswered. Answering them
/// (a `pong` on a closed socket) throws in the object, and each throw is logged as an uncaught error. On a Worker
/// of its own, whose log holds the access lines too.
#[test]
fn frames_after_a_close_are_dropped_without_errors() {
    const THROWN: &str = "send() after close";
    let dev = e2e::WranglerDev::start(&e2e::scratch_dir("frames-after-a-close"));
    let user = Uuid::new_v4();
    let competition = competition_at_midnights(-1, 10);
    join(&competition, &user);
    let url = format!("{}/api/v1/competitions/{competition}/live", dev.base_url().replacen("http", "ws", 1));
    let connect = |request_id: &str| socket_at(&url, &user_token(&user), Some(request_id), 10);
    let mut flooding = connect(&format!("flood-{}", Uuid::new_v4()));
    for _ in 0..80 {
        send_text(&mut flooding, json!({"type": "ping"}).to_string());
    }
    let (_, code) = until_closed(&mut flooding);
    assert_eq!(code, Some(1008));
    // The object takes its events in order: a later socket's snapshot comes after the flood's last frame, and the
    // access line of that upgrade after whatever the object logged for the flood.
    let marker = format!("after-flood-{}", Uuid::new_v4());
    let mut later = connect(&marker);
    assert!(later.read().expect("snapshot").to_text().unwrap_or_default().contains("snapshot"));
    let log = e2e::eventually(Duration::from_secs(10), || Some(dev.log()).filter(|log| log.contains(&marker)))
        .expect("the later socket's access line is logged");
    assert_eq!(log.matches(THROWN).count(), 0, "the object answered frames of a closed socket");
}

/// Item 6: a user holds at most five live sockets per competition; the oldest gives way to a sixth.
#[test]
fn a_sixth_socket_of_one_user_closes_the_oldest() {
    let user = Uuid::new_v4();
    let competition = competition_at_midnights(-1, 10);
    join(&competition, &user);
    let token = user_token(&user);
    let mut sockets: Vec<e2e::Socket> = Vec::new();
    for _ in 0..5 {
        let mut socket = live_socket(&competition, &token, 3);
        let snapshot = socket.read().expect("snapshot");
        assert!(snapshot.to_text().unwrap_or_default().contains("snapshot"));
        sockets.push(socket);
    }
    let mut sixth = live_socket(&competition, &token, 3);
    assert!(sixth.read().expect("snapshot").to_text().unwrap_or_default().contains("snapshot"));
    let (_, code) = until_closed(&mut sockets[0]);
    assert_eq!(code, Some(1008), "the oldest socket is closed");
    for socket in &mut sockets[1..] {
        send_text(socket, json!({"type": "ping"}).to_string());
        let pong = socket.read().expect("the others stay open");
        assert_eq!(pong.to_text().unwrap_or_default(), r#"{"type":"pong"}"#);
    }
}

/// Item 6: a socket ends with its token (4001 `token_expired`, 30 s leeway) unless an `auth` frame of the same user
/// extends it; a foreign token closes it with 1008.
#[test]
fn a_socket_lives_as_long_as_its_token() {
    let user = Uuid::new_v4();
    let competition = competition_at_midnights(-1, 10);
    join(&competition, &user);

    let mut expiring = live_socket(&competition, &token_for(&user, 2), 60);
    let mut refreshed = live_socket(&competition, &token_for(&user, 2), 60);
    let fresh = token_for(&user, 3600);
    send_text(&mut refreshed, json!({"type": "auth", "token": fresh}).to_string());
    let frames: Vec<Value> = (0..2)
        .filter_map(|_| refreshed.read().ok())
        .filter_map(|m| serde_json::from_str(m.to_text().unwrap_or_default()).ok())
        .collect();
    let ok = frames.iter().find(|f| f["type"] == "auth_ok").unwrap_or_else(|| panic!("auth_ok: {frames:?}"));
    assert!(ok["exp"].as_i64().is_some_and(|exp| exp > now() + 3000), "{ok:?}");

    let (_, code) = until_closed(&mut expiring);
    assert_eq!(code, Some(4001), "closed when the token expired");
    send_text(&mut refreshed, json!({"type": "ping"}).to_string());
    let pong = refreshed.read().expect("the refreshed socket lives on");
    assert_eq!(pong.to_text().unwrap_or_default(), r#"{"type":"pong"}"#);

    let mut hijacked = live_socket(&competition, &user_token(&user), 10);
    let _snapshot = hijacked.read();
    send_text(&mut hijacked, json!({"type": "auth", "token": user_token(&Uuid::new_v4())}).to_string());
    let (frames, code) = until_closed(&mut hijacked);
    assert!(frames.iter().any(|f| f["type"] == "error"), "{frames:?}");
    assert_eq!(code, Some(1008));

    // An auth frame without a token (or with one that is not a string) is a bad token too, not a frame to ignore.
    for bad in [json!({"type": "auth"}), json!({"type": "auth", "token": 7})] {
        let mut socket = live_socket(&competition, &user_token(&user), 10);
        let _snapshot = socket.read();
        send_text(&mut socket, bad.to_string());
        let (frames, code) = until_closed(&mut socket);
        assert!(frames.iter().any(|f| f["type"] == "error" && f["code"] == "invalid_token"), "{bad}: {frames:?}");
        assert_eq!(code, Some(1008), "{bad}");
    }

    // A token of the same user that has expired (past the 30 s leeway) is refused as expired, so the client knows to
    // fetch a fresh one rather than that its credentials are wrong.
    let mut socket = live_socket(&competition, &user_token(&user), 10);
    let _snapshot = socket.read();
    send_text(&mut socket, json!({"type": "auth", "token": token_for(&user, -120)}).to_string());
    let (frames, code) = until_closed(&mut socket);
    assert!(frames.iter().any(|f| f["type"] == "error" && f["code"] == "token_expired"), "{frames:?}");
    assert_eq!(code, Some(1008));
}

/// The alarm that closes sockets at their tokens' expiry also delivers scores to the database, and an object runs
/// one alarm at a time: while a delivery waits on a slow database, a socket whose token has expired gets no more
/// of the board, and is closed with 4001 when the next frame would have reached it.
#[test]
fn an_expired_token_gets_no_frames_while_the_alarm_waits_on_the_database() {
    let (watcher, writer) = (Uuid::new_v4(), Uuid::new_v4());
    let competition = e2e::competition_with(&[watcher, writer]);
    let delivery = ["apply_score_outbox".to_owned(), competition.to_string()];
    let delivery: Vec<&str> = delivery.iter().map(String::as_str).collect();
    let _undo = e2e::DatabaseDelay(delivery.iter().map(|text| text.to_string()).collect());
    // The first delivery of this competition's scores answers 6 s late (longer than the Worker waits for it).
    e2e::database_delay(&delivery, 6_000, Some(1));
    // Expired 27 s ago: with the 30 s leeway the socket closes in 2 to 3 s.
    let issued = now();
    let claims = local::token::access_claims(&watcher.to_string(), "authenticated", "authenticated", issued, -27);
    let token = local::token::sign(e2e::setting("E2E_JWT_SECRET").as_bytes(), &claims);
    let closes_at_ms = (issued - 27 + 30) * 1000;
    let now_ms = || {
        let elapsed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        elapsed.as_millis() as i64
    };
    let mut expiring = live_socket(&competition, &token, 20);
    let snapshot: Value =
        serde_json::from_str(expiring.read().expect("snapshot").to_text().unwrap_or_default()).unwrap_or(Value::Null);
    assert_eq!(snapshot["type"], "snapshot", "{snapshot:?}");

    let post = |score: i64| {
        let body = json!({"competition_id": competition, "score": score});
        api("POST", "/api/v1/leaderboard/update", &writer, Some(&body))
    };
    assert_eq!(post(1).status, 200);
    // The alarm delivering that score (about 1 s later) is now held by the database.
    let held = e2e::eventually(Duration::from_secs(10), || (!e2e::database_delay_waiting(&delivery)).then_some(()));
    assert!(held.is_some(), "the delivery reached the database");
    assert!(now_ms() < closes_at_ms - 300, "the delivery began before the token expired");
    e2e::eventually(Duration::from_secs(5), || (now_ms() >= closes_at_ms + 300).then_some(()));
    assert_eq!(post(2).status, 200);

    let (frames, code) = until_closed(&mut expiring);
    let scores: Vec<i64> = frames
        .iter()
        .filter(|frame| frame["type"] == "update" || frame["type"] == "updates")
        .flat_map(e2e::updates_in)
        .filter_map(|update| update["score"].as_i64())
        .collect();
    assert!(!scores.contains(&2), "a frame reached the expired socket: {frames:?}");
    assert_eq!(code, Some(4001), "{frames:?}");
}

fn admin(method: &str, path: &str, body: Option<&Value>) -> Reply {
    send(method, &format!("{}{path}", base_url()), &[("Authorization", &e2e::admin_auth())], body)
}

/// Item 11: a change the database refuses for good is set aside (dead letter) after a few tries, every change behind
/// it still reaches Postgres, the operator sees it (route and gauge) and retries it once the cause is fixed.
#[test]
fn a_row_the_database_refuses_for_good_does_not_block_the_rest() {
    let (poisoned, next, last) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let competition = e2e::competition_with(&[poisoned, next, last]);
    // A constraint that refuses one score, standing in for any row Postgres will never take.
    let constraint = format!("attack_refuse_{}", competition.simple());
    sql(&format!("ALTER TABLE public.scores ADD CONSTRAINT {constraint} CHECK (score <> 123457) NOT VALID"));
    let post = |user: &Uuid, score: i64| {
        let body = json!({"competition_id": competition, "score": score});
        assert_eq!(api("POST", "/api/v1/leaderboard/update", user, Some(&body)).status, 200);
    };
    post(&poisoned, 123_457);
    post(&next, 1_000);
    post(&last, 2_000);

    let outbox = format!("/api/v1/admin/competitions/{competition}/outbox");
    let report = e2e::eventually(Duration::from_secs(30), || {
        let reply = admin("GET", &outbox, None);
        (reply.json["dead_letters"].as_array().map(Vec::len) == Some(1) && reply.json["pending"] == 0)
            .then_some(reply.json)
    });
    let removed = sql(&format!("ALTER TABLE public.scores DROP CONSTRAINT {constraint}"));
    let report = report.expect("the refused row is set aside and the rest delivered");
    assert_eq!(report["dead_letters"][0]["user_id"], json!(poisoned));
    assert!(report["dead_letters"][0]["error"].as_str().unwrap_or_default().contains("constraint"), "{report}");
    let delivered: Vec<String> = e2e::stored_scores(&competition).into_iter().map(|(user, _, _)| user).collect();
    let mut behind = vec![next.to_string(), last.to_string()];
    behind.sort();
    assert_eq!(delivered, behind, "the rows behind the refused one reached Postgres ({removed})");
    let gauge = e2e::eventually(Duration::from_secs(15), || {
        let token = format!("Bearer {}", worker_var("METRICS_TOKEN"));
        let metrics = send("GET", &format!("{}/metrics", base_url()), &[("Authorization", &token)], None);
        metrics.text.lines().find(|l| l.starts_with("outbox_dead_letters ") && !l.ends_with(" 0")).map(str::to_owned)
    });
    assert!(gauge.is_some(), "the outbox_dead_letters gauge counts the row");

    // Users cannot see or touch the outbox.
    assert_eq!(api("GET", &outbox, &poisoned, None).status, 403);
    let retried = admin("POST", &format!("{outbox}/retry"), None);
    assert_eq!(retried.json, json!({"retried": 1}));
    let fixed = e2e::eventually(Duration::from_secs(30), || {
        let scores = e2e::stored_scores(&competition);
        scores.iter().any(|(user, score, _)| *user == poisoned.to_string() && *score == 123_457).then_some(scores)
    });
    assert!(fixed.is_some(), "the retried row reached Postgres");
    assert_eq!(admin("GET", &outbox, None).json["dead_letters"], json!([]));
    let unknown = admin("GET", &format!("/api/v1/admin/competitions/{}/outbox", Uuid::new_v4()), None);
    assert_eq!(unknown.status, 404);
}

/// Item 11: a stored member row the board cannot load is left off it and reported with its key; everyone else is
/// served; an operator's repair drops it (and only a corrupt row).
#[test]
fn a_corrupt_stored_row_is_reported_and_repaired_while_the_board_serves() {
    let member = Uuid::new_v4();
    let competition = e2e::competition_with(&[member]);
    let body = json!({"competition_id": competition, "score": 10});
    assert_eq!(api("POST", "/api/v1/leaderboard/update", &member, Some(&body)).status, 200);
    let corrupted = admin("POST", &format!("/__test/competitions/{competition}/corrupt?key=broken-row"), None);
    assert_eq!(corrupted.status, 200, "{:?}", corrupted.json);
    assert_eq!(corrupted.json["corrupt_rows"], json!([{"key": "broken-row", "reason": "user id is not a UUID"}]));
    assert_eq!(corrupted.json["members"], 1);
    let stats = admin("GET", &format!("/api/v1/admin/competitions/{competition}/stats"), None);
    assert_eq!(stats.json["corrupt_rows"][0]["key"], "broken-row", "{:?}", stats.json);
    let page = api("GET", &format!("/api/v1/leaderboard/{competition}"), &member, None);
    assert_eq!((page.status, page.json["total"].clone()), (200, json!(1)), "{:?}", page.json);

    let repair = format!("/api/v1/admin/competitions/{competition}/repair");
    let sound = admin("POST", &repair, Some(&json!({"key": member})));
    assert_eq!(sound.status, 404, "a sound member is never dropped by a repair");
    assert_eq!(api("POST", &repair, &member, Some(&json!({"key": "broken-row"}))).status, 403);
    let repaired = admin("POST", &repair, Some(&json!({"key": "broken-row"})));
    assert_eq!((repaired.status, repaired.json["corrupt_rows"].clone()), (200, json!([])), "{:?}", repaired.json);
    assert_eq!(score_of(&competition, &member), Some(10));
    let stats = admin("GET", &format!("/api/v1/admin/competitions/{competition}/stats"), None);
    assert_eq!((stats.json["corrupt_rows"].clone(), stats.json["members"].clone()), (json!([]), json!(1)));
}

/// Holds, reviews and account deletion belong to the Worker: through the database API a user reads only their own
/// holds, cannot read the held samples, and cannot call the review, rescoring or deletion functions.
#[test]
fn holds_reviews_and_account_deletion_cannot_be_reached_round_the_worker() {
    let (walker, other) = (Uuid::new_v4(), Uuid::new_v4());
    let competition = competition_at_midnights(-1, 10);
    join(&competition, &walker);
    let synced = sync(&walker, json!([{"date": day(0), "steps": 70_000}]));
    assert_eq!(synced.json["held"].as_array().map(Vec::len), Some(1), "{:?}", synced.json);
    let (walker_token, other_token) = (user_token(&walker), user_token(&other));

    let own = rest_as("GET", "/fitness_holds?select=status", Some(&walker_token), &[], None);
    assert_eq!(own.json, json!([{"status": "pending"}]), "a user reads their own hold");
    let foreign = rest_as("GET", &format!("/fitness_holds?user_id=eq.{walker}"), Some(&other_token), &[], None);
    assert_eq!(foreign.json, json!([]), "and nobody else's");
    for token in [&walker_token, &other_token] {
        let samples = rest_as("GET", "/held_samples", Some(token), &[], None);
        assert!(matches!(samples.status, 401 | 403), "held samples: {} {:?}", samples.status, samples.json);
    }
    let calls = [
        ("list_holds", json!({})),
        ("decide_hold", json!({"p_user": walker, "p_day": day(0), "p_decision": "approved"})),
        ("rescore_inputs", json!({"p_user": walker, "p_version": 1})),
        (
            "rescore_members",
            json!({"p_competition": competition, "p_from": rfc3339(0), "p_to": rfc3339(0), "p_after": null}),
        ),
        (
            "rescore_progress",
            json!({"p_competition": competition, "p_from": rfc3339(0), "p_to": rfc3339(0), "p_version": 1,
                   "p_after": walker}),
        ),
        ("pending_rescores", json!({"p_limit": 10})),
        ("delete_account", json!({"p_user": other})),
        ("member_changes_after", json!({"p_competition": competition, "p_after": 0})),
        ("member_changes_take", json!({"p_competition": competition, "p_done": [], "p_limit": 10})),
    ];
    for (function, args) in calls {
        let reply = rest_as("POST", &format!("/rpc/{function}"), Some(&walker_token), &[], Some(&args));
        assert!(matches!(reply.status, 401 | 403), "{function}: {} {:?}", reply.status, reply.json);
    }
    let changes = rest_as("GET", "/member_changes", Some(&walker_token), &[], None);
    assert!(matches!(changes.status, 401 | 403), "who renamed or deleted their account: {changes:?}");
    // The settings' version is the objects' guard against older settings: no user may move it.
    let version = || sql(&format!("SELECT settings_version FROM public.competitions WHERE id = '{competition}'"));
    let before = version();
    let path = format!("/competitions?id=eq.{competition}");
    let bumped = rest_as("PATCH", &path, Some(&walker_token), &[], Some(&json!({"settings_version": 1_000_000})));
    assert!(matches!(bumped.status, 401 | 403 | 404) || bumped.json == json!([]), "{bumped:?}");
    assert_eq!(version(), before, "the version moved round the Worker");
    // Nor may a user mark a span to rescore (the cron trigger would rescore it), or clear one.
    let span = json!({"rescore_from": rfc3339(0), "rescore_to": rfc3339(0), "rescore_after": walker});
    let marked = rest_as("PATCH", &path, Some(&walker_token), &[], Some(&span));
    assert!(matches!(marked.status, 401 | 403 | 404) || marked.json == json!([]), "{marked:?}");
    let span = sql(&format!("SELECT rescore_from IS NULL FROM public.competitions WHERE id = '{competition}'"));
    assert_eq!(span, "t", "a span marked round the Worker");
    assert_eq!(sql(&format!("SELECT status FROM public.fitness_holds WHERE user_id = '{walker}'")), "pending");
    assert_eq!(sql(&format!("SELECT count(*) FROM public.profiles WHERE user_id = '{walker}'")), "1");
}
