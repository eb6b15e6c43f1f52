//! Competition rows: isolate memory (5 s) in front of Redis (60 s) in front of PostgREST.

use std::cell::RefCell;

use uuid::Uuid;

use super::keys::{self, COMPETITION_TTL_SECS};
use super::{count, Level, Outcome};
use crate::adapters::postgrest::Caller;
use crate::adapters::rows::CompetitionRow;
use crate::error::ApiError;
use crate::isolate_cache::TtlCache;
use crate::runtime::RequestContext;

/// Milliseconds a row stays in isolate memory.
pub const MEMORY_TTL_MS: i64 = 5_000;

thread_local! {
    static ROWS: RefCell<TtlCache<Uuid, CompetitionRow>> = RefCell::new(TtlCache::new(MEMORY_TTL_MS, 10_000));
}

/// The competition row, or `None` when Postgres has none (absences are not cached).
pub async fn get(ctx: &RequestContext<'_>, id: &Uuid, caller: Caller<'_>) -> Result<Option<CompetitionRow>, ApiError> {
    if let Some(row) = ROWS.with(|c| c.borrow().get(id, ctx.now_ms)) {
        count(Level::Memory, Outcome::Hit);
        return Ok(Some(row));
    }
    count(Level::Memory, Outcome::Miss);
    let redis = ctx.redis();
    let key = keys::competition(id);
    match redis.cached(&key).await {
        Ok(Some(text)) => match serde_json::from_str::<CompetitionRow>(&text) {
            Ok(row) => {
                count(Level::Redis, Outcome::Hit);
                ROWS.with(|c| c.borrow_mut().put(*id, row.clone(), ctx.now_ms));
                return Ok(Some(row));
            }
            Err(_) => count(Level::Redis, Outcome::Miss),
        },
        Ok(None) => count(Level::Redis, Outcome::Miss),
        Err(_) => count(Level::Redis, Outcome::Error),
    }
    let Some(row) = ctx.database().competition(caller, id).await? else { return Ok(None) };
    if let Ok(text) = serde_json::to_string(&row) {
        if let Err(error) = redis.keep(&key, &text, COMPETITION_TTL_SECS).await {
            worker::console_warn!("competition cache store skipped: {error}");
        }
    }
    ROWS.with(|c| c.borrow_mut().put(*id, row.clone(), ctx.now_ms));
    Ok(Some(row))
}

/// Drops a competition from both levels (an edit, a cancellation, a join's participant count). Other isolates'
/// memory may keep the old row for up to 5 s. The Redis copy is dropped even while the Redis breaker is open (another
/// request's Redis trouble must not leave the old row there for its 60 s); only when Redis itself fails may the old
/// row come back from Redis once it recovers, until its TTL.
pub async fn forget(ctx: &RequestContext<'_>, id: &Uuid) {
    ROWS.with(|c| c.borrow_mut().remove(id));
    if let Err(error) = ctx.redis().insistent().drop_key(&keys::competition(id)).await {
        worker::console_warn!("competition cache entry not dropped: {error}");
    }
}
