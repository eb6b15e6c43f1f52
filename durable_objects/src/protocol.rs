//! Requests and replies between the Worker and a Competition Durable Object.
//!
//! The Worker has already authenticated and validated the caller; the object trusts these messages. They travel as
//! JSON over the stub's `fetch`, to the paths below on a placeholder host.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `POST` path of a score write.
pub const PATH_SCORES: &str = "/scores";
/// Prefix of `GET /scores/{user_id}`.
pub const PATH_SCORE_OF: &str = "/scores/";
/// Host used in URLs sent to the stub; the runtime ignores it, but a URL needs one.
pub const INTERNAL_ORIGIN: &str = "https://competition.internal";

/// Sets a user's absolute cumulative score.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ScoreWrite {
    /// The competition (the object's name).
    pub competition_id: Uuid,
    /// Whose score.
    pub user_id: Uuid,
    /// The new absolute score, `0..=2^53-1`.
    pub score: i64,
    /// When the Worker accepted the request, milliseconds since the epoch; orders equal scores.
    pub at_ms: i64,
}

/// Reply to a [`ScoreWrite`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScoreWriteReply {
    /// The competition.
    pub competition_id: Uuid,
    /// Whose score.
    pub user_id: Uuid,
    /// The score now stored.
    pub score: i64,
    /// 1-based rank after the write.
    pub rank: u64,
    /// Rank before the write; `None` on the user's first score.
    pub previous_rank: Option<u64>,
    /// Number of ranked users.
    pub total: u64,
}

/// One user's standing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Standing {
    /// 1-based rank.
    pub rank: u64,
    /// Current score.
    pub score: i64,
}

/// An error answered by the object, in the same `code`/`message` terms as the public envelope.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ObjectError {
    /// Error code of `API.md` (`not_found`, `bad_request`, ...).
    pub code: String,
    /// Human-readable message.
    pub message: String,
}
