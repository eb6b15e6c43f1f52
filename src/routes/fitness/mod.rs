//! `POST /api/v1/fitness/sync`: store the caller's days (idempotent per user, day and source), rescore every active
//! competition they joined from the stored days (largest value per day across sources), and update each
//! competition's live leaderboard with the new absolute score.

pub mod model;

use durable_objects::protocol::ScoreWrite;
use serde_json::json;

use crate::error::ApiError;
use crate::http::body::{parse_json, JSON_LIMIT};
use crate::http::reply::Reply;
use crate::idempotency;
use crate::runtime::{header, RequestContext};
use crate::scoring;
use crate::time;

use model::SyncBody;

/// `POST /api/v1/fitness/sync` (honours `Idempotency-Key`)
pub async fn sync(ctx: &RequestContext<'_>, req: &mut worker::Request) -> Result<Reply, ApiError> {
    ctx.require_token()?;
    let bytes = ctx.read_json_bytes(req, JSON_LIMIT).await?;
    let key = header(req, "Idempotency-Key");
    let outcome = idempotency::guarded(ctx, key, "POST /api/v1/fitness/sync", &bytes, || run(ctx, &bytes)).await;
    let result = if outcome.is_ok() { "ok" } else { "error" };
    crate::metrics::add("fitness_syncs_total", &[("result", result)], 1.0);
    outcome
}

async fn run(ctx: &RequestContext<'_>, bytes: &[u8]) -> Result<Reply, ApiError> {
    let user = ctx.require_user()?;
    let valid = parse_json::<SyncBody>(bytes, JSON_LIMIT)?.validate(time::day_of(ctx.now_ms))?;
    // The database creates the profile with the first days when it is missing.
    let rescored = ctx.database().sync_fitness_days(&user.user_id, &valid.source, &valid.days).await?;
    let mut competitions = Vec::with_capacity(rescored.len());
    for row in rescored {
        // The version lets the object drop a total from a sync that was overtaken by a later one.
        let write = ScoreWrite {
            competition_id: row.competition_id,
            user_id: user.user_id,
            score: row.score,
            at_ms: ctx.now_ms,
            days_version: Some(row.version),
        };
        let reply = scoring::write(ctx, &write).await?;
        competitions.push(json!({
            "competition_id": row.competition_id,
            "score": reply.score,
            "rank": reply.rank,
            "display_rank": reply.display_rank,
        }));
    }
    Ok(Reply::json(
        200,
        &json!({ "accepted": valid.days.len(), "rejected": valid.rejected, "competitions": competitions }),
    ))
}
