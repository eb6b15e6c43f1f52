//! Rate limiting of `/api` routes: a token bucket per policy and subject (the user id when authenticated, else the
//! client IP), shared by every isolate through one Redis script whose refill uses the Redis server clock (`TIME`),
//! so isolates with skewed clocks agree. Isolates lease tokens in small batches (`lease`), so a busy subject costs
//! far less than one Redis command per request, and take a token after serving its request while the subject's
//! bucket was at least half full, so a user's occasional request does not wait on Redis. When Redis is down or slower
//! than 250 ms, a per-isolate bucket with the same policy applies — fail-open to a local limit, never to none — and
//! the fallback is counted.

pub mod bucket;
pub mod fallback_log;
pub mod lease;
pub mod policy;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use crate::adapters::AdapterError;
use crate::services::Services;

use bucket::{retry_after_secs, Bucket};
use lease::LeaseBook;
use policy::{headers, Policies, Policy, Scope};

use crate::adapters::redis_ops::BucketShape;
use crate::auth::UserContext;
use crate::router::Endpoint;

/// Time budget of one Redis call of the limiter, as measured under load (`scripts/bench-redis-waits`, BENCHMARKS.md):
/// the wait the Worker sees includes its own queue when the isolate is busy, so at 64 requests in flight only 15 % of
/// healthy Redis calls came back within the old 50 ms, the breaker opened and limits fell back to per-isolate
/// buckets for most of the run; 98.5 % come back within 250 ms. Redis that is really slow still trips the breaker
/// after a few calls, and an open breaker makes the limiter fall back at once.
pub const REDIS_BUDGET_MS: u64 = 250;

thread_local! {
    static LEASES: RefCell<LeaseBook> = RefCell::new(LeaseBook::default());
    static LOCAL: RefCell<HashMap<String, Bucket>> = RefCell::new(HashMap::new());
    static FALLBACKS: Cell<u64> = const { Cell::new(0) };
    static FALLBACK_LOG: RefCell<fallback_log::FallbackLog> = RefCell::new(fallback_log::FallbackLog::default());
}

/// The limiter's answer: whether to serve, the headers every `/api` response carries, and `Retry-After` for a 429.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    pub headers: Vec<(String, String)>,
    pub retry_after_secs: u64,
}

/// Decisions this isolate made with its local fallback bucket (for `/metrics`).
pub fn fallbacks() -> u64 {
    FALLBACKS.with(Cell::get)
}

/// The bucket a request draws from: route-specific policies for the expensive writes, `default` for other
/// authenticated requests, and for the rest (keyed by address) `anonymous` when configured, else `default`.
pub fn scope_for<'a>(
    policies: &'a Policies,
    endpoint: Option<Endpoint>,
    user: Option<&UserContext>,
    ip: &str,
) -> Scope<'a> {
    let subject = match user {
        // Several back offices may share the service key (no sub): the admin bucket is then one for all of them.
        Some(user) if user.is_admin() => format!("admin:{}", user.user_id),
        Some(user) => format!("user:{}", user.user_id),
        None => format!("ip:{ip}"),
    };
    let policy = match (endpoint, user) {
        (_, None) => policies.anonymous.as_ref().unwrap_or(&policies.default),
        (_, Some(user)) if user.is_admin() => &policies.admin,
        (Some(Endpoint::AvatarUpload), _) => &policies.avatar,
        (Some(Endpoint::FitnessSync), _) => &policies.fitness_sync,
        (Some(Endpoint::CompetitionCreate), _) => &policies.competition_create,
        (Some(Endpoint::ProfilePatch), _) => &policies.profile,
        _ => &policies.default,
    };
    Scope { policy, subject }
}

/// A take on the shared bucket whose grant the lease book records when it arrives, for the caller to run past its
/// response (`wait_until`).
pub type BackgroundTake = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

/// Takes one token for `scope` (a Redis call, when one is needed, carries the request's `traceparent`). A busy
/// subject's lease running low is renewed, and a request that finds no lease while the bucket was at least half full
/// has its token taken, by a future handed to `run_in_background`, which must start it now and let it finish after
/// the response.
pub async fn check(
    services: &'static Services,
    traceparent: &str,
    scope: &Scope<'_>,
    now_ms: i64,
    run_in_background: impl FnOnce(BackgroundTake),
) -> Decision {
    let key = scope.key();
    let policy = scope.policy;
    if let Some(remaining) = LEASES.with(|l| l.borrow_mut().spend(&key, now_ms)) {
        if let Some(want) = LEASES.with(|l| l.borrow_mut().renew_ahead(&key, now_ms, policy.burst)) {
            run_in_background(take_ahead(services, traceparent, policy, key, want, Ahead::Renewal));
        }
        return Decision { allowed: true, headers: headers(policy, remaining), retry_after_secs: 0 };
    }
    if let Some((want, left)) = LEASES.with(|l| l.borrow_mut().admit_ahead(&key, now_ms, policy.burst)) {
        // The bucket was at least half full: serve now, take the token (and the next lease) after.
        run_in_background(take_ahead(services, traceparent, policy, key, want, Ahead::Admitted));
        return Decision { allowed: true, headers: headers(policy, left), retry_after_secs: 0 };
    }
    let want = LEASES.with(|l| l.borrow_mut().lease_size(&key, now_ms, policy.burst));
    let (granted, remaining) = match shared_take(services, traceparent, policy, key.clone(), want).await {
        Ok((granted, remaining)) => {
            LEASES.with(|l| l.borrow_mut().record(&key, now_ms, granted, remaining));
            (granted, remaining)
        }
        Err(error) => {
            FALLBACKS.with(|f| f.set(f.get() + 1));
            crate::metrics::add(crate::metrics::Family::RateLimitFallbacksTotal, &[("policy", &policy.name)], 1.0);
            if let Some(unsaid) = FALLBACK_LOG.with(|log| log.borrow_mut().note(now_ms)) {
                worker::console_warn!(
                    "rate limit falls back to this isolate: {error} ({unsaid} more fallbacks since the last warning)"
                );
            }
            let taken = LOCAL.with(|local| {
                let mut local = local.borrow_mut();
                if local.len() >= lease::MAX_SUBJECTS {
                    local.clear();
                }
                let refill = policy.refill();
                local.entry(key.clone()).or_insert_with(|| Bucket::full(refill, now_ms)).take(refill, now_ms, 1)
            });
            (taken.granted, taken.remaining)
        }
    };
    if granted >= 1 {
        let left = remaining + f64::from(granted - 1);
        Decision { allowed: true, headers: headers(policy, left), retry_after_secs: 0 }
    } else {
        crate::metrics::add(crate::metrics::Family::RateLimitedTotal, &[("scope", &policy.name)], 1.0);
        Decision {
            allowed: false,
            headers: headers(policy, remaining),
            retry_after_secs: retry_after_secs(policy.refill(), remaining),
        }
    }
}

/// What a take in the background is for.
#[derive(Debug, Clone, Copy)]
enum Ahead {
    /// Tokens for a busy subject's lease before it runs out.
    Renewal,
    /// The token of a request already served (and the subject's next lease).
    Admitted,
}

/// A take on the shared bucket whose grant (or failure) is recorded in the lease book when it arrives.
fn take_ahead(
    services: &'static Services,
    traceparent: &str,
    policy: &Policy,
    key: String,
    want: u32,
    ahead: Ahead,
) -> BackgroundTake {
    let take = shared_take(services, traceparent, policy, key.clone(), want);
    Box::pin(async move {
        let granted = take.await;
        // The grant's second of life starts when it arrives, not when it was asked for.
        let now_ms = crate::platform::now_ms();
        LEASES.with(|l| {
            let mut leases = l.borrow_mut();
            match (granted, ahead) {
                (Ok((granted, remaining)), Ahead::Renewal) => leases.record_ahead(&key, now_ms, granted, remaining),
                (Ok((granted, remaining)), Ahead::Admitted) => leases.record_admitted(&key, now_ms, granted, remaining),
                (Err(_), Ahead::Renewal) => leases.renewal_failed(&key),
                (Err(_), Ahead::Admitted) => leases.admitted_unconfirmed(&key, now_ms),
            }
        });
    })
}

/// One script call on the shared bucket (see `adapters::redis_ops::Upstash::take_tokens`), owning what it needs so
/// a renewal can outlive the request.
fn shared_take(
    services: &'static Services,
    traceparent: &str,
    policy: &Policy,
    key: String,
    want: u32,
) -> impl std::future::Future<Output = Result<(u32, f64), AdapterError>> + 'static {
    let redis = services.redis.traced(traceparent);
    let refill = policy.refill();
    let ttl_secs = (f64::from(policy.burst) / refill.rate_per_ms / 1000.0).ceil() as u64 + 60;
    let shape = BucketShape { rate_per_ms: refill.rate_per_ms, burst: policy.burst, ttl_secs };
    async move { redis.take_tokens(&key, shape, want, REDIS_BUDGET_MS).await }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_draw_from_their_policy_and_subject() {
        let policies = Policies::default();
        let user =
            UserContext { user_id: uuid::Uuid::from_u128(7), role: crate::auth::Role::Authenticated, expires_at: 0 };
        let admin = UserContext { user_id: uuid::Uuid::nil(), role: crate::auth::Role::ServiceRole, expires_at: 0 };
        let nil = "00000000-0000-0000-0000-000000000000";
        let cases = [
            (Some(Endpoint::LeaderboardUpdate), Some(&user), "rl:default:user:00000000-0000-0000-0000-000000000007"),
            (Some(Endpoint::AvatarUpload), Some(&user), "rl:avatar:user:00000000-0000-0000-0000-000000000007"),
            (Some(Endpoint::FitnessSync), Some(&user), "rl:fitness_sync:user:00000000-0000-0000-0000-000000000007"),
            (
                Some(Endpoint::CompetitionCreate),
                Some(&user),
                "rl:competition_create:user:00000000-0000-0000-0000-000000000007",
            ),
            (Some(Endpoint::ProfilePatch), Some(&user), "rl:profile:user:00000000-0000-0000-0000-000000000007"),
            (Some(Endpoint::ProfileGet), Some(&user), "rl:default:user:00000000-0000-0000-0000-000000000007"),
            // Without a token: the default terms, the address's own bucket (API.md), whatever the route.
            (Some(Endpoint::LeaderboardUpdate), None, "rl:default:ip:203.0.113.9"),
            (Some(Endpoint::AvatarGet), None, "rl:default:ip:203.0.113.9"),
            // An unrouted /api path (404/405) still draws from the caller's bucket.
            (None, Some(&user), "rl:default:user:00000000-0000-0000-0000-000000000007"),
            (None, None, "rl:default:ip:203.0.113.9"),
        ];
        // Administrators have their own policy on every route, per-route user limits included.
        let admin_key = format!("rl:admin:admin:{nil}");
        for endpoint in
            [Endpoint::CompetitionCreate, Endpoint::AvatarUpload, Endpoint::FitnessSync, Endpoint::ProfilePatch]
        {
            assert_eq!(scope_for(&policies, Some(endpoint), Some(&admin), "203.0.113.9").key(), admin_key);
        }
        for (endpoint, user, key) in cases {
            assert_eq!(scope_for(&policies, endpoint, user, "203.0.113.9").key(), key, "{endpoint:?}");
        }
        // An operator who configures an `anonymous` policy gets it for every request without a token.
        let tightened = Policies::parse(Some("anonymous=10/1/20")).expect("valid");
        assert_eq!(
            scope_for(&tightened, Some(Endpoint::AvatarGet), None, "203.0.113.9").key(),
            "rl:anonymous:ip:203.0.113.9"
        );
        assert_eq!(scope_for(&tightened, None, Some(&user), "203.0.113.9").policy.name, "default");
    }
}
