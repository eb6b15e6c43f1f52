//! Leaderboard routes: forwarded to the competition's Durable Object after auth and validation.

pub mod model;
pub mod settings_told;

use standings::object_error::ErrorCode;
use standings::protocol::{Around, PageAt, Prizes, PublicEntry, ScoreWrite, ScoreWriteReply, Standing};
use standings::requests::ObjectRequest;

use crate::cache::{count, pages, Level, Outcome};
use crate::error::{ApiError, FieldError};
use crate::http::body::{parse_json, JSON_LIMIT};
use crate::http::reply::Reply;
use crate::idempotency;
use crate::router::RouteMatch;
use crate::runtime::{query_pairs, RequestContext};
use crate::scoring;

use model::{around_query, page_query, path_uuid, LeaderboardPage, UpdateBody, Window};

/// Answers 404 for a competition Postgres does not have, before an object (and cache keys) would be made for it:
/// random ids must not create objects. The row comes from the competition cache (isolate memory, then Redis), so a
/// known competition costs nothing extra on most reads. While the database cannot answer, the object decides (it
/// serves the competitions it was told about), so boards keep working through a database outage. The row, when the
/// database answered. The competition's object is told its settings from the row once per isolate and hour
/// ([`settings_told`]), so that an object no join reached still sets its alarms.
pub async fn require_competition(
    ctx: &RequestContext<'_>,
    competition_id: &uuid::Uuid,
) -> Result<Option<crate::adapters::rows::CompetitionRow>, ApiError> {
    match crate::cache::competitions::get(ctx, competition_id, crate::adapters::postgrest::Caller::Service).await {
        Ok(Some(row)) => {
            settings_told::tell_settings_once(ctx, &row).await;
            Ok(Some(row))
        }
        Ok(None) => Err(ApiError::NotFound("competition not found".to_owned())),
        Err(ApiError::DependencyUnavailable { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

/// `GET /api/v1/leaderboard/{competition_id}?limit=50&cursor=…`
pub async fn page(
    ctx: &RequestContext<'_>,
    route: &RouteMatch,
    req: &crate::http::incoming::Incoming,
) -> Result<Reply, ApiError> {
    ctx.require_user()?;
    let competition_id = path_uuid("competition_id", route.param("competition_id"))?;
    let query = page_query(&query_pairs(req)?)?;
    require_competition(ctx, &competition_id).await?;
    let key = pages::PageKey { competition: competition_id, limit: query.limit, cursor: query.cursor.clone() };
    let held = pages::held(&key, ctx.now_ms);
    let client = ctx.competition(&competition_id)?;
    let unless_seq = held.as_ref().map(|page| page.seq);
    let request = ObjectRequest::Page { limit: query.limit, cursor: query.cursor.clone(), unless_seq };
    let answer: PageAt = client.call(&request).await?;
    let page = match (answer.page, held) {
        (None, Some(held)) => {
            count(Level::Page, Outcome::Hit);
            return Ok(Reply::json_text(200, held.body));
        }
        (None, None) => return Err(ApiError::Internal("the object withheld a page nobody holds".into())),
        (Some(page), _) => page,
    };
    count(Level::Page, Outcome::Miss);
    let entries: Vec<PublicEntry> = page.entries.iter().map(PublicEntry::from).collect();
    let body = serde_json::to_string(&LeaderboardPage {
        competition_id,
        total: page.total,
        entries,
        next_cursor: page.next_cursor,
    })
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    pages::hold(key, pages::HeldPage { seq: answer.seq, body: body.clone() }, ctx.now_ms);
    Ok(Reply::json_text(200, body))
}

/// `GET /api/v1/leaderboard/{competition_id}/me?around=5`
pub async fn me(
    ctx: &RequestContext<'_>,
    route: &RouteMatch,
    req: &crate::http::incoming::Incoming,
) -> Result<Reply, ApiError> {
    let user = ctx.require_person()?;
    let competition_id = path_uuid("competition_id", route.param("competition_id"))?;
    let around = around_query(&query_pairs(req)?)?;
    require_competition(ctx, &competition_id).await?;
    let client = ctx.competition(&competition_id)?;
    let window: Around = client.call(&ObjectRequest::Around { user_id: user.user_id, radius: around }).await?;
    let entries: Vec<PublicEntry> = window.entries.iter().map(PublicEntry::from).collect();
    Ok(Reply::json(
        200,
        &Window {
            rank: window.rank,
            display_rank: window.display_rank,
            score: window.score,
            total: window.total,
            percentile: window.percentile,
            entries,
        },
    ))
}

/// `POST /api/v1/leaderboard/update` (honours `Idempotency-Key`)
pub async fn update(ctx: &RequestContext<'_>, req: &mut crate::http::incoming::Incoming) -> Result<Reply, ApiError> {
    let user = ctx.require_user()?;
    let bytes = ctx.read_json_bytes(req, JSON_LIMIT).await?;
    let key = req.header("Idempotency-Key");
    idempotency::guarded(ctx, key, "POST /api/v1/leaderboard/update", &bytes, || async {
        let update = parse_json::<UpdateBody>(&bytes, JSON_LIMIT)?.validate()?;
        // Administrators correct any member's score by naming them; a user posts their own only.
        let (user_id, correction) = match update.user_id {
            Some(member) if user.is_admin() => (member, true),
            Some(member) if member != user.user_id => {
                return Err(ApiError::Forbidden("users post their own score only".to_owned()))
            }
            // The service key names nobody: a correction must say whose score it is.
            None if user.names_nobody() => {
                return Err(ApiError::ValidationFailed(vec![FieldError::new(
                    "user_id",
                    "required: a token without sub posts only corrections, for the member it names",
                )]))
            }
            _ => (user.user_id, user.is_admin()),
        };
        require_competition(ctx, &update.competition_id).await?;
        let write = ScoreWrite {
            competition_id: update.competition_id,
            user_id,
            score: update.score,
            at_ms: ctx.now_ms,
            days_version: None,
            correction,
        };
        let written = scoring::write(ctx, &write).await?;
        if correction {
            record_correction(ctx, &write, &written).await;
        }
        Ok(Reply::json(200, &written))
    })
    .await
}

/// Records an administrator's accepted correction in the database's audit trail. The correction stands whatever
/// happens here: score updates keep working while the database is away (DESIGN.md), so a failure is logged naming
/// the correction (the failed call counts in `external_requests_total` too), not answered.
async fn record_correction(ctx: &RequestContext<'_>, write: &ScoreWrite, written: &ScoreWriteReply) {
    if let Err(error) = ctx.database().record_score_correction(write.score, written).await {
        worker::console_error!(
            "request {}: correction of {} in {} to {} (seq {}) applied but not recorded in the audit trail: {error}",
            ctx.request_id,
            written.user_id,
            written.competition_id,
            written.score,
            written.seq
        );
    }
}

/// `GET /api/v1/leaderboard/{competition_id}/users/{user_id}`
pub async fn user_standing(ctx: &RequestContext<'_>, route: &RouteMatch) -> Result<Reply, ApiError> {
    ctx.require_user()?;
    let competition_id = path_uuid("competition_id", route.param("competition_id"))?;
    let user_id = path_uuid("user_id", route.param("user_id"))?;
    require_competition(ctx, &competition_id).await?;
    let client = ctx.competition(&competition_id)?;
    let standing: Standing = client.call(&ObjectRequest::Standing { user_id }).await?;
    Ok(Reply::json(200, &standing))
}

/// `GET /api/v1/leaderboard/{competition_id}/prizes`: provisional amounts while the competition runs, final ones
/// (stored by the object at `ends_at`) after.
pub async fn prizes(ctx: &RequestContext<'_>, route: &RouteMatch) -> Result<Reply, ApiError> {
    ctx.require_user()?;
    let competition_id = path_uuid("competition_id", route.param("competition_id"))?;
    require_competition(ctx, &competition_id).await?;
    let client = ctx.competition(&competition_id)?;
    let prizes: Prizes = match client.try_call(&ObjectRequest::Prizes).await? {
        Ok(prizes) => prizes,
        Err(error) if error.code == ErrorCode::CompetitionUnknown => {
            scoring::introduce_competition(ctx, &client, &competition_id).await?;
            client.call(&ObjectRequest::Prizes).await?
        }
        Err(error) => return Err(ApiError::from_object(error)),
    };
    Ok(Reply::json(200, &prizes))
}
