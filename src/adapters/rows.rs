//! Rows as PostgREST returns them (column names of `supabase/migrations/`), and the arguments the RPC functions take.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `profiles` / `ensure_profile()`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProfileRow {
    pub user_id: Uuid,
    pub display_name: String,
    pub avatar_url: Option<String>,
    /// IANA zone of the member's own days.
    #[serde(default = "crate::fitness_rules::clock::default_zone_name")]
    pub time_zone: String,
    /// How many times the name or the avatar changed: the boards keep the person with the highest count.
    #[serde(default)]
    pub person_version: i64,
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
    /// `fitness` (scores computed from synced days) or `client` (members post them).
    #[serde(default = "fitness")]
    pub score_source: String,
    #[serde(default)]
    pub scoring: crate::fitness_rules::Scoring,
    /// `participant` or an IANA zone name.
    #[serde(default = "crate::fitness_rules::clock::participant_name")]
    pub clock: String,
    #[serde(default)]
    pub grace_hours: i64,
    #[serde(default)]
    pub allow_manual: bool,
    /// Grows with every update of the competition's settings, in commit order: objects refuse settings older than
    /// theirs.
    #[serde(default)]
    pub settings_version: i64,
    /// Start of the span (RFC 3339) whose members a moved end left to rescore: set by the update that moved the end,
    /// cleared once they are (migration `20261207160000_pending_rescore.sql`).
    #[serde(default)]
    pub rescore_from: Option<String>,
    /// End of that span.
    #[serde(default)]
    pub rescore_to: Option<String>,
    /// The last member (in user-id order) an unfinished rescore of that span wrote: the next one goes on after it
    /// (migration `20261207180000_rescore_goes_on_where_it_stopped.sql`).
    #[serde(default)]
    pub rescore_after: Option<Uuid>,
}

impl CompetitionRow {
    /// The span a moved end (or an unfinished rescore) left to rescore, when one is pending.
    pub fn pending_rescore(&self) -> Option<(&str, &str)> {
        Some((self.rescore_from.as_deref()?, self.rescore_to.as_deref()?))
    }
}

fn fitness() -> String {
    "fitness".to_owned()
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
    pub score_source: String,
    pub scoring: crate::fitness_rules::Scoring,
    pub clock: String,
    pub grace_hours: i64,
    pub allow_manual: bool,
}

/// `memberships` / `join_competition()` / the membership of `join_and_introduce()`.
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

/// What `join_and_introduce()` returns: the membership, and what introducing the member to the competition's object
/// needs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Joined {
    pub membership: MembershipRow,
    /// The competition, the new member counted.
    pub competition: CompetitionRow,
    pub profile: ProfileRow,
    /// For a started fitness competition: rescoring the member from their stored days (their days version raised).
    pub rescore: Option<crate::fitness_rules::rescore::RescoreInputs>,
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

/// One day of one source for `sync_fitness_days(p_user, p_source, p_days, p_time_zone)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FitnessDayArg {
    /// The sample's index in the request (the database names the ones dated after the user's local today).
    pub index: usize,
    pub day: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_minutes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calories: Option<i64>,
    /// Typed in by hand.
    pub user_entered: bool,
    /// The metrics above their review threshold (held for review).
    pub held_metrics: Vec<&'static str>,
}

impl FitnessDayArg {
    /// The sample's metrics that it carries, with their values.
    pub fn values(&self) -> impl Iterator<Item = (standings::rules::Metric, i64)> + '_ {
        let values = [self.steps, self.active_minutes, self.distance_m, self.calories];
        standings::rules::Metric::ALL.into_iter().zip(values).filter_map(|(m, v)| v.map(|v| (m, v)))
    }
}

/// What `sync_fitness_days` returns: what rescoring needs, and the samples it did not store as dated after the
/// user's local today.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SyncedDays {
    #[serde(flatten)]
    pub rescore: crate::fitness_rules::rescore::RescoreInputs,
    #[serde(default)]
    pub future: Vec<usize>,
}

/// One page of `rescore_members`: members whose days a moved end may count differently, each with what rescoring
/// them needs (their days version already raised).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MembersToRescore {
    pub members: Vec<MemberToRescore>,
    /// Where the next page starts; `None` after the last.
    pub next: Option<Uuid>,
}

/// One member of a [`MembersToRescore`] page.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MemberToRescore {
    pub user_id: Uuid,
    pub inputs: crate::fitness_rules::rescore::RescoreInputs,
}

/// One row of `member_changes_after`: a member of the competition whose name, avatar or account changed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MemberChangeRow {
    /// Increasing in the order the changes happened.
    pub id: i64,
    pub user_id: Uuid,
    /// The profile as it is now; `None` when the account was deleted.
    pub person: Option<ChangedPerson>,
}

/// The name and avatar of a [`MemberChangeRow`] as they are now.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChangedPerson {
    pub display_name: String,
    pub avatar_url: Option<String>,
    /// The profile's `person_version`.
    pub version: i64,
}

/// One held sample of `list_holds` / `decide_hold`: a user-day's held source and metric, and the day's decision.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HoldRow {
    pub user_id: Uuid,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub source: String,
    pub metric: String,
    pub value: i64,
    /// The largest value held for this metric that day (what an approval counts: the day's largest source).
    #[serde(default)]
    pub day_value: Option<i64>,
    pub status: crate::fitness_rules::HoldStatus,
    #[serde(default)]
    pub user_entered: bool,
    /// When the day was decided (Postgres's text), null while pending.
    #[serde(default)]
    pub decided_at: Option<String>,
    /// The administrator who decided it, from the audit trail; null while pending or when nobody was named.
    #[serde(default)]
    pub decided_by: Option<Uuid>,
    /// Why it was decided, when the decision said.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What `decide_hold` returns: the day's held samples after the decision and what rescoring the user's competitions
/// needs (also for the same decision again, at the current days version; its `changed` is not read).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HoldDecision {
    pub holds: Vec<HoldRow>,
    pub rescore: Option<crate::fitness_rules::rescore::RescoreInputs>,
}

/// What `set_avatar` returns.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AvatarChange {
    /// The profile, showing the new avatar.
    pub profile: ProfileRow,
    /// The avatar URL the profile showed before, if any (its stored image can go unless it is the new one).
    pub replaced: Option<String>,
}

/// What `delete_account` returns.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeletedAccount {
    /// Whether the user had a profile.
    pub existed: bool,
    /// The competitions they were a member of.
    pub competitions: Vec<Uuid>,
    /// Their avatar's URL, when no other profile shows the same image (so its stored object can go).
    pub avatar_url: Option<String>,
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

/// One row of the audit trail of administrators' decisions (`public.admin_actions`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AdminActionRow {
    pub id: i64,
    /// When (Postgres's text).
    pub at: String,
    pub actor: Option<Uuid>,
    pub request_id: Option<String>,
    pub action: String,
    pub competition_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    /// `YYYY-MM-DD`, for a decision on a held day.
    pub day: Option<String>,
    pub detail: serde_json::Value,
}
