//! Fitness days and their holds: a sync's upsert and the review of held days.

use serde_json::json;
use uuid::Uuid;

use super::{Caller, Database};
use crate::adapters::error::AdapterError;
use crate::adapters::rows::{FitnessDayArg, HoldDecision, HoldRow, MembersToRescore, SyncedDays};

impl Database {
    /// Stores a verified user's samples from one source (setting their zone first when `time_zone` is given) and
    /// returns what rescoring their competitions needs, with the samples dated after their local today (users
    /// cannot call the function themselves).
    pub async fn sync_fitness_days(
        &self,
        user_id: &Uuid,
        source: &str,
        days: &[FitnessDayArg],
        time_zone: Option<&str>,
    ) -> Result<SyncedDays, AdapterError> {
        let args = json!({ "p_user": user_id, "p_source": source, "p_days": days, "p_time_zone": time_zone });
        self.run("sync_fitness_days", self.rpc("sync_fitness_days", args, Caller::Service)).await
    }

    /// What rescoring the user needs now, with their days version raised (and their zone set first when
    /// `time_zone` is given): a sync without samples, so it is ordered with the user's syncs like one.
    pub async fn days_to_rescore(
        &self,
        user_id: &Uuid,
        time_zone: Option<&str>,
    ) -> Result<crate::fitness_rules::rescore::RescoreInputs, AdapterError> {
        Ok(self.sync_fitness_days(user_id, "manual", &[], time_zone).await?.rescore)
    }

    /// Held samples whose day has `status` (every status when `None`), by date then user, at most 500.
    pub async fn list_holds(&self, status: Option<&str>) -> Result<Vec<HoldRow>, AdapterError> {
        let args = json!({ "p_status": status, "p_limit": 500 });
        self.run("list_holds", self.rpc("list_holds", args, Caller::Service)).await
    }

    /// Records a review decision (approved or rejected, with its reason if any) on a user's held day; PostgREST
    /// answers 404 when the day has no hold.
    pub async fn decide_hold(
        &self,
        user_id: &Uuid,
        day: &str,
        decision: &str,
        reason: Option<&str>,
    ) -> Result<HoldDecision, AdapterError> {
        let args = json!({ "p_user": user_id, "p_day": day, "p_decision": decision, "p_reason": reason });
        self.run("decide_hold", self.rpc("decide_hold", args, Caller::Service)).await
    }

    /// A page of the fitness competition's members with a stored day that a move of its end between `from` and
    /// `to` (RFC 3339) may count differently, after `after`, each with their days version raised and their rescore
    /// inputs.
    pub async fn rescore_members(
        &self,
        competition_id: &Uuid,
        (from, to): (&str, &str),
        after: Option<&Uuid>,
        limit: usize,
    ) -> Result<MembersToRescore, AdapterError> {
        let args = json!({ "p_competition": competition_id, "p_from": from, "p_to": to, "p_after": after,
                           "p_limit": limit });
        self.run("rescore_members", self.rpc("rescore_members", args, Caller::Service)).await
    }

    /// A page of the fitness competition's members with a stored day (after `after`, in user-id order), each with
    /// what computing their total as of `at` (RFC 3339) needs, at their current days version (not raised).
    pub async fn member_totals(
        &self,
        competition_id: &Uuid,
        at: &str,
        after: Option<&Uuid>,
        limit: usize,
    ) -> Result<MembersToRescore, AdapterError> {
        let args = json!({ "p_competition": competition_id, "p_at": at, "p_after": after, "p_limit": limit });
        self.run("member_totals", self.rpc("member_totals", args, Caller::Service)).await
    }
}
