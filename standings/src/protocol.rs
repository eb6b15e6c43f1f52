//! Requests and replies between the Worker and a Competition Durable Object.
//!
//! The Worker has already authenticated and validated the caller; the object trusts these messages. They travel as
//! JSON over the stub's `fetch` on a placeholder host, inside an `ObjectRequest` (`crate::requests`); only the live
//! upgrade goes to its own path.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::score::Score;

/// What a deleted account shows as on final standings.
pub const DELETED_PLAYER: &str = "deleted player";
/// The largest score (and prize pool) anywhere in the API: the engine's limit, exact as a JSON number (2^53 - 1).
pub const MAX_SCORE: i64 = crate::engine::key::MAX_SCORE as i64;
/// `GET /live` with `Upgrade: websocket`: subscribe to live updates.
pub const PATH_LIVE: &str = "/live";

/// Internal header naming the verified user of a `/live` request (set by the Worker, overwriting any client value).
pub const HEADER_USER: &str = "X-Leaderboard-User";
/// Internal header carrying the verified token's expiry (seconds since the epoch) of a `/live` request: the socket
/// closes when it passes, unless an `auth` frame extends it.
pub const HEADER_TOKEN_EXP: &str = "X-Leaderboard-Token-Exp";
/// Internal header asking the object to echo the `bearer` subprotocol on the upgrade.
pub const HEADER_SUBPROTOCOL: &str = "X-Leaderboard-Subprotocol";
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
    pub score: Score,
    /// When the Worker accepted the request, milliseconds since the epoch; orders equal scores.
    pub at_ms: i64,
    /// For a total computed from the member's stored fitness days: the member's days version from the database.
    /// The object drops a write whose version is not newer than the last it applied (concurrent syncs can arrive
    /// out of order) and bounds the total by the days any local clock has counted. `None` for a posted score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_version: Option<i64>,
    /// An administrator's correction: accepted in a fitness competition too, where members cannot post scores.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub correction: bool,
}

/// What the object needs to know about its competition (`SetMeta`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CompetitionMeta {
    /// The competition (the object's name).
    pub competition_id: Uuid,
    /// `steps`, `active_minutes`, `distance_m` or `calories`.
    pub metric: String,
    /// Start, milliseconds since the epoch.
    pub starts_ms: i64,
    /// End (exclusive), milliseconds since the epoch.
    pub ends_ms: i64,
    /// Prize pool in minor units.
    pub prize_pool: i64,
    /// Basis points per place.
    pub payout: Vec<u32>,
    /// Scores come from the members' fitness days (members cannot post them); `false`: members post their own.
    #[serde(default)]
    pub fitness: bool,
    /// After `ends_ms` the competition is finalizing this long: synced days still move the board, then the
    /// standings become final.
    #[serde(default)]
    pub grace_ms: i64,
}

impl CompetitionMeta {
    /// When the standings become final: the end of the grace period.
    pub fn final_ms(&self) -> i64 {
        self.ends_ms.saturating_add(self.grace_ms.max(0))
    }

    /// Whether the settings keep the schema's rules: a metric this code knows and an end after the start.
    pub fn is_sound(&self) -> bool {
        crate::rules::Metric::parse(&self.metric).is_some() && self.ends_ms > self.starts_ms
    }
}

/// A user who joined (`AddMember`), with their profile when the Worker has it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RosterAdd {
    /// The member.
    pub user_id: Uuid,
    /// Their profile's name and avatar at the time of joining.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<Person>,
}

/// A member who deleted their account (`Forget`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Forget {
    /// The member.
    pub user_id: Uuid,
}

/// What the board shows of a member: their current name and avatar (`SetPerson`, and with a join).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// The member.
    pub user_id: Uuid,
    /// Their display name.
    pub display_name: String,
    /// Their avatar, `None` until uploaded.
    pub avatar_url: Option<String>,
}

/// Reply to a [`ScoreWrite`], which the Worker answers as it is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(as = ScoreUpdateReply, description = "The caller's standing after the write", examples(json!({"competition_id": "5a1d3f0e-8c2b-4f6a-9d7e-3b2a1c0d9e8f",
    "user_id": "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f", "score": 8421, "rank": 3, "display_rank": 3,
    "previous_rank": 5, "total": 128, "seq": 912})))]
pub struct ScoreWriteReply {
    /// The competition.
    pub competition_id: Uuid,
    /// Whose score.
    pub user_id: Uuid,
    /// The score now stored.
    pub score: Score,
    /// 1-based rank after the write.
    #[schema(minimum = 1)]
    pub rank: u64,
    /// Standard competition rank ("1224"): 1 + the members with a strictly higher score.
    #[schema(minimum = 1)]
    pub display_rank: u64,
    /// Rank before the write; `null` on the user's first score.
    #[schema(minimum = 1)]
    pub previous_rank: Option<u64>,
    /// Number of ranked users.
    pub total: u64,
    /// The competition's update sequence after the write (this change's, or a later one's): clients can match it
    /// against live `update` frames, and the Worker versions cached pages by it.
    pub seq: u64,
}

/// One user's standing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct Standing {
    /// 1-based rank.
    #[schema(minimum = 1)]
    pub rank: u64,
    /// Standard competition rank ("1224"): 1 + the members with a strictly higher score.
    #[schema(minimum = 1)]
    pub display_rank: u64,
    /// Current score.
    pub score: Score,
}

/// Reply to `Stats` (and `Repair`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[schema(as = CompetitionStats, description = "The competition object's state: members, the last rebuild, the outbox, dead letters and corrupt stored rows")]
pub struct ObjectStats {
    /// Members on the board.
    pub members: u64,
    /// Milliseconds the object spent rebuilding its board from SQLite when it woke.
    pub rebuild_ms: f64,
    /// Members loaded by that rebuild.
    pub rebuilt_members: u64,
    /// Changes waiting for the system of record.
    pub outbox_pending: u64,
    /// Consecutive failed deliveries of the outbox.
    pub outbox_failures: u32,
    /// Whether final standings are stored.
    pub finalized: bool,
    /// Final result rows stored.
    pub final_results: u64,
    /// Outbox rows the system of record refused for good, set aside (see `GET …/outbox` of the admin routes).
    #[serde(default)]
    pub dead_letters: u64,
    /// Stored member rows the board could not load (left off it; an administrator's repair drops them).
    #[serde(default)]
    pub corrupt_rows: Vec<crate::stored_rows::CorruptRow>,
    /// The relay objects this competition publishes to (those with subscribers lately; see `LIVE_RELAY_MEMBERS`).
    #[serde(default)]
    pub relays: Vec<String>,
}

/// Reply to `Outbox`: the outbox's state and the rows set aside.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[schema(description = "The outbox's state and the rows the database refused for good")]
pub struct OutboxReport {
    /// Changes waiting for the system of record.
    pub pending: u64,
    /// Consecutive failed deliveries.
    pub failures: u32,
    /// Rows refused for good (at most 500, oldest first).
    pub dead_letters: Vec<crate::outbox::DeadLetter>,
}

/// Reply to `RetryOutbox`: the dead letters put back into the outbox.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(as = OutboxRetryReply, description = "The dead letters put back into the outbox")]
pub struct OutboxRetried {
    /// How many.
    pub retried: u64,
}

/// `ChangeSettings`: the competition's new settings, and the competition as the API shows it (for the frame).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// What the object checks writes against and pays prizes by.
    pub meta: CompetitionMeta,
    /// The competition as subscribers see it in the `changed` frame.
    pub competition: serde_json::Value,
}

/// Reply to [`Settings`] and to `Cancel`: the update sequence after the change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Announced {
    /// The frame's sequence (or a later one's).
    pub seq: u64,
}

/// `Disqualify`: a member leaves the board for good and may post no more scores.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Disqualify {
    /// The member.
    pub user_id: Uuid,
    /// Why (1..200 characters, checked by the Worker).
    pub reason: String,
}

/// Reply to [`Disqualify`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Disqualified {
    /// The competition's update sequence after the removal (its `removed` frame's, or a later one's).
    pub seq: u64,
    /// Members left on the board.
    pub total: u64,
}

/// `Repair`: drop a stored member row that cannot be loaded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(description = "The corrupt stored member row to drop, by the key the competition's stats report")]
#[serde(deny_unknown_fields)]
pub struct Repair {
    /// The corrupt row's key, as the stats report it.
    pub key: String,
}

/// One row of a leaderboard view as the object knows it (the Worker adds profile fields).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BoardEntry {
    /// 1-based rank.
    pub rank: u64,
    /// Standard competition rank ("1224"): 1 + the members with a strictly higher score.
    pub display_rank: u64,
    /// The member.
    pub user_id: Uuid,
    /// Their score.
    pub score: Score,
    /// Their current display name, when the object has been told it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Their avatar, when they have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}

/// Reply to `Page`: the board's update sequence (every change a page shows takes a new one), and the page unless the
/// asker already holds the page of that sequence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PageAt {
    /// The board's update sequence now.
    pub seq: u64,
    /// The page; `None` when the asker's `unless_seq` is still current.
    pub page: Option<Page>,
}

/// Reply to `Snapshot`: a subscriber's first frame as text, and the sequence it includes (a relay sends it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SnapshotAt {
    /// Sequence of the last change the snapshot includes.
    pub seq: u64,
    /// The `snapshot` frame.
    pub text: String,
}

/// Reply to `Frames`: the kept frames of the run asked for, in order, or `None` when they are no longer all kept
/// (the relay's subscribers then resume from snapshots).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FramesAt {
    /// `(seq, is_update, text)` of each frame.
    pub frames: Option<Vec<crate::live::PendingFrame>>,
}

/// A page of the board.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Page {
    /// Members on the board.
    pub total: u64,
    /// The rows, in rank order.
    pub entries: Vec<BoardEntry>,
    /// Opaque cursor continuing after the last row; `None` at the end of the board.
    pub next_cursor: Option<String>,
}

/// Reply to `Around`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Around {
    /// The user's rank.
    pub rank: u64,
    /// Standard competition rank ("1224"): 1 + the members with a strictly higher score.
    pub display_rank: u64,
    /// Their score.
    pub score: Score,
    /// Members on the board.
    pub total: u64,
    /// Share of the board ranked at or below the user, in percent (rank 1 is 100).
    pub percentile: f64,
    /// The user's window, in rank order.
    pub entries: Vec<BoardEntry>,
}

/// The display name of a user without a profile: `player-` and the first 8 characters of the id.
pub fn default_display_name(user_id: &Uuid) -> String {
    format!("player-{}", &user_id.to_string()[..8])
}

/// A leaderboard row as the app sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(as = Entry)]
pub struct PublicEntry {
    /// 1-based rank.
    #[schema(minimum = 1)]
    pub rank: u64,
    /// Standard competition rank ("1224"): 1 + the members with a strictly higher score.
    #[schema(minimum = 1)]
    pub display_rank: u64,
    /// The member.
    pub user_id: Uuid,
    /// Their display name.
    pub display_name: String,
    /// Their avatar, `null` until uploaded.
    pub avatar_url: Option<String>,
    /// Their score.
    pub score: Score,
}

impl From<&BoardEntry> for PublicEntry {
    // The object keeps each member's current name and avatar; a member it was never told about shows the contract's
    // defaults.
    fn from(entry: &BoardEntry) -> Self {
        Self {
            rank: entry.rank,
            display_rank: entry.display_rank,
            user_id: entry.user_id,
            display_name: entry.display_name.clone().unwrap_or_else(|| default_display_name(&entry.user_id)),
            avatar_url: entry.avatar_url.clone(),
            score: entry.score,
        }
    }
}

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
    /// one's. Built as text by `live::combine`, never serialised from this variant.
    Updates {
        /// The last update's `seq`.
        seq: u64,
        /// The updates in `seq` order, each with its `"type":"update"`.
        #[schema(min_items = 2)]
        updates: Vec<UpdateFrame>,
    },
    /// Answer to a ping.
    Pong,
    /// The competition ended: final ranks and prizes are stored, no more updates follow.
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
    /// A socket broke a rule (`rate_limited`, `invalid_token`); a close follows.
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

/// One paid player.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct PrizeEntry {
    /// Their rank.
    #[schema(minimum = 1)]
    pub rank: u64,
    /// Who.
    pub user_id: Uuid,
    /// Amount in minor units.
    pub amount: u64,
}

/// Reply to `Prizes`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(description = "The prize split: provisional while the competition runs, final after")]
pub struct Prizes {
    /// The pool in minor units.
    pub prize_pool: i64,
    /// Whether the competition has ended and these are the final amounts.
    pub r#final: bool,
    /// Paid players in rank order.
    pub prizes: Vec<PrizeEntry>,
}

/// One member's final standing, stored when the competition ends and written to Postgres `final_results`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FinalResult {
    /// Final 1-based rank.
    pub rank: u64,
    /// Who.
    pub user_id: Uuid,
    /// Final score.
    pub score: Score,
    /// Prize in minor units (0 for unpaid places).
    pub prize: u64,
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
        token: String,
    },
}

/// Exact text of a ping the runtime answers without waking the object.
pub const PING_TEXT: &str = r#"{"type":"ping"}"#;
/// Exact text of the runtime's automatic answer.
pub const PONG_TEXT: &str = r#"{"type":"pong"}"#;

/// `100 × (total − rank + 1) / total`, to one decimal: the share of the board at or below `rank`.
pub fn percentile(rank: u64, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    let exact = 100.0 * (total - rank.min(total) + 1) as f64 / total as f64;
    (exact * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_sound_with_a_known_metric_and_an_end_after_the_start() {
        let meta = |metric: &str, starts_ms, ends_ms| CompetitionMeta {
            competition_id: Uuid::from_u128(1),
            metric: metric.to_owned(),
            starts_ms,
            ends_ms,
            prize_pool: 0,
            payout: Vec::new(),
            fitness: false,
            grace_ms: 0,
        };
        let cases = [("steps", 0, 1, true), ("steps", 1, 1, false), ("steps", 2, 1, false), ("laps", 0, 1, false)];
        for (metric, starts_ms, ends_ms, sound) in cases {
            assert_eq!(meta(metric, starts_ms, ends_ms).is_sound(), sound, "{metric} {starts_ms}..{ends_ms}");
        }
    }

    #[test]
    fn frames_have_the_contracts_shape() {
        let user = Uuid::from_u128(1);
        let update = ServerFrame::Update(UpdateFrame {
            seq: 3,
            user_id: user,
            display_name: "Ana".into(),
            score: Score::new(5).expect("a score"),
            rank: 1,
            display_rank: 1,
            previous_rank: None,
            total: 1,
        });
        let json = serde_json::to_value(&update).expect("json");
        assert_eq!((json["type"].as_str(), json["display_name"].as_str()), (Some("update"), Some("Ana")));
        assert_eq!(json["previous_rank"], serde_json::Value::Null);
        let snapshot = ServerFrame::Snapshot { seq: 0, total: 0, entries: vec![], me: None };
        assert_eq!(serde_json::to_value(&snapshot).expect("json")["type"], "snapshot");
        assert_eq!(serde_json::to_string(&ServerFrame::Pong).expect("json"), PONG_TEXT);
        assert_eq!(serde_json::from_str::<ClientFrame>(PING_TEXT).expect("ping"), ClientFrame::Ping);
        assert_eq!(
            serde_json::from_str::<ClientFrame>(r#"{"type":"resume","since":7}"#).expect("resume"),
            ClientFrame::Resume { since: 7 }
        );
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"shout"}"#).is_err());
    }

    #[test]
    fn default_display_names_use_the_first_eight_characters() {
        let id = Uuid::parse_str("5f0c1d9e-8a47-4a43-9d0e-3c1f2a4b5c6d").expect("uuid");
        assert_eq!(default_display_name(&id), "player-5f0c1d9e");
    }

    #[test]
    fn percentile_table() {
        for (rank, total, expected) in
            [(1, 1, 100.0), (1, 100, 100.0), (100, 100, 1.0), (50, 100, 51.0), (2, 3, 66.7), (1, 0, 0.0)]
        {
            assert_eq!(percentile(rank, total), expected, "rank {rank} of {total}");
        }
    }
}
