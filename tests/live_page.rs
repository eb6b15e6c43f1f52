//! The live leaderboard page: served with a policy that allows only its own origin and WebSocket, its assets, 404 for
//! a non-id; and in real headless Chromium (`tests/clients/live-page.mjs`) it shows the new order after each score
//! update. The screenshot is kept at `target/live-page.png`.

use std::process::Command;

use e2e::{base_url, competition_with, repo_root, send, user_token};
use uuid::Uuid;

#[test]
fn the_page_and_its_assets_are_served_with_a_strict_policy() {
    let competition = Uuid::new_v4();
    let page = send("GET", &format!("{}/live/{competition}", base_url()), &[], None);
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    let policy = page.header("content-security-policy").expect("policy");
    assert!(policy.starts_with("default-src 'none'; script-src 'self'; style-src 'self';"), "{policy}");
    let host = base_url().trim_start_matches("http://").to_owned();
    assert!(policy.contains(&format!("connect-src 'self' ws://{host} wss://{host};")), "{policy}");
    assert!(page.header("x-request-id").is_some());
    for (asset, content_type) in
        [("live.js", "text/javascript; charset=utf-8"), ("live.css", "text/css; charset=utf-8")]
    {
        let reply = send("GET", &format!("{}/assets/{asset}", base_url()), &[], None);
        assert_eq!((reply.status, reply.header("content-type")), (200, Some(content_type)), "{asset}");
    }
    let missing = send("GET", &format!("{}/assets/other.js", base_url()), &[], None);
    assert_eq!((missing.status, missing.json["error"]["code"].as_str()), (404, Some("not_found")));
    let not_an_id = send("GET", &format!("{}/live/not-a-uuid", base_url()), &[], None);
    assert_eq!((not_an_id.status, not_an_id.json["error"]["code"].as_str()), (404, Some("not_found")));
}

#[test]
fn chromium_shows_the_order_change_live() {
    let players: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    // Eight more members fill the top 10 below the three players; the viewer ranks 12th, outside it.
    let crowd: Vec<Uuid> = (0..8).map(|_| Uuid::new_v4()).collect();
    let viewer = Uuid::new_v4();
    let everyone: Vec<Uuid> = players.iter().chain(&crowd).chain([&viewer]).copied().collect();
    let competition = competition_with(&everyone);
    for (i, member) in crowd.iter().chain([&viewer]).enumerate() {
        let body = serde_json::json!({"competition_id": competition, "score": 90 - i as i64 * 10});
        let reply = e2e::post_as(&base_url(), "/api/v1/leaderboard/update", member, &body);
        assert_eq!(reply.status, 200, "{:?}", reply.json);
    }
    let players_json: Vec<serde_json::Value> =
        players.iter().map(|id| serde_json::json!({"id": id, "token": user_token(id)})).collect();
    let screenshot = repo_root().join("target/live-page.png");
    let output = Command::new("node")
        .arg(repo_root().join("tests/clients/live-page.mjs"))
        .current_dir(repo_root())
        .env("BASE", base_url())
        .env("COMPETITION", competition.to_string())
        .env("VIEWER_TOKEN", user_token(&viewer))
        .env("VIEWER_ID", viewer.to_string())
        .env("COMPETITION_NAME", "e2e")
        .env("PLAYERS", serde_json::Value::Array(players_json).to_string())
        .env("SCREENSHOT", &screenshot)
        .output()
        .expect("run node");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "live page in Chromium failed:\n{text}");
    assert!(text.contains("all checks passed"), "{text}");
    assert!(std::fs::metadata(&screenshot).is_ok_and(|m| m.len() > 1000), "screenshot saved");
}
