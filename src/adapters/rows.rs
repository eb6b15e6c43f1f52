//! Rows as PostgREST returns them (column names of `migrations/`), and the arguments the RPC functions take.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `profiles` / `ensure_profile()`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProfileRow {
    pub user_id: Uuid,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

/// `competition_summaries`: a competition with its participant count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompetitionRow {
    pub id: Uuid,
    pub name: String,
    pub metric: String,
    /// RFC 3339 as Postgres prints it (`2026-11-01T00:00:00+00:00`).
    pub starts_at: String,
    pub ends_at: String,
    pub prize_pool: i64,
    pub payout: Vec<u32>,
    #[serde(default)]
    pub participants: i64,
    #[serde(default)]
    pub max_participants: Option<i64>,
    /// When an administrator cancelled it, if they did.
    #[serde(default)]
    pub cancelled_at: Option<String>,
}

/// The columns a new competition is inserted with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewCompetitionRow {
    pub name: String,
    pub metric: String,
    pub starts_at: String,
    pub ends_at: String,
    pub prize_pool: i64,
    pub payout: Vec<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_participants: Option<i64>,
}

/// `memberships` / `join_competition()`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MembershipRow {
    pub competition_id: Uuid,
    pub user_id: Uuid,
    pub joined_at: String,
    /// When the member was disqualified, if they were.
    #[serde(default)]
    pub disqualified_at: Option<String>,
    /// Why.
    #[serde(default)]
    pub disqualified_reason: Option<String>,
}

/// One row of `my_competitions(p_user)`: a joined competition, the membership, and the final standing when the
/// database has it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MyCompetitionRow {
    /// The competition's columns, as the competition routes read them.
    #[serde(flatten)]
    pub competition: CompetitionRow,
    pub joined_at: String,
    pub disqualified_at: Option<String>,
    pub disqualified_reason: Option<String>,
    pub final_rank: Option<u64>,
    pub final_display_rank: Option<u64>,
    pub final_score: Option<i64>,
    pub final_amount: Option<i64>,
}

/// One day of one source for `sync_fitness_days(source, days)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FitnessDayArg {
    pub day: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_minutes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calories: Option<i64>,
}

/// A competition's new total for the caller, from `sync_fitness_days`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RescoredRow {
    pub competition_id: Uuid,
    pub score: i64,
    /// The user's days version after the sync: grows with every sync, so the object can drop an older total.
    pub version: i64,
}

/// One Competition DO outbox row for `apply_score_outbox(entries)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScoreEntryArg {
    pub competition_id: Uuid,
    pub user_id: Uuid,
    pub score: u64,
    pub seq: u64,
    /// RFC 3339.
    pub updated_at: String,
}
