//! Leaderboard routes: forwarded to the competition's Durable Object after auth and validation.

pub mod model;

use durable_objects::protocol::{ScoreWrite, ScoreWriteReply, Standing, PATH_SCORES, PATH_SCORE_OF};
use worker::Method;

use crate::competition_client::CompetitionClient;
use crate::error::ApiError;
use crate::http::body::JSON_LIMIT;
use crate::http::reply::Reply;
use crate::router::RouteMatch;
use crate::runtime::RequestContext;

use model::{path_uuid, UpdateBody};

/// `POST /api/v1/leaderboard/update`
pub async fn update(ctx: &RequestContext<'_>, req: &mut worker::Request) -> Result<Reply, ApiError> {
    let user = ctx.require_user()?;
    let update = ctx.read_json::<UpdateBody>(req, JSON_LIMIT).await?.validate()?;
    let write = ScoreWrite {
        competition_id: update.competition_id,
        user_id: user.user_id,
        score: update.score,
        at_ms: ctx.now_ms,
    };
    let client = CompetitionClient::for_competition(ctx.env, &update.competition_id)?;
    let reply: ScoreWriteReply = client.call(Method::Post, PATH_SCORES, Some(&write)).await?;
    Ok(Reply::json(200, &reply))
}

/// `GET /api/v1/leaderboard/{competition_id}/users/{user_id}`
pub async fn user_standing(ctx: &RequestContext<'_>, route: &RouteMatch) -> Result<Reply, ApiError> {
    ctx.require_user()?;
    let competition_id = path_uuid("competition_id", route.param("competition_id"))?;
    let user_id = path_uuid("user_id", route.param("user_id"))?;
    let client = CompetitionClient::for_competition(ctx.env, &competition_id)?;
    let standing: Standing = client.call(Method::Get, &format!("{PATH_SCORE_OF}{user_id}"), None::<&()>).await?;
    Ok(Reply::json(200, &standing))
}
