//! Operator routes (`service_role`): a competition's outbox — the rows waiting for Postgres and the dead letters
//! Postgres refused for good — with a retry once the cause is fixed, the repair of a stored member row the board
//! could not load (listed by the competition's stats), and a fitness competition's members rescored from their stored
//! days. Every route answers 404 for a competition Postgres does not have, before any object is touched.

pub mod audit;
pub mod holds;

use standings::protocol::{ObjectStats, OutboxReport, OutboxRetried, Repair};
use standings::requests::ObjectRequest;

use crate::error::ApiError;
use crate::http::body::JSON_LIMIT;
use crate::http::reply::Reply;
use crate::router::RouteMatch;
use crate::routes::leaderboard::model::path_uuid;
use crate::routes::leaderboard::require_competition;
use crate::runtime::RequestContext;

/// The competition an operator route names, once the caller is proven an administrator and the competition exists.
async fn competition(ctx: &RequestContext<'_>, route: &RouteMatch) -> Result<uuid::Uuid, ApiError> {
    ctx.require_admin("operator routes need a service_role token")?;
    let competition_id = path_uuid("competition_id", route.param("competition_id"))?;
    require_competition(ctx, &competition_id).await?;
    Ok(competition_id)
}

/// `GET /api/v1/admin/competitions/{competition_id}/stats`: members, rebuild time, outbox, corrupt stored rows.
pub async fn stats(ctx: &RequestContext<'_>, route: &RouteMatch) -> Result<Reply, ApiError> {
    let competition_id = competition(ctx, route).await?;
    let stats: ObjectStats = ctx.competition(&competition_id)?.call(&ObjectRequest::Stats).await?;
    Ok(Reply::json(200, &stats))
}

/// `GET /api/v1/admin/competitions/{competition_id}/outbox`
pub async fn outbox(ctx: &RequestContext<'_>, route: &RouteMatch) -> Result<Reply, ApiError> {
    let competition_id = competition(ctx, route).await?;
    let report: OutboxReport = ctx.competition(&competition_id)?.call(&ObjectRequest::Outbox).await?;
    Ok(Reply::json(200, &report))
}

/// `POST /api/v1/admin/competitions/{competition_id}/outbox/retry`
pub async fn retry(ctx: &RequestContext<'_>, route: &RouteMatch) -> Result<Reply, ApiError> {
    let competition_id = competition(ctx, route).await?;
    let client = ctx.competition(&competition_id)?;
    let reply: OutboxRetried = client.call(&ObjectRequest::RetryOutbox).await?;
    Ok(Reply::json(200, &reply))
}

/// `POST /api/v1/admin/competitions/{competition_id}/repair` with `{"key"}`
pub async fn repair(
    ctx: &RequestContext<'_>,
    route: &RouteMatch,
    req: &mut crate::http::incoming::Incoming,
) -> Result<Reply, ApiError> {
    let competition_id = competition(ctx, route).await?;
    let repair: Repair = ctx.read_json(req, JSON_LIMIT).await?;
    let stats: ObjectStats = ctx.competition(&competition_id)?.call(&ObjectRequest::Repair(repair)).await?;
    Ok(Reply::json(200, &stats))
}

/// Reply of `POST /api/v1/admin/competitions/{competition_id}/rescore`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Rescoring {
    /// The competition.
    pub competition_id: uuid::Uuid,
    /// Members whose total was computed again and written by this call.
    pub rescored: u64,
    /// Whether every member is rescored; `false` when the span was longer than one call's budget
    /// (`RESCORE_PAGES_PER_CALL`): the rest is left pending on the competition, and the next call of this route (or
    /// the cron trigger) goes on after the last member written.
    pub complete: bool,
}

/// `POST /api/v1/admin/competitions/{competition_id}/rescore`: every member of a fitness competition with a stored day
/// in its window (or in a span a moved end left pending) rescored from their days, as a sync would (an operator's
/// repair: to undo corrections, or at once after a `PATCH` of the end that failed while rescoring, which a retry of
/// the `PATCH` or the cron trigger would finish too). 409 for a client competition (members post their scores), a
/// cancelled one, or one whose standings are final (nothing changes them: the object would leave every write out, and
/// a 200 saying it rescored nobody, recorded in the audit trail, read as a repair that happened).
pub async fn rescore(ctx: &RequestContext<'_>, route: &RouteMatch) -> Result<Reply, ApiError> {
    ctx.require_admin("operator routes need a service_role token")?;
    let competition_id = path_uuid("competition_id", route.param("competition_id"))?;
    let row = crate::routes::competitions::stored_row(ctx, &competition_id).await?;
    if row.score_source != "fitness" {
        return Err(ApiError::Conflict("members of a client competition post their own scores".to_owned()));
    }
    if row.cancelled_at.is_some() {
        return Err(ApiError::Conflict("the competition was cancelled".to_owned()));
    }
    if crate::routes::competitions::model::present(&row, ctx.now_ms)?.status == standings::rules::Status::Finished {
        return Err(ApiError::Conflict("the standings are final: a rescore would change nothing".to_owned()));
    }
    // The window, and a span a moved end left pending: an end moved earlier leaves days after the new end that the
    // boards may still count, which the window alone would not reach.
    let span = crate::scoring::spans::with_pending((&row.starts_at, &row.ends_at), row.pending_rescore());
    let progress = crate::scoring::spans::rescore_span(ctx, &row, span).await?;
    let (rescored, complete) = (progress.written as u64, progress.stopped_after.is_none());
    // Best effort, as a correction's row: the rescore stands if the trail cannot be written, and the failure is
    // logged.
    if let Err(error) = ctx.database().record_competition_rescore(&competition_id, rescored).await {
        worker::console_error!(
            "request {}: rescore of {competition_id} ({rescored} members) not recorded in the audit trail: {error}",
            ctx.request_id
        );
    }
    Ok(Reply::json(200, &Rescoring { competition_id, rescored, complete }))
}
