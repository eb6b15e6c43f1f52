//! What the Worker knows about competitions between database calls, per isolate: schedules for a few seconds and
//! memberships once confirmed (a membership is never withdrawn). Misses go to the database adapter.

use std::cell::RefCell;

use uuid::Uuid;

use crate::adapters::postgrest::Caller;
use crate::error::ApiError;
use crate::isolate_cache::TtlCache;
use crate::routes::competitions::model::Schedule;
use crate::runtime::RequestContext;

/// How long a schedule is reused without asking the database.
pub const SCHEDULE_TTL_MS: i64 = 5_000;
/// How long a confirmed membership is remembered.
pub const MEMBER_TTL_MS: i64 = 10 * 60 * 1_000;

thread_local! {
    static SCHEDULES: RefCell<TtlCache<Uuid, Schedule>> = RefCell::new(TtlCache::new(SCHEDULE_TTL_MS, 10_000));
    static MEMBERS: RefCell<TtlCache<(Uuid, Uuid), ()>> = RefCell::new(TtlCache::new(MEMBER_TTL_MS, 100_000));
}

/// The schedule of `competition_id`, or 404 when it does not exist.
pub async fn schedule(ctx: &RequestContext<'_>, competition_id: &Uuid) -> Result<Schedule, ApiError> {
    if let Some(schedule) = SCHEDULES.with(|c| c.borrow().get(competition_id, ctx.now_ms)) {
        return Ok(schedule);
    }
    let (_, token) = ctx.require_token()?;
    let row = ctx
        .database()
        .competition(Caller::User(token), competition_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("competition not found".to_owned()))?;
    let schedule = Schedule::from_row(&row)
        .ok_or_else(|| ApiError::Internal(format!("competition {competition_id} has an unreadable schedule")))?;
    SCHEDULES.with(|c| c.borrow_mut().put(*competition_id, schedule.clone(), ctx.now_ms));
    Ok(schedule)
}

/// Remembers that `user_id` joined `competition_id`.
pub fn remember_member(competition_id: &Uuid, user_id: &Uuid, now_ms: i64) {
    MEMBERS.with(|c| c.borrow_mut().put((*competition_id, *user_id), (), now_ms));
}

/// 403 unless the caller joined `competition_id`.
pub async fn require_member(ctx: &RequestContext<'_>, competition_id: &Uuid) -> Result<(), ApiError> {
    let (user, token) = ctx.require_token()?;
    let key = (*competition_id, user.user_id);
    if MEMBERS.with(|c| c.borrow().get(&key, ctx.now_ms)).is_some() {
        return Ok(());
    }
    if !ctx.database().is_member(Caller::User(token), competition_id, &user.user_id).await? {
        return Err(ApiError::Forbidden("join the competition before posting scores".to_owned()));
    }
    remember_member(competition_id, &user.user_id, ctx.now_ms);
    Ok(())
}
