//! Score writes to a competition's Durable Object. The object holds its competition's settings and roster and
//! checks every write itself, so the hot path needs no database call (and keeps working while the database API is
//! down). An object that has not yet been told its competition, or a member who joined while the object could not
//! be told, is introduced from Postgres once and the write retried.

use durable_objects::protocol::{
    CompetitionMeta, RosterAdd, ScoreWrite, ScoreWriteReply, CODE_COMPETITION_UNKNOWN, CODE_NOT_A_MEMBER, PATH_META,
    PATH_ROSTER, PATH_SCORES,
};
use uuid::Uuid;
use worker::Method;

use crate::adapters::postgrest::Caller;
use crate::cache::pages;
use crate::competition_client::CompetitionClient;
use crate::error::ApiError;
use crate::routes::competitions::model::meta_from_row;
use crate::runtime::RequestContext;

/// Writes the caller's score through the competition's object, then raises the competition's page-cache version
/// before the reply leaves (so the writer never reads a page from before its own update).
pub async fn write(ctx: &RequestContext<'_>, write: &ScoreWrite) -> Result<ScoreWriteReply, ApiError> {
    let client = ctx.competition(&write.competition_id)?;
    let reply: ScoreWriteReply = match client.try_call(Method::Post, PATH_SCORES, Some(write)).await? {
        Ok(reply) => reply,
        Err((_, error)) if error.code == CODE_COMPETITION_UNKNOWN || error.code == CODE_NOT_A_MEMBER => {
            introduce(ctx, &client, &write.competition_id, &write.user_id).await?;
            client.call(Method::Post, PATH_SCORES, Some(write)).await?
        }
        Err((status, error)) => return Err(ApiError::from_upstream(status, &error.code, error.message)),
    };
    pages::raise_version(ctx, &write.competition_id, reply.seq).await;
    crate::metrics::add("leaderboard_updates_total", &[], 1.0);
    Ok(reply)
}

/// Tells the object its competition's settings from Postgres (404 when Postgres has no such competition).
pub async fn introduce_competition(
    ctx: &RequestContext<'_>,
    client: &CompetitionClient,
    competition_id: &Uuid,
) -> Result<(), ApiError> {
    let (_, token) = ctx.require_token()?;
    let row = ctx
        .database()
        .competition(Caller::User(token), competition_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("competition not found".to_owned()))?;
    let meta = meta_from_row(&row)
        .ok_or_else(|| ApiError::Internal(format!("competition {competition_id} has an unreadable schedule")))?;
    client.call_empty(Method::Put, PATH_META, Some(&meta)).await
}

/// Tells the object its competition and, when Postgres says so, that `user_id` is a member: 404 for a competition
/// Postgres does not have, 403 for a user who has not joined.
async fn introduce(
    ctx: &RequestContext<'_>,
    client: &CompetitionClient,
    competition_id: &Uuid,
    user_id: &Uuid,
) -> Result<(), ApiError> {
    let (_, token) = ctx.require_token()?;
    let database = ctx.database();
    let row = database
        .competition(Caller::User(token), competition_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("competition not found".to_owned()))?;
    if !database.is_member(Caller::User(token), competition_id, user_id).await? {
        return Err(ApiError::Forbidden("join the competition before posting scores".to_owned()));
    }
    let meta = meta_from_row(&row)
        .ok_or_else(|| ApiError::Internal(format!("competition {competition_id} has an unreadable schedule")))?;
    register(client, &meta, user_id).await
}

/// Sends the competition's settings and a new member to its object.
pub async fn register(client: &CompetitionClient, meta: &CompetitionMeta, user_id: &Uuid) -> Result<(), ApiError> {
    client.call_empty(Method::Put, PATH_META, Some(meta)).await?;
    client.call_empty(Method::Post, PATH_ROSTER, Some(&RosterAdd { user_id: *user_id })).await
}
