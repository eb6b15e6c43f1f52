//! Competitions and their members: creation and edits, lists, one row, joins, disqualification and membership.

use serde_json::json;
use uuid::Uuid;

use super::{Caller, Database, DEP};
use crate::adapters::error::AdapterError;
use crate::adapters::rows::{CompetitionRow, Joined, MembershipRow, MyCompetitionRow, NewCompetitionRow};

impl Database {
    /// Inserts a competition (service role only; RLS refuses users).
    pub async fn create_competition(&self, row: &NewCompetitionRow) -> Result<CompetitionRow, AdapterError> {
        let body = serde_json::to_string(row).map_err(|e| AdapterError::Decode(DEP, e.to_string()))?;
        let builder = self.table("competitions", Caller::Service).insert(body).single();
        self.run("create_competition", builder).await
    }

    /// Applies `changes` to a competition's row (service role: administrators' edits); the row after, or `None`.
    pub async fn update_competition(
        &self,
        id: &Uuid,
        changes: &serde_json::Value,
    ) -> Result<Option<CompetitionRow>, AdapterError> {
        let builder = self
            .table("competitions", Caller::Service)
            .eq("id", id.to_string())
            .select("*")
            .update(changes.to_string());
        let rows: Vec<CompetitionRow> = self.run("update_competition", builder).await?;
        Ok(rows.into_iter().next())
    }

    /// Records a rescore of the members of `span` made with the competition's settings at `version`: finished
    /// (`after` `None`: the pending span is cleared) or finished up to the member `after` (the span and that cursor
    /// are kept for the next rescore). Nothing is recorded when the settings moved on meanwhile or another rescore
    /// left a wider span pending; whether it was recorded.
    pub async fn rescore_progress(
        &self,
        id: &Uuid,
        (from, to): (&str, &str),
        version: i64,
        after: Option<&Uuid>,
    ) -> Result<bool, AdapterError> {
        let args = json!({ "p_competition": id, "p_from": from, "p_to": to, "p_version": version, "p_after": after });
        self.run("rescore_progress", self.rpc("rescore_progress", args, Caller::Service)).await
    }

    /// Competitions with a rescore span still pending whose standings can still move, in random order (one that keeps
    /// failing cannot hold back the others), at most `limit`.
    pub async fn pending_rescores(&self, limit: u32) -> Result<Vec<CompetitionRow>, AdapterError> {
        let args = json!({ "p_limit": limit });
        self.run("pending_rescores", self.rpc("pending_rescores", args, Caller::Service)).await
    }

    /// Competitions not cancelled whose standings are not final at `now_rfc3339` (upcoming, active or finalizing), by
    /// start time, at most `limit`. `ended_after_rfc3339` is `now` less the longest grace period: implied by the first
    /// condition, it lets the database read the recent end of its `ends_at` index instead of every competition ever
    /// held (`final_at` is computed, so no index serves it).
    pub async fn list_competitions(
        &self,
        caller: Caller<'_>,
        now_rfc3339: &str,
        ended_after_rfc3339: &str,
        limit: usize,
    ) -> Result<Vec<CompetitionRow>, AdapterError> {
        let builder = self
            .table("competition_summaries", caller)
            .select("*")
            .gt("final_at", now_rfc3339)
            .gt("ends_at", ended_after_rfc3339)
            .is("cancelled_at", "null")
            .order("starts_at.asc,id.asc")
            .limit(limit);
        self.run("list_competitions", builder).await
    }

    /// One competition, or `None`.
    pub async fn competition(&self, caller: Caller<'_>, id: &Uuid) -> Result<Option<CompetitionRow>, AdapterError> {
        let builder = self.table("competition_summaries", caller).select("*").eq("id", id.to_string());
        let rows: Vec<CompetitionRow> = self.run("competition", builder).await?;
        Ok(rows.into_iter().next())
    }

    /// Joins a verified user (idempotent; the database sets `joined_at`) and reads, in the same call, what
    /// introducing them to the competition's object needs; PostgREST answers 404 for an unknown, 403 for a
    /// disqualified member's and 409 for a finished, cancelled or full competition.
    pub async fn join_competition(&self, user_id: &Uuid, id: &Uuid) -> Result<Joined, AdapterError> {
        let args = json!({ "competition": id, "p_user": user_id });
        self.run("join_competition", self.rpc("join_and_introduce", args, Caller::Service)).await
    }

    /// Marks a member disqualified (idempotent: the first time and reason stay); PostgREST answers 404 for a user
    /// who is not a member.
    pub async fn disqualify_member(
        &self,
        competition_id: &Uuid,
        user_id: &Uuid,
        reason: &str,
    ) -> Result<MembershipRow, AdapterError> {
        let args = json!({ "competition": competition_id, "p_user": user_id, "p_reason": reason });
        self.run("disqualify_member", self.rpc("disqualify_member", args, Caller::Service)).await
    }

    /// Every competition `user_id` joined, newest join first (at most 100), with final standings where delivered.
    pub async fn my_competitions(&self, user_id: &Uuid) -> Result<Vec<MyCompetitionRow>, AdapterError> {
        let args = json!({ "p_user": user_id, "p_limit": 100 });
        self.run("my_competitions", self.rpc("my_competitions", args, Caller::Service)).await
    }

    /// Every competition `user_id` is a member of (the Worker's own read: no limit of the "my competitions" page).
    pub async fn competitions_of(&self, user_id: &Uuid) -> Result<Vec<Uuid>, AdapterError> {
        #[derive(serde::Deserialize)]
        struct Row {
            competition_id: Uuid,
        }
        let builder =
            self.table("memberships", Caller::Service).select("competition_id").eq("user_id", user_id.to_string());
        let rows: Vec<Row> = self.run("competitions_of", builder).await?;
        Ok(rows.into_iter().map(|row| row.competition_id).collect())
    }

    /// Whether `user_id` joined `competition_id`.
    pub async fn is_member(
        &self,
        caller: Caller<'_>,
        competition_id: &Uuid,
        user_id: &Uuid,
    ) -> Result<bool, AdapterError> {
        let builder = self
            .table("memberships", caller)
            .select("user_id")
            .eq("competition_id", competition_id.to_string())
            .eq("user_id", user_id.to_string());
        let rows: Vec<serde_json::Value> = self.run("is_member", builder).await?;
        Ok(!rows.is_empty())
    }
}
