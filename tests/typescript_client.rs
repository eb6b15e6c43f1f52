//! The typed TypeScript client (`clients/typescript/`: types generated from docs/openapi.json by openapi-typescript,
//! requests through openapi-fetch): its generated types are current, it type-checks, and a player's journey through
//! it (profile, join, sync, board, live socket with resume) works against the shared Worker.

use std::process::Command;

use e2e::{base_url, repo_root, scratch_dir, user_token};
use uuid::Uuid;

fn npx(args: &[&str]) -> (bool, String) {
    let output = Command::new("npx").arg("--no-install").args(args).current_dir(repo_root()).output().expect("npx");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[test]
fn the_generated_client_is_current_type_checks_and_walks_a_players_journey() {
    let fresh = scratch_dir("typescript").join("schema.d.ts");
    let (ok, text) = npx(&["openapi-typescript", "docs/openapi.json", "-o", fresh.to_str().expect("path")]);
    assert!(ok, "{text}");
    let committed = std::fs::read_to_string(repo_root().join("clients/typescript/schema.d.ts")).expect("schema.d.ts");
    assert_eq!(
        std::fs::read_to_string(&fresh).expect("generated"),
        committed,
        "clients/typescript/schema.d.ts is stale: run npx openapi-typescript docs/openapi.json -o clients/typescript/schema.d.ts"
    );
    let (ok, text) = npx(&["tsc", "-p", "clients/typescript"]);
    assert!(ok, "the client does not type-check:\n{text}");

    let user = Uuid::new_v4();
    let competition = e2e::create_competition_with(-86_400 * 2, 7 * 86_400, serde_json::json!({}));
    let output = Command::new("node")
        .arg("--experimental-websocket")
        .arg(repo_root().join("target/typescript-client/journey.mjs"))
        .current_dir(repo_root())
        .env("BASE", base_url())
        .env("TOKEN", user_token(&user))
        .env("USER_ID", user.to_string())
        .env("COMPETITION", competition.to_string())
        .output()
        .expect("run node");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success() && text.contains("all checks passed"), "{text}");
}
