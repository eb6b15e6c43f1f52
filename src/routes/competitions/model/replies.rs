//! A competition as the API shows it, the replies that carry it, and the settings its object is told.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::create::{ScoreSource, MAX_GRACE_HOURS};
use crate::adapters::rows::CompetitionRow;
use crate::error::ApiError;
use crate::fitness_rules::Scoring;
use crate::time;
use standings::protocol::CompetitionMeta;
use standings::rules::{self, Metric, Status};

/// A competition as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(examples(json!({"id": "5a1d3f0e-8c2b-4f6a-9d7e-3b2a1c0d9e8f", "name": "December steps", "metric": "steps",
    "starts_at": "2026-12-01T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z", "prize_pool": 10000,
    "payout": [5000, 3000, 2000], "participants": 128, "max_participants": null, "status": "active",
    "score_source": "fitness", "scoring": {"mode": "daily_capped", "cap": 30000}, "clock": "participant",
    "grace_hours": 24, "allow_manual": false})))]
pub struct Competition {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// What the board ranks by.
    #[schema(value_type = Metric)]
    pub metric: String,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub starts_at: String,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub ends_at: String,
    /// In minor units.
    pub prize_pool: i64,
    /// Basis points per place.
    pub payout: Vec<u32>,
    /// Members who joined.
    #[schema(minimum = 0)]
    pub participants: i64,
    /// Most members, `null` without a limit.
    #[schema(minimum = 1, maximum = 1000000)]
    pub max_participants: Option<i64>,
    /// Where it stands now.
    pub status: Status,
    /// Where its scores come from.
    #[schema(value_type = ScoreSource)]
    pub score_source: String,
    /// How counted days add up.
    pub scoring: Scoring,
    /// `participant` or an IANA zone name.
    pub clock: String,
    /// Hours after the end in which synced days still count.
    #[schema(minimum = 0, maximum = 72)]
    pub grace_hours: i64,
    /// Whether days typed in by hand count.
    pub allow_manual: bool,
}

/// Reply of `GET /api/v1/competitions`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CompetitionList {
    /// Active and upcoming competitions by start, at most 100.
    #[schema(max_items = 100)]
    pub competitions: Vec<Competition>,
}

/// Reply of `POST /api/v1/competitions/{id}/join`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Membership {
    /// The competition joined.
    pub competition_id: Uuid,
    /// The caller.
    pub user_id: Uuid,
    /// When they joined (the first time), RFC 3339.
    #[schema(format = DateTime)]
    pub joined_at: String,
}

/// Reply of `POST /api/v1/competitions/{id}/members/{user_id}/disqualify`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Disqualified {
    /// The competition.
    pub competition_id: Uuid,
    /// The member.
    pub user_id: Uuid,
    /// Always `disqualified`.
    #[schema(schema_with = disqualified_status)]
    pub status: &'static str,
    /// Why, as given.
    pub reason: Option<String>,
    /// When, RFC 3339.
    #[schema(format = DateTime)]
    pub disqualified_at: Option<String>,
    /// Members left on the board.
    #[schema(minimum = 0)]
    pub total: u64,
}

fn disqualified_status() -> utoipa::openapi::schema::Object {
    crate::http::schema::one_of_words(["disqualified"])
}

/// What a competition's object needs to know, from its database row; `None` when the row breaks the schema's rules.
pub fn meta_from_row(row: &CompetitionRow) -> Option<CompetitionMeta> {
    Metric::parse(&row.metric)?;
    Some(CompetitionMeta {
        competition_id: row.id,
        metric: row.metric.clone(),
        starts_ms: time::parse_ms(&row.starts_at)?,
        ends_ms: time::parse_ms(&row.ends_at)?,
        prize_pool: row.prize_pool,
        payout: row.payout.clone(),
        fitness: row.score_source == "fitness",
        grace_ms: row.grace_hours.clamp(0, MAX_GRACE_HOURS) * 3_600_000,
        version: row.settings_version,
    })
}

/// The API shape of a row at `now_ms`.
pub fn present(row: &CompetitionRow, now_ms: i64) -> Result<Competition, ApiError> {
    let meta = meta_from_row(row)
        .ok_or_else(|| ApiError::Internal(format!("competition {} has an unreadable schedule", row.id)))?;
    Ok(Competition {
        id: row.id,
        name: row.name.clone(),
        metric: row.metric.clone(),
        starts_at: time::normalize(&row.starts_at),
        ends_at: time::normalize(&row.ends_at),
        prize_pool: row.prize_pool,
        payout: row.payout.clone(),
        participants: row.participants,
        max_participants: row.max_participants,
        status: match row.cancelled_at {
            Some(_) => Status::Cancelled,
            None => rules::status(meta.starts_ms, meta.ends_ms, meta.final_ms(), now_ms),
        },
        score_source: row.score_source.clone(),
        scoring: row.scoring,
        clock: row.clock.clone(),
        grace_hours: row.grace_hours,
        allow_manual: row.allow_manual,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_object_settings() {
        let row = CompetitionRow {
            id: Uuid::from_u128(7),
            name: "n".into(),
            metric: "calories".into(),
            starts_at: "2026-11-01T00:00:00+00:00".into(),
            ends_at: "2026-11-08T00:00:00+00:00".into(),
            prize_pool: 5,
            payout: vec![10_000],
            participants: 3,
            max_participants: None,
            cancelled_at: None,
            score_source: "fitness".into(),
            scoring: Scoring::default(),
            clock: "participant".into(),
            grace_hours: 24,
            allow_manual: false,
            settings_version: 0,
            rescore_from: None,
            rescore_to: None,
            rescore_after: None,
        };
        let meta = meta_from_row(&row).expect("valid");
        assert_eq!((meta.starts_ms, meta.ends_ms - meta.starts_ms), (1_793_491_200_000, 7 * 86_400_000));
        let shown = present(&row, meta.starts_ms).expect("present");
        assert_eq!((shown.status, shown.starts_at.as_str()), (Status::Active, "2026-11-01T00:00:00Z"));
        assert!(meta_from_row(&CompetitionRow { metric: "sleep".into(), ..row }).is_none());
    }
}
