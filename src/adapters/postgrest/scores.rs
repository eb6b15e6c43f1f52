//! What the competitions' objects deliver to the system of record: score changes from their outboxes and final
//! results.

use serde_json::json;
use uuid::Uuid;

use super::{Caller, Database};
use crate::adapters::error::AdapterError;
use crate::adapters::rows::ScoreEntryArg;

impl Database {
    /// Records a finished competition's final results idempotently (by rank); returns how many were new.
    pub async fn record_final_results(
        &self,
        competition_id: &Uuid,
        results: &[standings::protocol::FinalResult],
    ) -> Result<i64, AdapterError> {
        let args = json!({ "competition": competition_id, "results": results });
        self.run("record_final_results", self.rpc("record_final_results", args, Caller::Service)).await
    }

    /// A page (at most `limit`) of the competition's member changes (renames, new avatars, deleted accounts),
    /// oldest first: a competition object applies them, however they were made. The database deletes the changes
    /// numbered in `done` first: the competition's one reader has applied them. What is left is listed whatever its
    /// number, so a change whose transaction committed after a later-numbered one was read is not skipped.
    pub async fn member_changes(
        &self,
        competition_id: &Uuid,
        done: &[i64],
        limit: usize,
    ) -> Result<Vec<crate::adapters::rows::MemberChangeRow>, AdapterError> {
        let args = json!({ "p_competition": competition_id, "p_done": done, "p_limit": limit });
        self.run("member_changes_take", self.rpc("member_changes_take", args, Caller::Service)).await
    }

    /// Records an administrator's accepted score correction in the audit trail (the actor and request id travel in
    /// the headers, `Database::on_behalf_of`); returns the trail row's id.
    pub async fn record_score_correction(
        &self,
        requested: standings::score::Score,
        reply: &standings::protocol::ScoreWriteReply,
    ) -> Result<i64, AdapterError> {
        let args = json!({
            "p_competition": reply.competition_id, "p_user": reply.user_id, "p_requested": requested,
            "p_score": reply.score, "p_seq": reply.seq,
        });
        self.run("record_score_correction", self.rpc("record_score_correction", args, Caller::Service)).await
    }

    /// Records an operator's rescore of a competition (how many members it wrote) in the audit trail; returns the
    /// trail row's id.
    pub async fn record_competition_rescore(&self, competition_id: &Uuid, rescored: u64) -> Result<i64, AdapterError> {
        let args = json!({ "p_competition": competition_id, "p_rescored": rescored });
        self.run("record_competition_rescore", self.rpc("record_competition_rescore", args, Caller::Service)).await
    }

    /// Applies Competition DO outbox rows idempotently (by `seq`); returns how many changed.
    pub async fn apply_score_outbox(&self, entries: &[ScoreEntryArg]) -> Result<i64, AdapterError> {
        self.run("apply_score_outbox", self.rpc("apply_score_outbox", json!({ "entries": entries }), Caller::Service))
            .await
    }
}
