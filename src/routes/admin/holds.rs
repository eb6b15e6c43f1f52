//! Reviews of held days (`service_role`): `GET /api/v1/admin/holds?status=…` lists held samples, and
//! `POST /api/v1/admin/holds/{user_id}/{date}` approves (the day counts in full) or rejects (it counts 0 for the held
//! metric) a user-day. A decision that changes something rescores every running or finalizing competition of the
//! user and moves their live boards, exactly as a sync does.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::adapters::rows::HoldRow;
use crate::error::{ApiError, FieldError};
use crate::fitness_rules::HoldStatus;
use crate::http::body::JSON_LIMIT;
use crate::http::reply::Reply;
use crate::router::RouteMatch;
use crate::routes::competitions::model::reason;
use crate::routes::leaderboard::model::path_uuid;
use crate::runtime::{query_pairs, query_value, RequestContext};
use crate::{scoring, time};
use standings::rules::Metric;

/// A held sample as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Hold {
    /// The member.
    pub user_id: Uuid,
    /// Their local day, YYYY-MM-DD.
    #[schema(format = Date)]
    pub date: String,
    /// The source that reported it.
    pub source: String,
    /// The held metric.
    #[schema(value_type = Metric)]
    pub metric: String,
    /// The reported value.
    pub value: i64,
    /// The review's state.
    pub status: HoldStatus,
    /// What the day counts now for this metric: the review threshold while pending, the day's largest held value
    /// (of any source) once approved, 0 once rejected.
    pub counted: i64,
    /// Typed in by hand.
    pub user_entered: bool,
    /// When the day was approved or rejected; null while pending.
    pub decided_at: Option<String>,
    /// The administrator who decided it (the `sub` of their service_role token); null while pending, or when the
    /// token named nobody (Supabase's service key). Every decision is kept in the database's audit trail.
    pub decided_by: Option<Uuid>,
    /// Why it was decided, when the decision gave a reason.
    pub reason: Option<String>,
}

/// Reply of `GET /api/v1/admin/holds`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoldList {
    /// By date then user, at most 500.
    #[schema(max_items = 500)]
    pub holds: Vec<Hold>,
}

/// Reply of `POST /api/v1/admin/holds/{user_id}/{date}`: the decided hold, every hold of that user-day, and the
/// member's standing in each competition the decision rescored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoldDecided {
    /// The first decided hold (its fields at the top level).
    #[serde(flatten)]
    pub hold: Hold,
    /// Every hold of the user-day (one per held metric).
    pub holds: Vec<Hold>,
    /// The member's standing where the decision changed their score.
    pub competitions: Vec<scoring::Rescored>,
}

impl From<HoldRow> for Hold {
    fn from(row: HoldRow) -> Self {
        // What the day counts, not this sample alone: an approval counts the day's largest source.
        let day_value = row.day_value.unwrap_or(row.value).max(row.value);
        let counted = Metric::parse(&row.metric).map_or(0, |metric| row.status.counted(metric, day_value));
        Self {
            user_id: row.user_id,
            date: row.date,
            source: row.source,
            metric: row.metric,
            value: row.value,
            status: row.status,
            counted,
            user_entered: row.user_entered,
            decided_at: row.decided_at.as_deref().map(time::normalize),
            decided_by: row.decided_by,
            reason: row.reason,
        }
    }
}

/// Body of `POST /api/v1/admin/holds/{user_id}/{date}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = HoldDecision)]
pub struct DecisionBody {
    /// `approve` (counts in full) or `reject` (counts 0).
    #[schema(schema_with = decisions)]
    pub decision: String,
    /// Why, kept with the hold and in the database's audit trail.
    #[serde(default)]
    #[schema(schema_with = reason_or_null)]
    pub reason: Option<String>,
}

/// A review decision as the database takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Approved or rejected.
    pub status: HoldStatus,
    /// Why, when given.
    pub reason: Option<String>,
}

fn decisions() -> utoipa::openapi::schema::Object {
    crate::http::schema::one_of_words(["approve", "reject"])
}

fn reason_or_null() -> utoipa::openapi::schema::Object {
    crate::http::schema::trimmed_text_or_null(200, "Why: 1 to 200 characters once trimmed, no control characters")
}

impl DecisionBody {
    /// `approve` → approved, `reject` → rejected, with a reason if any (`competitions::model::reason`; 422
    /// otherwise, every field at fault listed).
    pub fn validate(self) -> Result<Decision, ApiError> {
        let mut problems = Vec::new();
        let status = match self.decision.as_str() {
            "approve" => Some(HoldStatus::Approved),
            "reject" => Some(HoldStatus::Rejected),
            _ => {
                problems.push(FieldError::new("decision", "must be approve or reject"));
                None
            }
        };
        let reason = self.reason.as_deref().map(reason).transpose().unwrap_or_else(|problem| {
            problems.push(problem);
            None
        });
        match status {
            Some(status) if problems.is_empty() => Ok(Decision { status, reason }),
            _ => Err(ApiError::ValidationFailed(problems)),
        }
    }
}

/// The `status` filter of the list: pending by default (the review queue).
pub fn status_filter(pairs: &[(String, String)]) -> Result<HoldStatus, ApiError> {
    match query_value(pairs, "status") {
        None => Ok(HoldStatus::Pending),
        Some(value) => HoldStatus::parse(value).ok_or_else(|| {
            ApiError::ValidationFailed(vec![FieldError::new("status", "must be pending, approved or rejected")])
        }),
    }
}

/// `GET /api/v1/admin/holds?status=pending|approved|rejected` (at most 500, oldest first).
pub async fn list(ctx: &RequestContext<'_>, req: &crate::http::incoming::Incoming) -> Result<Reply, ApiError> {
    ctx.require_admin("reviews need a service_role token")?;
    let status = status_filter(&query_pairs(req)?)?;
    let rows = ctx.database().list_holds(Some(status.name())).await?;
    let holds: Vec<Hold> = rows.into_iter().map(Hold::from).collect();
    Ok(Reply::json(200, &HoldList { holds }))
}

/// `POST /api/v1/admin/holds/{user_id}/{date}` with `{"decision":"approve"|"reject"}`: 200 the hold (its first held
/// sample, with every held sample of the day under `holds`), 404 when the day has no hold.
pub async fn decide(
    ctx: &RequestContext<'_>,
    route: &RouteMatch,
    req: &mut crate::http::incoming::Incoming,
) -> Result<Reply, ApiError> {
    ctx.require_admin("reviews need a service_role token")?;
    let user_id = path_uuid("user_id", route.param("user_id"))?;
    let date = route.param("date").unwrap_or_default().to_owned();
    if time::parse_day(&date).is_none() {
        return Err(ApiError::BadRequest("date must be YYYY-MM-DD".to_owned()));
    }
    let decision = ctx.read_json::<DecisionBody>(req, JSON_LIMIT).await?.validate()?;
    let database = ctx.database();
    let decided = database.decide_hold(&user_id, &date, decision.status.name(), decision.reason.as_deref());
    let decided = decided.await.map_err(|error| match error.upstream_code() {
        Some("PT404") => ApiError::NotFound("no hold for this user and date".to_owned()),
        _ => ApiError::from(error),
    })?;
    // The same decision again rescores too: it is how an administrator retries a decision whose writes to the boards
    // failed after the database stored it (objects drop totals they already have).
    let competitions = match &decided.rescore {
        Some(inputs) => scoring::write_rescored(ctx, &user_id, inputs).await?,
        None => Vec::new(),
    };
    let holds: Vec<Hold> = decided.holds.into_iter().map(Hold::from).collect();
    let hold = holds.first().cloned().ok_or_else(|| ApiError::NotFound("no hold for this user and date".to_owned()))?;
    Ok(Reply::json(200, &HoldDecided { hold, holds, competitions }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_and_filters_follow_the_contract() {
        let decide = |d: &str, reason: Option<&str>| {
            DecisionBody { decision: d.into(), reason: reason.map(str::to_owned) }.validate().map_err(|e| match e {
                ApiError::ValidationFailed(problems) => problems.into_iter().map(|p| p.field).collect::<Vec<_>>(),
                other => panic!("{other:?}"),
            })
        };
        let decided = |status, reason: Option<&str>| Ok(Decision { status, reason: reason.map(str::to_owned) });
        assert_eq!(decide("approve", None), decided(HoldStatus::Approved, None));
        assert_eq!(decide("reject", Some("a car ride")), decided(HoldStatus::Rejected, Some("a car ride")));
        assert_eq!(decide("approve", Some(&"é".repeat(200))), decided(HoldStatus::Approved, Some(&"é".repeat(200))));
        assert_eq!(decide("approved", None), Err(vec!["decision".to_owned()]));
        assert_eq!(decide("approve", Some("")), Err(vec!["reason".to_owned()]));
        assert_eq!(decide("approve", Some("a\u{0}b")), Err(vec!["reason".to_owned()]), "Postgres refuses a NUL");
        assert_eq!(decide("reject", Some("  trimmed ")), decided(HoldStatus::Rejected, Some("trimmed")));
        assert_eq!(decide("maybe", Some(&"x".repeat(201))), Err(vec!["decision".to_owned(), "reason".to_owned()]));
        let filter = |pairs: &[(&str, &str)]| {
            let owned: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            status_filter(&owned).ok()
        };
        assert_eq!(filter(&[]), Some(HoldStatus::Pending));
        assert_eq!(filter(&[("status", "rejected")]), Some(HoldStatus::Rejected));
        assert_eq!(filter(&[("status", "all")]), None);
    }

    #[test]
    fn a_hold_shows_what_it_counts_now() {
        let row = |status| HoldRow {
            user_id: Uuid::nil(),
            date: "2026-12-01".into(),
            source: "healthkit".into(),
            metric: "steps".into(),
            value: 75_000,
            day_value: None,
            status,
            user_entered: false,
            decided_at: None,
            decided_by: None,
            reason: None,
        };
        let counted = |status| Hold::from(row(status)).counted;
        assert_eq!(
            (counted(HoldStatus::Pending), counted(HoldStatus::Approved), counted(HoldStatus::Rejected)),
            (60_000, 75_000, 0)
        );
        let decided = HoldRow {
            decided_at: Some("2026-12-04T03:33:06.433+00:00".into()),
            decided_by: Some(Uuid::from_u128(7)),
            ..row(HoldStatus::Approved)
        };
        // A watch held the same day higher: the approved day counts the watch's value, on the phone's hold too.
        let phone = |status| Hold::from(HoldRow { day_value: Some(76_000), ..row(status) }).counted;
        assert_eq!(
            (phone(HoldStatus::Pending), phone(HoldStatus::Approved), phone(HoldStatus::Rejected)),
            (60_000, 76_000, 0)
        );
        let shown = Hold::from(decided);
        assert_eq!(shown.decided_at.as_deref(), Some("2026-12-04T03:33:06.433Z"), "Postgres's time in the API's form");
        assert_eq!(shown.decided_by, Some(Uuid::from_u128(7)));
    }
}
