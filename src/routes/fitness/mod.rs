//! `POST /api/v1/fitness/sync`: store the caller's days (idempotent per user, day and source), rescore every active
//! or finalizing fitness competition they joined from the stored days by its rules (`fitness_rules`), and update
//! each competition's live leaderboard with the new absolute score.

pub mod model;
pub mod raw_sample;

use crate::error::ApiError;
use crate::http::body::{parse_json, JSON_LIMIT};
use crate::http::reply::Reply;
use crate::idempotency;
use crate::runtime::RequestContext;
use crate::scoring;
use crate::time;

use model::{Rejection, SyncBody, SyncReply, FUTURE_DATE};

/// `POST /api/v1/fitness/sync` (honours `Idempotency-Key`)
pub async fn sync(ctx: &RequestContext<'_>, req: &mut crate::http::incoming::Incoming) -> Result<Reply, ApiError> {
    ctx.require_token()?;
    let bytes = ctx.read_json_bytes(req, JSON_LIMIT).await?;
    let key = req.header("Idempotency-Key");
    let outcome = idempotency::guarded(ctx, key, "POST /api/v1/fitness/sync", &bytes, || run(ctx, &bytes)).await;
    let result = if outcome.is_ok() { "ok" } else { "error" };
    crate::metrics::add(crate::metrics::Family::FitnessSyncsTotal, &[("result", result)], 1.0);
    outcome
}

async fn run(ctx: &RequestContext<'_>, bytes: &[u8]) -> Result<Reply, ApiError> {
    let user = ctx.require_person()?;
    let mut valid = parse_json::<SyncBody>(bytes, JSON_LIMIT)?.validate(time::day_of(ctx.now_ms))?;
    // One database round trip stores the days (creating the profile if needed) and returns what rescoring needs.
    let synced =
        ctx.database().sync_fitness_days(&user.user_id, &valid.source, &valid.days, valid.time_zone.as_deref()).await?;
    let held = valid.held(&synced.future, &synced.rescore.holds);
    for index in &synced.future {
        valid.rejected.push(Rejection { index: *index, reason: FUTURE_DATE.to_owned() });
    }
    valid.rejected.sort_by_key(|r| r.index);
    let competitions = scoring::write_rescored(ctx, &user.user_id, &synced.rescore).await?;
    Ok(Reply::json(
        200,
        &SyncReply {
            accepted: valid.days.len() - synced.future.len().min(valid.days.len()),
            rejected: valid.rejected,
            held,
            competitions,
        },
    ))
}
