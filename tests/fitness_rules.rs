//! The fitness rules of the additions of 2026-12-01, end to end through the Worker, the objects and Postgres: who
//! may post a score, the scoring modes, fair-day clocks and the caller's local today, typed-in samples, held days and
//! their review, and the grace period after the end.

use std::time::Duration;

use e2e::{base_url, join, rfc3339, send, service_token, sql, user_token, Reply};
use serde_json::{json, Value};
use uuid::Uuid;

const DAY: i64 = 86_400;

fn now() -> i64 {
    local::token::now()
}

/// The date `offset_secs` ahead of UTC now, as `YYYY-MM-DD`.
fn date_at(offset_secs: i64) -> String {
    rfc3339(now() + offset_secs)[..10].to_owned()
}

fn as_user(method: &str, path: &str, user: &Uuid, body: Option<&Value>) -> Reply {
    send(method, &format!("{}{path}", base_url()), &[("Authorization", &format!("Bearer {}", user_token(user)))], body)
}

fn as_admin(method: &str, path: &str, body: Option<&Value>) -> Reply {
    send(method, &format!("{}{path}", base_url()), &[("Authorization", &format!("Bearer {}", service_token()))], body)
}

/// A competition created through the Worker: running from a day ago for a week, with `rules` over the defaults.
fn competition(rules: Value) -> (Uuid, Value) {
    let mut body = json!({
        "name": "rules", "metric": "steps", "prize_pool": 1000, "payout": [10000],
        "starts_at": rfc3339(now() - DAY), "ends_at": rfc3339(now() + 7 * DAY),
    });
    for (key, value) in rules.as_object().expect("object") {
        body[key] = value.clone();
    }
    let reply = as_admin("POST", "/api/v1/competitions", Some(&body));
    assert_eq!(reply.status, 201, "{body}: {:?}", reply.json);
    (reply.json["id"].as_str().and_then(|id| Uuid::try_parse(id).ok()).expect("id"), reply.json)
}

fn sync(user: &Uuid, body: Value) -> Reply {
    let reply = as_user("POST", "/api/v1/fitness/sync", user, Some(&body));
    assert_eq!(reply.status, 200, "{body}: {:?}", reply.json);
    reply
}

fn score_in(reply: &Reply, competition: &Uuid) -> Option<i64> {
    reply.json["competitions"].as_array()?.iter().find(|c| c["competition_id"] == competition.to_string())?["score"]
        .as_i64()
}

fn board_score(competition: &Uuid, user: &Uuid) -> Option<i64> {
    let reply = as_user("GET", &format!("/api/v1/leaderboard/{competition}/users/{user}"), user, None);
    (reply.status == 200).then(|| reply.json["score"].as_i64()).flatten()
}

#[test]
fn fitness_competitions_are_scored_by_the_server_and_corrected_by_administrators() {
    let (fitness, shown) = competition(json!({}));
    assert_eq!(
        (&shown["score_source"], &shown["scoring"], &shown["clock"], &shown["grace_hours"], &shown["allow_manual"]),
        (&json!("fitness"), &json!({"mode": "total"}), &json!("participant"), &json!(24), &json!(false)),
        "the defaults: {shown:?}"
    );
    let member = Uuid::new_v4();
    join(&fitness, &member);
    let posted =
        as_user("POST", "/api/v1/leaderboard/update", &member, Some(&json!({"competition_id": fitness, "score": 5})));
    assert_eq!((posted.status, posted.json["error"]["code"].as_str()), (403, Some("forbidden")), "{:?}", posted.json);
    let foreign = json!({"competition_id": fitness, "score": 5, "user_id": Uuid::new_v4()});
    assert_eq!(as_user("POST", "/api/v1/leaderboard/update", &member, Some(&foreign)).status, 403);

    let correction = json!({"competition_id": fitness, "score": 1234, "user_id": member});
    let corrected = as_admin("POST", "/api/v1/leaderboard/update", Some(&correction));
    assert_eq!((corrected.status, corrected.json["user_id"].clone()), (200, json!(member)), "{:?}", corrected.json);
    assert_eq!(board_score(&fitness, &member), Some(1234));
    // The member's next sync computes their total from their days again.
    let synced = sync(&member, json!({"source": "healthkit", "samples": [{"date": date_at(0), "steps": 800}]}));
    assert_eq!((score_in(&synced, &fitness), board_score(&fitness, &member)), (Some(800), Some(800)));

    let (client, shown) = competition(json!({"score_source": "client"}));
    assert_eq!(shown["grace_hours"], 0, "client competitions finish at ends_at");
    join(&client, &member);
    let own =
        as_user("POST", "/api/v1/leaderboard/update", &member, Some(&json!({"competition_id": client, "score": 7})));
    assert_eq!(own.status, 200, "{:?}", own.json);
}

#[test]
fn rules_are_validated_field_by_field() {
    let base = json!({"name": "r", "metric": "steps", "starts_at": rfc3339(now()), "ends_at": rfc3339(now() + DAY)});
    let cases = [
        (json!({"score_source": "oracle"}), "score_source"),
        (json!({"score_source": "client", "grace_hours": 2}), "grace_hours"),
        (json!({"grace_hours": 73}), "grace_hours"),
        (json!({"clock": "Mars/Olympus_Mons"}), "clock"),
        (json!({"clock": "BST"}), "clock"),
        (json!({"scoring": {"mode": "daily_capped"}}), "scoring"),
        (json!({"scoring": {"mode": "goal_days", "goal": 0}}), "scoring"),
        (json!({"scoring": {"mode": "median"}}), "scoring"),
    ];
    for (rules, field) in cases {
        let mut body = base.clone();
        for (key, value) in rules.as_object().expect("object") {
            body[key] = value.clone();
        }
        let reply = as_admin("POST", "/api/v1/competitions", Some(&body));
        assert_eq!(reply.status, 422, "{rules}: {:?}", reply.json);
        let fields: Vec<&str> = reply.json["error"]["details"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["field"].as_str())
            .collect();
        assert_eq!(fields, [field], "{rules}");
    }
    let (_, shown) = competition(json!({"clock": "Europe/Berlin", "scoring": {"mode": "goal_days", "goal": 10000},
                                        "allow_manual": true, "grace_hours": 0}));
    assert_eq!(
        (&shown["clock"], &shown["scoring"]["goal"], &shown["grace_hours"]),
        (&json!("Europe/Berlin"), &json!(10000), &json!(0))
    );
}

#[test]
fn each_scoring_mode_sums_the_same_days_its_own_way() {
    let walker = Uuid::new_v4();
    let modes = [
        (json!({"mode": "total"}), 13_000),
        (json!({"mode": "daily_capped", "cap": 5000}), 9_000),
        (json!({"mode": "goal_days", "goal": 8000}), 1),
        (json!({"mode": "best_day"}), 9_000),
    ];
    let ids: Vec<Uuid> = modes.iter().map(|(scoring, _)| competition(json!({"scoring": scoring})).0).collect();
    for id in &ids {
        join(id, &walker);
    }
    let reply = sync(
        &walker,
        json!({"source": "healthkit", "samples": [
        {"date": date_at(-DAY), "steps": 9000}, {"date": date_at(0), "steps": 4000}]}),
    );
    for (id, (scoring, expected)) in ids.iter().zip(&modes) {
        assert_eq!(score_in(&reply, id), Some(*expected), "{scoring}: {:?}", reply.json);
        assert_eq!(board_score(id, &walker), Some(*expected), "{scoring}");
    }
}

#[test]
fn typed_in_samples_count_only_where_allowed_and_at_most_the_manual_cap() {
    let walker = Uuid::new_v4();
    let (strict, _) = competition(json!({}));
    let (lenient, _) = competition(json!({"allow_manual": true}));
    join(&strict, &walker);
    join(&lenient, &walker);
    let manual = sync(&walker, json!({"source": "manual", "samples": [{"date": date_at(-DAY), "steps": 30_000}]}));
    assert_eq!((score_in(&manual, &strict), score_in(&manual, &lenient)), (Some(0), Some(20_000)), "{:?}", manual.json);
    let entered = sync(
        &walker,
        json!({"source": "health_connect", "samples": [
        {"date": date_at(0), "steps": 15_000, "user_entered": true}]}),
    );
    assert_eq!((score_in(&entered, &strict), score_in(&entered, &lenient)), (Some(0), Some(35_000)));
    let walked = sync(&walker, json!({"source": "garmin", "samples": [{"date": date_at(0), "steps": 12_000}]}));
    assert_eq!(
        (score_in(&walked, &strict), score_in(&walked, &lenient)),
        (Some(12_000), Some(35_000)),
        "the largest counted value of the day, never the sum"
    );
    // A typed-in day far above the review threshold is capped first, so it is not held: nothing for a reviewer to
    // reject (which would have zeroed the 12 000 steps recorded beside it).
    let typed = sync(&walker, json!({"source": "manual", "samples": [{"date": date_at(0), "steps": 90_000}]}));
    assert_eq!(typed.json["held"], json!([]), "{:?}", typed.json);
    assert_eq!((score_in(&typed, &strict), score_in(&typed, &lenient)), (Some(12_000), Some(40_000)));
    let date = &date_at(0)[..10];
    let decided =
        as_admin("POST", &format!("/api/v1/admin/holds/{walker}/{date}"), Some(&json!({"decision": "reject"})));
    assert_eq!(decided.status, 404, "no hold to decide: {:?}", decided.json);
}

#[test]
fn a_day_above_the_review_threshold_is_held_until_an_administrator_decides() {
    let walker = Uuid::new_v4();
    let (id, _) = competition(json!({}));
    join(&id, &walker);
    let date = date_at(-DAY);
    let reply = sync(
        &walker,
        json!({"source": "healthkit", "samples": [
        {"date": date, "steps": 75_000}, {"date": date_at(0), "steps": 1000, "active_minutes": 700}]}),
    );
    assert_eq!(
        reply.json["held"],
        json!([{"index": 0, "metric": "steps", "value": 75_000}, {"index": 1, "metric": "active_minutes", "value": 700}]),
        "{:?}",
        reply.json
    );
    assert_eq!(reply.json["accepted"], 2);
    assert_eq!(score_in(&reply, &id), Some(61_000), "held: counts as the review threshold");

    let pending = as_admin("GET", "/api/v1/admin/holds?status=pending", None);
    assert_eq!(pending.status, 200, "{:?}", pending.json);
    let mine: Vec<&Value> = pending.json["holds"]
        .as_array()
        .expect("holds")
        .iter()
        .filter(|h| h["user_id"] == json!(walker) && h["date"] == json!(date))
        .collect();
    assert_eq!(mine.len(), 1, "{:?}", pending.json);
    assert_eq!(
        (
            &mine[0]["date"],
            &mine[0]["source"],
            &mine[0]["metric"],
            &mine[0]["value"],
            &mine[0]["status"],
            &mine[0]["counted"]
        ),
        (&json!(date), &json!("healthkit"), &json!("steps"), &json!(75_000), &json!("pending"), &json!(60_000))
    );
    assert_eq!(as_user("GET", "/api/v1/admin/holds", &walker, None).status, 403, "reviews are for administrators");

    let path = format!("/api/v1/admin/holds/{walker}/{date}");
    let approved = as_admin("POST", &path, Some(&json!({"decision": "approve"})));
    assert_eq!(
        (approved.status, &approved.json["status"], &approved.json["counted"]),
        (200, &json!("approved"), &json!(75_000)),
        "{:?}",
        approved.json
    );
    assert_eq!(board_score(&id, &walker), Some(76_000), "approved: counts in full, live");
    // The phone sends the day again unchanged: it keeps its decision, so the reply does not call it held.
    let resent = sync(&walker, json!({"source": "healthkit", "samples": [{"date": date, "steps": 75_000}]}));
    assert_eq!((&resent.json["held"], score_in(&resent, &id)), (&json!([]), Some(76_000)), "{:?}", resent.json);
    // Again with the day's calories, below their threshold, added: the held steps are as approved, so is the day.
    let more =
        sync(&walker, json!({"source": "healthkit", "samples": [{"date": date, "steps": 75_000, "calories": 2_500}]}));
    assert_eq!((&more.json["held"], score_in(&more, &id)), (&json!([]), Some(76_000)), "{:?}", more.json);
    // A second device reports the same day a little lower: the approval saw more, so it stands.
    let watch = sync(&walker, json!({"source": "garmin", "samples": [{"date": date, "steps": 72_000}]}));
    assert_eq!((&watch.json["held"], score_in(&watch, &id)), (&json!([]), Some(76_000)), "{:?}", watch.json);
    // Above what was approved, it is reviewed again (counting the threshold meanwhile).
    let raised = sync(&walker, json!({"source": "garmin", "samples": [{"date": date, "steps": 76_000}]}));
    assert_eq!(raised.json["held"], json!([{"index": 0, "metric": "steps", "value": 76_000}]), "{:?}", raised.json);
    assert_eq!(score_in(&raised, &id), Some(61_000));
    let approved = as_admin("POST", &path, Some(&json!({"decision": "approve"})));
    assert_eq!((approved.status, &approved.json["counted"]), (200, &json!(76_000)), "{:?}", approved.json);
    // `counted` is what the day counts (API.md, clarifications): the largest of its sources, on each source's hold.
    let shown: Vec<(&Value, &Value, &Value)> = approved.json["holds"]
        .as_array()
        .expect("holds")
        .iter()
        .map(|h| (&h["source"], &h["value"], &h["counted"]))
        .collect();
    assert_eq!(
        shown,
        [(&json!("garmin"), &json!(76_000), &json!(76_000)), (&json!("healthkit"), &json!(75_000), &json!(76_000))],
        "{:?}",
        approved.json
    );
    let again = as_admin("POST", &path, Some(&json!({"decision": "approve"})));
    assert_eq!((again.status, &again.json["status"]), (200, &json!("approved")), "the same decision is a no-op");
    let rejected = as_admin("POST", &path, Some(&json!({"decision": "reject"})));
    assert_eq!((rejected.status, &rejected.json["counted"]), (200, &json!(0)));
    assert_eq!(board_score(&id, &walker), Some(1000), "rejected: the day counts 0 for steps");
    let resent = sync(&walker, json!({"source": "healthkit", "samples": [{"date": date, "steps": 75_000}]}));
    assert_eq!((&resent.json["held"], score_in(&resent, &id)), (&json!([]), Some(1000)), "{:?}", resent.json);
    // Nor does a change to a metric that was not held lift a rejection.
    let more =
        sync(&walker, json!({"source": "healthkit", "samples": [{"date": date, "steps": 75_000, "calories": 3_000}]}));
    assert_eq!((&more.json["held"], score_in(&more, &id)), (&json!([]), Some(1000)), "{:?}", more.json);
    // A changed value reopens the review: held again, counting as the threshold.
    let changed = sync(&walker, json!({"source": "healthkit", "samples": [{"date": date, "steps": 74_000}]}));
    assert_eq!(changed.json["held"], json!([{"index": 0, "metric": "steps", "value": 74_000}]), "{:?}", changed.json);
    assert_eq!(score_in(&changed, &id), Some(61_000));
    let rejected = as_admin("POST", &path, Some(&json!({"decision": "reject"})));
    assert_eq!((rejected.status, &rejected.json["counted"]), (200, &json!(0)));
    let listed = as_admin("GET", "/api/v1/admin/holds?status=rejected", None);
    assert!(listed.json["holds"].as_array().expect("holds").iter().any(|h| h["user_id"] == json!(walker)));

    assert_eq!(
        as_admin("POST", &format!("/api/v1/admin/holds/{walker}/2020-01-01"), Some(&json!({"decision": "approve"})))
            .status,
        404
    );
    assert_eq!(as_admin("POST", &path, Some(&json!({"decision": "maybe"}))).status, 422);
    assert_eq!(as_admin("GET", "/api/v1/admin/holds?status=lost", None).status, 422);
    // A sample above the hard cap is still rejected alone.
    let hard = sync(&walker, json!({"source": "healthkit", "samples": [{"date": date, "steps": 100_001}]}));
    assert_eq!(hard.json["rejected"][0]["index"], 0);
}

/// Waits until the object's outbox has delivered `user`'s score in `competition` to Postgres (`public.scores`).
fn wait_for_delivery(competition: &Uuid, user: &Uuid) {
    let delivered =
        format!("SELECT count(*) FROM public.scores WHERE competition_id = '{competition}' AND user_id = '{user}'");
    e2e::eventually(Duration::from_secs(15), || {
        (e2e::stack(&["psql", "-tAc", &delivered]).1.trim() == "1").then_some(())
    })
    .expect("the score reaches Postgres");
}

/// A decision is stored in the database first and then written to the boards. When the writes fail (an object
/// unreachable for a moment: here the database's step is called alone) the administrator gets 503 and retries with the
/// same decision, which changes nothing in the database; it used to write nothing either, so the board kept counting
/// the day as held until the member's next sync.
#[test]
fn the_same_decision_again_moves_a_board_the_first_one_did_not_reach() {
    let walker = Uuid::new_v4();
    let (id, _) = competition(json!({"clock": "UTC"}));
    join(&id, &walker);
    let date = date_at(0);
    let held = sync(&walker, json!({"source": "healthkit", "samples": [{"date": date, "steps": 70_000}]}));
    assert_eq!(score_in(&held, &id), Some(60_000), "held: {:?}", held.json);
    // The retry rewrites the boards Postgres knows the member is on: wait for the outbox to deliver the score there.
    wait_for_delivery(&id, &walker);

    let stored = send(
        "POST",
        &format!("{}/rpc/decide_hold", e2e::rest_url()),
        &[("Authorization", &format!("Bearer {}", service_token()))],
        Some(&json!({"p_user": walker, "p_day": date, "p_decision": "approved"})),
    );
    assert_eq!(stored.status, 200, "{:?}", stored.json);
    assert_eq!(board_score(&id, &walker), Some(60_000), "the board did not hear of it");

    let path = format!("/api/v1/admin/holds/{walker}/{date}");
    let again = as_admin("POST", &path, Some(&json!({"decision": "approve"})));
    assert_eq!((again.status, &again.json["status"]), (200, &json!("approved")), "{:?}", again.json);
    assert_eq!(score_in(&again, &id), Some(70_000), "{:?}", again.json);
    assert_eq!(board_score(&id, &walker), Some(70_000));
    let once_more = as_admin("POST", &path, Some(&json!({"decision": "approve"})));
    assert_eq!((once_more.status, score_in(&once_more, &id)), (200, Some(70_000)), "nothing moves twice");
}

/// Deciding a hold twice is a no-op (API.md), also where the member's score was corrected after the decision: the
/// repeated decision (a retry of one whose writes failed) rewrites the boards that hold the member at their current
/// days version, and a board's version can lag it — a moved end of another competition raises the version and
/// rescores that one alone — so the retry replaced the correction.
#[test]
fn the_same_decision_again_leaves_a_later_correction_standing() {
    let walker = Uuid::new_v4();
    let (corrected, _) = competition(json!({"clock": "UTC"}));
    let (moved, _) = competition(json!({"clock": "UTC"}));
    join(&corrected, &walker);
    join(&moved, &walker);
    let date = date_at(0);
    sync(&walker, json!({"source": "healthkit", "samples": [{"date": date, "steps": 70_000}]}));
    let path = format!("/api/v1/admin/holds/{walker}/{date}");
    let approved = as_admin("POST", &path, Some(&json!({"decision": "approve"})));
    assert_eq!(score_in(&approved, &corrected), Some(70_000), "{:?}", approved.json);
    // The repeated decision rewrites the boards Postgres knows the member is on: wait for the delivery there.
    wait_for_delivery(&corrected, &walker);
    // Today is near the moved end, so the member's days version rises and that competition alone is rescored.
    let end =
        as_admin("PATCH", &format!("/api/v1/competitions/{moved}"), Some(&json!({"ends_at": rfc3339(now() + 3600)})));
    assert_eq!(end.status, 200, "{:?}", end.json);
    let body = json!({"competition_id": corrected, "user_id": walker, "score": 1_234});
    let correction = as_admin("POST", "/api/v1/leaderboard/update", Some(&body));
    assert_eq!((correction.status, &correction.json["score"]), (200, &json!(1_234)), "{:?}", correction.json);

    let again = as_admin("POST", &path, Some(&json!({"decision": "approve"})));
    assert_eq!((again.status, score_in(&again, &corrected)), (200, None), "{:?}", again.json);
    assert_eq!(board_score(&corrected, &walker), Some(1_234), "the correction stands");
    assert_eq!(board_score(&moved, &walker), Some(70_000));
}

#[test]
fn the_callers_zone_decides_their_today_and_their_days() {
    let walker = Uuid::new_v4();
    let profile = as_user("GET", "/api/v1/me", &walker, None);
    assert_eq!(profile.json["time_zone"], "UTC", "{:?}", profile.json);
    assert_eq!(as_user("PATCH", "/api/v1/me", &walker, Some(&json!({"time_zone": "Atlantis/Capital"}))).status, 422);
    let patched = as_user("PATCH", "/api/v1/me", &walker, Some(&json!({"time_zone": "America/Chicago"})));
    assert_eq!((patched.status, &patched.json["time_zone"]), (200, &json!("America/Chicago")), "{:?}", patched.json);

    // At UTC+14 (Etc/GMT-14) today is the UTC date 14 hours from now; the day after it is in the future there.
    let east = json!({"source": "healthkit", "time_zone": "Etc/GMT-14", "samples": [
        {"date": date_at(14 * 3600), "steps": 100}, {"date": date_at(14 * 3600 + DAY), "steps": 100}]});
    let reply = sync(&walker, east);
    assert_eq!(reply.json["accepted"], 1, "{:?}", reply.json);
    assert_eq!(reply.json["rejected"], json!([{"index": 1, "reason": "future_date"}]));
    assert_eq!(as_user("GET", "/api/v1/me", &walker, None).json["time_zone"], "Etc/GMT-14", "the sync set the zone");
    // Three years back is the oldest date stored (a bound on what one account can store).
    let old = json!({"source": "healthkit", "samples": [
        {"date": date_at(-(3 * 365 - 1) * DAY), "steps": 100}, {"date": date_at(-4 * 365 * DAY), "steps": 100},
        {"date": "0001-01-01", "steps": 100}]});
    let reply = sync(&walker, old);
    assert_eq!(reply.json["accepted"], 1, "{:?}", reply.json);
    assert_eq!(reply.json["rejected"], json!([{"index": 1, "reason": "too_old"}, {"index": 2, "reason": "too_old"}]));
    let bad = as_user(
        "POST",
        "/api/v1/fitness/sync",
        &walker,
        Some(&json!({"source": "healthkit", "time_zone": "Nowhere", "samples": []})),
    );
    assert_eq!(bad.status, 422);
}

/// The database judges `future_date` by the member's zone as a zone, as the Worker counts their days: CET, EET, MET
/// and WET are also abbreviations of fixed offsets in PostgreSQL, which `AT TIME ZONE` preferred, so a summer night's
/// first hour was still yesterday there. The instants are pinned, so the summer cases run in any season.
#[test]
fn the_databases_local_today_is_the_zones_date() {
    let cases = [
        ("CET", "2026-07-01T22:30:00Z", "2026-07-02"),
        ("MET", "2026-07-01T22:30:00Z", "2026-07-02"),
        ("EET", "2026-07-01T21:30:00Z", "2026-07-02"),
        ("WET", "2026-07-01T23:30:00Z", "2026-07-02"),
        ("cet", "2026-12-01T22:30:00Z", "2026-12-01"),
        ("Europe/Berlin", "2026-07-01T22:30:00Z", "2026-07-02"),
        ("America/New_York", "2026-03-08T04:30:00Z", "2026-03-07"),
        ("Pacific/Kiritimati", "2026-12-01T10:00:00Z", "2026-12-02"),
        ("Etc/GMT+12", "2026-12-01T11:30:00Z", "2026-11-30"),
        ("UTC", "2026-12-01T23:59:59Z", "2026-12-01"),
    ];
    for (zone, at, today) in cases {
        let (ok, text) = e2e::stack(&["psql", "-tA", "-c", &format!("SELECT public.local_today('{zone}', '{at}')")]);
        assert!(ok, "{text}");
        assert_eq!(text.trim(), today, "{zone} at {at}");
    }
    // The session's own setting is back when the function returns.
    let (ok, text) = e2e::stack(&[
        "psql",
        "-tA",
        "-c",
        "SET TimeZone = 'UTC'; SELECT public.local_today('CET'); SELECT current_setting('TimeZone')",
    ]);
    assert!(ok, "{text}");
    assert_eq!(text.trim().lines().last(), Some("UTC"), "{text}");
}

/// Phones sync whether or not their owner is in a competition: joining a running one counts the days already stored
/// at once; a member with no counted days stays off the board.
#[test]
fn days_synced_before_joining_count_from_the_join() {
    let (competition, _) = competition(json!({}));
    let (walker, idle) = (Uuid::new_v4(), Uuid::new_v4());
    let early = sync(
        &walker,
        json!({"source": "healthkit", "samples": [
        {"date": date_at(-DAY), "steps": 1000}, {"date": date_at(0), "steps": 2000}]}),
    );
    assert_eq!(early.json["competitions"], json!([]), "not a member yet");
    join(&competition, &walker);
    join(&competition, &idle);
    assert_eq!(board_score(&competition, &walker), Some(3000), "both days are inside the window");
    assert_eq!(board_score(&competition, &idle), None);
    let board = as_user("GET", &format!("/api/v1/leaderboard/{competition}"), &idle, None);
    assert_eq!((board.json["total"].clone(), board.json["entries"][0]["user_id"].clone()), (json!(1), json!(walker)));
    assert_eq!(as_user("GET", &format!("/api/v1/leaderboard/{competition}/me"), &idle, None).status, 404);
}

/// Days stored before a competition starts count from the start, not from each member's next sync: the object's
/// alarm at the start writes every member's total from their stored days, and subscribers see it arrive. A fixed
/// clock at UTC−12 makes today's UTC date count whatever the hour (its day runs until noon UTC of tomorrow), and the
/// date two days back never count.
#[test]
fn days_stored_before_the_start_count_from_the_start() {
    let competition = e2e::create_competition_with(8, 7 * DAY, json!({"clock": "Etc/GMT+12"}));
    let (walker, idle) = (Uuid::new_v4(), Uuid::new_v4());
    join(&competition, &walker);
    join(&competition, &idle);
    let (mut socket, _) = e2e::connect_live(&competition, &idle, true);
    // The start's frame comes about 8 s after the competition was made, later on a busy machine.
    if let tungstenite::stream::MaybeTlsStream::Plain(stream) = socket.get_ref() {
        stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    }
    assert_eq!(e2e::next_json(&mut socket)["total"], json!(0), "nobody on the board before the start");
    let early = sync(
        &walker,
        json!({"source": "healthkit", "samples": [
        {"date": date_at(-2 * DAY), "steps": 9000}, {"date": date_at(0), "steps": 4000}]}),
    );
    assert_eq!(early.json["competitions"], json!([]), "synced before the start: {:?}", early.json);
    sync(&idle, json!({"source": "healthkit", "samples": [{"date": date_at(-2 * DAY), "steps": 5000}]}));
    let status = as_user("GET", &format!("/api/v1/competitions/{competition}"), &walker, None);
    assert_eq!(status.json["status"], json!("upcoming"), "{:?}", status.json);
    let due = || as_admin("GET", &format!("/api/v1/admin/competitions/{competition}/stats"), None).json;
    assert_eq!(due()["start_totals_due"], json!(true), "the operator sees the start's totals ahead: {:?}", due());

    let frame = e2e::next_json(&mut socket);
    assert_eq!(
        (&frame["type"], &frame["user_id"], &frame["score"], &frame["rank"]),
        (&json!("update"), &json!(walker), &json!(4000), &json!(1)),
        "the start's total reaches the subscribers: {frame}"
    );
    assert_eq!(board_score(&competition, &walker), Some(4000), "only the day inside the window counts");
    let done = e2e::eventually(Duration::from_secs(10), || (due()["start_totals_due"] == json!(false)).then_some(()));
    assert!(done.is_some(), "written once: {:?}", due());
    assert_eq!(board_score(&competition, &idle), None, "no counted day: off the board until one counts");
    let board = as_user("GET", &format!("/api/v1/leaderboard/{competition}"), &idle, None);
    assert_eq!(board.json["total"], json!(1), "{:?}", board.json);
    let stored = e2e::eventually(Duration::from_secs(15), || {
        let rows = e2e::stored_scores(&competition);
        (!rows.is_empty()).then_some(rows)
    });
    let stored: Vec<(String, i64)> =
        stored.unwrap_or_default().into_iter().map(|(user, score, _)| (user, score)).collect();
    assert_eq!(stored, [(walker.to_string(), 4000)], "the system of record gets the start's total too");
}

/// A competition starting in 4 s on a fixed clock at UTC−12 (today's UTC date counts whatever the hour), and a member
/// who joined it and stored 4 000 steps for today before the start.
fn starting_with_a_walker() -> (Uuid, Uuid) {
    starting_with_a_walker_in(4)
}

/// [`starting_with_a_walker`], the start `secs` away.
fn starting_with_a_walker_in(secs: i64) -> (Uuid, Uuid) {
    let competition = e2e::create_competition_with(secs, 7 * DAY, json!({"clock": "Etc/GMT+12"}));
    let walker = Uuid::new_v4();
    join(&competition, &walker);
    sync(&walker, json!({"source": "healthkit", "samples": [{"date": date_at(0), "steps": 4000}]}));
    (competition, walker)
}

/// Holds back the database's answers to the competition's start totals (`rpc/rescore_members`, `times` of them by
/// `ms` each) and waits until the competition shows `active`; the rule goes when the guard is dropped.
fn hold_start_totals_until_it_starts(competition: &Uuid, member: &Uuid, ms: u64, times: u64) -> e2e::DatabaseDelay {
    let totals_read = ["rpc/rescore_members".to_owned(), competition.to_string()];
    let texts: Vec<&str> = totals_read.iter().map(String::as_str).collect();
    e2e::database_delay(&texts, ms, Some(times));
    let undo = e2e::DatabaseDelay(totals_read.to_vec());
    let started = e2e::eventually(Duration::from_secs(20), || {
        let status = as_user("GET", &format!("/api/v1/competitions/{competition}"), member, None);
        (status.json["status"] == json!("active")).then_some(())
    });
    assert!(started.is_some(), "the competition starts");
    undo
}

/// The start's totals are on the board for whoever reads it once the competition shows `active`, even while the
/// object's alarm still waits for the database's answer (held back here): the read writes them first — one read of
/// the database for all of them, however many requests arrive while it is out.
#[test]
fn a_board_read_at_the_start_shows_the_days_stored_before_it() {
    let (competition, walker) = starting_with_a_walker();
    let id = competition.to_string();
    let totals_read = ["rpc/rescore_members", id.as_str()];
    let _undo = hold_start_totals_until_it_starts(&competition, &walker, 2_500, 50);
    let readers: Vec<_> = (0..8).map(|_| std::thread::spawn(move || board_score(&competition, &walker))).collect();
    for reader in readers {
        assert_eq!(reader.join().expect("reader"), Some(4000), "the day stored before the start counts at once");
    }
    let rule = e2e::database_delay_rule(&totals_read).expect("the rule still waits for requests");
    let reads = 50 - rule["times"].as_u64().expect("times");
    assert!((1..=2).contains(&reads), "the totals were read {reads} times for 8 readers and the alarm");
}

/// The start's totals are read and written a page of members at a time, and a competition with many members takes
/// seconds for it (under 2 s for 20 000 on this machine, `scripts/bench-totals-pass`; more on a slow database). Board
/// reads, score writes and joins wait for that pass at most 5 s and then go on with the board as it is, instead of
/// being held for the whole pass (three pages held back 4 s each here, 12 s in all); the pass still puts everyone on
/// the board.
#[test]
fn reads_syncs_and_joins_at_the_start_wait_for_a_long_totals_pass_at_most_five_seconds() {
    let (competition, walker) = starting_with_a_walker();
    seed_members_with_a_day(&competition, SEEDED);
    let _undo = hold_start_totals_until_it_starts(&competition, &walker, 4_000, 3);

    let began = std::time::Instant::now();
    let page = as_user("GET", &format!("/api/v1/leaderboard/{competition}?limit=1"), &walker, None);
    let read_took = began.elapsed();
    assert_eq!(page.status, 200, "{:?}", page.json);
    let began = std::time::Instant::now();
    let synced = sync(&walker, json!({"source": "healthkit", "samples": [{"date": date_at(0), "steps": 5000}]}));
    let sync_took = began.elapsed();
    let (newcomer, began) = (Uuid::new_v4(), std::time::Instant::now());
    join(&competition, &newcomer);
    let join_took = began.elapsed();
    assert!(read_took < Duration::from_secs(8), "a board read waited {read_took:?} for the start's totals");
    assert!(sync_took < Duration::from_secs(8), "a sync waited {sync_took:?} for the start's totals");
    assert!(join_took < Duration::from_secs(8), "a join waited {join_took:?} for the start's totals");
    assert_eq!(score_in(&synced, &competition), Some(5000), "{:?}", synced.json);

    let everyone = e2e::eventually(Duration::from_secs(30), || {
        let page = as_user("GET", &format!("/api/v1/leaderboard/{competition}?limit=1"), &walker, None);
        (page.json["total"] == json!(SEEDED + 1)).then_some(())
    });
    assert!(everyone.is_some(), "the pass puts every member with a day on the board");
    assert_eq!(board_score(&competition, &walker), Some(5000), "the sync during the pass stands");
}

/// The members the start's pass reads a page (`TOTALS_PAGE` in `src/adapters/score_history.rs`).
const TOTALS_PAGE: usize = 200;

/// Seeded members of the tests of a long pass: with the walker, three pages (`TOTALS_PAGE`, `TOTALS_PAGE` and 51).
const SEEDED: usize = 2 * TOTALS_PAGE + 50;

/// `count` more members of `competition` with a day stored before the start, named `seeded`, made in SQL: with the
/// walker, the start's pass reads `count + 1` members, a page of `TOTALS_PAGE` at a time.
fn seed_members_with_a_day(competition: &Uuid, count: usize) {
    let seed = format!(
        "BEGIN; CREATE TEMP TABLE seeded AS SELECT gen_random_uuid() AS id FROM generate_series(1, {count}); \
         INSERT INTO auth.users (id) SELECT id FROM seeded; \
         INSERT INTO public.profiles (user_id, display_name) SELECT id, 'seeded' FROM seeded; \
         INSERT INTO public.memberships (competition_id, user_id) SELECT '{competition}', id FROM seeded; \
         INSERT INTO public.fitness_days (user_id, source, day, steps) \
           SELECT id, 'healthkit', '{}', 1000 FROM seeded; COMMIT;",
        date_at(0)
    );
    let (seeded, output) = e2e::stack(&["psql", "-tAc", &seed]);
    assert!(seeded, "{output}");
}

/// The seeded members' days versions in user-id order (the start's pass raises each member's version as it reads
/// them).
fn seeded_versions(competition: &Uuid) -> Vec<i64> {
    let query = format!(
        "SELECT p.days_version FROM public.memberships m JOIN public.profiles p ON p.user_id = m.user_id \
         WHERE m.competition_id = '{competition}' AND p.display_name = 'seeded' ORDER BY m.user_id"
    );
    let (read, output) = e2e::stack(&["psql", "-tAc", &query]);
    assert!(read, "{output}");
    output.lines().map(|line| line.trim().parse().expect("a version")).collect()
}

/// A read that fails in the middle of the start's pass (the database's answer to the second page comes after the
/// object's 5 s budget) does not start the pass over: the retry goes on from that page, so the members of the page
/// before it are read once, as those of the page after it are (each read raises a member's days version).
#[test]
fn a_failed_read_in_the_starts_pass_is_retried_from_its_page_not_from_the_first() {
    let (competition, walker) = starting_with_a_walker();
    seed_members_with_a_day(&competition, SEEDED);
    // The second page starts after the first page's last member in user-id order (every member has a day).
    let query = format!(
        "SELECT user_id FROM public.memberships WHERE competition_id = '{competition}' ORDER BY user_id \
         OFFSET {} LIMIT 1",
        TOTALS_PAGE - 1
    );
    let (read, output) = e2e::stack(&["psql", "-tAc", &query]);
    assert!(read, "{output}");
    let page_two = ["rpc/rescore_members".to_owned(), output.trim().to_owned()];
    let texts: Vec<&str> = page_two.iter().map(String::as_str).collect();
    e2e::database_hold(&texts, 6_000, Some(1));
    let _undo = e2e::DatabaseDelay(page_two.to_vec());

    let everyone = e2e::eventually(Duration::from_secs(60), || {
        let page = as_user("GET", &format!("/api/v1/leaderboard/{competition}?limit=1"), &walker, None);
        (page.json["total"] == json!(SEEDED + 1)).then_some(())
    });
    assert!(everyone.is_some(), "the retried pass puts every member with a day on the board");
    assert!(!e2e::database_delay_waiting(&texts), "the second page's first read was held back");
    let versions = seeded_versions(&competition);
    assert_eq!(versions.len(), SEEDED);
    // The walker may be on any page: the first page holds one seeded member fewer or none, the last page 51 or 50.
    let (first_page, last_page) = (&versions[..TOTALS_PAGE - 1], &versions[versions.len() - 50..]);
    assert!(
        first_page.iter().chain(last_page).all(|version| *version == last_page[0]),
        "the first page was read again: versions {first_page:?} against the last page's {last_page:?}"
    );
}

/// The start's pass writes a page of members in one event, and its frames leave in one send pass, the page's updates
/// combined in one `updates` frame (API.md lets the server combine consecutive updates under load): a pass costs
/// each socket a frame a page, not one a member, and keeps the object free for the requests waiting on it. Every
/// update still reaches every socket once, in `seq` order.
#[test]
fn sockets_get_the_starts_totals_a_page_in_a_frame_each_update_once_in_order() {
    let (competition, walker) = starting_with_a_walker_in(8);
    seed_members_with_a_day(&competition, SEEDED);
    let sockets: Vec<_> = (0..2).map(|_| e2e::connect_live(&competition, &walker, true).0).collect();
    let readers: Vec<_> = sockets
        .into_iter()
        .map(|mut socket| {
            std::thread::spawn(move || {
                let snapshot = e2e::next_json(&mut socket);
                assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
                assert_eq!(snapshot["total"], json!(0), "the socket opened before the start's pass: {snapshot}");
                let (mut last, mut frames) = (snapshot["seq"].as_u64().expect("seq"), 0);
                let mut members = std::collections::BTreeSet::new();
                while members.len() < SEEDED + 1 {
                    let frame = e2e::next_json(&mut socket);
                    frames += 1;
                    for update in e2e::updates_in(&frame) {
                        assert_eq!(update["seq"].as_u64(), Some(last + 1), "in seq order, none missing: {update}");
                        last += 1;
                        assert!(members.insert(update["user_id"].to_string()), "one update a member: {update}");
                    }
                }
                frames
            })
        })
        .collect();
    for reader in readers {
        let frames = reader.join().expect("reader");
        // Three pages: three frames, and a little room for a page written in two events.
        assert!(frames <= 6, "{} members' totals took {frames} frames", SEEDED + 1);
    }
}

/// An object no join reached (its members were added in Postgres alone, as when every join's call to the object
/// failed) hears of its competition from the first read of its board, and so writes the members' totals at the
/// start: readers see them without anyone syncing, joining, opening a socket or asking for the prizes.
#[test]
fn a_board_read_tells_an_object_no_join_reached_its_competition() {
    let competition = e2e::create_competition_with(4, 7 * DAY, json!({"clock": "Etc/GMT+12"}));
    seed_members_with_a_day(&competition, 3);
    let reader = Uuid::new_v4();
    let everyone = e2e::eventually(Duration::from_secs(30), || {
        let page = as_user("GET", &format!("/api/v1/leaderboard/{competition}?limit=1"), &reader, None);
        (page.json["total"] == json!(3)).then_some(())
    });
    assert!(everyone.is_some(), "the members' stored days reach the board at the start");
}

/// An object that first hears of its competition after the start (every join before it failed to reach the object)
/// writes the members' totals from their stored days at once: a member who synced before the start and never again
/// is on the board without another sync. The clock is the start test's (today's UTC date counts).
#[test]
fn an_object_told_its_competition_only_after_the_start_writes_the_totals_then() {
    let competition = e2e::create_competition_with(3, 7 * DAY, json!({"clock": "Etc/GMT+12"}));
    let (walker, latecomer) = (Uuid::new_v4(), Uuid::new_v4());
    sync(&walker, json!({"source": "healthkit", "samples": [{"date": date_at(0), "steps": 4000}]}));
    // The walker's join reached Postgres but not the object, as when the object could not be reached then.
    let (ok, text) = e2e::stack(&[
        "psql",
        "-tA",
        "-c",
        &format!("INSERT INTO public.memberships (competition_id, user_id) VALUES ('{competition}', '{walker}')"),
    ]);
    assert!(ok, "{text}");
    let started = e2e::eventually(Duration::from_secs(20), || {
        let status = as_user("GET", &format!("/api/v1/competitions/{competition}"), &latecomer, None);
        (status.json["status"] == json!("active")).then_some(())
    });
    assert!(started.is_some(), "the competition starts");

    join(&competition, &latecomer);
    let score = e2e::eventually(Duration::from_secs(15), || board_score(&competition, &walker));
    assert_eq!(score, Some(4000), "the walker's stored day counts without another sync");
    let stats = as_admin("GET", &format!("/api/v1/admin/competitions/{competition}/stats"), None);
    assert_eq!(stats.json["start_totals_due"], json!(false), "{:?}", stats.json);
    assert_eq!(board_score(&competition, &latecomer), None, "no counted day: off the board");
}

/// A member's own zone decides which of their days a `participant` clock counts: changing it with `PATCH /me`
/// rescores them at once, as a sync naming the zone does; a competition on a fixed clock is not moved by it.
#[test]
fn a_new_zone_in_the_profile_rescores_the_members_own_days() {
    let midnight = now() - now().rem_euclid(DAY);
    let window = json!({"starts_at": rfc3339(midnight), "ends_at": rfc3339(midnight + 7 * DAY)});
    let (own, _) = competition(window.clone());
    let mut fixed = window;
    fixed["clock"] = json!("UTC");
    let (utc, _) = competition(fixed);
    let walker = Uuid::new_v4();
    join(&own, &walker);
    join(&utc, &walker);
    let body = json!({"source": "healthkit", "samples": [
        {"date": date_at(-DAY), "steps": 1000}, {"date": date_at(0), "steps": 2000}]});
    let reply = sync(&walker, body);
    // In UTC yesterday ended when the window began.
    assert_eq!((score_in(&reply, &own), score_in(&reply, &utc)), (Some(2000), Some(2000)), "{:?}", reply.json);
    // At UTC−12 yesterday runs until noon UTC of today, inside the window.
    let patched = as_user("PATCH", "/api/v1/me", &walker, Some(&json!({"time_zone": "Etc/GMT+12"})));
    assert_eq!((patched.status, &patched.json["time_zone"]), (200, &json!("Etc/GMT+12")), "{:?}", patched.json);
    assert_eq!((board_score(&own, &walker), board_score(&utc, &walker)), (Some(3000), Some(2000)));
    let renamed = as_user("PATCH", "/api/v1/me", &walker, Some(&json!({"time_zone": "UTC", "display_name": "Walker"})));
    assert_eq!((&renamed.json["time_zone"], &renamed.json["display_name"]), (&json!("UTC"), &json!("Walker")));
    assert_eq!((board_score(&own, &walker), board_score(&utc, &walker)), (Some(2000), Some(2000)));
}

#[test]
fn a_fixed_clock_counts_the_same_dates_for_everyone() {
    let midnight = now() - now().rem_euclid(DAY);
    let window = json!({"starts_at": rfc3339(midnight), "ends_at": rfc3339(midnight + DAY)});
    let mut fixed = window.clone();
    fixed["clock"] = json!("Etc/GMT+12");
    let (west, _) = competition(fixed);
    let (own, _) = competition(window);
    let walker = Uuid::new_v4();
    join(&west, &walker);
    join(&own, &walker);
    let reply = sync(
        &walker,
        json!({"source": "fitbit", "samples": [
        {"date": date_at(-DAY), "steps": 1000}, {"date": date_at(0), "steps": 2000}]}),
    );
    // UTC−12: the window runs from noon of yesterday to noon of today, so both dates count; in the walker's own
    // zone (UTC) only today does.
    assert_eq!((score_in(&reply, &west), score_in(&reply, &own)), (Some(3000), Some(2000)), "{:?}", reply.json);
}

/// Dates synced at UTC+14 (today there) count after the member sets UTC−12, where the latest of them has not begun:
/// the object's plausibility bound for a total made of days must allow every date a member's clock can count (it
/// counted only dates begun in the same zone, so a walker who crossed the date line could not sync: 422).
#[test]
fn dates_synced_in_the_east_still_count_after_the_member_moves_west() {
    let t = now();
    let starts = t - 60;
    let (competition, _) = competition(json!({"starts_at": rfc3339(starts)}));
    let walker = Uuid::new_v4();
    join(&competition, &walker);
    let date = |secs: i64| rfc3339(secs)[..10].to_owned();
    let (east_yesterday, east_today, west_today) =
        (date(t + 14 * 3600 - DAY), date(t + 14 * 3600), date(t - 12 * 3600));
    // What the window counts on a clock `offset` ahead of UTC, each date once, 60 000 steps a date.
    let expected = |offset: i64, dates: &[&String]| {
        let first = date(starts + offset);
        let counted: std::collections::BTreeSet<&&String> = dates.iter().filter(|d| ***d >= first).collect();
        60_000 * counted.len() as i64
    };
    let reply = sync(
        &walker,
        json!({"source": "healthkit", "time_zone": "Etc/GMT-14", "samples": [
            {"date": east_yesterday, "steps": 60_000}, {"date": east_today, "steps": 60_000}]}),
    );
    let east = expected(14 * 3600, &[&east_yesterday, &east_today]);
    assert_eq!(score_in(&reply, &competition), Some(east), "{:?}", reply.json);
    let reply = as_user(
        "POST",
        "/api/v1/fitness/sync",
        &walker,
        Some(&json!({"source": "garmin", "time_zone": "Etc/GMT+12", "samples": [
            {"date": west_today, "steps": 60_000}]})),
    );
    let west = expected(-12 * 3600, &[&east_yesterday, &east_today, &west_today]);
    assert!(west > 100_000, "two dates or more count at UTC−12 ({west})");
    assert_eq!((reply.status, score_in(&reply, &competition)), (200, Some(west)), "{:?}", reply.json);
    assert_eq!(board_score(&competition, &walker), Some(west));
}

#[test]
fn after_the_end_a_grace_period_keeps_taking_syncs_then_the_standings_are_final() {
    let walker = Uuid::new_v4();
    let graced = e2e::create_competition_with(-DAY, 3, json!({"grace_hours": 1}));
    let sharp = e2e::create_competition_with(-DAY, 3, json!({"grace_hours": 0}));
    join(&graced, &walker);
    join(&sharp, &walker);
    let first = sync(&walker, json!({"source": "healthkit", "samples": [{"date": date_at(-DAY), "steps": 500}]}));
    assert_eq!((score_in(&first, &graced), score_in(&first, &sharp)), (Some(500), Some(500)));
    let status =
        |id: &Uuid| as_user("GET", &format!("/api/v1/competitions/{id}"), &walker, None).json["status"].clone();
    // Both end 3 s after creation: wait for the end itself rather than a guessed sleep.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while status(&sharp) != json!("finished") {
        assert!(std::time::Instant::now() < deadline, "the competition without grace never became final");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!((status(&graced), status(&sharp)), (json!("finalizing"), json!("finished")));
    let late = sync(&walker, json!({"source": "healthkit", "samples": [{"date": date_at(-DAY), "steps": 800}]}));
    assert_eq!(score_in(&late, &graced), Some(800), "a late sync still moves a finalizing board: {:?}", late.json);
    assert_eq!(score_in(&late, &sharp), None, "a finished competition is not rescored");
    assert_eq!(as_user("POST", &format!("/api/v1/competitions/{graced}/join"), &Uuid::new_v4(), None).status, 409);
    let listed = as_user("GET", "/api/v1/competitions", &walker, None).json["competitions"].clone();
    let ids: Vec<&Value> = listed.as_array().expect("list").iter().map(|c| &c["id"]).collect();
    assert!(ids.contains(&&json!(graced)), "a finalizing competition is still listed");
    assert!(!ids.contains(&&json!(sharp)), "a finished one is not");
    let prizes = |id: &Uuid| as_user("GET", &format!("/api/v1/leaderboard/{id}/prizes"), &walker, None).json;
    assert_eq!(prizes(&graced)["final"], false, "provisional during the grace period");
    let finished = e2e::eventually(Duration::from_secs(10), || (prizes(&sharp)["final"] == true).then_some(()));
    assert!(finished.is_some(), "the alarm at ends_at + 0 h stores the standings: {:?}", prizes(&sharp));
    assert_eq!(prizes(&sharp)["prizes"][0]["user_id"], json!(walker));
}

/// The date `back` days before today at UTC+14 (Pacific/Kiritimati; today as of this call, so a test's dates agree),
/// where today begins, on a UTC−12 competition clock, after any end a minute from now.
fn kiritimati_days() -> impl Fn(i64) -> String {
    let kiritimati = jiff::tz::TimeZone::get("Pacific/Kiritimati").expect("zone");
    let today = jiff::Timestamp::now().to_zoned(kiritimati).date();
    move |back| today.checked_sub(jiff::Span::new().days(back)).expect("date").to_string()
}

/// The tests that move ends: the cron trigger some of them run rescores every competition with a pending span, which
/// must not land on another's competition between its edits and its checks (a correction, a span read from Postgres).
static END_MOVES: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Makes `user` a member of `competition` straight in Postgres (as service_role), so its object never hears of them
/// until a write introduces them.
fn join_behind_the_objects_back(competition: &Uuid, user: &Uuid) {
    let membership = json!({"competition_id": competition, "user_id": user});
    let auth = format!("Bearer {}", service_token());
    let joined =
        send("POST", &format!("{}/memberships", e2e::rest_url()), &[("Authorization", &auth)], Some(&membership));
    assert_eq!(joined.status, 201, "{:?}", joined.json);
}

/// `ends_at` moved by an administrator changes which days count: members are rescored from their stored days at
/// once (a page of them per object call), and subscribers see the new totals. A fixed clock west of the members makes it visible without waiting for
/// a midnight: a member at UTC+14 has synced their today, whose day in UTC−12 begins at noon UTC of that date
/// (2 to 26 hours from now), after an end a few seconds away.
#[test]
fn moving_the_end_rescores_the_members_from_their_stored_days() {
    let _turn = END_MOVES.lock().unwrap_or_else(|e| e.into_inner());
    let day = kiritimati_days();
    let competition =
        e2e::create_competition_with(-3 * DAY, 4, json!({"clock": "Etc/GMT+12", "grace_hours": 24, "payout": [10000]}));
    // The fourth walker's membership was written straight into Postgres, so the object has never heard of them:
    // their rescore is written by introducing them, as a first score is.
    let walkers: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
    for (k, walker) in (0..).zip(&walkers) {
        let body = json!({"source": "garmin", "time_zone": "Pacific/Kiritimati", "samples": [
            {"date": day(2), "steps": 1000 * (k + 1)}, {"date": day(0), "steps": 10_000 * (3 - k)}]});
        if k < 3 {
            join(&competition, walker);
            assert_eq!(score_in(&sync(walker, body), &competition), Some(1000 * (k + 1)), "today is after the end");
        } else {
            assert_eq!(sync(walker, body).json["competitions"], json!([]));
            join_behind_the_objects_back(&competition, walker);
        }
    }
    let status =
        |id: &Uuid| as_user("GET", &format!("/api/v1/competitions/{id}"), &walkers[0], None).json["status"].clone();
    let ended = e2e::eventually(Duration::from_secs(30), || (status(&competition) == "finalizing").then_some(()));
    assert!(ended.is_some(), "the competition never reached its end");
    let (mut socket, _) = e2e::connect_live(&competition, &walkers[0], true);
    assert_eq!(e2e::next_json(&mut socket)["type"], "snapshot");

    // Extended by two days: each walker's today counts now, and the live board moves with it.
    let path = format!("/api/v1/competitions/{competition}");
    let extended = as_admin("PATCH", &path, Some(&json!({"ends_at": rfc3339(now() + 2 * DAY)})));
    assert_eq!((extended.status, &extended.json["status"]), (200, &json!("active")), "{:?}", extended.json);
    let scores = || walkers.iter().map(|w| board_score(&competition, w)).collect::<Vec<_>>();
    assert_eq!(scores(), [Some(31_000), Some(22_000), Some(13_000), Some(4000)]);
    assert_eq!(e2e::next_json(&mut socket)["type"], "changed");
    let mut announced: Vec<(Value, Value)> = Vec::new();
    while announced.len() < walkers.len() {
        for update in e2e::updates_in(&e2e::next_json(&mut socket)) {
            announced.push((update["user_id"].clone(), update["score"].clone()));
        }
    }
    announced.sort_by_key(|(user, _)| user.to_string());
    let mut expected: Vec<(Value, Value)> =
        walkers.iter().zip([31_000, 22_000, 13_000, 4000]).map(|(w, s)| (json!(w), json!(s))).collect();
    expected.sort_by_key(|(user, _)| user.to_string());
    assert_eq!(announced, expected, "one update frame per rescored member");

    // Ended early again, a minute from now: today no longer counts, and the final standings will not count it.
    let early = as_admin("PATCH", &path, Some(&json!({"ends_at": rfc3339(now() + 60)})));
    assert_eq!(early.status, 200, "{:?}", early.json);
    assert_eq!(scores(), [Some(1000), Some(2000), Some(3000), Some(4000)]);
    // The same end again moves nothing, so it rescores nobody: an administrator's correction stays. The operator's
    // rescore route computes every member from their days again.
    let correction = json!({"competition_id": competition, "user_id": walkers[0], "score": 777});
    assert_eq!(as_admin("POST", "/api/v1/leaderboard/update", Some(&correction)).status, 200);
    assert_eq!(as_admin("PATCH", &path, Some(&json!({"ends_at": early.json["ends_at"]}))).status, 200);
    assert_eq!(scores(), [Some(777), Some(2000), Some(3000), Some(4000)]);
    let rescore = format!("/api/v1/admin/competitions/{competition}/rescore");
    assert_eq!(as_user("POST", &rescore, &walkers[0], None).status, 403, "operators only");
    let rescored = as_admin("POST", &rescore, None);
    assert_eq!(
        rescored.json,
        json!({"competition_id": competition, "rescored": 4, "complete": true}),
        "{}",
        rescored.status
    );
    assert_eq!(scores(), [Some(1000), Some(2000), Some(3000), Some(4000)]);
    let client = e2e::create_competition(-DAY, DAY);
    let refused = as_admin("POST", &format!("/api/v1/admin/competitions/{client}/rescore"), None);
    assert_eq!((refused.status, &refused.json["error"]["code"]), (409, &json!("conflict")), "members post scores");
    let finished = e2e::create_competition_with(-2 * DAY, -DAY, json!({"grace_hours": 0}));
    let refused = as_admin("POST", &format!("/api/v1/admin/competitions/{finished}/rescore"), None);
    assert_eq!((refused.status, &refused.json["error"]["code"]), (409, &json!("conflict")), "the standings are final");
    let nowhere = as_admin("POST", &format!("/api/v1/admin/competitions/{}/rescore", Uuid::new_v4()), None);
    assert_eq!(nowhere.status, 404);
    let prizes = as_user("GET", &format!("/api/v1/leaderboard/{competition}/prizes"), &walkers[0], None);
    assert_eq!(prizes.json["prizes"][0]["user_id"], json!(walkers[3]), "{:?}", prizes.json);
}

/// Moving the end rescores the members after Postgres stored it. When that last step fails (here the database API's
/// answer to the rescore's first page comes after the Worker's budget: 503), the row keeps the span pending, and the
/// boards are set right by a retry of the same edit, by the cron trigger, or by the operator's rescore route —
/// whichever comes first — each of which clears the span.
#[test]
fn a_moved_end_whose_rescore_failed_is_finished_by_a_retry_the_cron_trigger_or_an_operator() {
    let _turn = END_MOVES.lock().unwrap_or_else(|e| e.into_inner());
    let day = kiritimati_days();
    let competition =
        e2e::create_competition_with(-3 * DAY, 2 * DAY, json!({"clock": "Etc/GMT+12", "grace_hours": 24}));
    let walker = Uuid::new_v4();
    join(&competition, &walker);
    let body = json!({"source": "garmin", "time_zone": "Pacific/Kiritimati", "samples": [
        {"date": day(2), "steps": 1000}, {"date": day(0), "steps": 10_000}]});
    // Kiritimati's today begins, on the competition's clock, after any end a minute from now.
    assert_eq!(score_in(&sync(&walker, body), &competition), Some(11_000));
    // A second walker syncs before they are a member; their membership is written straight into Postgres later, so
    // the object first hears of them from the cron trigger's rescore, which introduces them (as the Worker's own
    // work, with no caller's token to read with).
    let unseen = Uuid::new_v4();
    let body = json!({"source": "garmin", "time_zone": "Pacific/Kiritimati", "samples": [
        {"date": day(2), "steps": 500}, {"date": day(0), "steps": 5000}]});
    assert_eq!(sync(&unseen, body).json["competitions"], json!([]));
    let path = format!("/api/v1/competitions/{competition}");
    let pending =
        || sql(&format!("SELECT rescore_from IS NOT NULL FROM public.competitions WHERE id = '{competition}'"));
    let budget: u64 = e2e::worker_var("POSTGREST_TIMEOUT_MS").parse().expect("POSTGREST_TIMEOUT_MS");
    let id = competition.to_string();
    let failed_move = |ends_at: &str| {
        let _delay = e2e::DatabaseDelay(vec!["rescore_members".into(), id.clone()]);
        e2e::database_delay(&["rescore_members", &id], budget + 1_500, Some(1));
        assert!(e2e::database_delay_waiting(&["rescore_members", &id]), "the delay is set");
        let failed = as_admin("PATCH", &path, Some(&json!({"ends_at": ends_at})));
        let refusal = (failed.status, &failed.json["error"]["code"]);
        assert_eq!(refusal, (503, &json!("dependency_unavailable")), "{competition} to {ends_at}: {:?}", failed.json);
        assert_eq!(pending(), "t", "the moved end's span is pending");
    };

    let early = rfc3339(now() + 60);
    failed_move(&early);
    assert_eq!(board_score(&competition, &walker), Some(11_000), "the board still counts by the old end");
    let retried = as_admin("PATCH", &path, Some(&json!({"ends_at": early})));
    assert_eq!(retried.status, 200, "{:?}", retried.json);
    assert_eq!(board_score(&competition, &walker), Some(1000), "the retry rescored the span its first attempt left");
    assert_eq!(pending(), "f");

    join_behind_the_objects_back(&competition, &unseen);
    failed_move(&rfc3339(now() + 2 * DAY));
    let scores = || [board_score(&competition, &walker), board_score(&competition, &unseen)];
    assert_eq!(scores(), [Some(1000), None]);
    // A run finishes a few competitions' spans (other tests' may be pending too), so it may take more than one.
    let cron = e2e::eventually(Duration::from_secs(30), || {
        e2e::run_cron();
        (scores() == [Some(11_000), Some(5500)]).then_some(())
    });
    assert!(cron.is_some(), "the cron trigger rescored the span: {:?}", scores());
    assert_eq!(pending(), "f");

    failed_move(&rfc3339(now() + 60));
    let rescored = as_admin("POST", &format!("/api/v1/admin/competitions/{competition}/rescore"), None);
    assert_eq!(
        rescored.json,
        json!({"competition_id": competition, "rescored": 2, "complete": true}),
        "{}",
        rescored.status
    );
    assert_eq!(scores(), [Some(1000), Some(500)]);
    assert_eq!(pending(), "f", "the operator's rescore covered the span");
}

/// A moved end's rescore reads at most `RESCORE_PAGES_PER_CALL` pages of members in one invocation (each page costs
/// two subrequests, and an invocation may make only so many): a longer span records on the row how far it got, and
/// the next `PATCH`, cron run or operator call goes on from there, while another move of the end starts it over.
/// Here a call's budget is one page of two members.
#[test]
fn a_rescore_longer_than_one_calls_budget_goes_on_where_it_stopped() {
    let _turn = END_MOVES.lock().unwrap_or_else(|e| e.into_inner());
    let day = kiritimati_days();
    let competition =
        e2e::create_competition_with(-3 * DAY, 2 * DAY, json!({"clock": "Etc/GMT+12", "grace_hours": 24}));
    let mut walkers: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    walkers.sort();
    for (i, walker) in (0..).zip(&walkers) {
        join(&competition, walker);
        let body = json!({"source": "garmin", "time_zone": "Pacific/Kiritimati", "samples": [
            {"date": day(2), "steps": 1000 + i}, {"date": day(0), "steps": 10_000}]});
        assert_eq!(score_in(&sync(walker, body), &competition), Some(11_000 + i));
    }
    let budget = |query: &str| {
        let set = as_admin("POST", &format!("/__test/competitions/{competition}/rescore_budget?{query}"), None);
        assert_eq!(set.status, 200, "{:?}", set.json);
    };
    budget("pages=1&page_size=2");
    // Back to the configured budget however the test ends (other tests' competitions never had one of their own).
    struct Configured<F: Fn(&str)>(F);
    impl<F: Fn(&str)> Drop for Configured<F> {
        fn drop(&mut self) {
            (self.0)("pages=0");
        }
    }
    let _configured = Configured(budget);
    let scores = || walkers.iter().map(|w| board_score(&competition, w)).collect::<Vec<_>>();
    // The first `n` walkers (in user-id order, the pages' order) counted by the early end, the others by the old one.
    let rescored = |n: i64| (0..5).map(|i| Some(if i < n { 1000 + i } else { 11_000 + i })).collect::<Vec<_>>();
    let cursor = || {
        sql(&format!(
            "SELECT coalesce(rescore_after::text, 'none') || ' ' || (rescore_from IS NOT NULL) \
             FROM public.competitions WHERE id = '{competition}'"
        ))
    };
    let after = |i: usize| format!("{} true", walkers[i]);
    let path = format!("/api/v1/competitions/{competition}");
    let early = rfc3339(now() + 60);

    let moved = as_admin("PATCH", &path, Some(&json!({"ends_at": early})));
    assert_eq!(moved.status, 200, "the edit is stored and its rescore goes on later: {:?}", moved.json);
    assert_eq!(scores(), rescored(2), "one page of two members");
    assert_eq!(cursor(), after(1));
    let retried = as_admin("PATCH", &path, Some(&json!({"ends_at": early})));
    assert_eq!(retried.status, 200, "{:?}", retried.json);
    assert_eq!(scores(), rescored(4), "the same edit again goes on after the second walker");
    assert_eq!(cursor(), after(3));
    // Another move: every member counts by the newest end, so the rescore starts from the first member again.
    let later = as_admin("PATCH", &path, Some(&json!({"ends_at": rfc3339(now() + 120)})));
    assert_eq!(later.status, 200, "{:?}", later.json);
    assert_eq!(cursor(), after(1), "started over");
    assert_eq!(scores(), rescored(4));

    // The cron trigger goes on (a run gives a span the budgets of its slots no other competition's span takes, so
    // this one may finish in one run; other tests' pending spans may share the runs).
    let cron = e2e::eventually(Duration::from_secs(30), || {
        e2e::run_cron();
        (cursor() == "none false").then_some(())
    });
    assert!(cron.is_some(), "the cron trigger finished the span: {}", cursor());
    assert_eq!(scores(), rescored(5));

    // The operator's rescore over the whole window, after administrators' corrections: a page a call, each going on
    // where the last stopped (the window is left pending meanwhile, for the cron trigger if nobody calls again).
    for walker in &walkers {
        let correction = json!({"competition_id": competition, "user_id": walker, "score": 777});
        assert_eq!(as_admin("POST", "/api/v1/leaderboard/update", Some(&correction)).status, 200);
    }
    let corrected = |n: i64| (0..5).map(|i| Some(if i < n { 1000 + i } else { 777 })).collect::<Vec<_>>();
    let rescore = format!("/api/v1/admin/competitions/{competition}/rescore");
    for (calls, (rescored, complete, cursor_after)) in
        [(2, false, after(1)), (2, false, after(3)), (1, true, "none false".to_owned())].into_iter().enumerate()
    {
        let reply = as_admin("POST", &rescore, None);
        let expected = json!({"competition_id": competition, "rescored": rescored, "complete": complete});
        assert_eq!(reply.json, expected, "call {}: {}", calls + 1, reply.status);
        assert_eq!(cursor(), cursor_after, "call {}", calls + 1);
        assert_eq!(scores(), corrected(2 * calls as i64 + rescored), "call {}", calls + 1);
    }
}

/// Which updates of a competition leave a span to rescore (the trigger `remember_rescore`, read straight from
/// Postgres): a moved end of a started fitness competition, joined to a span still pending; not a client competition,
/// one not started yet, or an update that leaves the end where it was.
#[test]
fn only_a_started_fitness_competitions_moved_end_leaves_a_span_to_rescore() {
    // The cron trigger another test runs would rescore this competition's span and clear it under the reads below.
    let _turn = END_MOVES.lock().unwrap_or_else(|e| e.into_inner());
    let at = |offset: i64| rfc3339(now() + offset);
    let (started, upcoming) =
        (e2e::create_competition_with(-DAY, DAY, json!({})), e2e::create_competition_with(DAY, 2 * DAY, json!({})));
    let client = e2e::create_competition(-DAY, DAY);
    let span = |id: &Uuid| {
        sql(&format!(
            "SELECT coalesce(extract(epoch FROM rescore_from)::bigint || '..' || extract(epoch FROM rescore_to)::bigint, \
             'none') FROM public.competitions WHERE id = '{id}'"
        ))
    };
    let move_end = |id: &Uuid, ends_at: &str| {
        sql(&format!("UPDATE public.competitions SET ends_at = '{ends_at}' WHERE id = '{id}' RETURNING id"));
    };
    let ends = |id: &Uuid| -> i64 {
        let secs =
            sql(&format!("SELECT extract(epoch FROM ends_at)::bigint FROM public.competitions WHERE id = '{id}'"));
        secs.parse().expect("an end")
    };
    let first_end = ends(&started);

    move_end(&started, &rfc3339(first_end));
    assert_eq!(span(&started), "none", "the same end");
    move_end(&started, &at(2 * DAY));
    let later_secs = ends(&started);
    assert_eq!(span(&started), format!("{first_end}..{later_secs}"), "extended: the old end to the new");
    move_end(&started, &at(3_600));
    let earlier_secs = ends(&started);
    assert_eq!(span(&started), format!("{earlier_secs}..{later_secs}"), "the pending span grows to cover both moves");
    let version = sql(&format!("SELECT settings_version FROM public.competitions WHERE id = '{started}'"));
    let progress = |(from, to): (i64, i64), version: &str, after: Option<&Uuid>| {
        let after = after.map_or("NULL".to_owned(), |id| format!("'{id}'"));
        sql(&format!(
            "SELECT public.rescore_progress('{started}', '{}', '{}', {version}, {after})",
            rfc3339(from),
            rfc3339(to)
        ))
    };
    let pending = (earlier_secs, later_secs);
    let cursor = || {
        sql(&format!("SELECT coalesce(rescore_after::text, 'none') FROM public.competitions WHERE id = '{started}'"))
    };
    let member = Uuid::from_u128(7);
    assert_eq!(progress((earlier_secs, later_secs - 1), &version, None), "f", "a rescore short of the span leaves it");
    assert_eq!(progress(pending, "1", None), "f", "made with settings the row no longer has");
    assert_eq!(span(&started), format!("{earlier_secs}..{later_secs}"));
    assert_eq!(progress(pending, &version, Some(&member)), "t", "stopped after a member");
    assert_eq!((span(&started), cursor()), (format!("{earlier_secs}..{later_secs}"), member.to_string()));
    move_end(&started, &at(3_000));
    let (moved_version, moved_secs) =
        (sql(&format!("SELECT settings_version FROM public.competitions WHERE id = '{started}'")), ends(&started));
    assert_eq!((span(&started), cursor()), (format!("{moved_secs}..{later_secs}"), "none".to_owned()), "a move");
    assert_eq!(progress((moved_secs, later_secs), &version, None), "f", "a rescore by the end before the move");
    assert_eq!(progress((moved_secs - 1, later_secs), &moved_version, None), "t");
    assert_eq!((span(&started), cursor()), ("none".to_owned(), "none".to_owned()));
    let window = (moved_secs - DAY, moved_secs);
    assert_eq!(progress(window, &moved_version, Some(&member)), "t", "an operator's rescore of the window stopped");
    assert_eq!((span(&started), cursor()), (format!("{}..{}", window.0, window.1), member.to_string()));
    assert_eq!(progress(window, &moved_version, None), "t");
    assert_eq!(span(&started), "none");
    for (id, what) in [(&upcoming, "not started: nobody has a score yet"), (&client, "members post their own scores")] {
        move_end(id, &at(3 * DAY));
        assert_eq!(span(id), "none", "{what}");
    }
}

/// A sync stores the member's days, then writes their new total to the competition's object; when that second step
/// fails (the object unreachable for a moment, a deploy's switch-over) the board keeps the older total. As the
/// standings become final they are checked against the stored days: the member is paid on what they synced, while an
/// administrator's correction stands (even after a change that raised the member's days version without rescoring
/// this competition: another competition of theirs ending early).
#[test]
fn the_final_standings_count_a_sync_whose_total_did_not_reach_the_board() {
    let (corrected, unlucky) = (Uuid::new_v4(), Uuid::new_v4());
    let (id, _) = competition(json!({
        "starts_at": rfc3339(now() - 3_600), "ends_at": rfc3339(now() + 10), "grace_hours": 0, "clock": "UTC",
        "payout": [6000, 4000],
    }));
    let (other, _) = competition(json!({"clock": "UTC"}));
    join(&other, &corrected);
    let today = date_at(0);
    for (user, steps) in [(corrected, 500), (unlucky, 300)] {
        join(&id, &user);
        let reply = sync(&user, json!({"source": "healthkit", "samples": [{"date": today, "steps": steps}]}));
        assert_eq!(score_in(&reply, &id), Some(steps));
    }
    let correction = json!({"competition_id": id, "score": 400, "user_id": corrected});
    assert_eq!(as_admin("POST", "/api/v1/leaderboard/update", Some(&correction)).status, 200);
    // Ending the member's other competition early rescores them there alone, raising their days version.
    let ends_early = json!({"ends_at": rfc3339(now() + 3_600)});
    let moved = as_admin("PATCH", &format!("/api/v1/competitions/{other}"), Some(&ends_early));
    assert_eq!(moved.status, 200, "{:?}", moved.json);
    assert_eq!(board_score(&id, &corrected), Some(400), "the correction stands");
    // The database's step of a sync whose call to the object failed: 900 steps stored, the board left at 300.
    let stored = send(
        "POST",
        &format!("{}/rpc/sync_fitness_days", e2e::rest_url()),
        &[("Authorization", &format!("Bearer {}", service_token()))],
        Some(&json!({"p_user": unlucky, "p_source": "healthkit", "p_time_zone": null, "p_days": [
            {"index": 0, "day": today, "steps": 900, "user_entered": false, "held_metrics": []}
        ]})),
    );
    assert_eq!(stored.status, 200, "{:?}", stored.json);
    assert_eq!(board_score(&id, &unlucky), Some(300), "the board did not hear of it");

    let prizes = e2e::eventually(Duration::from_secs(30), || {
        let reply = as_user("GET", &format!("/api/v1/leaderboard/{id}/prizes"), &unlucky, None);
        (reply.json["final"] == json!(true)).then_some(reply.json)
    })
    .expect("the standings become final");
    assert_eq!(
        prizes["prizes"],
        json!([{"rank": 1, "user_id": unlucky, "amount": 600}, {"rank": 2, "user_id": corrected, "amount": 400}])
    );
    assert_eq!((board_score(&id, &unlucky), board_score(&id, &corrected)), (Some(900), Some(400)));
}

/// The review list walks the holds' indexes in date order and stops at its limit, however many holds there are: one
/// status through `fitness_holds_status_day` (the status its index condition), every status through
/// `fitness_holds_day`. Before, one query served both meanings and read every held day's rows to sort them (126 ms with
/// 10 000 holds over 700 000 stored days; BENCHMARKS.md, "The review list").
#[test]
fn the_review_list_walks_an_index_in_date_order() {
    let one = e2e::sql_plans("SELECT public.list_holds('pending', 500)");
    assert!(one.contains("fitness_holds_status_day") && one.contains("Index Cond: (status = "), "{one}");
    let every = e2e::sql_plans("SELECT public.list_holds(NULL, 500)");
    assert!(every.contains("Index Scan using fitness_holds_day"), "{every}");
}
