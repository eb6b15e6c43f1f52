//! The local PostgREST gateway against the real local Postgres: row-level security between two users, service-only
//! writes (users read their own rows and write only their display name), atomic RPC batches, and every request
//! shape the Worker's adapter (the Rust `postgrest` crate) emits; and the delay knob the other tests slow it with.

use e2e::{rest_url, rfc3339, send, send_raw, token_with_role, user_token, Reply};
use serde_json::{json, Value};
use uuid::Uuid;

fn call(method: &str, path: &str, token: &str, extra: &[(&str, &str)], body: Option<&Value>) -> Reply {
    let auth = format!("Bearer {token}");
    let mut headers = vec![("Authorization", auth.as_str())];
    headers.extend_from_slice(extra);
    send(method, &format!("{}{path}", rest_url()), &headers, body)
}

fn service() -> String {
    token_with_role(&Uuid::new_v4(), "service_role")
}

/// A competition running from yesterday for a week (or one that has ended), created as service_role.
fn competition(ended: bool) -> String {
    let day = 86_400;
    let now = local::token::now();
    let (starts, ends) = if ended { (now - 3 * day, now - day) } else { (now - day, now + 7 * day) };
    let body = json!({
        "name": "gateway test", "metric": "steps", "prize_pool": 0, "payout": [],
        "starts_at": rfc3339(starts), "ends_at": rfc3339(ends),
    });
    let reply = call("POST", "/competitions", &service(), &[("Prefer", "return=representation")], Some(&body));
    assert_eq!(reply.status, 201, "{:?}", reply.json);
    reply.json[0]["id"].as_str().expect("id").to_owned()
}

/// The user's profile, made as the Worker makes it (service key, the verified user's id).
fn profile(user: &Uuid) {
    let reply = call("POST", "/rpc/ensure_profile", &service(), &[], Some(&json!({"p_user": user})));
    assert_eq!(reply.status, 200, "{:?}", reply.json);
}

/// Calls a function as the Worker does (service key).
fn as_worker(function: &str, args: Value) -> Reply {
    call("POST", &format!("/rpc/{function}"), &service(), &[], Some(&args))
}

#[test]
fn another_users_rows_are_invisible_and_unwritable() {
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    profile(&alice);
    profile(&bob);
    let (a, b) = (user_token(&alice), user_token(&bob));

    let seen = call("GET", &format!("/profiles?user_id=in.({alice},{bob})"), &a, &[], None);
    assert_eq!(seen.status, 200);
    assert_eq!(seen.json.as_array().map(Vec::len), Some(1), "alice sees only herself: {:?}", seen.json);

    let patched = call(
        "PATCH",
        &format!("/profiles?user_id=eq.{bob}"),
        &a,
        &[("Prefer", "return=representation")],
        Some(&json!({"display_name": "hacked"})),
    );
    assert_eq!((patched.status, patched.json.clone()), (200, json!([])), "the policy filters bob's row out");
    let bobs = call("GET", &format!("/profiles?select=display_name&user_id=eq.{bob}"), &b, &[], None);
    assert_eq!(bobs.json, json!([{"display_name": format!("player-{}", &bob.to_string()[..8])}]));

    let forged = call("POST", "/profiles", &a, &[], Some(&json!({"user_id": Uuid::new_v4(), "display_name": "x"})));
    assert_eq!((forged.status, forged.json["code"].as_str()), (403, Some("42501")));
    let day = json!({"user_id": bob, "source": "manual", "day": "2026-01-01", "steps": 1});
    let foreign_day = call("POST", "/fitness_days", &a, &[], Some(&day));
    assert_eq!(foreign_day.status, 403, "{:?}", foreign_day.json);
    let deleted =
        call("DELETE", &format!("/profiles?user_id=eq.{bob}"), &a, &[("Prefer", "return=representation")], None);
    assert_eq!(deleted.status, 403, "users delete no profile, not even their own: {:?}", deleted.json);

    let anon = send("GET", &format!("{}/profiles", rest_url()), &[("apikey", &anon_key())], None);
    assert_eq!((anon.status, anon.json["code"].as_str()), (401, Some("42501")), "anon may not read profiles");
}

fn anon_key() -> String {
    e2e::worker_var("SUPABASE_ANON_KEY")
}

#[test]
fn competitions_scores_and_results_are_written_by_service_role_only() {
    let user = Uuid::new_v4();
    let token = user_token(&user);
    let id = competition(false);
    let body =
        json!({"name": "x", "metric": "steps", "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2026-02-01T00:00:00Z"});
    assert_eq!(call("POST", "/competitions", &token, &[], Some(&body)).status, 403);
    let score =
        json!({"competition_id": id, "user_id": user, "score": 1, "seq": 1, "updated_at": "2026-01-01T00:00:00Z"});
    assert_eq!(call("POST", "/scores", &token, &[], Some(&score)).status, 403);
    let outbox = call("POST", "/rpc/apply_score_outbox", &token, &[], Some(&json!({"entries": [score]})));
    assert_eq!((outbox.status, outbox.json["code"].as_str()), (403, Some("42501")));
    let result = json!({"competition_id": id, "rank": 1, "user_id": user, "score": 1, "prize": 0});
    assert_eq!(call("POST", "/final_results", &token, &[], Some(&result)).status, 403);

    // A user reads their own score row, and nobody else's.
    profile(&user);
    let applied = call("POST", "/rpc/apply_score_outbox", &service(), &[], Some(&json!({"entries": [score]})));
    assert_eq!((applied.status, applied.json.clone()), (200, json!(1)));
    let read = call("GET", &format!("/scores?select=score&competition_id=eq.{id}"), &token, &[], None);
    assert_eq!(read.json, json!([{"score": 1}]));
    let other =
        call("GET", &format!("/scores?select=score&competition_id=eq.{id}"), &user_token(&Uuid::new_v4()), &[], None);
    assert_eq!(other.json, json!([]));
}

#[test]
fn outbox_rows_apply_idempotently_by_seq() {
    let id = competition(false);
    let user = Uuid::new_v4();
    profile(&user);
    let row = |score: i64, seq: i64| json!({"competition_id": id, "user_id": user, "score": score, "seq": seq, "updated_at": "2026-01-01T00:00:00Z"});
    let apply =
        |rows: Value| call("POST", "/rpc/apply_score_outbox", &service(), &[], Some(&json!({"entries": rows}))).json;
    assert_eq!(apply(json!([row(10, 5)])), json!(1));
    assert_eq!(apply(json!([row(10, 5)])), json!(0), "a replay changes nothing");
    assert_eq!(apply(json!([row(3, 4)])), json!(0), "an older seq never moves the score back");
    assert_eq!(apply(json!([row(12, 6)])), json!(1));
    assert_eq!(apply(json!([row(13, 8), row(20, 9), row(14, 7)])), json!(1), "several changes of one user: the latest");
    let read = call("GET", &format!("/scores?select=score,seq&competition_id=eq.{id}"), &service(), &[], None);
    assert_eq!(read.json, json!([{"score": 20, "seq": 9}]));
    assert_eq!(apply(json!([row(12, 6)])), json!(0));
}

#[test]
fn a_batch_with_one_bad_row_writes_nothing() {
    let user = Uuid::new_v4();
    let token = user_token(&user);
    let days = json!([{"day": "2026-03-01", "steps": 10}, {"day": "2026-03-02", "steps": 100_001}]);
    let reply = as_worker("sync_fitness_days", json!({"p_user": user, "p_source": "manual", "p_days": days}));
    assert_eq!((reply.status, reply.json["code"].as_str()), (400, Some("23514")), "{:?}", reply.json);
    let stored = call("GET", "/fitness_days", &token, &[("Prefer", "count=exact")], None);
    assert_eq!(stored.json, json!([]));
    assert_eq!(stored.header("content-range"), Some("*/0"));
}

#[test]
fn fitness_sync_stores_each_source_and_returns_what_rescoring_needs() {
    let user = Uuid::new_v4();
    let id = competition(false);
    assert_eq!(as_worker("join_competition", json!({"competition": id, "p_user": user})).status, 200);
    let today = rfc3339(local::token::now())[..10].to_owned();
    let sync = |source: &str, steps: i64| {
        let days = [json!({"index": 0, "day": today, "steps": steps, "user_entered": false, "held_metrics": []})];
        let reply = as_worker("sync_fitness_days", json!({"p_user": user, "p_source": source, "p_days": days}));
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        reply.json
    };
    let first = sync("healthkit", 5000);
    assert_eq!(first["competitions"][0]["id"], json!(id), "{first:?}");
    assert_eq!(first["competitions"][0]["scoring"], json!({"mode": "total"}));
    assert_eq!((first["time_zone"].as_str(), first["future"].clone()), (Some("UTC"), json!([])));
    let steps_by_source = |reply: &Value| -> Vec<(String, i64)> {
        let days = reply["days"].as_array().expect("days");
        days.iter()
            .map(|d| (d["source"].as_str().unwrap_or("").to_owned(), d["steps"].as_i64().unwrap_or(-1)))
            .collect()
    };
    let second = sync("google_fit", 7000);
    assert_eq!(steps_by_source(&second), [("google_fit".to_owned(), 7000), ("healthkit".to_owned(), 5000)]);
    let replaced = sync("healthkit", 6000);
    assert_eq!(steps_by_source(&replaced), [("google_fit".to_owned(), 7000), ("healthkit".to_owned(), 6000)]);
    assert!(replaced["version"].as_i64() > first["version"].as_i64(), "every sync raises the version");
}

#[test]
fn joining_is_idempotent_and_refused_after_the_end() {
    let user = Uuid::new_v4();
    let token = user_token(&user);
    let id = competition(false);
    let join = |competition: &str| as_worker("join_competition", json!({"competition": competition, "p_user": user}));
    let first = join(&id);
    let again = join(&id);
    assert_eq!((first.status, again.status), (200, 200));
    assert_eq!(first.json["joined_at"], again.json["joined_at"]);

    let ended = competition(true);
    let late = join(&ended);
    assert_eq!((late.status, late.json["code"].as_str()), (409, Some("PT409")));
    let direct = call("POST", "/memberships", &token, &[], Some(&json!({"competition_id": ended, "user_id": user})));
    assert_eq!(direct.status, 403, "users write no memberships themselves");
    let unknown = join(&Uuid::new_v4().to_string());
    assert_eq!(unknown.status, 404);
}

/// What the Rust `postgrest` crate sends (docs/TOOLCHAIN.md): Range + Range-Unit for `.limit()`, the object
/// Accept for `.single()`, Prefer for writes, apikey plus Authorization, Accept-Profile from `.schema()`.
#[test]
fn request_shapes_of_the_rust_postgrest_crate() {
    let token = service();
    let id = competition(false);
    for n in 0..3 {
        // Score rows belong to profiles (deleting a user deletes their scores).
        let user = Uuid::new_v4();
        profile(&user);
        let row = json!({"competition_id": id, "user_id": user, "score": n, "seq": n + 1, "updated_at": "2026-01-01T00:00:00Z"});
        assert_eq!(call("POST", "/scores", &token, &[], Some(&row)).status, 201);
    }
    let path = format!("/scores?select=score&competition_id=eq.{id}&order=score.desc");
    let ranged =
        call("GET", &path, &token, &[("Range", "0-1"), ("Range-Unit", "items"), ("apikey", &anon_key())], None);
    assert_eq!((ranged.status, ranged.json.clone()), (200, json!([{"score": 2}, {"score": 1}])));
    assert_eq!(ranged.header("content-range"), Some("0-1/*"));
    let counted = call("GET", &path, &token, &[("Range", "1-1"), ("Prefer", "count=exact")], None);
    assert_eq!((counted.status, counted.json.clone()), (206, json!([{"score": 1}])));
    assert_eq!(counted.header("content-range"), Some("1-1/3"));
    let paged = call("GET", &format!("{path}&limit=1&offset=2"), &token, &[], None);
    assert_eq!(paged.json, json!([{"score": 0}]));
    let beyond = call("GET", &format!("{path}&offset=9"), &token, &[("Prefer", "count=exact")], None);
    assert_eq!((beyond.status, beyond.json["code"].as_str()), (416, Some("PGRST103")));

    let object = "application/vnd.pgrst.object+json";
    let single = call("GET", &format!("{path}&score=eq.2"), &token, &[("Accept", object)], None);
    assert_eq!((single.status, single.json.clone()), (200, json!({"score": 2})));
    let many = call("GET", &path, &token, &[("Accept", object)], None);
    assert_eq!((many.status, many.json["code"].as_str()), (406, Some("PGRST116")));
    let schema = call("GET", &path, &token, &[("Accept-Profile", "auth")], None);
    assert_eq!((schema.status, schema.json["code"].as_str()), (406, Some("PGRST106")));

    // Upsert with on_conflict and merge-duplicates; representation on PATCH; minimal gives 204.
    let user = Uuid::new_v4();
    profile(&user);
    let row = |score: i64| json!([{"competition_id": id, "user_id": user, "score": score, "seq": 9, "updated_at": "2026-01-01T00:00:00Z"}]);
    let prefer = [("Prefer", "return=representation,resolution=merge-duplicates")];
    let up1 = call("POST", "/scores?on_conflict=competition_id,user_id&select=score", &token, &prefer, Some(&row(5)));
    let up2 = call("POST", "/scores?on_conflict=competition_id,user_id&select=score", &token, &prefer, Some(&row(6)));
    assert_eq!((up1.status, up1.json.clone(), up2.json.clone()), (201, json!([{"score": 5}]), json!([{"score": 6}])));
    let conflict = call("POST", "/scores", &token, &[], Some(&row(7)));
    assert_eq!((conflict.status, conflict.json["code"].as_str()), (409, Some("23505")));
    let patch_path = format!("/scores?competition_id=eq.{id}&user_id=eq.{user}&select=score");
    let patched =
        call("PATCH", &patch_path, &token, &[("Prefer", "return=representation")], Some(&json!({"score": 8})));
    assert_eq!((patched.status, patched.json.clone()), (200, json!([{"score": 8}])));
    assert_eq!(call("PATCH", &patch_path, &token, &[], Some(&json!({"score": 9}))).status, 204);
}

#[test]
fn what_the_subset_lacks_is_a_400_naming_it() {
    let token = service();
    let cases = [
        ("GET", "/profiles?or=(a.eq.1,b.eq.2)", "logical filters"),
        ("GET", "/profiles?display_name=like.a*", "like"),
        ("GET", "/profiles?select=user_id,memberships(*)", "embedding"),
        ("GET", "/rpc/ensure_profile", "GET /rpc"),
        ("PATCH", "/profiles", "WHERE clause"),
        ("DELETE", "/profiles", "WHERE clause"),
    ];
    for (method, path, needle) in cases {
        let reply = send_raw(
            method,
            &format!("{}{path}", rest_url()),
            &[("Authorization", &format!("Bearer {token}"))],
            b"{\"display_name\":\"x\"}",
        );
        assert_eq!(reply.status, 400, "{method} {path}: {:?}", reply.json);
        let message = reply.json["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{method} {path}: {message}");
    }
    let prefer = call("GET", "/profiles", &token, &[("Prefer", "count=planned")], None);
    assert_eq!(prefer.status, 400);
    let expired = local::token::sign(
        e2e::setting("E2E_JWT_SECRET").as_bytes(),
        &local::token::access_claims(&Uuid::new_v4().to_string(), "authenticated", "authenticated", 0, 60),
    );
    let reply = call("GET", "/profiles", &expired, &[], None);
    assert_eq!((reply.status, reply.json["code"].as_str()), (401, Some("PGRST303")));
}

/// The delay knob's own requests are never delayed. A rule's texts are in the body that sets it: a rule set while
/// another was in force matched its own request, which took its count and waited its delay, so a `times: 1` rule was
/// gone before the request it was meant for.
#[test]
fn the_delay_knobs_own_requests_are_never_delayed() {
    let (other, own) = (Uuid::new_v4().to_string(), Uuid::new_v4().to_string());
    let _rules = (e2e::DatabaseDelay(vec![other.clone()]), e2e::DatabaseDelay(vec![own.clone()]));
    e2e::database_delay(&[&other], 3_000, None);
    let started = std::time::Instant::now();
    e2e::database_delay(&[&own], 3_000, Some(1));
    assert!(started.elapsed() < std::time::Duration::from_millis(1_500), "setting took {:?}", started.elapsed());
    let rule = e2e::database_delay_rule(&[&own]).expect("the rule waits for its request");
    assert_eq!(rule["times"], json!(1), "{rule}");
}
