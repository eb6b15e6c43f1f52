//! Score writes to a competition's Durable Object. The object holds its competition's settings and roster and
//! checks every write itself, so the hot path needs no database call (and keeps working while the database API is
//! down). An object that has not yet been told its competition, or a member who joined while the object could not
//! be told, is introduced from Postgres once and the write retried. The members of a span a moved end left are
//! rescored in `spans.rs`.

use standings::object_error::ErrorCode;
use standings::protocol::{Announced, CompetitionMeta, Person, RosterAdd, ScoreWrite, ScoreWriteReply, WriteOutcome};
use uuid::Uuid;

use crate::adapters::rows::{CompetitionRow, MemberToRescore, ProfileRow};
use crate::competition_client::CompetitionClient;
use crate::error::ApiError;
use crate::fitness_rules::rescore::RescoreInputs;
use crate::routes::competitions::model::meta_from_row;
use crate::runtime::RequestContext;
use standings::requests::ObjectRequest;
use standings::score::Score;

pub mod spans;

/// Writes the caller's score through the competition's object. The write moves the board's update sequence, so every
/// isolate's held pages of it are stale from the reply on (`cache::pages`): the writer never reads a page from
/// before its own update.
pub async fn write(ctx: &RequestContext<'_>, write: &ScoreWrite) -> Result<ScoreWriteReply, ApiError> {
    let client = ctx.competition(&write.competition_id)?;
    let request = ObjectRequest::WriteScore(write.clone());
    let reply: ScoreWriteReply = match client.try_call(&request).await? {
        Ok(reply) => reply,
        Err(error) if matches!(error.code, ErrorCode::CompetitionUnknown | ErrorCode::NotAMember) => {
            introduce(ctx, &client, &write.competition_id, &write.user_id).await?;
            client.call(&request).await?
        }
        Err(error) => return Err(ApiError::from_object(error)),
    };
    crate::metrics::add(crate::metrics::Family::LeaderboardUpdatesTotal, &[], 1.0);
    Ok(reply)
}

/// A competition's standing after a rescore, as sync and review replies list it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Rescored {
    /// The competition.
    pub competition_id: Uuid,
    /// The member's score there now.
    pub score: Score,
    /// Their rank.
    #[schema(minimum = 1)]
    pub rank: u64,
    /// Standard competition rank ("1224").
    #[schema(minimum = 1)]
    pub display_rank: u64,
}

/// Writes a member's rescored fitness totals (after a sync or a hold decision) to their competitions' objects, and
/// returns each competition's standing as the sync reply lists it. A competition whose standings became final
/// between the database's answer and the write is left out: its board no longer moves. So is one whose object has
/// disqualified the member (403) while the database does not list it yet (a disqualification is made there after
/// the object, and that step may have failed): the days are stored and the other competitions must still move, so
/// neither fails the sync. Each competition has its own object, so the writes go out together: a member of several
/// competitions waits for the slowest, not for the sum.
pub async fn write_rescored(
    ctx: &RequestContext<'_>,
    user_id: &Uuid,
    inputs: &RescoreInputs,
) -> Result<Vec<Rescored>, ApiError> {
    let writes = inputs.scores().into_iter().map(|rescored| async move {
        let change = days_total(ctx.now_ms, user_id, inputs, &rescored);
        match write(ctx, &change).await {
            Ok(reply) => Ok(Some(Rescored {
                competition_id: rescored.competition_id,
                score: reply.score,
                rank: reply.rank,
                display_rank: reply.display_rank,
            })),
            Err(ApiError::Conflict(_) | ApiError::Forbidden(_)) => Ok(None),
            Err(e) => Err(e),
        }
    });
    let mut standings = Vec::new();
    for written in futures_util::future::join_all(writes).await {
        standings.extend(written?);
    }
    Ok(standings)
}

/// A member's fitness total computed from `inputs`, as a write to its competition's object at `at_ms`. The days
/// version lets the object drop a total from a sync that was overtaken by a later one.
fn days_total(
    at_ms: i64,
    user_id: &Uuid,
    inputs: &RescoreInputs,
    rescored: &crate::fitness_rules::rescore::Rescored,
) -> ScoreWrite {
    ScoreWrite {
        competition_id: rescored.competition_id,
        user_id: *user_id,
        score: rescored.score,
        at_ms,
        days_version: Some(inputs.version),
        correction: false,
    }
}

/// The totals in `competition_id` of a page of its members, each computed from their stored days, as writes at
/// `at_ms` (only this competition's: the members' others keep theirs). A member whose inputs do not list the
/// competition (the database does not count it as taking syncs) gets none.
pub fn page_totals(competition_id: &Uuid, members: &[MemberToRescore], at_ms: i64) -> Vec<ScoreWrite> {
    members
        .iter()
        .flat_map(|member| {
            let rescored = member.inputs.scores().into_iter().filter(|r| r.competition_id == *competition_id);
            rescored.map(|rescored| days_total(at_ms, &member.user_id, &member.inputs, &rescored))
        })
        .collect()
}

/// Scores a new member of a started fitness competition from the days they stored before joining (`inputs`: the
/// join's rescore inputs, their days version raised). Nothing is written when those days make no score above 0: a
/// member who has walked nothing yet joins the board with their next sync, as before.
pub async fn score_stored_days(
    ctx: &RequestContext<'_>,
    competition_id: &Uuid,
    user_id: &Uuid,
    mut inputs: RescoreInputs,
) -> Result<(), ApiError> {
    inputs.competitions.retain(|rules| rules.id == *competition_id);
    if inputs.scores().iter().any(|rescored| i64::from(rescored.score) > 0) {
        write_rescored(ctx, user_id, &inputs).await?;
    }
    Ok(())
}

/// Whether the database counts the competition as taking syncs for every member of the page (its clock decides when
/// a competition starts; until then the members' inputs leave it out, and their totals would all read as none).
pub fn taken_by_all(competition_id: &Uuid, members: &[MemberToRescore]) -> bool {
    members.iter().all(|member| member.inputs.competitions.iter().any(|rules| rules.id == *competition_id))
}

/// Writes fitness totals of several members to the competition's object in one call; the number written. A member
/// the object does not know yet goes through [`write`] (which introduces them), as does the whole batch when the
/// object predates batches (a deploy's objects and Worker may briefly differ). A member disqualified since, or
/// standings that became final meanwhile, leave the write out.
async fn write_batch(
    ctx: &RequestContext<'_>,
    competition_id: &Uuid,
    writes: Vec<ScoreWrite>,
) -> Result<usize, ApiError> {
    if writes.is_empty() {
        return Ok(0);
    }
    let client = ctx.competition(competition_id)?;
    let outcomes: Vec<WriteOutcome> = match client.try_call(&ObjectRequest::WriteScores(writes.clone())).await? {
        Ok(outcomes) => outcomes,
        Err(error) if error.code == ErrorCode::BadRequest => {
            writes.iter().map(|_| WriteOutcome::Refused(error.clone())).collect()
        }
        Err(error) => return Err(ApiError::from_object(error)),
    };
    // Written one by one (each counted by `write`), or in the batch (counted here).
    let (mut written, mut batched) = (0, 0);
    for (change, outcome) in writes.iter().zip(outcomes) {
        let refused = match outcome {
            WriteOutcome::Written(_) => {
                batched += 1;
                continue;
            }
            WriteOutcome::Refused(refused) => refused,
        };
        match refused.code {
            ErrorCode::NotAMember | ErrorCode::CompetitionUnknown | ErrorCode::BadRequest => {
                match write(ctx, change).await {
                    Ok(_) => written += 1,
                    Err(ApiError::Forbidden(_) | ApiError::Conflict(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            ErrorCode::Forbidden | ErrorCode::Conflict => {}
            _ => return Err(ApiError::from_object(refused)),
        }
    }
    crate::metrics::add(crate::metrics::Family::LeaderboardUpdatesTotal, &[], batched as f64);
    Ok(written + batched)
}

/// Tells the object its competition's settings from Postgres (404 when Postgres has no such competition).
pub async fn introduce_competition(
    ctx: &RequestContext<'_>,
    client: &CompetitionClient,
    competition_id: &Uuid,
) -> Result<(), ApiError> {
    let row = ctx
        .database()
        .competition(ctx.reader()?, competition_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("competition not found".to_owned()))?;
    tell_settings(client, &row).await
}

/// Tells the object its competition's settings as `row` holds them (the object keeps newer ones it already has).
pub async fn tell_settings(client: &CompetitionClient, row: &CompetitionRow) -> Result<(), ApiError> {
    let meta = meta_from_row(row)
        .ok_or_else(|| ApiError::Internal(format!("competition {} has an unreadable schedule", row.id)))?;
    client.call_empty(&ObjectRequest::SetMeta(meta)).await
}

/// Tells the object its competition and, when Postgres says so, that `user_id` is a member: 404 for a competition
/// Postgres does not have, 403 for a user who has not joined.
async fn introduce(
    ctx: &RequestContext<'_>,
    client: &CompetitionClient,
    competition_id: &Uuid,
    user_id: &Uuid,
) -> Result<(), ApiError> {
    let reader = ctx.reader()?;
    let database = ctx.database();
    // Three reads at once; an unknown competition (404) is reported before a missing membership (403).
    let (row, member, profile) = futures_util::future::join3(
        database.competition(reader, competition_id),
        database.is_member(reader, competition_id, user_id),
        database.ensure_profile(user_id),
    )
    .await;
    let row = row?.ok_or_else(|| ApiError::NotFound("competition not found".to_owned()))?;
    if !member? {
        return Err(ApiError::Forbidden("join the competition before posting scores".to_owned()));
    }
    let meta = meta_from_row(&row)
        .ok_or_else(|| ApiError::Internal(format!("competition {competition_id} has an unreadable schedule")))?;
    // The board shows the member's name from their first score on.
    let person = profile.ok().map(|profile| person_of(&profile));
    register(client, &meta, user_id, person).await
}

/// Sends the competition's settings and a new member (with their name and avatar, when known) to its object, both
/// at once: neither needs the other (the roster takes a member before the settings arrive), and a write that finds
/// either missing introduces them again.
pub async fn register(
    client: &CompetitionClient,
    meta: &CompetitionMeta,
    user_id: &Uuid,
    person: Option<Person>,
) -> Result<(), ApiError> {
    let settings = ObjectRequest::SetMeta(meta.clone());
    let member = ObjectRequest::AddMember(RosterAdd { user_id: *user_id, person });
    futures_util::future::try_join(client.call_empty(&settings), client.call_empty(&member)).await.map(drop)
}

/// What the boards show of a profile.
pub fn person_of(profile: &ProfileRow) -> Person {
    Person {
        user_id: profile.user_id,
        display_name: profile.display_name.clone(),
        avatar_url: profile.avatar_url.clone(),
        version: profile.person_version,
    }
}

/// Tells the object of every competition the user joined (all of them, however many) their current name and avatar;
/// a running board sends an `update` frame with a new sequence, so no isolate serves a held page with the old name
/// after the change is answered.
/// A competition that cannot be told now keeps the old name until the next change (logged).
pub async fn announce_person(ctx: &RequestContext<'_>, profile: &ProfileRow) {
    let joined = match ctx.database().competitions_of(&profile.user_id).await {
        Ok(ids) => ids,
        Err(error) => {
            worker::console_warn!("name of {} not announced to its boards: {error}", profile.user_id);
            return;
        }
    };
    let person = person_of(profile);
    // Final and cancelled boards store the name too (no frame): their standings show it from then on.
    let calls = joined.iter().map(|id| {
        let person = &person;
        async move {
            let id = *id;
            let client = ctx.competition(&id)?;
            let _: Announced = client.call(&ObjectRequest::SetPerson(person.clone())).await?;
            Ok::<(), ApiError>(())
        }
    });
    for outcome in futures_util::future::join_all(calls).await {
        if let Err(error) = outcome {
            worker::console_warn!("name of {} not announced to one board: {error}", profile.user_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn member(user: u128, version: i64, competitions: &[u128]) -> MemberToRescore {
        let rules: Vec<_> = competitions
            .iter()
            .map(|id| {
                json!({"id": Uuid::from_u128(*id), "metric": "steps", "starts_at": "2026-11-02T00:00:00Z",
                       "ends_at": "2026-11-09T00:00:00Z", "clock": "UTC"})
            })
            .collect();
        let day = |day: &str, steps: i64| {
            json!({"day": day, "source": "healthkit", "user_entered": false, "steps": steps, "active_minutes": 0,
                   "distance_m": 0, "calories": 0, "held_metrics": []})
        };
        serde_json::from_value(json!({"user_id": Uuid::from_u128(user), "inputs": {
            "version": version, "time_zone": "UTC", "competitions": rules,
            "days": [day("2026-11-01", 9_000), day("2026-11-03", 1_000), day("2026-11-04", 2_500)]}}))
        .expect("member")
    }

    #[test]
    fn a_page_becomes_one_write_per_member_of_this_competition_only() {
        let (this, other) = (Uuid::from_u128(1), 2);
        let page = [member(10, 4, &[1, 2]), member(11, 9, &[2, 1]), member(12, 1, &[2])];
        let writes = page_totals(&this, &page, 1_700);
        let got: Vec<(Uuid, u64, i64, Option<i64>)> =
            writes.iter().map(|w| (w.user_id, u64::from(w.score), w.at_ms, w.days_version)).collect();
        assert_eq!(
            got,
            [(Uuid::from_u128(10), 3_500, 1_700, Some(4)), (Uuid::from_u128(11), 3_500, 1_700, Some(9))],
            "the day before the window does not count; the member outside the competition gets no write"
        );
        assert!(writes.iter().all(|w| w.competition_id == this && !w.correction));
        assert!(taken_by_all(&this, &page[..2]));
        assert!(!taken_by_all(&this, &page), "a member whose inputs leave the competition out");
        assert!(taken_by_all(&Uuid::from_u128(other), &page));
        assert!(taken_by_all(&this, &[]), "an empty page has nothing to wait for");
    }
}
