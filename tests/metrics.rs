//! `/metrics`: protected by `METRICS_TOKEN`, Prometheus text that the reference parser (Python `prometheus_client`)
//! accepts, route templates only, totals summed across two separate `wrangler dev` processes through Redis, and one
//! Analytics Engine point per request; the live sockets' gauge and frame counter from the Competition objects and
//! the database query histogram.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use e2e::{base_url, competition_with, eventually, repo_root, scratch_dir, send, worker_var, WranglerDev};
use serde_json::{json, Value};
use uuid::Uuid;

/// One parsed sample: family, family type, sample name, labels, value.
struct Sample {
    family: String,
    kind: String,
    name: String,
    labels: Value,
    value: f64,
}

fn scrape(base: &str) -> Vec<Sample> {
    let reply = send(
        "GET",
        &format!("{base}/metrics"),
        &[("Authorization", &format!("Bearer {}", worker_var("METRICS_TOKEN")))],
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    parse(&reply.text)
}

/// Parses with `tests/clients/parse_metrics.py`, failing the test on anything the reference parser refuses.
fn parse(text: &str) -> Vec<Sample> {
    let mut child = Command::new("/usr/bin/python3")
        .arg(repo_root().join("tests/clients/parse_metrics.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write exposition");
    let output = child.wait_with_output().expect("parser output");
    assert!(
        output.status.success(),
        "parser refused the exposition: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    let samples: Vec<Value> = serde_json::from_slice(&output.stdout).expect("parser JSON");
    samples
        .into_iter()
        .map(|s| Sample {
            family: s["family"].as_str().unwrap_or_default().to_owned(),
            kind: s["type"].as_str().unwrap_or_default().to_owned(),
            name: s["name"].as_str().unwrap_or_default().to_owned(),
            labels: s["labels"].clone(),
            value: s["value"].as_f64().unwrap_or(f64::NAN),
        })
        .collect()
}

fn sum(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name && labels.iter().all(|(k, v)| s.labels[*k].as_str() == Some(*v)))
        .map(|s| s.value)
        .sum()
}

#[test]
fn metrics_add_up_across_workers_with_bounded_labels() {
    // The token is required.
    let missing = send("GET", &format!("{}/metrics", base_url()), &[], None);
    assert_eq!(missing.status, 401);
    assert_eq!(missing.json["error"]["code"], "missing_token");
    let wrong = send("GET", &format!("{}/metrics", base_url()), &[("Authorization", "Bearer nope")], None);
    assert_eq!(wrong.status, 401);

    let second = WranglerDev::start(&scratch_dir("metrics"));
    let route = "/api/v1/leaderboard/{competition_id}/prizes";
    let labels = [("route", route), ("status", "404"), ("method", "GET")];
    let first = scrape(&base_url());
    let before = sum(&first, "http_requests_total", &labels);
    let analytics_before = sum(&first, "analytics_datapoints_total", &[("result", "ok")]);
    let user = Uuid::new_v4();
    for (base, n) in [(base_url(), 7), (second.base_url(), 5)] {
        for _ in 0..n {
            let reply = e2e::get_as(&base, &format!("/api/v1/leaderboard/{}/prizes", Uuid::new_v4()), &user);
            assert_eq!(reply.status, 404, "{:?}", reply.json);
        }
    }
    // Raw paths never become labels.
    for _ in 0..10 {
        assert_eq!(send("GET", &format!("{}/no/such/{}", base_url(), Uuid::new_v4()), &[], None).status, 404);
    }
    scrape(&second.base_url()); // a scrape flushes that worker's own deltas
    let after = scrape(&base_url());
    assert_eq!(sum(&after, "http_requests_total", &labels) - before, 12.0, "7 + 5 requests from two workers");
    assert!(sum(&after, "http_requests_total", &[("route", "unmatched")]) >= 10.0);
    assert!(after.iter().all(|s| s.labels["route"].as_str().is_none_or(|r| !r.starts_with("/no/such"))));
    assert!(
        sum(&after, "analytics_datapoints_total", &[("result", "ok")]) - analytics_before >= 12.0,
        "one Analytics Engine point per request"
    );
    for family in ["http_request_duration_seconds", "http_response_size_bytes", "external_request_duration_seconds"] {
        let buckets: Vec<&Sample> =
            after.iter().filter(|s| s.family == family && s.name.ends_with("_bucket")).collect();
        assert!(after.iter().any(|s| s.family == family && s.kind == "histogram"), "{family} is a histogram");
        assert!(buckets.iter().any(|s| s.labels["le"] == "+Inf"), "{family} has +Inf");
        assert!(after.iter().any(|s| s.name == format!("{family}_count")), "{family}_count");
        assert!(after.iter().any(|s| s.name == format!("{family}_sum")), "{family}_sum");
    }
    // Histogram buckets are cumulative and end at _count.
    let duration = [("route", route), ("method", "GET")];
    let count = sum(&after, "http_request_duration_seconds_count", &duration);
    let inf =
        sum(&after, "http_request_duration_seconds_bucket", &[("route", route), ("method", "GET"), ("le", "+Inf")]);
    assert_eq!(count, inf);
    assert_eq!(sum(&after, "circuit_breaker_state", &[("service", "postgrest")]), 0.0);
}

#[test]
fn objects_report_sockets_and_frames_and_queries_are_timed() {
    let gauge = |samples: &[Sample]| sum(samples, "websocket_connections", &[]);
    let frames = |samples: &[Sample]| sum(samples, "websocket_messages_sent_total", &[]);
    let players = [Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4()];
    let competition = competition_with(&players);
    // Sockets of earlier test files may still be closing: start from a settled gauge.
    let mut last = f64::NAN;
    let settled = eventually(Duration::from_secs(10), || {
        let now = gauge(&scrape(&base_url()));
        let stable = now == last;
        last = now;
        std::thread::sleep(Duration::from_millis(300));
        stable.then_some(now)
    })
    .expect("a settled gauge");
    let frames_before = frames(&scrape(&base_url()));

    let mut sockets: Vec<_> = players
        .iter()
        .map(|user| {
            let (mut socket, _) = e2e::connect_live(&competition, user, false);
            socket.read().expect("snapshot");
            socket
        })
        .collect();
    let open = eventually(Duration::from_secs(10), || (gauge(&scrape(&base_url())) == settled + 3.0).then_some(()));
    assert!(open.is_some(), "three sockets open: gauge {} after {settled}", gauge(&scrape(&base_url())));

    // One update reaches three subscribers: 3 snapshots + 3 update frames at least.
    let reply = e2e::post_as(
        &base_url(),
        "/api/v1/leaderboard/update",
        &players[0],
        &json!({"competition_id": competition, "score": 10}),
    );
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    for socket in &mut sockets {
        socket.read().expect("update frame");
    }
    let sent = eventually(Duration::from_secs(10), || {
        let sent = frames(&scrape(&base_url())) - frames_before;
        (sent >= 6.0).then_some(sent)
    });
    assert!(sent.is_some(), "snapshots and updates counted");

    for mut socket in sockets {
        socket.close(None).expect("close");
        while socket.read().is_ok() {}
    }
    let closed = eventually(Duration::from_secs(10), || (gauge(&scrape(&base_url())) == settled).then_some(()));
    assert!(closed.is_some(), "closed sockets leave the gauge: {} vs {settled}", gauge(&scrape(&base_url())));

    // Joining went through the database API: its query histogram has the operation label.
    let after = scrape(&base_url());
    assert!(sum(&after, "db_query_duration_seconds_count", &[("operation", "join_competition")]) >= 3.0);
}

#[test]
fn a_quiet_workers_last_requests_reach_the_totals_without_another_request() {
    let quiet = WranglerDev::start(&scratch_dir("metrics-quiet"));
    let base = quiet.base_url();
    // A series no other test makes, so the shared totals move only by this test's request.
    let labels = [("route", "/health/detailed"), ("method", "PUT"), ("status", "405")];
    let before = sum(&scrape(&base_url()), "http_requests_total", &labels);
    // The quiet Worker's first request flushes at once; the next one falls inside the flush interval, and after it
    // nothing more reaches that Worker: no later request will come to flush it.
    assert_eq!(send("GET", &format!("{base}/health/live"), &[], None).status, 200);
    let put = send("PUT", &format!("{base}/health/detailed"), &[], None);
    assert_eq!(put.status, 405, "{}", put.text);
    // Scrapes go to the shared Worker, which flushes only its own deltas before reading the totals.
    let counted = eventually(Duration::from_secs(15), || {
        let now = sum(&scrape(&base_url()), "http_requests_total", &labels);
        std::thread::sleep(Duration::from_millis(500));
        (now - before == 1.0).then_some(())
    });
    let last = sum(&scrape(&base_url()), "http_requests_total", &labels) - before;
    assert!(counted.is_some(), "the quiet Worker's request never reached the totals (moved by {last})");
    // The flush waited for its time, then ran once: nothing is counted twice.
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(sum(&scrape(&base_url()), "http_requests_total", &labels) - before, 1.0);
}
