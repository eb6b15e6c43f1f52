//! The database's audit trail of administrators' decisions (`public.admin_actions`): who created, edited and
//! cancelled a competition, who disqualified a member and why, who approved or rejected a held day, and when, with
//! the request id of the Worker's request that made the change; and that the trail is append-only.

use e2e::{base_url, join, rfc3339, send, service_key_token, token_with_role, user_token, Reply};
use serde_json::{json, Value};
use uuid::Uuid;

const DAY: i64 = 86_400;

fn now() -> i64 {
    local::token::now()
}

fn sql(query: &str) -> String {
    let (ok, text) = e2e::stack(&["psql", "-tA", "-c", query]);
    assert!(ok, "{query}: {text}");
    text.trim().to_owned()
}

/// A request as the administrator `admin` (a service_role token with `sub`), under the request id `request_id`.
fn as_admin(admin: &Uuid, request_id: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
    let auth = format!("Bearer {}", token_with_role(admin, "service_role"));
    send(method, &format!("{}{path}", base_url()), &[("Authorization", &auth), ("X-Request-Id", request_id)], body)
}

/// The trail's rows about `filter` (an SQL condition), oldest first, as JSON objects.
fn actions(filter: &str) -> Vec<Value> {
    let rows = sql(&format!(
        "SELECT coalesce(jsonb_agg(jsonb_build_object('action', action, 'actor', actor, 'request_id', request_id, \
         'competition_id', competition_id, 'user_id', user_id, 'day', day, 'detail', detail) ORDER BY id), '[]') \
         FROM public.admin_actions WHERE {filter}"
    ));
    serde_json::from_str::<Vec<Value>>(&rows).expect("rows as JSON")
}

#[test]
fn every_decision_about_money_names_who_made_it_and_when() {
    let (organiser, referee) = (Uuid::new_v4(), Uuid::new_v4());
    let (walker, cheat) = (Uuid::new_v4(), Uuid::new_v4());
    let body = json!({
        "name": "audited", "metric": "steps", "prize_pool": 500, "payout": [10000],
        "starts_at": rfc3339(now() - DAY), "ends_at": rfc3339(now() + 7 * DAY),
    });
    let created = as_admin(&organiser, "audit-create", "POST", "/api/v1/competitions", Some(&body));
    assert_eq!(created.status, 201, "{:?}", created.json);
    let id: Uuid = created.json["id"].as_str().and_then(|id| id.parse().ok()).expect("id");
    join(&id, &walker);
    join(&id, &cheat);
    let renamed = as_admin(
        &organiser,
        "audit-rename",
        "PATCH",
        &format!("/api/v1/competitions/{id}"),
        Some(&json!({"name": "audited again", "prize_pool": 800})),
    );
    assert_eq!(renamed.status, 200, "{:?}", renamed.json);
    let path = format!("/api/v1/competitions/{id}/members/{cheat}/disqualify");
    let out = as_admin(&referee, "audit-dq", "POST", &path, Some(&json!({"reason": "shook the phone"})));
    assert_eq!(out.status, 200, "{:?}", out.json);

    let trail = actions(&format!("competition_id = '{id}'"));
    let expected = json!([
        {"action": "competition_created", "actor": organiser, "request_id": "audit-create", "competition_id": id,
         "user_id": null, "day": null,
         "detail": {"name": "audited", "metric": "steps", "starts_at": trail[0]["detail"]["starts_at"],
                    "ends_at": trail[0]["detail"]["ends_at"], "prize_pool": 500, "payout": [10000],
                    "max_participants": null, "score_source": "fitness", "scoring": {"mode": "total"},
                    "clock": "participant", "grace_hours": 24, "allow_manual": false}},
        {"action": "competition_changed", "actor": organiser, "request_id": "audit-rename", "competition_id": id,
         "user_id": null, "day": null,
         "detail": {"before": {"name": "audited", "prize_pool": 500},
                    "after": {"name": "audited again", "prize_pool": 800}}},
        {"action": "member_disqualified", "actor": referee, "request_id": "audit-dq", "competition_id": id,
         "user_id": cheat, "day": null, "detail": {"reason": "shook the phone"}},
    ]);
    assert_eq!(Value::Array(trail.clone()), expected, "joins are not decisions; each decision is one row");

    // A held day, decided by a named administrator, then changed by the service key (which names nobody).
    let date = rfc3339(now() - DAY)[..10].to_owned();
    let auth = format!("Bearer {}", user_token(&walker));
    let synced = send(
        "POST",
        &format!("{}/api/v1/fitness/sync", base_url()),
        &[("Authorization", &auth)],
        Some(&json!({"source": "garmin", "samples": [{"date": date, "steps": 70_000}]})),
    );
    assert_eq!(synced.json["held"][0]["value"], 70_000, "{:?}", synced.json);
    let hold = format!("/api/v1/admin/holds/{walker}/{date}");
    let decision = json!({"decision": "approve", "reason": "a marathon: the race's results list them"});
    let approved = as_admin(&referee, "audit-approve", "POST", &hold, Some(&decision));
    assert_eq!(approved.status, 200, "{:?}", approved.json);
    assert_eq!(
        (&approved.json["decided_by"], &approved.json["reason"]),
        (&json!(referee), &decision["reason"]),
        "{:?}",
        approved.json
    );
    let decided_at = approved.json["decided_at"].as_str().expect("decided_at");
    assert!(decided_at.ends_with('Z') && leaderboard_worker::time::parse_ms(decided_at).is_some(), "{decided_at}");
    let service_key = send(
        "POST",
        &format!("{}{hold}", base_url()),
        &[("Authorization", &format!("Bearer {}", service_key_token()))],
        Some(&json!({"decision": "reject"})),
    );
    assert_eq!((service_key.status, &service_key.json["decided_by"]), (200, &Value::Null), "{:?}", service_key.json);
    let listed = as_admin(&referee, "audit-list", "GET", "/api/v1/admin/holds?status=rejected", None);
    let mine = listed.json["holds"].as_array().expect("holds").iter().find(|h| h["user_id"] == json!(walker)).cloned();
    assert_eq!(
        mine.map(|h| (h["status"].clone(), h["decided_by"].clone(), h["reason"].clone())),
        Some((json!("rejected"), Value::Null, Value::Null)),
        "the second decision gave no reason: the first one's went with it"
    );
    let too_long = json!({"decision": "approve", "reason": "x".repeat(201)});
    assert_eq!(as_admin(&referee, "audit-long", "POST", &hold, Some(&too_long)).status, 422);
    let nul = json!({"decision": "approve", "reason": "a\u{0}b"});
    assert_eq!(as_admin(&referee, "audit-nul", "POST", &hold, Some(&nul)).status, 422, "Postgres refuses a NUL: 4xx");

    let decisions = actions(&format!("user_id = '{walker}'"));
    let summary: Vec<(Value, Value, Value)> =
        decisions.iter().map(|a| (a["action"].clone(), a["actor"].clone(), a["detail"].clone())).collect();
    assert_eq!(
        summary,
        vec![
            (json!("hold_approved"), json!(referee), json!({"previous": "pending", "reason": decision["reason"]})),
            (json!("hold_rejected"), Value::Null, json!({"previous": "approved", "reason": null})),
        ],
        "both decisions are kept, the second names nobody"
    );
    assert_eq!(decisions[0]["day"], json!(date));

    // The same trail through the API, newest first, a page at a time.
    let read = |query: &str| as_admin(&referee, "audit-read", "GET", &format!("/api/v1/admin/audit?{query}"), None);
    let first = read(&format!("competition_id={id}&limit=2"));
    assert_eq!(first.status, 200, "{:?}", first.json);
    let shown: Vec<&Value> = first.json["actions"].as_array().expect("actions").iter().map(|a| &a["action"]).collect();
    assert_eq!(shown, [&json!("member_disqualified"), &json!("competition_changed")], "{:?}", first.json);
    assert_eq!(first.json["actions"][0]["actor"], json!(referee));
    assert_eq!(first.json["actions"][0]["detail"]["reason"], json!("shook the phone"));
    let at = first.json["actions"][0]["at"].as_str().expect("at");
    assert!(at.ends_with('Z') && leaderboard_worker::time::parse_ms(at).is_some(), "{at}");
    let before = first.json["next_before"].as_i64().expect("an older page");
    let second = read(&format!("competition_id={id}&limit=2&before={before}"));
    assert_eq!(second.json["actions"].as_array().map(Vec::len), Some(1), "{:?}", second.json);
    assert_eq!(
        (&second.json["actions"][0]["action"], &second.json["next_before"]),
        (&json!("competition_created"), &Value::Null)
    );
    let rules = &second.json["actions"][0]["detail"];
    assert_eq!(
        (&rules["starts_at"], &rules["ends_at"]),
        (&created.json["starts_at"], &created.json["ends_at"]),
        "times in the API's form"
    );
    let about_walker = read(&format!("user_id={walker}"));
    let days: Vec<(&Value, &Value)> =
        about_walker.json["actions"].as_array().expect("actions").iter().map(|a| (&a["action"], &a["date"])).collect();
    assert_eq!(days, [(&json!("hold_rejected"), &json!(date)), (&json!("hold_approved"), &json!(date))]);
    assert_eq!(read("limit=0").status, 422);
    assert_eq!(read("competition_id=nope").status, 422);
    let by_user = send(
        "GET",
        &format!("{}/api/v1/admin/audit", base_url()),
        &[("Authorization", &format!("Bearer {}", user_token(&walker)))],
        None,
    );
    assert_eq!(by_user.status, 403, "the trail is for administrators");

    let cancelled = as_admin(&organiser, "audit-cancel", "POST", &format!("/api/v1/competitions/{id}/cancel"), None);
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.json);
    let last = actions(&format!("competition_id = '{id}' AND action = 'competition_cancelled'"));
    assert_eq!(last.len(), 1, "{last:?}");
    assert_eq!((&last[0]["actor"], &last[0]["request_id"]), (&json!(organiser), &json!("audit-cancel")));
}

#[test]
fn the_trail_is_append_only_and_hidden_from_users() {
    let attempts = [
        ("service_role", "DELETE FROM public.admin_actions"),
        ("service_role", "UPDATE public.admin_actions SET actor = NULL"),
        ("service_role", "INSERT INTO public.admin_actions (action) VALUES ('competition_cancelled')"),
        ("service_role", "SELECT public.record_admin_action('competition_cancelled', NULL, NULL, NULL, '{}')"),
        ("authenticated", "SELECT count(*) FROM public.admin_actions"),
        ("anon", "SELECT count(*) FROM public.admin_actions"),
    ];
    for (role, statement) in attempts {
        let (ok, text) = e2e::stack(&["psql", "-tA", "-c", &format!("SET ROLE {role}; {statement}")]);
        assert!(!ok && text.contains("permission denied"), "{role}: {statement} → {text}");
    }
    let readable =
        e2e::stack(&["psql", "-tA", "-c", "SET ROLE service_role; SELECT count(*) >= 0 FROM public.admin_actions"]);
    assert!(readable.0 && readable.1.contains('t'), "{readable:?}");
}

#[test]
fn a_score_correction_names_its_author_and_what_it_changed() {
    let (organiser, member) = (Uuid::new_v4(), Uuid::new_v4());
    let body = json!({
        "name": "corrected", "metric": "steps", "prize_pool": 100, "payout": [10000], "score_source": "client",
        "starts_at": rfc3339(now() - DAY), "ends_at": rfc3339(now() + DAY),
    });
    let created = as_admin(&organiser, "audit-client", "POST", "/api/v1/competitions", Some(&body));
    assert_eq!(created.status, 201, "{:?}", created.json);
    let id: Uuid = created.json["id"].as_str().and_then(|id| id.parse().ok()).expect("id");
    join(&id, &member);
    let auth = format!("Bearer {}", user_token(&member));
    let own = send(
        "POST",
        &format!("{}/api/v1/leaderboard/update", base_url()),
        &[("Authorization", &auth)],
        Some(&json!({"competition_id": id, "score": 900})),
    );
    assert_eq!(own.status, 200, "{:?}", own.json);
    let corrected = as_admin(
        &organiser,
        "audit-correct",
        "POST",
        "/api/v1/leaderboard/update",
        Some(&json!({"competition_id": id, "user_id": member, "score": 400})),
    );
    assert_eq!((corrected.status, &corrected.json["score"]), (200, &json!(400)), "{:?}", corrected.json);

    let trail = actions(&format!("competition_id = '{id}' AND action <> 'competition_created'"));
    assert_eq!(
        Value::Array(trail),
        json!([{"action": "score_corrected", "actor": organiser, "request_id": "audit-correct", "competition_id": id,
                "user_id": member, "day": null,
                "detail": {"requested": 400, "score": 400, "seq": corrected.json["seq"]}}]),
        "a member's own score is not a decision; the correction is"
    );
}

#[test]
fn an_operators_rescore_names_its_author_and_how_many_members_it_wrote() {
    let (organiser, operator, walker) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let body = json!({
        "name": "rescored", "metric": "steps", "prize_pool": 100, "payout": [10000],
        "starts_at": rfc3339(now() - DAY), "ends_at": rfc3339(now() + DAY),
    });
    let created = as_admin(&organiser, "audit-fitness", "POST", "/api/v1/competitions", Some(&body));
    assert_eq!(created.status, 201, "{:?}", created.json);
    let id: Uuid = created.json["id"].as_str().and_then(|id| id.parse().ok()).expect("id");
    join(&id, &walker);
    let auth = format!("Bearer {}", user_token(&walker));
    let today = rfc3339(now())[..10].to_owned();
    let synced = send(
        "POST",
        &format!("{}/api/v1/fitness/sync", base_url()),
        &[("Authorization", &auth)],
        Some(&json!({"source": "healthkit", "samples": [{"date": today, "steps": 700}]})),
    );
    assert_eq!(synced.status, 200, "{:?}", synced.json);
    let path = format!("/api/v1/admin/competitions/{id}/rescore");
    let rescored = as_admin(&operator, "audit-rescore", "POST", &path, None);
    assert_eq!((rescored.status, &rescored.json["rescored"]), (200, &json!(1)), "{:?}", rescored.json);

    let trail = actions(&format!("competition_id = '{id}' AND action <> 'competition_created'"));
    assert_eq!(
        Value::Array(trail),
        json!([{"action": "competition_rescored", "actor": operator, "request_id": "audit-rescore",
                "competition_id": id, "user_id": null, "day": null, "detail": {"rescored": 1}}]),
        "a member's sync is not a decision; the operator's rescore is"
    );
}
