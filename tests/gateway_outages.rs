//! Dependency outages behind the gateways (its own test binary: it stops parts of the shared stack, and cargo runs
//! test binaries one after another). Redis down: the Upstash gateway answers 503 and recovers when Redis is back.

use std::time::{Duration, Instant};

use e2e::{send, stack, worker_var};
use serde_json::json;

#[test]
fn redis_loss_is_a_503_and_the_gateway_recovers() {
    let url = format!("{}/", worker_var("UPSTASH_REDIS_REST_URL"));
    let auth = format!("Bearer {}", worker_var("UPSTASH_REDIS_REST_TOKEN"));
    let ping = || send("POST", &url, &[("Authorization", auth.as_str())], Some(&json!(["PING"])));
    assert_eq!(ping().json, json!({"result": "PONG"}));

    let (ok, text) = stack(&["stop", "redis"]);
    assert!(ok, "{text}");
    let down = ping();
    let restarted = stack(&["start"]);
    assert_eq!(down.status, 503, "{:?}", down.json);
    assert!(down.json["error"].as_str().is_some_and(|e| e.contains("redis unavailable")), "{:?}", down.json);
    assert!(restarted.0, "{}", restarted.1);

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = ping();
        if reply.status == 200 {
            assert_eq!(reply.json, json!({"result": "PONG"}));
            break;
        }
        assert!(Instant::now() < deadline, "still failing after Redis came back: {:?}", reply.json);
        std::thread::sleep(Duration::from_millis(100));
    }
}
