//! `Idempotency-Key` rules of `API.md` (plain Rust): key syntax, the request fingerprint, the stored record, and
//! what a repeated request gets.

use serde::{Deserialize, Serialize};
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

/// What identifies "the same request": route and exact body bytes.
pub fn fingerprint(route: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(route.as_bytes());
    hasher.update([0]);
    hasher.update(body);
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
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
