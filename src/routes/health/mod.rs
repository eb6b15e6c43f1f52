//! Health routes. `/health` and `/health/live` touch no dependency; `/health/ready` and `/health/detailed` check
//! each one (through its adapter and breaker), cached per isolate for 5 s so probes cannot load the dependencies.

pub mod report;

use std::cell::RefCell;

use serde_json::json;

use crate::adapters::guard::{breaker_states, clock_ms};
use crate::adapters::{postgrest, upstash, AdapterError};
use crate::competition_client::BINDING;
use crate::http::reply::Reply;
use crate::isolate_cache::TtlCache;
use crate::runtime::RequestContext;
use crate::time;

use report::{Check, Component};

/// Version reported by `/health`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// How long a set of checks is reused.
pub const CHECK_TTL_MS: i64 = 5_000;
/// Binding of the avatar bucket in `wrangler.toml`.
pub const STORAGE_BINDING: &str = "AVATARS";

thread_local! {
    static CHECKS: RefCell<TtlCache<(), (String, Vec<Check>)>> = RefCell::new(TtlCache::new(CHECK_TTL_MS, 1));
}

/// `GET /health`
pub fn health() -> Reply {
    Reply::json(200, &json!({ "status": "ok", "version": VERSION }))
}

/// `GET /health/live`
pub fn live() -> Reply {
    Reply::json(200, &json!({ "status": "alive" }))
}

/// `GET /health/ready`
pub async fn ready(ctx: &RequestContext<'_>) -> Reply {
    let (_, checks) = checks(ctx).await;
    let (status, body) = report::ready(&checks);
    Reply::json(status, &body)
}

/// `GET /health/detailed`
pub async fn detailed(ctx: &RequestContext<'_>) -> Reply {
    let (checked_at, checks) = checks(ctx).await;
    let breakers: Vec<(&str, &str)> = breaker_states().into_iter().map(|(d, s)| (d.name(), s.as_str())).collect();
    let (status, body) = report::detailed(&checks, &breakers, &checked_at);
    Reply::json(status, &body)
}

async fn checks(ctx: &RequestContext<'_>) -> (String, Vec<Check>) {
    if let Some(cached) = CHECKS.with(|c| c.borrow().get(&(), ctx.now_ms)) {
        return cached;
    }
    let mut checks = Vec::with_capacity(Component::ALL.len());
    for component in Component::ALL {
        let started = clock_ms();
        let outcome = check(ctx, component).await;
        let latency_ms = clock_ms().saturating_sub(started) as f64;
        checks.push(Check { component, up: outcome.is_ok(), latency_ms, error: outcome.err() });
    }
    let fresh = (time::format_ms(ctx.now_ms), checks);
    CHECKS.with(|c| c.borrow_mut().put((), fresh.clone(), ctx.now_ms));
    fresh
}

/// One component's check; the error text is an adapter's own summary, never an upstream body.
async fn check(ctx: &RequestContext<'_>, component: Component) -> Result<(), String> {
    let describe = |e: AdapterError| e.to_string();
    match component {
        Component::Postgrest => postgrest::shared(ctx.config).ping().await.map_err(describe),
        Component::Redis => upstash::shared(ctx.config).command(&["PING"]).await.map(drop).map_err(describe),
        Component::DurableObjects => ctx.env.durable_object(BINDING).map(drop).map_err(|e| e.to_string()),
        Component::Storage => match ctx.env.bucket(STORAGE_BINDING) {
            Ok(bucket) => bucket.head("__health").await.map(drop).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_match_the_contract() {
        let health: serde_json::Value = serde_json::from_slice(&health().body).expect("json");
        assert_eq!(health, json!({"status": "ok", "version": VERSION}));
        let live: serde_json::Value = serde_json::from_slice(&live().body).expect("json");
        assert_eq!(live, json!({"status": "alive"}));
    }
}
