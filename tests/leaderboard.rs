//! Score writes through the Worker to the Competition Durable Object: auth, validation, ranks.

use e2e::{base_url, send, user_token};
use serde_json::json;
use uuid::Uuid;

fn update(token: Option<&str>, body: serde_json::Value) -> e2e::Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    send("POST", &format!("{}/api/v1/leaderboard/update", base_url()), &headers, Some(&body))
}

#[test]
fn writes_need_a_valid_token() {
    let competition = Uuid::new_v4();
    let body = json!({"competition_id": competition, "score": 1});
    let missing = update(None, body.clone());
    assert_eq!((missing.status, missing.json["error"]["code"].as_str()), (401, Some("missing_token")));
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));

    let forged = update(Some("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."), body);
    assert_eq!((forged.status, forged.json["error"]["code"].as_str()), (401, Some("invalid_token")));
}

#[test]
fn bad_bodies_get_4xx_envelopes_and_write_nothing() {
    let competition = Uuid::new_v4();
    let user = Uuid::new_v4();
    let token = user_token(&user);
    let cases = [
        (json!({"competition_id": competition, "score": -1}), 422, "validation_failed"),
        (json!({"competition_id": competition, "score": 9_007_199_254_740_992_i64}), 422, "validation_failed"),
        (json!({"competition_id": "nope", "score": 1}), 422, "validation_failed"),
        (json!({"competition_id": competition, "score": 1, "extra": true}), 422, "validation_failed"),
        (json!({"competition_id": competition}), 422, "validation_failed"),
        (json!([competition, 1]), 422, "validation_failed"),
    ];
    for (body, status, code) in cases {
        let reply = update(Some(&token), body.clone());
        assert_eq!(reply.status, status, "{body}");
        assert_eq!(reply.json["error"]["code"], code, "{body}");
    }
    let standing = send(
        "GET",
        &format!("{}/api/v1/leaderboard/{competition}/users/{user}", base_url()),
        &[("Authorization", &format!("Bearer {token}"))],
        None,
    );
    assert_eq!(standing.status, 404, "no partial write: {:?}", standing.json);
}

#[test]
fn scores_are_ranked_higher_first_then_earliest() {
    let competition = Uuid::new_v4();
    let (alice, bob, carol) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let write = |user: &Uuid, score: i64| {
        let reply = update(Some(&user_token(user)), json!({"competition_id": competition, "score": score}));
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        reply.json
    };
    let first = write(&alice, 100);
    assert_eq!(first["rank"], 1);
    assert_eq!(first["previous_rank"], serde_json::Value::Null);
    assert_eq!(first["total"], 1);
    assert_eq!(first["user_id"], alice.to_string());

    assert_eq!(write(&bob, 200)["rank"], 1);
    // Carol ties Alice but reached 100 later: she ranks behind her.
    assert_eq!(write(&carol, 100)["rank"], 3);
    // Re-sending an unchanged score keeps Alice's place.
    let again = write(&alice, 100);
    assert_eq!((again["rank"].as_u64(), again["previous_rank"].as_u64()), (Some(2), Some(2)));
    let up = write(&carol, 300);
    assert_eq!((up["rank"].as_u64(), up["previous_rank"].as_u64(), up["total"].as_u64()), (Some(1), Some(3), Some(3)));

    let standing = send(
        "GET",
        &format!("{}/api/v1/leaderboard/{competition}/users/{bob}", base_url()),
        &[("Authorization", &format!("Bearer {}", user_token(&alice)))],
        None,
    );
    assert_eq!(standing.status, 200);
    assert_eq!(standing.json, json!({"rank": 2, "score": 200}));
}
