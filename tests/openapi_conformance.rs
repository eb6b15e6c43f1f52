//! The OpenAPI document against the running Worker, by a tool that did not write it: schemathesis (PyPI; pinned in
//! `tests/clients/schemathesis-requirements.txt`, installed by `scripts/setup`) generates requests for every
//! operation of `/openapi.json` — valid ones, invalid ones, other methods, missing or foreign tokens, sequences that
//! follow one answer's ids into the next request — and checks every answer with all its checks: no 5xx, a status,
//! content type, headers and body the document declares for the operation, invalid requests refused, valid ones
//! accepted (except where validity depends on state no schema states: `tests/clients/schemathesis.toml`), 405s with
//! a correct `Allow`, and no operation that ignores its token.

use std::process::Command;

use e2e::{base_url, repo_root, scratch_dir, token_with_role, user_token};
use uuid::Uuid;

/// Runs schemathesis with `token` against the shared Worker; the path parameters draw half their values from
/// `competition` and `member` (so operations get past 404 to their own rules). Returns its report when it failed.
fn schemathesis(label: &str, token: &str, competition: &Uuid, member: &Uuid) -> Result<(), String> {
    let root = repo_root();
    let settings = std::fs::read_to_string(root.join("tests/clients/schemathesis.toml")).expect("settings");
    let config = scratch_dir(&format!("schemathesis-{label}")).join("schemathesis.toml");
    let ids = format!(
        "\n[dictionaries.competitions]\nvalues = [\"{competition}\"]\n\n[dictionaries.members]\nvalues = [\"{member}\"]\n\n\
         [parameters]\n\"path.competition_id\" = {{ dictionary = \"competitions\", probability = 0.5 }}\n\
         \"path.user_id\" = {{ dictionary = \"members\", probability = 0.5 }}\n"
    );
    std::fs::write(&config, settings + &ids).expect("write settings");
    let output = Command::new(root.join(".local/tools/schemathesis/bin/st"))
        // Its cache of failures found (replayed first by the next run) stays in this run's scratch directory.
        .current_dir(config.parent().expect("scratch dir"))
        .arg("--no-color")
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{}/openapi.json", base_url())])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        // Fixed: a failure reproduces with the same requests; `st replay <id>` from the report repeats one.
        .args(["--seed", "20261206", "--max-examples", "40", "--workers", "2", "--generation-database", "none"])
        .output()
        .expect("schemathesis (scripts/setup installs it in .local/tools)");
    let report = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    eprintln!("{}", report.lines().rev().take(3).collect::<Vec<_>>().join(" | "));
    if output.status.success() {
        Ok(())
    } else {
        Err(report)
    }
}

#[test]
fn generated_requests_of_a_member_get_the_answers_the_document_declares() {
    let member = Uuid::new_v4();
    let competition = e2e::competition_with(&[member]);
    let posted = e2e::post_as(
        &base_url(),
        "/api/v1/leaderboard/update",
        &member,
        &serde_json::json!({"competition_id": competition, "score": 10}),
    );
    assert_eq!(posted.status, 200, "{:?}", posted.json);
    if let Err(report) = schemathesis("member", &user_token(&member), &competition, &member) {
        panic!("schemathesis found answers the document does not declare:\n{report}");
    }
}

#[test]
fn generated_requests_of_an_administrator_get_the_answers_the_document_declares() {
    let member = Uuid::new_v4();
    let competition = e2e::competition_with(&[member]);
    // With a `sub` of its own, the run spends its own `admin` bucket, not the one the other tests' service key shares.
    let admin = token_with_role(&Uuid::new_v4(), "service_role");
    if let Err(report) = schemathesis("admin", &admin, &competition, &member) {
        panic!("schemathesis found answers the document does not declare:\n{report}");
    }
}
