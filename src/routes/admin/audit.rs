//! `GET /api/v1/admin/audit` (`service_role`): the database's audit trail of administrators' decisions that move
//! prize money — competitions created, edited and cancelled, disqualifications, review decisions, score
//! corrections, operators' rescores — with who made each and when, newest first, a page at a time.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::adapters::postgrest::audit::AuditFilter;
use crate::adapters::rows::AdminActionRow;
use crate::error::{ApiError, FieldError};
use crate::http::reply::Reply;
use crate::runtime::{limit_query, query_pairs, query_value, RequestContext};
use crate::time;

/// Rows per page unless `limit` says.
pub const DEFAULT_LIMIT: usize = 50;
/// The most rows a page holds.
pub const MAX_LIMIT: usize = 200;

/// One decision of the trail.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditAction {
    /// The trail's own number (increasing); pass it as `before` for older rows.
    pub id: i64,
    /// When, RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub at: String,
    /// The administrator (the `sub` of their service_role token); null for Supabase's service key, which names
    /// nobody, and for changes made in SQL.
    pub actor: Option<Uuid>,
    /// The `X-Request-Id` of the Worker's request that made it (find its access-log line); null for changes made
    /// round the Worker.
    pub request_id: Option<String>,
    /// What was decided.
    #[schema(schema_with = actions)]
    pub action: String,
    /// The competition it concerns, if one.
    pub competition_id: Option<Uuid>,
    /// The member it concerns, if one.
    pub user_id: Option<Uuid>,
    /// The member's day, for a review decision (YYYY-MM-DD).
    #[schema(format = Date)]
    pub date: Option<String>,
    /// What changed: the rules set (`competition_created`), `before`/`after` (`competition_changed`), `reason`
    /// (`member_disqualified`), `previous` and `reason` (hold decisions), `requested`, `score` and `seq`
    /// (`score_corrected`), `rescored` (`competition_rescored`: the members an operator's rescore wrote).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

fn actions() -> utoipa::openapi::schema::Object {
    crate::http::schema::one_of_words([
        "competition_created",
        "competition_changed",
        "competition_cancelled",
        "member_disqualified",
        "hold_approved",
        "hold_rejected",
        "score_corrected",
        "competition_rescored",
    ])
}

/// Reply of `GET /api/v1/admin/audit`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    #[schema(max_items = 200)]
    pub actions: Vec<AuditAction>,
    /// Pass as `before` for the next (older) page; null on the last.
    pub next_before: Option<i64>,
}

/// The times a detail holds (a competition's `starts_at` and `ends_at`, at its top or under `before`/`after`) in the
/// API's UTC form: the database writes them as Postgres prints them (`+00:00`).
fn api_times(mut detail: serde_json::Value) -> serde_json::Value {
    for part in [None, Some("before"), Some("after")] {
        let object = match part {
            None => detail.as_object_mut(),
            Some(key) => detail.get_mut(key).and_then(serde_json::Value::as_object_mut),
        };
        for (key, value) in object.into_iter().flatten() {
            if key == "starts_at" || key == "ends_at" {
                if let Some(text) = value.as_str() {
                    *value = time::normalize(text).into();
                }
            }
        }
    }
    detail
}

impl From<AdminActionRow> for AuditAction {
    fn from(row: AdminActionRow) -> Self {
        Self {
            id: row.id,
            at: time::normalize(&row.at),
            actor: row.actor,
            request_id: row.request_id,
            action: row.action,
            competition_id: row.competition_id,
            user_id: row.user_id,
            date: row.day,
            detail: api_times(row.detail),
        }
    }
}

/// The filter of `competition_id`, `user_id`, `before` and `limit` (422 naming every parameter at fault).
pub fn audit_query(pairs: &[(String, String)]) -> Result<AuditFilter, ApiError> {
    let mut problems = Vec::new();
    let mut id = |name: &str| {
        query_value(pairs, name).and_then(|text| {
            Uuid::try_parse(text).map_err(|_| problems.push(FieldError::new(name, "must be a UUID"))).ok()
        })
    };
    let (competition_id, user_id) = (id("competition_id"), id("user_id"));
    let before = query_value(pairs, "before").and_then(|text| match text.parse::<i64>() {
        Ok(before) if before > 0 => Some(before),
        _ => {
            problems.push(FieldError::new("before", "must be a positive integer (a next_before)"));
            None
        }
    });
    let limit = limit_query(pairs, DEFAULT_LIMIT, MAX_LIMIT).unwrap_or_else(|problem| {
        problems.push(problem);
        DEFAULT_LIMIT
    });
    if problems.is_empty() {
        Ok(AuditFilter { competition_id, user_id, before, limit })
    } else {
        Err(ApiError::ValidationFailed(problems))
    }
}

/// `GET /api/v1/admin/audit?competition_id=…&user_id=…&before=…&limit=50`
pub async fn list(ctx: &RequestContext<'_>, req: &crate::http::incoming::Incoming) -> Result<Reply, ApiError> {
    ctx.require_admin("the audit trail needs a service_role token")?;
    let filter = audit_query(&query_pairs(req)?)?;
    // One row more than the page says whether an older page exists.
    let mut rows = ctx.database().admin_actions(&AuditFilter { limit: filter.limit + 1, ..filter.clone() }).await?;
    let more = rows.len() > filter.limit;
    rows.truncate(filter.limit);
    let actions: Vec<AuditAction> = rows.into_iter().map(AuditAction::from).collect();
    let next_before = if more { actions.last().map(|action| action.id) } else { None };
    Ok(Reply::json(200, &AuditPage { actions, next_before }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The filter, or the parameters a 422 names.
    type Parsed = Result<AuditFilter, Vec<String>>;

    fn parse(pairs: &[(&str, &str)]) -> Parsed {
        let owned: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        audit_query(&owned).map_err(|error| match error {
            ApiError::ValidationFailed(problems) => problems.into_iter().map(|p| p.field).collect(),
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn the_query_is_checked_parameter_by_parameter() {
        let id = Uuid::from_u128(42);
        let filter =
            |competition_id, user_id, before, limit| Ok(AuditFilter { competition_id, user_id, before, limit });
        let cases: Vec<(Vec<(&str, String)>, Parsed)> = vec![
            (vec![], filter(None, None, None, DEFAULT_LIMIT)),
            (vec![("competition_id", id.to_string())], filter(Some(id), None, None, DEFAULT_LIMIT)),
            (vec![("user_id", id.to_string()), ("before", "17".into())], filter(None, Some(id), Some(17), 50)),
            (vec![("limit", "1".into())], filter(None, None, None, 1)),
            (vec![("limit", "200".into())], filter(None, None, None, 200)),
            (vec![("limit", "0".into())], Err(vec!["limit".into()])),
            (vec![("limit", "201".into())], Err(vec!["limit".into()])),
            (vec![("before", "0".into())], Err(vec!["before".into()])),
            (vec![("before", "x".into())], Err(vec!["before".into()])),
            (
                vec![("competition_id", "nope".into()), ("user_id", "1".into()), ("limit", "-1".into())],
                Err(vec!["competition_id".into(), "user_id".into(), "limit".into()]),
            ),
        ];
        for (pairs, expected) in cases {
            let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(parse(&borrowed), expected, "{pairs:?}");
        }
    }

    #[test]
    fn a_row_shows_in_the_apis_forms() {
        let row = AdminActionRow {
            id: 7,
            at: "2026-12-04T03:33:06.433+00:00".into(),
            actor: None,
            request_id: Some("r-1".into()),
            action: "hold_rejected".into(),
            competition_id: None,
            user_id: Some(Uuid::from_u128(1)),
            day: Some("2026-12-03".into()),
            detail: serde_json::json!({"previous": "approved", "reason": null}),
        };
        let shown = AuditAction::from(row.clone());
        assert_eq!((shown.at.as_str(), shown.date.as_deref()), ("2026-12-04T03:33:06.433Z", Some("2026-12-03")));
        let rules = |detail| AuditAction::from(AdminActionRow { detail, ..row.clone() }).detail;
        assert_eq!(
            rules(serde_json::json!({"name": "x", "starts_at": "2026-12-03T00:00:00+00:00", "ends_at": "bad"})),
            serde_json::json!({"name": "x", "starts_at": "2026-12-03T00:00:00Z", "ends_at": "bad"})
        );
        assert_eq!(
            rules(serde_json::json!({"before": {"ends_at": "2026-12-09T10:00:00.5+01:00"},
                                     "after": {"ends_at": "2026-12-10T00:00:00+00:00"}})),
            serde_json::json!({"before": {"ends_at": "2026-12-09T09:00:00.500Z"},
                               "after": {"ends_at": "2026-12-10T00:00:00Z"}})
        );
    }
}
