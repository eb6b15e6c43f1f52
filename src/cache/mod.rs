//! The caches in front of the database and the objects.
//! - Competition rows (`GET /api/v1/competitions/{id}`): per-isolate memory (seconds) in front of Redis (tens of
//!   seconds); a join drops the entry (participants change). Redis unavailable: bypassed and counted as `error`.
//! - Leaderboard pages: per-isolate memory only, each page with the board's update sequence it was built at; the
//!   competition's object answers "unchanged" or the new page (`pages`), so a reader never gets a page older than an
//!   acknowledged update, and a page read costs no Redis command.

pub mod competitions;
pub mod keys;
pub mod pages;
pub mod read_through;

/// Which cache answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Competition rows in isolate memory.
    Memory,
    /// Competition rows in Redis.
    Redis,
    /// Leaderboard pages in isolate memory, checked with the object (`pages`).
    Page,
}

/// How a lookup went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Hit,
    Miss,
    /// The cache could not be asked (Redis down): bypassed.
    Error,
}

/// Counts one lookup for `cache_requests_total{cache,result}`.
pub fn count(level: Level, outcome: Outcome) {
    let cache = match level {
        Level::Memory => "memory",
        Level::Redis => "redis",
        Level::Page => "page",
    };
    let result = match outcome {
        Outcome::Hit => "hit",
        Outcome::Miss => "miss",
        Outcome::Error => "error",
    };
    crate::metrics::add(crate::metrics::Family::CacheRequestsTotal, &[("cache", cache), ("result", result)], 1.0);
}
