//! `GET/PATCH /api/v1/me`: the profile is provisioned on first use and only its owner can change it.

use e2e::{base_url, send, user_token, Reply};
use serde_json::{json, Value};
use uuid::Uuid;

fn me(method: &str, user: &Uuid, body: Option<&Value>) -> Reply {
    send(
        method,
        &format!("{}/api/v1/me", base_url()),
        &[("Authorization", &format!("Bearer {}", user_token(user)))],
        body,
    )
}

#[test]
fn first_use_provisions_a_default_profile_and_patch_renames_it() {
    let user = Uuid::new_v4();
    let first = me("GET", &user, None);
    assert_eq!(first.status, 200, "{:?}", first.json);
    assert_eq!(
        first.json,
        json!({"user_id": user, "display_name": format!("player-{}", &user.to_string()[..8]), "avatar_url": null,
               "time_zone": "UTC"})
    );
    let renamed = me("PATCH", &user, Some(&json!({"display_name": "Zoë 🏃"})));
    assert_eq!((renamed.status, renamed.json["display_name"].as_str()), (200, Some("Zoë 🏃")));
    assert_eq!(me("GET", &user, None).json["display_name"], "Zoë 🏃");
    // Someone else's profile is untouched and their own.
    let other = Uuid::new_v4();
    assert_eq!(me("GET", &other, None).json["user_id"], other.to_string());
}

#[test]
fn bad_names_are_422_and_change_nothing() {
    let user = Uuid::new_v4();
    let before = me("GET", &user, None).json;
    for body in [
        json!({"display_name": ""}),
        json!({"display_name": "x".repeat(41)}),
        json!({"display_name": "bell\u{7}"}),
        json!({"display_name": "ok", "avatar_url": "http://evil"}),
        json!({"display_name": 5}),
        json!({"display_name": null}),
        json!({"display_name": "ok", "time_zone": null}),
        json!({"display_name": null, "time_zone": "UTC"}),
    ] {
        let reply = me("PATCH", &user, Some(&body));
        assert_eq!((reply.status, reply.json["error"]["code"].as_str()), (422, Some("validation_failed")), "{body}");
    }
    assert_eq!(me("GET", &user, None).json, before);
    let anonymous = send("GET", &format!("{}/api/v1/me", base_url()), &[], None);
    assert_eq!(anonymous.status, 401);
}

#[test]
fn a_zone_only_the_runtime_knows_is_422_not_500() {
    // The runtime's zone names (ICU) and the database's (Postgres's tzdata) are different builds: ICU keeps
    // retired aliases such as US/Pacific-New that Postgres refuses. Such a zone passed the Worker's check and the
    // database's refusal was a 500, for PATCH /me and for a sync naming it.
    let zone = "US/Pacific-New";
    let query = format!("SELECT count(*) FROM pg_timezone_names WHERE name = '{zone}'");
    let (ok, known) = e2e::stack(&["psql", "-tAc", &query]);
    assert!(ok, "{known}");
    let database_knows = known.trim() != "0";
    let user = Uuid::new_v4();
    let before = me("GET", &user, None).json;
    let patch = me("PATCH", &user, Some(&json!({"time_zone": zone})));
    let sync = e2e::post_as(
        &base_url(),
        "/api/v1/fitness/sync",
        &user,
        &json!({"source": "healthkit", "time_zone": zone, "samples": [{"date": "2026-11-24", "steps": 10}]}),
    );
    for reply in [&patch, &sync] {
        if database_knows {
            assert_eq!(reply.status, 200, "{:?}", reply.json);
            continue;
        }
        assert_eq!(reply.status, 422, "{:?}", reply.json);
        assert_eq!(reply.json["error"]["details"][0]["field"], "time_zone", "{:?}", reply.json);
    }
    if !database_knows {
        assert_eq!(me("GET", &user, None).json, before, "nothing changed");
    }
    // A zone both know still works.
    let chicago = me("PATCH", &user, Some(&json!({"time_zone": "America/Chicago"})));
    assert_eq!((chicago.status, chicago.json["time_zone"].as_str()), (200, Some("America/Chicago")));
}
