//! The audit trail of administrators' decisions (`public.admin_actions`, written by the database's triggers and by
//! `record_score_correction`): read back, newest first.

use uuid::Uuid;

use super::{Caller, Database};
use crate::adapters::error::AdapterError;
use crate::adapters::rows::AdminActionRow;

/// Which rows of the trail to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only actions on this competition.
    pub competition_id: Option<Uuid>,
    /// Only actions about this member.
    pub user_id: Option<Uuid>,
    /// Only rows older than this one (the page before).
    pub before: Option<i64>,
    /// At most this many rows.
    pub limit: usize,
}

impl Database {
    /// The trail's rows that `filter` selects, newest first (service role: users cannot read the trail).
    pub async fn admin_actions(&self, filter: &AuditFilter) -> Result<Vec<AdminActionRow>, AdapterError> {
        let mut builder = self.table("admin_actions", Caller::Service).select("*");
        if let Some(competition_id) = filter.competition_id {
            builder = builder.eq("competition_id", competition_id.to_string());
        }
        if let Some(user_id) = filter.user_id {
            builder = builder.eq("user_id", user_id.to_string());
        }
        if let Some(before) = filter.before {
            builder = builder.lt("id", before.to_string());
        }
        self.run("admin_actions", builder.order("id.desc").limit(filter.limit)).await
    }
}
