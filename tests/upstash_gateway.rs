//! The local Upstash gateway's wire protocol against the real Redis: JSON command arrays, `/pipeline`,
//! `/multi-exec`, Bearer auth, value encoding (plain and base64), scripts and sorted sets.

use e2e::{send, worker_var, Reply};
use serde_json::{json, Value};
use uuid::Uuid;

fn post(path: &str, body: Value, extra: &[(&str, &str)]) -> Reply {
    let auth = format!("Bearer {}", worker_var("UPSTASH_REDIS_REST_TOKEN"));
    let mut headers = vec![("Authorization", auth.as_str())];
    headers.extend_from_slice(extra);
    send("POST", &format!("{}{path}", worker_var("UPSTASH_REDIS_REST_URL")), &headers, Some(&body))
}

fn key(name: &str) -> String {
    format!("upstash-test:{}:{name}", Uuid::new_v4())
}

#[test]
fn commands_answer_with_upstash_encoding() {
    let (s, z) = (key("s"), key("z"));
    let cases = [
        (json!(["SET", s, "v"]), 200, json!({"result": "OK"})),
        (json!(["GET", s]), 200, json!({"result": "v"})),
        (json!(["GET", key("missing")]), 200, json!({"result": null})),
        (json!(["INCR", s]), 400, json!({"error": "ERR value is not an integer or out of range"})),
        (json!(["ZADD", z, 10, "a", 20, "b"]), 200, json!({"result": 2})),
        (json!(["ZREVRANGE", z, 0, -1, "WITHSCORES"]), 200, json!({"result": ["b", "20", "a", "10"]})),
        (json!(["ZREVRANK", z, "a"]), 200, json!({"result": 1})),
    ];
    for (command, status, expected) in cases {
        let reply = post("/", command.clone(), &[]);
        assert_eq!((reply.status, reply.json), (status, expected), "{command}");
    }
    let encoded = post("/", json!(["GET", s]), &[("Upstash-Encoding", "base64")]);
    assert_eq!(encoded.json, json!({"result": "dg=="}));
}

#[test]
fn scripts_load_run_and_report_noscript() {
    let sha =
        post("/", json!(["SCRIPT", "LOAD", "return ARGV[1]"]), &[]).json["result"].as_str().expect("sha").to_owned();
    assert_eq!(post("/", json!(["EVALSHA", sha, 0, "x"]), &[]).json, json!({"result": "x"}));
    let missing = post("/", json!(["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", 0]), &[]);
    assert_eq!(missing.status, 400);
    assert!(missing.json["error"].as_str().is_some_and(|e| e.starts_with("NOSCRIPT")), "{:?}", missing.json);
    assert_eq!(
        post("/", json!(["EVAL", "return {1, 'two', false}", 0]), &[]).json,
        json!({"result": [1, "two", null]})
    );
}

#[test]
fn a_failing_command_in_a_pipeline_fails_alone() {
    let (a, b) = (key("a"), key("b"));
    let reply = post("/pipeline", json!([["SET", a, "x"], ["INCR", a], ["INCR", b], ["GET", a]]), &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json,
        json!([{"result": "OK"}, {"error": "ERR value is not an integer or out of range"}, {"result": 1}, {"result": "x"}])
    );
    let tx = post("/multi-exec", json!([["SET", b, "5"], ["INCRBY", b, 2], ["GET", b]]), &[]);
    assert_eq!(tx.json, json!([{"result": "OK"}, {"result": 7}, {"result": "7"}]));
    let aborted = post("/multi-exec", json!([["SET", b, "1"], ["NOT_A_COMMAND"]]), &[]);
    assert_eq!(aborted.status, 400, "{:?}", aborted.json);
    assert_eq!(post("/", json!(["GET", b]), &[]).json, json!({"result": "7"}), "an aborted transaction wrote nothing");
}

#[test]
fn bad_tokens_and_bodies_are_refused() {
    let url = worker_var("UPSTASH_REDIS_REST_URL");
    let none = send("POST", &format!("{url}/"), &[], Some(&json!(["PING"])));
    let wrong = send("POST", &format!("{url}/"), &[("Authorization", "Bearer wrong")], Some(&json!(["PING"])));
    assert_eq!((none.status, wrong.status), (401, 401));
    assert_eq!(wrong.json, json!({"error": "Unauthorized"}));
    for body in [json!([]), json!({"cmd": "PING"}), json!([["nested"]])] {
        assert_eq!(post("/", body.clone(), &[]).status, 400, "{body}");
    }
}
