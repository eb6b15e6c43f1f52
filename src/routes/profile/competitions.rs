//! `GET /api/v1/me/competitions`: every competition the caller joined, newest join first (at most 100), with their
//! membership status and standing. Final standings come from the database in the same query; only competitions
//! still running (or whose final standings are not yet delivered: two) cost an object call each, made in parallel.

use futures_util::future::join_all;
use serde::Serialize;
use standings::object_error::ErrorCode;
use standings::protocol::{Prizes, Standing};
use standings::requests::ObjectRequest;
use utoipa::ToSchema;

use crate::adapters::rows::MyCompetitionRow;
use crate::error::ApiError;
use crate::http::reply::Reply;
use crate::routes::competitions::model::{present, Competition};
use crate::runtime::RequestContext;
use standings::rules::Status;

/// Reply of `GET /api/v1/me/competitions`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyCompetitions {
    /// Newest join first, at most 100.
    #[schema(max_items = 100)]
    pub competitions: Vec<MyCompetition>,
}

/// One competition the caller joined, with their standing in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyCompetition {
    /// The competition.
    pub competition: Competition,
    /// The caller's membership.
    #[schema(schema_with = membership_status)]
    pub status: &'static str,
    /// Why they were disqualified (only when they were).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Their rank: final after the end, live while running, `null` without a score.
    #[schema(minimum = 1)]
    pub rank: Option<u64>,
    /// Standard competition rank ("1224").
    #[schema(minimum = 1)]
    pub display_rank: Option<u64>,
    /// Their score.
    #[schema(minimum = 0)]
    pub score: Option<i64>,
    /// Their prize in minor units, once the standings are final.
    #[schema(minimum = 0)]
    pub final_amount: Option<i64>,
}

fn membership_status() -> utoipa::openapi::schema::Object {
    crate::http::schema::one_of_words(["member", "disqualified"])
}

/// Where a member stands, as the route shows it.
#[derive(Debug, Default, Clone, PartialEq)]
struct Place {
    rank: Option<u64>,
    display_rank: Option<u64>,
    score: Option<i64>,
    final_amount: Option<i64>,
}

/// The caller's place in one competition: the final one from the row, none while upcoming or disqualified, else
/// the live one from the competition's object (none when they have no score). Where the standings are final and
/// can pay the caller nothing (a cancelled competition; a disqualified member, or one without a score, once it
/// finished), `final_amount` is 0, not `null`: `null` means "not final yet".
async fn place(ctx: &RequestContext<'_>, row: &MyCompetitionRow, status: Status) -> Result<Place, ApiError> {
    if let Some(rank) = row.final_rank {
        return Ok(Place {
            rank: Some(rank),
            display_rank: row.final_display_rank,
            score: row.final_score,
            final_amount: row.final_amount,
        });
    }
    if row.disqualified_at.is_some() {
        let standings_final = matches!(status, Status::Cancelled | Status::Finished);
        return Ok(Place { final_amount: standings_final.then_some(0), ..Place::default() });
    }
    if status == Status::Upcoming {
        return Ok(Place::default());
    }
    let final_amount = (status == Status::Cancelled).then_some(0);
    // Without a score nobody has a place to be paid for, so once the competition finished that is final too (a member
    // with a score waits for the final standings' row, which may still be on its way).
    let unplaced = matches!(status, Status::Cancelled | Status::Finished).then_some(0);
    let user = ctx.require_person()?;
    let client = ctx.competition(&row.competition.id)?;
    let request = ObjectRequest::Standing { user_id: user.user_id };
    // Finished, and its final standings not in the database yet (they are delivered just after the object makes
    // them final): the object's prizes say what the caller is paid, as the prizes route already does.
    let prizes = async {
        match status {
            Status::Finished => client.try_call::<Prizes>(&ObjectRequest::Prizes).await.ok().and_then(Result::ok),
            _ => None,
        }
    };
    let (standing, prizes) = futures_util::future::join(client.try_call::<Standing>(&request), prizes).await;
    let final_amount = match prizes.filter(|prizes| prizes.r#final) {
        Some(prizes) => {
            let paid: u64 =
                prizes.prizes.iter().filter(|prize| prize.user_id == user.user_id).map(|prize| prize.amount).sum();
            i64::try_from(paid).ok()
        }
        None => final_amount,
    };
    match standing? {
        Ok(standing) => Ok(Place {
            rank: Some(standing.rank),
            display_rank: Some(standing.display_rank),
            score: Some(standing.score.into()),
            final_amount,
        }),
        Err(error) if error.code == ErrorCode::NotFound => Ok(Place { final_amount: unplaced, ..Place::default() }),
        Err(error) => Err(ApiError::from_object(error)),
    }
}

/// `GET /api/v1/me/competitions`
pub async fn list(ctx: &RequestContext<'_>) -> Result<Reply, ApiError> {
    let user = ctx.require_person()?;
    let rows = ctx.database().my_competitions(&user.user_id).await?;
    let shown = rows
        .iter()
        .map(|row| present(&row.competition, ctx.now_ms).map(|competition| (row, competition)))
        .collect::<Result<Vec<_>, _>>()?;
    let places = join_all(shown.iter().map(|(row, competition)| place(ctx, row, competition.status))).await;
    let mut competitions = Vec::with_capacity(shown.len());
    for ((row, competition), place) in shown.into_iter().zip(places) {
        let place = place?;
        competitions.push(MyCompetition {
            competition,
            status: if row.disqualified_at.is_some() { "disqualified" } else { "member" },
            reason: row.disqualified_reason.clone(),
            rank: place.rank,
            display_rank: place.display_rank,
            score: place.score,
            final_amount: place.final_amount,
        });
    }
    Ok(Reply::json(200, &MyCompetitions { competitions }))
}
