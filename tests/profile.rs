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
    ] {
        let reply = me("PATCH", &user, Some(&body));
        assert_eq!((reply.status, reply.json["error"]["code"].as_str()), (422, Some("validation_failed")), "{body}");
    }
    assert_eq!(me("GET", &user, None).json, before);
    let anonymous = send("GET", &format!("{}/api/v1/me", base_url()), &[], None);
    assert_eq!(anonymous.status, 401);
}
