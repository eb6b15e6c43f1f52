//! Competition rows: isolate memory (5 s) in front of Redis (60 s) in front of PostgREST. A read that began before
//! an edit dropped the row keeps what it read at neither level: Redis's copy is kept only while the row's fence has
//! not moved since the read began, and memory's only while this isolate has dropped no row since.

use std::cell::{Cell, RefCell};

use uuid::Uuid;

use super::keys::{self, COMPETITION_TTL_SECS, FENCE_TTL_SECS};
use super::read_through::{read_through, Refresh, Via};
use super::{count, Level, Outcome};
use crate::adapters::postgrest::{Caller, Database};
use crate::adapters::rows::CompetitionRow;
use crate::adapters::upstash::Upstash;
use crate::error::ApiError;
use crate::isolate_cache::TtlCache;
use crate::platform;
use crate::runtime::RequestContext;

/// Milliseconds a row stays in isolate memory.
pub const MEMORY_TTL_MS: i64 = 5_000;

thread_local! {
    static ROWS: RefCell<TtlCache<Uuid, CompetitionRow>> = RefCell::new(TtlCache::new(MEMORY_TTL_MS, 10_000));
    /// How many rows this isolate has dropped: a read that saw it change while it looked does not leave what it
    /// found in memory (it may predate the change).
    static DROPS: Cell<u64> = const { Cell::new(0) };
}

/// How long before a row's memory entry expires the first request to read it refreshes it (that request waits for
/// the lookup); every other request keeps the entry, past its expiry too while that refresh is out
/// ([`REFRESH_GRACE_MS`]).
/// Without it, a busy competition's row expired under every request in flight at once, every 5 s: each of them then
/// asked Redis and the database itself (at 64 requests in flight, the slowest writes waited seconds, all of them
/// started right after an expiry).
pub const REFRESH_AHEAD_MS: i64 = 1_000;

/// How long past its expiry a row is still served while its refresh is out: the refresh may wait out Redis's budget
/// and then the database (measured at 64 writes in flight: 1 to 2.5 s). So a row stays at most 10 s in memory
/// before it is read again.
pub const REFRESH_GRACE_MS: i64 = MEMORY_TTL_MS;

/// The competition row, or `None` when Postgres has none (absences are not cached). A refresh runs within the
/// request that claimed it, not after its response (`waitUntil`): no I/O outlives the request that started it.
pub async fn get(ctx: &RequestContext<'_>, id: &Uuid, caller: Caller<'_>) -> Result<Option<CompetitionRow>, ApiError> {
    let refresh = Refresh { ahead_ms: REFRESH_AHEAD_MS, grace_ms: REFRESH_GRACE_MS };
    let lookup = || async { lookup(&ctx.redis(), &ctx.database(), id, caller).await };
    let drops = DROPS.get();
    let (found, via) = read_through(&ROWS, id, ctx.now_ms, refresh, platform::now_ms, lookup).await;
    if DROPS.get() != drops && matches!(via, Via::Lookup | Via::Refreshed) {
        ROWS.with(|c| c.borrow_mut().remove(id));
    }
    match via {
        Via::Memory | Via::Refreshed => count(Level::Memory, Outcome::Hit),
        Via::KeptAfter(error) => {
            count(Level::Memory, Outcome::Hit);
            worker::console_warn!("competition row refresh failed: {error:?}");
        }
        Via::Lookup => count(Level::Memory, Outcome::Miss),
    }
    found
}

/// The row from Redis, else from the database (then kept in Redis for the other isolates, unless an edit dropped
/// the row while this read looked).
async fn lookup(
    redis: &Upstash,
    database: &Database,
    id: &Uuid,
    caller: Caller<'_>,
) -> Result<Option<CompetitionRow>, ApiError> {
    let (key, fence) = (keys::competition(id), keys::competition_fence(id));
    let seen = match redis.cached_fenced(&key, &fence).await {
        Ok((Some(text), seen)) => match serde_json::from_slice::<CompetitionRow>(text.as_bytes()) {
            Ok(row) => {
                count(Level::Redis, Outcome::Hit);
                return Ok(Some(row));
            }
            Err(_) => {
                count(Level::Redis, Outcome::Miss);
                Some(seen)
            }
        },
        Ok((None, seen)) => {
            count(Level::Redis, Outcome::Miss);
            Some(seen)
        }
        // Without the fence's value nothing read now can be kept safely (and Redis is likely down anyway).
        Err(_) => {
            count(Level::Redis, Outcome::Error);
            None
        }
    };
    let Some(row) = database.competition(caller, id).await? else { return Ok(None) };
    if let (Some(seen), Ok(text)) = (seen, serde_json::to_string(&row)) {
        if let Err(error) = redis.keep_fenced(&key, &fence, &seen, &text, COMPETITION_TTL_SECS).await {
            worker::console_warn!("competition cache store skipped: {error}");
        }
    }
    Ok(Some(row))
}

/// Drops a competition from both levels (an edit, a cancellation, a join's participant count). Other isolates'
/// memory may keep the old row for up to 5 s (10 s while a refresh is out). The Redis copy is dropped even while the
/// Redis breaker is open (another request's Redis trouble must not leave the old row there for its 60 s); only when
/// Redis itself fails may the old row come back from Redis once it recovers, until its TTL.
pub async fn forget(ctx: &RequestContext<'_>, id: &Uuid) {
    ROWS.with(|c| c.borrow_mut().remove(id));
    DROPS.set(DROPS.get() + 1);
    let redis = ctx.redis().insistent();
    if let Err(error) = redis.drop_fenced(&keys::competition(id), &keys::competition_fence(id), FENCE_TTL_SECS).await {
        worker::console_warn!("competition cache entry not dropped: {error}");
    }
}
