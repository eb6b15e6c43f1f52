//! Where the asymmetric verification keys come from: the JWKS document at `SUPABASE_JWKS_URL`, fetched with
//! `worker::Fetch`, kept per isolate for its `Cache-Control: max-age`, and fetched again at most once a minute per
//! isolate when a token names a `kid` the cached set does not have (key rotation). The cache policy is plain Rust
//! ([`Freshness`]); the fetch is `adapters::jwks`, under its own circuit breaker.
//!
//! Key sets are deliberately not shared through Redis: whoever could write to the Redis database could plant a key
//! and mint `service_role` tokens. A key set comes only from the configured URL, over TLS, and lives in the memory of
//! the isolate that fetched it; the price is one fetch per isolate and `max-age`.

use std::cell::RefCell;
use std::rc::Rc;

use super::jwks::KeySet;
use crate::adapters::jwks;
use crate::error::ApiError;
use crate::services::Services;

/// Key-set lifetime when the response has no usable `max-age`.
pub const DEFAULT_TTL_MS: i64 = 600_000;
/// Shortest lifetime honoured from `max-age` (a very short one would turn every request into a fetch).
pub const MIN_TTL_MS: i64 = 60_000;
/// Longest lifetime honoured from `max-age`.
pub const MAX_TTL_MS: i64 = 86_400_000;
/// Least time between two fetches caused by unknown key ids.
pub const REFRESH_INTERVAL_MS: i64 = 60_000;
/// Budget of one JWKS fetch.
pub const FETCH_BUDGET_MS: u64 = 3_000;

/// The lifetime a response's `Cache-Control` grants, clamped to [`MIN_TTL_MS`, `MAX_TTL_MS`].
pub fn ttl_from_cache_control(header: Option<&str>) -> i64 {
    let max_age = header.and_then(|value| {
        value.split(',').find_map(|directive| {
            let (name, seconds) = directive.trim().split_once('=')?;
            name.trim().eq_ignore_ascii_case("max-age").then(|| seconds.trim().parse::<i64>().ok()).flatten()
        })
    });
    max_age.map_or(DEFAULT_TTL_MS, |secs| secs.saturating_mul(1000).clamp(MIN_TTL_MS, MAX_TTL_MS))
}

/// The isolate's view of the key set: what it holds until when, and when it last refetched for an unknown kid.
#[derive(Debug, Default)]
pub struct Freshness {
    held: Option<(Rc<KeySet>, i64)>,
    last_forced_ms: Option<i64>,
}

impl Freshness {
    /// The held set while it is fresh.
    pub fn fresh(&self, now_ms: i64) -> Option<Rc<KeySet>> {
        self.held.as_ref().filter(|(_, until)| now_ms < *until).map(|(set, _)| Rc::clone(set))
    }

    /// The held set even after it expired (used when the endpoint cannot be reached: keys rarely change, and
    /// refusing every asymmetric token because one fetch failed would turn an auth-server hiccup into an outage).
    pub fn stale(&self) -> Option<Rc<KeySet>> {
        self.held.as_ref().map(|(set, _)| Rc::clone(set))
    }

    /// Keeps `set` until `until_ms`.
    pub fn hold(&mut self, set: Rc<KeySet>, until_ms: i64) {
        self.held = Some((set, until_ms));
    }

    /// Whether an unknown kid may cause a fetch now; if so, that fetch is counted.
    pub fn take_forced_refresh(&mut self, now_ms: i64) -> bool {
        let allowed = self.last_forced_ms.is_none_or(|last| now_ms - last >= REFRESH_INTERVAL_MS);
        if allowed {
            self.last_forced_ms = Some(now_ms);
        }
        allowed
    }
}

thread_local! {
    static FRESHNESS: RefCell<Freshness> = RefCell::new(Freshness::default());
}

/// The key set for verifying tokens now: the isolate's, else fetched.
pub async fn current(services: &Services, traceparent: &str, now_ms: i64) -> Result<Rc<KeySet>, ApiError> {
    if let Some(set) = FRESHNESS.with(|f| f.borrow().fresh(now_ms)) {
        return Ok(set);
    }
    match fetch_and_hold(services, traceparent, now_ms).await {
        Ok(set) => Ok(set),
        Err(error) => match FRESHNESS.with(|f| f.borrow().stale()) {
            Some(stale) => {
                worker::console_warn!("JWKS unreachable; verifying with the expired cached key set");
                Ok(stale)
            }
            None => Err(error),
        },
    }
}

/// The key set after a token named an unknown `kid`: fetched again if this isolate has not done so for an unknown
/// kid within the last minute, else `None` (the caller refuses the token).
pub async fn refreshed(services: &Services, traceparent: &str, now_ms: i64) -> Result<Option<Rc<KeySet>>, ApiError> {
    if !FRESHNESS.with(|f| f.borrow_mut().take_forced_refresh(now_ms)) {
        return Ok(None);
    }
    fetch_and_hold(services, traceparent, now_ms).await.map(Some)
}

async fn fetch_and_hold(services: &Services, traceparent: &str, now_ms: i64) -> Result<Rc<KeySet>, ApiError> {
    let config = &services.config;
    let fetched = jwks::fetch(&services.breakers, config.jwks_url.as_str(), traceparent, FETCH_BUDGET_MS).await;
    let (document, cache_control) = fetched.map_err(|reason| {
        worker::console_warn!("JWKS fetch from {} failed: {reason}", config.jwks_url);
        ApiError::DependencyUnavailable {
            dependency: "auth keys".into(),
            retry_after_secs: Some(5),
            cause: format!("JWKS fetch failed: {reason}"),
        }
    })?;
    let set = KeySet::parse(&document).map_err(|reason| {
        worker::console_warn!("JWKS at {} unusable: {reason}", config.jwks_url);
        ApiError::DependencyUnavailable {
            dependency: "auth keys".into(),
            retry_after_secs: Some(5),
            cause: format!("JWKS unusable: {reason}"),
        }
    })?;
    let set = Rc::new(set);
    let expires_ms = now_ms + ttl_from_cache_control(cache_control.as_deref());
    FRESHNESS.with(|f| f.borrow_mut().hold(Rc::clone(&set), expires_ms));
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetime_follows_max_age_within_bounds() {
        let cases = [
            (None, DEFAULT_TTL_MS),
            (Some("public, max-age=600"), 600_000),
            (Some("max-age=5"), MIN_TTL_MS),
            (Some("max-age=99999999"), MAX_TTL_MS),
            (Some("no-store"), DEFAULT_TTL_MS),
            (Some("MAX-AGE = 120 , public"), 120_000),
            (Some("max-age=abc"), DEFAULT_TTL_MS),
        ];
        for (header, ttl) in cases {
            assert_eq!(ttl_from_cache_control(header), ttl, "{header:?}");
        }
    }

    #[test]
    fn a_held_set_expires_and_unknown_kids_refetch_at_most_once_a_minute() {
        let mut freshness = Freshness::default();
        assert!(freshness.fresh(0).is_none());
        freshness.hold(Rc::new(KeySet::default()), 1_000);
        assert!(freshness.fresh(999).is_some());
        assert!(freshness.fresh(1_000).is_none());
        assert!(freshness.stale().is_some(), "an expired set stays available as a fallback");

        assert!(freshness.take_forced_refresh(10_000));
        assert!(!freshness.take_forced_refresh(10_001));
        assert!(!freshness.take_forced_refresh(10_000 + REFRESH_INTERVAL_MS - 1));
        assert!(freshness.take_forced_refresh(10_000 + REFRESH_INTERVAL_MS));
    }
}
