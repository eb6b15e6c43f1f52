//! Health routes with every dependency up: readiness and the detailed report of `API.md`; one check shared by
//! separate Worker processes through Redis.

use std::time::Duration;

use e2e::{base_url, eventually, scratch_dir, send, WranglerDev};
use serde_json::json;

#[test]
fn ready_and_detailed_report_every_component() {
    // Checks are cached for 5 s and the outage tests may have just restarted a dependency: wait for a fresh report.
    let ready = eventually(Duration::from_secs(15), || {
        Some(send("GET", &format!("{}/health/ready", base_url()), &[], None)).filter(|r| r.status == 200)
    })
    .expect("ready within 15 s");
    assert_eq!(ready.json, json!({"status": "ready"}));

    let detailed = send("GET", &format!("{}/health/detailed", base_url()), &[], None);
    assert_eq!(detailed.status, 200, "{:?}", detailed.json);
    assert_eq!(detailed.json["status"], "healthy");
    for component in ["postgrest", "redis", "durable_objects", "storage"] {
        let entry = &detailed.json["components"][component];
        assert_eq!(entry["status"], "up", "{component}: {entry}");
        assert!(entry["latency_ms"].as_f64().is_some(), "{component}: {entry}");
    }
    assert_eq!(
        detailed.json["circuit_breakers"],
        json!({"postgrest": "closed", "redis": "closed", "jwks": "closed", "storage": "closed"})
    );
    assert!(detailed.json["checked_at"].as_str().is_some_and(|t| t.ends_with('Z')));

    // Cached for a few seconds: a second call reports the same check.
    let again = send("GET", &format!("{}/health/detailed", base_url()), &[], None);
    assert_eq!(again.json["checked_at"], detailed.json["checked_at"]);
}

/// The objects' check asks an object, not only the binding: a Worker whose objects do not answer reports
/// `durable_objects` down and is `unhealthy` (503). Its Redis is a closed port, so it cannot adopt another Worker's
/// shared result.
#[test]
fn objects_that_do_not_answer_are_reported_down() {
    let worker = WranglerDev::start_without_objects(
        &scratch_dir("health-no-objects"),
        &[("UPSTASH_REDIS_REST_URL", "http://127.0.0.1:9")],
    );
    let detailed = send("GET", &format!("{}/health/detailed", worker.base_url()), &[], None);
    assert_eq!((detailed.status, &detailed.json["status"]), (503, &json!("unhealthy")), "{:?}", detailed.json);
    let components = &detailed.json["components"];
    assert_eq!(components["durable_objects"]["status"], "down", "{components}");
    assert_eq!(components["redis"]["status"], "down", "{components}");
    assert_eq!(components["postgrest"]["status"], "up", "{components}");
    let latency = components["durable_objects"]["latency_ms"].as_f64().unwrap_or(f64::MAX);
    assert!(latency <= 2_500.0, "within the check's budget: {components}");
}

#[test]
fn a_check_is_shared_by_every_worker_through_redis() {
    let other = WranglerDev::start(&scratch_dir("health"));
    // Both processes answer from one check until it expires: a later check starts a new shared one.
    let checked = eventually(Duration::from_secs(15), || {
        let first = send("GET", &format!("{}/health/detailed", base_url()), &[], None);
        let second = send("GET", &format!("{}/health/detailed", other.base_url()), &[], None);
        (first.json["checked_at"] == second.json["checked_at"]).then_some(first)
    });
    let checked = checked.expect("the second worker reuses the first one's check");
    assert!(checked.json["checked_at"].as_str().is_some_and(|t| t.ends_with('Z')));
}

/// Checks that run at once (the cached one just expired and a burst of probes arrives) settle on one result: every
/// probe of the burst that did not get the expired check, and every probe after it, reports the same `checked_at`
/// (before, the last check to finish replaced the first, so a caller could see two within the 5 s).
#[test]
fn checks_made_at_once_settle_on_the_first() {
    let url = format!("{}/health/detailed", base_url());
    let checked_at = || send("GET", &url, &[], None).json["checked_at"].clone();
    let expired = checked_at();
    let burst = || {
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let probes: Vec<_> = (0..8)
            .map(|_| {
                let (barrier, url) = (barrier.clone(), url.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    send("GET", &url, &[], None).json["checked_at"].clone()
                })
            })
            .collect();
        probes.into_iter().map(|probe| probe.join().expect("probe")).collect::<Vec<_>>()
    };
    // Bursts until one meets the expiry (within 5 s of the first read).
    let fresh = eventually(Duration::from_secs(15), || {
        let seen: std::collections::BTreeSet<String> =
            burst().into_iter().filter(|at| *at != expired).map(|at| at.to_string()).collect();
        (!seen.is_empty()).then_some(seen)
    })
    .expect("a new check within the cache's lifetime");
    assert_eq!(fresh.len(), 1, "one check stands for the burst: {fresh:?}");
    let first = fresh.into_iter().next().unwrap_or_default();
    for _ in 0..3 {
        assert_eq!(checked_at().to_string(), first, "later probes report the first check");
    }
}
