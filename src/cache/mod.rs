//! The two cache levels of `DESIGN.md`: per-isolate memory (seconds) in front of Redis (tens of seconds).
//! - Competition rows (`GET /api/v1/competitions/{id}`): both levels; a join drops the entry (participants change).
//! - Leaderboard pages: Redis only, keyed by the competition's version, which every acknowledged score write raises
//!   *before* its reply leaves — so a client never reads a page older than its own acknowledged update. (Memory is
//!   not used for pages: another isolate's memory could not see the version change.)
//!
//! Redis unavailable: both caches are bypassed and counted as `error`.

pub mod competitions;
pub mod keys;
pub mod pages;

/// Which cache answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Memory,
    Redis,
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
    };
    let result = match outcome {
        Outcome::Hit => "hit",
        Outcome::Miss => "miss",
        Outcome::Error => "error",
    };
    crate::metrics::add(crate::metrics::Family::CacheRequestsTotal, &[("cache", cache), ("result", result)], 1.0);
}
