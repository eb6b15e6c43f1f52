//! Leaderboard pages in Redis, versioned by the competition's update sequence.

use uuid::Uuid;

use super::keys::{self, PAGE_TTL_SECS, VERSION_TTL_SECS};
use super::{count, Level, Outcome};
use crate::runtime::RequestContext;

/// What the cache holds for a page request.
pub struct Lookup {
    /// The competition's version when asked (store a freshly built page under it).
    pub version: u64,
    /// The cached page body, if any.
    pub page: Option<String>,
}

/// Looks a page up; `None` when Redis could not be asked (the caller goes to the object).
pub async fn read(ctx: &RequestContext<'_>, competition: &Uuid, limit: usize, cursor: Option<&str>) -> Option<Lookup> {
    let (prefix, suffix) = keys::page_parts(competition, limit, cursor);
    let version_key = keys::version(competition);
    let Ok((version, page)) = ctx.redis().read_versioned(&version_key, &prefix, &suffix).await else {
        count(Level::Redis, Outcome::Error);
        return None;
    };
    count(Level::Redis, if page.is_some() { Outcome::Hit } else { Outcome::Miss });
    Some(Lookup { version, page })
}

/// Stores a page built at (or after) `version`; failures only cost a later miss.
pub async fn store(
    ctx: &RequestContext<'_>,
    competition: &Uuid,
    version: u64,
    limit: usize,
    cursor: Option<&str>,
    body: &str,
) {
    let key = keys::page(competition, version, limit, cursor);
    if let Err(error) = ctx.redis().keep(&key, body, PAGE_TTL_SECS).await {
        worker::console_warn!("page cache store skipped: {error}");
    }
}

/// Raises the competition's version to `seq` (called before a write's reply leaves, so its writer never reads an
/// older page). If Redis cannot be reached, pages already cached stay readable until their TTL (15 s).
pub async fn raise_version(ctx: &RequestContext<'_>, competition: &Uuid, seq: u64) {
    if let Err(error) = ctx.redis().raise_version(&keys::version(competition), seq, VERSION_TTL_SECS).await {
        worker::console_warn!("page cache version not raised for {competition}: {error}");
    }
}
