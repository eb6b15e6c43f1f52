//! The load tool (`scripts/load`, crate `local`) against the shared Worker: a short mixed run whose JSON and HTML
//! reports account for every request (no failures at this gentle rate) and the Redis commands per request; the
//! WebSocket mode delivers every update to every subscriber; remote targets are refused.

use std::path::PathBuf;
use std::process::Command;

use e2e::{base_url, repo_root, scratch_dir, setting, worker_var};
use serde_json::Value;

fn load_binary() -> PathBuf {
    let built = Command::new("cargo")
        .args(["build", "-q", "-p", "local", "--bin", "load"])
        .current_dir(repo_root())
        .status()
        .expect("cargo build the load tool");
    assert!(built.success());
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| repo_root().join("target"));
    target.join("debug/load")
}

fn run(args: &[&str]) -> (i32, String) {
    let output = Command::new(load_binary())
        .args(args)
        .env("SUPABASE_JWT_SECRET", setting("E2E_JWT_SECRET"))
        .env("UPSTASH_REDIS_REST_TOKEN", worker_var("UPSTASH_REDIS_REST_TOKEN"))
        .output()
        .expect("run the load tool");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn a_mixed_run_reports_every_request() {
    let dir = scratch_dir("load");
    let (json, html) = (dir.join("report.json"), dir.join("report.html"));
    let redis = worker_var("UPSTASH_REDIS_REST_URL");
    let (code, text) = run(&[
        "--url",
        &base_url(),
        "--duration",
        "3",
        "--users",
        "8",
        "--concurrency",
        "4",
        "--quiet",
        "--redis-url",
        &redis,
        "--json",
        json.to_str().expect("path"),
        "--html",
        html.to_str().expect("path"),
    ]);
    assert_eq!(code, 0, "{text}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("json report")).expect("json");
    let total = &report["total"];
    let requests = total["requests"].as_u64().expect("requests");
    assert!(requests > 20, "{report}");
    assert_eq!(total["failures"], 0, "{report}");
    let by_scenario: u64 =
        report["scenarios"].as_object().expect("scenarios").values().map(|s| s["requests"].as_u64().unwrap_or(0)).sum();
    assert_eq!(by_scenario, requests);
    for scenario in ["page", "me", "update", "sync", "list"] {
        assert!(report["scenarios"][scenario]["requests"].as_u64().is_some_and(|n| n > 0), "{scenario}: {report}");
    }
    let latency = &total["latency_ms"];
    assert!(latency["min"].as_f64() <= latency["p50"].as_f64() && latency["p50"].as_f64() <= latency["p99"].as_f64());
    assert!(latency["p99"].as_f64() <= latency["max"].as_f64());
    let timeline: u64 =
        report["timeline"].as_array().expect("timeline").iter().map(|s| s["requests"].as_u64().unwrap_or(0)).sum();
    assert_eq!(timeline, requests);
    assert!(report["redis_commands_per_request"].as_f64().is_some_and(|n| n > 0.0), "{report}");
    let page = std::fs::read_to_string(&html).expect("html report");
    assert_eq!(page.matches("<svg").count(), 2);
    assert!(text.contains("total"), "{text}");
}

#[test]
fn websocket_mode_delivers_every_update_and_remote_targets_are_refused() {
    let (code, text) = run(&[
        "--url",
        &base_url(),
        "--mode",
        "ws",
        "--subscribers",
        "20",
        "--writers",
        "2",
        "--duration",
        "2",
        "--write-interval-ms",
        "50",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("subscribers 20/20"), "{text}");
    assert!(text.contains("(20 subscribers complete)"), "{text}");

    let (code, text) = run(&["--url", "http://example.com", "--duration", "1"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--allow-remote"), "{text}");
}

#[test]
fn the_open_model_keeps_its_schedule_and_thresholds_set_the_exit_code() {
    let dir = scratch_dir("load-rate");
    let json = dir.join("report.json");
    let args = |thresholds: &[&str]| {
        let mut args: Vec<String> =
            ["--url", &base_url(), "--mix", "live=1", "--rate", "40", "--duration", "2", "--quiet"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        args.extend(["--json".to_owned(), json.to_string_lossy().into_owned()]);
        for threshold in thresholds {
            args.extend(["--threshold".to_owned(), threshold.to_string()]);
        }
        args
    };
    let passing = args(&["errors<1%", "p99<2s", "rps>20"]);
    let (code, text) = run(&passing.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("ok   threshold errors<1%"), "{text}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("report")).expect("json");
    let requests = report["total"]["requests"].as_u64().expect("requests");
    assert!((70..=81).contains(&requests), "40 a second for 2 s starts about 80 requests: {requests}");

    let failing = args(&["p99<0.001ms"]);
    let (code, text) = run(&failing.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 1, "an unmet threshold fails the run: {text}");
    assert!(text.contains("FAIL threshold p99<0.001ms not met"), "{text}");

    // Nothing answering at all fails an error threshold instead of passing silently.
    let dead = free_url();
    let (code, text) =
        run(&["--url", &dead, "--mix", "live=1", "--duration", "1", "--quiet", "--threshold", "errors<1%"]);
    assert_eq!(code, 1, "{text}");
}

#[test]
fn tokens_made_elsewhere_come_from_a_file() {
    let dir = scratch_dir("load-tokens");
    let file = dir.join("tokens.txt");
    let users: Vec<uuid::Uuid> = (0..3).map(|_| uuid::Uuid::new_v4()).collect();
    let lines: Vec<String> = users.iter().map(e2e::user_token).collect();
    std::fs::write(&file, format!("# three users\n{}\n", lines.join("\n"))).expect("token file");
    let (code, text) = run(&[
        "--url",
        &base_url(),
        "--mix",
        "me=1",
        "--requests",
        "9",
        "--quiet",
        "--token-file",
        file.to_str().expect("path"),
        "--threshold",
        "errors<1%",
    ]);
    assert_eq!(code, 0, "{text}");
    let competition_needed = run(&[
        "--url",
        &base_url(),
        "--mix",
        "page=1",
        "--duration",
        "1",
        "--quiet",
        "--token-file",
        file.to_str().expect("path"),
    ]);
    assert_eq!(competition_needed.0, 2, "a usage error: {}", competition_needed.1);
    assert!(competition_needed.1.contains("--competition"), "{}", competition_needed.1);
}

/// A loopback URL nothing listens on.
fn free_url() -> String {
    format!("http://127.0.0.1:{}", e2e::free_port())
}
