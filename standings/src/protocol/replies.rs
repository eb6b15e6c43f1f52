//! What an object answers: a score write's outcome, standings, pages and views around a member, the board's
//! entries as the app sees them, prizes and final results, and the operator's statistics.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::score::Score;

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

/// The object's answer to one write of a `WriteScores` batch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WriteOutcome {
    /// Applied (or unchanged): the writer's standing after it.
    Written(ScoreWriteReply),
    /// Refused, as `WriteScore` would have answered it alone.
    Refused(crate::object_error::ObjectError),
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
    /// Whether the members' totals from the days they stored before a fitness competition's start are still to be
    /// written (before the start, or while the start's alarm cannot read the database).
    #[serde(default)]
    pub start_totals_due: bool,
    /// Bytes of the isolate's wasm memory: its high-water mark, as wasm memory never shrinks.
    #[serde(default)]
    pub memory_bytes: u64,
    /// Competition boards the isolate holds in memory: its live objects', and those of instances the runtime
    /// discarded that are neither released by a newer instance nor collected yet.
    #[serde(default)]
    pub boards_in_memory: u64,
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
    /// The `finished` frame once the standings are final: a subscriber who comes after the end gets it next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
}

/// Reply to `Frames`: the kept frames of the run asked for, in order, or `None` when they are no longer all kept
/// (the relay's subscribers then resume from snapshots).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FramesAt {
    /// `(seq, is_update, text)` of each frame.
    pub frames: Option<Vec<crate::live::PendingFrame>>,
    /// The `finished` frame once the standings are final (not one of the kept frames: it repeats the last `seq`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
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
