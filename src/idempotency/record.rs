//! `Idempotency-Key` rules of `API.md` (plain Rust): key syntax, the request fingerprint, the stored record, and
//! what a repeated request gets.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, FieldError};

/// How long a reply is replayed.
pub const TTL_SECS: u64 = 24 * 60 * 60;
/// How long a request may hold its key while running (a crashed request must not lock the key for a day).
pub const RUNNING_TTL_SECS: u64 = 60;

/// Checks the header value: 1..255 characters of `[A-Za-z0-9._:-]`.
pub fn validate_key(key: &str) -> Result<(), ApiError> {
    let valid = (1..=255).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(ApiError::ValidationFailed(vec![FieldError::new(
            "Idempotency-Key",
            "must be 1 to 255 characters of A-Z a-z 0-9 . _ : -",
        )]))
    }
}

/// What identifies "the same request": the route and the body's JSON value, or its bytes when it is not JSON. A
/// client that encodes the same object again for its retry (keys in another order, other spacing or escapes: Swift's
/// and Kotlin's encoders of maps do not keep an order) is repeating itself, not asking something new.
pub fn fingerprint(route: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(route.as_bytes());
    hasher.update([0]);
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => {
            let mut canonical = Vec::with_capacity(body.len());
            write_canonical(&value, &mut canonical);
            hasher.update(&canonical);
        }
        Err(_) => hasher.update(body),
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A JSON value's text with every object's keys sorted, so one value has one text whatever order a map kept.
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_canonical(&Value::String(key.clone()), out);
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        // Scalars have one text each (serde_json writes a parsed number back the same way).
        scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
    }
}

/// The Redis key of a caller's idempotency key (scoped to the caller).
pub fn storage_key(user_id: &uuid::Uuid, key: &str) -> String {
    format!("idem:{user_id}:{key}")
}

/// What is stored under a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The first request's fingerprint.
    pub fingerprint: String,
    /// `None` while the first request runs; then its reply.
    pub reply: Option<StoredReply>,
}

/// A reply kept for replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredReply {
    pub status: u16,
    pub body: String,
}

/// What a request carrying a key that is already taken gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The first reply again.
    Replay(StoredReply),
    /// Same key, different request: 422 `idempotency_mismatch`.
    Mismatch,
    /// The first request is still running: 409 `conflict`.
    InFlight,
}

/// Decides for a request with `fingerprint` whose key is held by `existing`.
pub fn decide(existing: &Record, fingerprint: &str) -> Decision {
    if existing.fingerprint != fingerprint {
        return Decision::Mismatch;
    }
    match &existing.reply {
        Some(reply) => Decision::Replay(reply.clone()),
        None => Decision::InFlight,
    }
}

/// Whether a reply is kept for replay: server errors are not (the client should be able to retry them).
pub fn keeps(status: u16) -> bool {
    status < 500
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_contract() {
        for ok in ["a", "order-1", "2026-11-25T10:00:00.000Z", "x_y.z", &"k".repeat(255)] {
            assert!(validate_key(ok).is_ok(), "{ok}");
        }
        for bad in ["", "has space", "slash/", "ünï", &"k".repeat(256)] {
            assert_eq!(validate_key(bad).err().map(|e| e.status()), Some(422), "{bad}");
        }
    }

    #[test]
    fn the_same_json_value_is_the_same_request_however_it_is_written() {
        let route = "POST /api/v1/fitness/sync";
        let first = br#"{"source":"healthkit","samples":[{"date":"2026-12-01","steps":10,"calories":3}]}"#;
        let same: [&[u8]; 3] = [
            br#"{"samples":[{"calories":3,"steps":10,"date":"2026-12-01"}],"source":"healthkit"}"#,
            b"{ \"source\" : \"health\\u006bit\",\n  \"samples\": [ {\"date\":\"2026-12-01\",\"steps\":10,\"calories\":3} ] }",
            br#"{"source":"healthkit","samples":[{"date":"2026-12-01","calories":3,"steps":10}]} "#,
        ];
        for body in same {
            assert_eq!(fingerprint(route, first), fingerprint(route, body), "{}", String::from_utf8_lossy(body));
        }
        let different: [&[u8]; 4] = [
            br#"{"source":"healthkit","samples":[{"date":"2026-12-01","steps":11,"calories":3}]}"#,
            br#"{"source":"healthkit","samples":[{"date":"2026-12-01","steps":10.0,"calories":3}]}"#,
            br#"{"source":"healthkit","samples":[{"date":"2026-12-01","steps":10}]}"#,
            br#"{"source":"healthkit","samples":[{"date":"2026-12-01","steps":10,"calories":3}],"time_zone":null}"#,
        ];
        for body in different {
            assert_ne!(fingerprint(route, first), fingerprint(route, body), "{}", String::from_utf8_lossy(body));
        }
        // Not JSON: its bytes decide.
        assert_eq!(fingerprint(route, b"{oops"), fingerprint(route, b"{oops"));
        assert_ne!(fingerprint(route, b"{oops"), fingerprint(route, b"{oops "));
    }

    #[test]
    fn repeated_requests_replay_conflict_or_mismatch() {
        let print = fingerprint("POST /api/v1/leaderboard/update", br#"{"score":1}"#);
        assert_ne!(print, fingerprint("POST /api/v1/leaderboard/update", br#"{"score":2}"#));
        assert_ne!(print, fingerprint("POST /api/v1/fitness/sync", br#"{"score":1}"#));
        let running = Record { fingerprint: print.clone(), reply: None };
        assert_eq!(decide(&running, &print), Decision::InFlight);
        let reply = StoredReply { status: 200, body: "{}".into() };
        let done = Record { fingerprint: print.clone(), reply: Some(reply.clone()) };
        assert_eq!(decide(&done, &print), Decision::Replay(reply));
        assert_eq!(decide(&done, "other"), Decision::Mismatch);
        assert_eq!(decide(&running, "other"), Decision::Mismatch);
        assert!(keeps(200) && keeps(422) && !keeps(503));
    }
}
