//! The live socket's frames: what an object sends (`ServerFrame`) and what a client may send (`ClientFrame`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{PrizeEntry, PublicEntry, Standing};
use crate::score::Score;

/// Frames the object sends on a live socket (`API.md`, "Live updates").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First frame, and the answer to a resume that reaches too far back.
    Snapshot {
        /// Sequence of the last change included.
        seq: u64,
        /// Members on the board.
        total: u64,
        /// The top of the board.
        entries: Vec<PublicEntry>,
        /// The subscriber's own standing.
        me: Option<Standing>,
    },
    /// One accepted score change.
    Update(UpdateFrame),
    /// Two or more consecutive updates sent together (the object coalesces them under load); `seq` is the last
    /// one's.
    // Built as text by `live::combine`, never serialised from this variant.
    Updates {
        /// The last update's `seq`.
        seq: u64,
        /// The updates in `seq` order, each with its `"type":"update"`.
        #[schema(min_items = 2)]
        updates: Vec<UpdateFrame>,
    },
    /// Answer to a ping.
    Pong,
    /// The competition ended: final ranks and prizes are stored, no more updates follow. Also sent after the snapshot
    /// of a socket that opens after the end, and after every resume then.
    Finished {
        /// Sequence of the last change included.
        seq: u64,
        /// Paid players.
        prizes: Vec<PrizeEntry>,
    },
    /// The competition's settings changed (name, end, prizes, capacity).
    Changed {
        /// Strictly increasing per competition, like updates.
        seq: u64,
        /// The competition as the API shows it.
        #[schema(schema_with = competition_schema)]
        competition: serde_json::Value,
    },
    /// A member left the board (disqualified, or their account deleted); everyone behind moved up.
    Removed {
        /// Strictly increasing per competition, like updates.
        seq: u64,
        /// Who left.
        user_id: Uuid,
        /// Members on the board.
        total: u64,
    },
    /// A socket broke a rule (`rate_limited`, `invalid_token`, `token_expired`); a close follows.
    Error {
        /// Error code in the terms of the HTTP envelope.
        code: String,
    },
    /// An `auth` frame was accepted: the socket now lives until this token's expiry.
    AuthOk {
        /// The new token's `exp`, seconds since the epoch.
        exp: i64,
    },
}

/// One accepted score change (`{"type":"update",…}` on the socket).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct UpdateFrame {
    /// Strictly increasing per competition.
    pub seq: u64,
    /// Whose score changed.
    pub user_id: Uuid,
    /// Their current display name.
    pub display_name: String,
    /// The new score.
    pub score: Score,
    /// Rank after the change.
    #[schema(minimum = 1)]
    pub rank: u64,
    /// Standard competition rank after the change ("1224").
    #[schema(minimum = 1)]
    pub display_rank: u64,
    /// Rank before it.
    #[schema(minimum = 1)]
    pub previous_rank: Option<u64>,
    /// Members on the board.
    pub total: u64,
}

/// The Worker's `Competition` schema, which a `changed` frame carries (the object passes it through as JSON).
fn competition_schema() -> utoipa::openapi::Ref {
    utoipa::openapi::Ref::from_schema_name("Competition")
}

/// Frames a client may send.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Keep-alive.
    Ping,
    /// Replay what came after `since`.
    Resume {
        /// The last `seq` the client saw.
        since: u64,
    },
    /// A fresh token of the same user, extending the socket's life past the first token's expiry.
    Auth {
        /// The access token.
        #[serde(default, deserialize_with = "token_or_empty")]
        #[schema(required = true)]
        token: String,
    },
}

/// An `auth` frame's token; a missing or non-string one reads as empty, so the frame is refused as a bad token (error
/// frame, close 1008) instead of being ignored like a frame this server does not know.
fn token_or_empty<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(token) => Ok(token),
        _ => Ok(String::new()),
    }
}

/// Exact text of a ping the runtime answers without waking the object.
pub const PING_TEXT: &str = r#"{"type":"ping"}"#;
/// Exact text of the runtime's automatic answer.
pub const PONG_TEXT: &str = r#"{"type":"pong"}"#;
