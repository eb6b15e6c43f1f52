//! Operator routes (`service_role`): a competition's outbox — the rows waiting for Postgres and the dead letters
//! Postgres refused for good — with a retry once the cause is fixed, and the repair of a stored member row the board
//! could not load (listed by the competition's stats). Every route answers 404 for a competition Postgres does not have, before any object is touched.

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
