//! Competition routes: create (service role), list, get, join. Rows come from the database adapter; joins also
//! warm the isolate's membership cache so the caller's first score needs no extra lookup.

pub mod model;

use serde_json::json;

use crate::adapters::postgrest::Caller;
use crate::cache;
use crate::error::ApiError;
use crate::http::body::JSON_LIMIT;
use crate::http::reply::Reply;
use crate::router::RouteMatch;
use crate::routes::leaderboard::model::path_uuid;
use crate::runtime::RequestContext;
use crate::scoring;
use crate::time;
use standings::requests::ObjectRequest;

use model::{meta_from_row, present, CompetitionList, CreateBody, Disqualified, DisqualifyBody, Membership, PatchBody};

/// Most competitions a list returns.
pub const LIST_LIMIT: usize = 100;

/// `POST /api/v1/competitions` (service role only).
pub async fn create(ctx: &RequestContext<'_>, req: &mut crate::http::incoming::Incoming) -> Result<Reply, ApiError> {
    ctx.require_admin("creating competitions needs a service_role token")?;
    let row = ctx.read_json::<CreateBody>(req, JSON_LIMIT).await?.validate()?;
    let created = ctx.database().create_competition(&row).await?;
    Ok(Reply::json(201, &present(&created, ctx.now_ms)?))
}

/// `GET /api/v1/competitions`: active and upcoming, by start time.
pub async fn list(ctx: &RequestContext<'_>) -> Result<Reply, ApiError> {
    let (_, token) = ctx.require_token()?;
    // Finalizing competitions (ended, within their grace period) are still live, so still listed.
    let now = time::format_ms(ctx.now_ms);
    let ended_after = time::format_ms(ctx.now_ms - model::MAX_GRACE_HOURS * 3_600_000);
    let rows = ctx.database().list_competitions(Caller::User(token), &now, &ended_after, LIST_LIMIT).await?;
    let competitions = rows.iter().map(|row| present(row, ctx.now_ms)).collect::<Result<Vec<_>, _>>()?;
    Ok(Reply::json(200, &CompetitionList { competitions }))
}

/// `GET /api/v1/competitions/{competition_id}`
pub async fn get(ctx: &RequestContext<'_>, route: &RouteMatch) -> Result<Reply, ApiError> {
    let (_, token) = ctx.require_token()?;
    let id = path_uuid("competition_id", route.param("competition_id"))?;
    let row = cache::competitions::get(ctx, &id, Caller::User(token))
        .await?
        .ok_or_else(|| ApiError::NotFound("competition not found".to_owned()))?;
    Ok(Reply::json(200, &present(&row, ctx.now_ms)?))
}

/// `POST /api/v1/competitions/{competition_id}/join`: idempotent; 409 once the competition has finished.
pub async fn join(ctx: &RequestContext<'_>, route: &RouteMatch) -> Result<Reply, ApiError> {
    let user = ctx.require_person()?;
    let id = path_uuid("competition_id", route.param("competition_id"))?;
    // One database call joins (creating the profile when it is missing) and reads what the object needs.
    let joined =
        ctx.database().join_competition(&user.user_id, &id).await.map_err(|error| match error.upstream_code() {
            Some("PT404") => ApiError::NotFound("competition not found".to_owned()),
            Some("PT403") => ApiError::Forbidden("you were disqualified from this competition".to_owned()),
            Some("PT409") if error.to_string().contains("full") => {
                ApiError::Conflict("the competition is full".to_owned())
            }
            Some("PT409") if error.to_string().contains("cancelled") => {
                ApiError::Conflict("the competition was cancelled".to_owned())
            }
            Some("PT409") => ApiError::Conflict("the competition has finished".to_owned()),
            _ => ApiError::from(error),
        })?;
    let (_, introduced) =
        futures_util::future::join(cache::competitions::forget(ctx, &id), introduce(ctx, &joined)).await;
    // If the object could not be told, the first write introduces the member instead (from Postgres), and the
    // member's stored days count from their next sync; the join still stands.
    if let Err(error) = introduced {
        worker::console_warn!("join of {id} not yet registered with its object: {error}");
    }
    let membership = joined.membership;
    Ok(Reply::json(
        200,
        &Membership {
            competition_id: membership.competition_id,
            user_id: membership.user_id,
            joined_at: time::normalize(&membership.joined_at),
        },
    ))
}

/// Registers a new member with the competition's object (the settings with it, so the first score needs no
/// database call) and, in a started fitness competition, writes their score from the days they stored before
/// joining rather than waiting for their next sync.
async fn introduce(ctx: &RequestContext<'_>, joined: &crate::adapters::rows::Joined) -> Result<(), ApiError> {
    let id = joined.competition.id;
    let meta = meta_from_row(&joined.competition)
        .ok_or_else(|| ApiError::Internal(format!("competition {id} is unreadable")))?;
    // The board shows the member's name and avatar from their first score.
    let person = scoring::person_of(&joined.profile);
    scoring::register(&ctx.competition(&id)?, &meta, &joined.membership.user_id, Some(person)).await?;
    match &joined.rescore {
        Some(inputs) => scoring::score_stored_days(ctx, &id, &joined.membership.user_id, inputs.clone()).await,
        None => Ok(()),
    }
}

/// `POST /api/v1/competitions/{competition_id}/members/{user_id}/disqualify` (service role): the member leaves the
/// board at once (a `removed` frame; everyone behind moves up), cannot post scores or rejoin, and keeps the reason
/// on their membership. The object goes first: it knows whether the standings are final (409), and its board is
/// what players see; the membership is marked after. Both steps are idempotent, so a failed call is simply retried.
pub async fn disqualify(
    ctx: &RequestContext<'_>,
    route: &RouteMatch,
    req: &mut crate::http::incoming::Incoming,
) -> Result<Reply, ApiError> {
    ctx.require_admin("disqualifying needs a service_role token")?;
    let id = path_uuid("competition_id", route.param("competition_id"))?;
    let user_id = path_uuid("user_id", route.param("user_id"))?;
    let reason = ctx.read_json::<DisqualifyBody>(req, JSON_LIMIT).await?.validate()?;
    crate::routes::leaderboard::require_competition(ctx, &id).await?;
    let database = ctx.database();
    if !database.is_member(Caller::Service, &id, &user_id).await? {
        return Err(ApiError::NotFound("not a member of this competition".to_owned()));
    }
    let order = standings::protocol::Disqualify { user_id, reason: reason.clone() };
    let removed: standings::protocol::Disqualified =
        ctx.competition(&id)?.call(&ObjectRequest::Disqualify(order)).await?;
    let membership =
        database.disqualify_member(&id, &user_id, &reason).await.map_err(|error| match error.upstream_code() {
            Some("PT404") => ApiError::NotFound("not a member of this competition".to_owned()),
            _ => ApiError::from(error),
        })?;
    Ok(Reply::json(
        200,
        &Disqualified {
            competition_id: id,
            user_id,
            status: "disqualified",
            reason: membership.disqualified_reason,
            disqualified_at: membership.disqualified_at.as_deref().map(time::normalize),
            total: removed.total,
        },
    ))
}

/// The competition an administrator's route names, from Postgres (404 when it has none).
async fn admin_target(
    ctx: &RequestContext<'_>,
    route: &RouteMatch,
) -> Result<crate::adapters::rows::CompetitionRow, ApiError> {
    ctx.require_admin("managing competitions needs a service_role token")?;
    stored_row(ctx, &path_uuid("competition_id", route.param("competition_id"))?).await
}

/// The competition's row as Postgres holds it now (read with the service key, no cache; 404 when it has none).
pub(crate) async fn stored_row(
    ctx: &RequestContext<'_>,
    id: &uuid::Uuid,
) -> Result<crate::adapters::rows::CompetitionRow, ApiError> {
    ctx.database()
        .competition(Caller::Service, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("competition not found".to_owned()))
}

/// `PATCH /api/v1/competitions/{competition_id}` (service role): name, end (later to extend, earlier but not before
/// now to end early), prize pool, payout, capacity. The object goes first — it knows whether the standings are
/// final (409), moves its end-of-competition alarm and tells subscribers with a `changed` frame — then Postgres.
/// Both steps take the same settings again without harm, so a failed call is simply retried. A moved end then
/// rescores the members with days between the old and the new end; the update itself marks that span pending on the
/// row, so when this last step fails (503 after both steps stored the end) a retry of the same edit rescores it, and
/// the cron trigger does if nobody retries.
pub async fn patch(
    ctx: &RequestContext<'_>,
    route: &RouteMatch,
    req: &mut crate::http::incoming::Incoming,
) -> Result<Reply, ApiError> {
    let row = admin_target(ctx, route).await?;
    let body = ctx.read_json::<PatchBody>(req, JSON_LIMIT).await?;
    if row.cancelled_at.is_some() {
        return Err(ApiError::Conflict("the competition was cancelled".to_owned()));
    }
    let (changes, mut next) = body.validate(&row, ctx.now_ms)?;
    let unchanged = changes.as_object().is_some_and(|c| c.is_empty());
    if !unchanged {
        // The update below gives the row this version (the settings trigger counts each update of them). The object
        // hears of it first, so a join's settings read before the update cannot replace these when they arrive later.
        next.settings_version = row.settings_version + 1;
    }
    let client = ctx.competition(&row.id)?;
    let _: standings::protocol::Announced =
        client.call(&ObjectRequest::ChangeSettings(settings_of(&next, ctx.now_ms)?)).await?;
    let updated = if unchanged {
        row.clone()
    } else {
        ctx.database()
            .update_competition(&row.id, &changes)
            .await?
            .ok_or_else(|| ApiError::NotFound("competition not found".to_owned()))?
    };
    if updated.settings_version > next.settings_version {
        // Another edit committed between this one's read and its update: the row holds both, the object only the
        // one it heard last. The row as stored has a higher version than either, so the object takes it. The edit
        // itself is stored: a refusal here (the standings became final meanwhile) is logged, not answered.
        let stored = ObjectRequest::ChangeSettings(settings_of(&updated, ctx.now_ms)?);
        if let Err(error) = client.call::<standings::protocol::Announced>(&stored).await {
            worker::console_warn!("competition {} settings as stored not told to its object: {error}", updated.id);
        }
    }
    cache::competitions::forget(ctx, &updated.id).await;
    // A moved end of a started fitness competition left the span between the two ends pending on the row (its
    // update's trigger); so did an earlier attempt of this edit whose rescoring failed, which a retry finishes here.
    // A span longer than one invocation's budget goes on in the next edit, operator call or cron run.
    if let Some(span) = updated.pending_rescore() {
        scoring::spans::rescore_span(ctx, &updated, span).await?;
    }
    Ok(Reply::json(200, &present(&updated, ctx.now_ms)?))
}

/// What the object is told of a competition's settings: the rules it checks and pays by, and the competition as
/// subscribers see it in the `changed` frame.
fn settings_of(
    row: &crate::adapters::rows::CompetitionRow,
    now_ms: i64,
) -> Result<standings::protocol::Settings, ApiError> {
    let meta = meta_from_row(row).ok_or_else(|| ApiError::Internal(format!("competition {} is unreadable", row.id)))?;
    let competition = serde_json::to_value(present(row, now_ms)?)
        .map_err(|e| ApiError::Internal(format!("competition {} is unprintable: {e}", row.id)))?;
    Ok(standings::protocol::Settings { meta, competition })
}

/// `POST /api/v1/competitions/{competition_id}/cancel` (service role): called off — final at once without prizes
/// (`prizes` answers `{"final":true,"prizes":[]}`), writes and joins 409, subscribers get `finished` with no prizes.
/// Idempotent; 409 for a competition whose standings were already final. The object goes first, so a row Postgres
/// holds as cancelled was cancelled by its object too: a repeated cancel answers from the row alone.
pub async fn cancel(ctx: &RequestContext<'_>, route: &RouteMatch) -> Result<Reply, ApiError> {
    let row = admin_target(ctx, route).await?;
    if row.cancelled_at.is_some() {
        return Ok(Reply::json(200, &present(&row, ctx.now_ms)?));
    }
    let client = ctx.competition(&row.id)?;
    let _: standings::protocol::Announced = client.call(&ObjectRequest::Cancel).await?;
    let cancelled = ctx
        .database()
        .update_competition(&row.id, &json!({ "cancelled_at": time::format_ms(ctx.now_ms) }))
        .await?
        .ok_or_else(|| ApiError::NotFound("competition not found".to_owned()))?;
    cache::competitions::forget(ctx, &cancelled.id).await;
    Ok(Reply::json(200, &present(&cancelled, ctx.now_ms)?))
}
