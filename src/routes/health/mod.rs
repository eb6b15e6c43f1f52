//! Health routes. `/health` and `/health/live` touch no dependency; `/health/ready` and `/health/detailed` check
//! every one in parallel (through its adapter and breaker, each within a time limit). A result is reused for 5 s
//! by every isolate through Redis, and by this isolate alone when Redis is down, so probes from many locations
//! cannot load the dependencies.

pub mod report;

use std::cell::RefCell;

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};

use crate::adapters::breaker::BreakerState;
use crate::adapters::guard::clock_ms;
use crate::adapters::AdapterError;
use crate::http::reply::Reply;
use crate::isolate_cache::TtlCache;
use crate::runtime::RequestContext;
use crate::time;

use report::{Check, Component};

/// Version reported by `/health`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// How long a set of checks is reused.
pub const CHECK_TTL_MS: i64 = 5_000;
/// Redis key of the shared result.
pub const CACHE_KEY: &str = "health:v1";
/// Longest a check of a component without an adapter budget (Durable Objects, R2) may take.
pub const CHECK_BUDGET_MS: u64 = 2_000;
/// Budget of the shared-result lookup: a slow Redis must not slow the probe.
pub const CACHE_BUDGET_MS: u64 = 50;

/// One set of checks, as cached.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Checked {
    checked_at: String,
    /// When the checks ran (epoch ms; 0 in a result stored before this field): the result is reused for 5 s from then,
    /// not from when another isolate read it.
    #[serde(default)]
    checked_ms: i64,
    checks: Vec<Check>,
}

thread_local! {
    static CHECKS: RefCell<TtlCache<(), Checked>> = RefCell::new(TtlCache::new(CHECK_TTL_MS, 1));
}

/// Reply of `GET /health` and `GET /health/live`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` (`/health`) or `alive` (`/health/live`).
    pub status: &'static str,
    /// The deployed version (`/health` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'static str>,
}

/// `GET /health`
pub fn health() -> Reply {
    Reply::json(200, &Health { status: "ok", version: Some(VERSION) })
}

/// `GET /health/live`
pub fn live() -> Reply {
    Reply::json(200, &Health { status: "alive", version: None })
}

/// `GET /health/ready`
pub async fn ready(ctx: &RequestContext<'_>) -> Reply {
    let (_, checks) = checks(ctx).await;
    let (status, body) = report::ready(&checks);
    Reply::json(status, &body)
}

/// `GET /health/detailed` (with the operator's `METRICS_TOKEN`, the components' error text too)
pub async fn detailed(ctx: &RequestContext<'_>, authorization: Option<&str>) -> Reply {
    let (checked_at, checks) = checks(ctx).await;
    let breakers: Vec<(&str, BreakerState)> =
        ctx.services.breakers.states().into_iter().map(|(d, s)| (d.name(), s)).collect();
    // Without a configured token there is no operator to tell apart, so nobody sees the text.
    let operator = ctx.services.config.metrics_token.is_some()
        && crate::routes::metrics::operator_authorized(&ctx.services.config, authorization).is_ok();
    let (status, body) = report::detailed(&checks, &breakers, &checked_at, operator);
    Reply::json(status, &body)
}

async fn checks(ctx: &RequestContext<'_>) -> (String, Vec<Check>) {
    if let Some(cached) = CHECKS.with(|c| c.borrow().get(&(), ctx.now_ms)) {
        return (cached.checked_at, cached.checks);
    }
    let redis = ctx.redis();
    let shared = || async { redis.cached_within(CACHE_KEY, CACHE_BUDGET_MS).await.ok().flatten().and_then(parse) };
    if let Some(checked) = shared().await {
        return adopt(checked, ctx.now_ms);
    }
    let checks = join_all(Component::ALL.map(|component| async move {
        let started = clock_ms();
        let outcome = check(ctx, component).await;
        let latency_ms = clock_ms().saturating_sub(started) as f64;
        Check { component, up: outcome.is_ok(), latency_ms, error: outcome.err() }
    }))
    .await;
    let fresh = Checked { checked_at: time::format_ms(ctx.now_ms), checked_ms: ctx.now_ms, checks };
    // Several requests (of this isolate or others) may check at once: the first result stored stands, so every caller
    // reports that one check until it expires. Not sharing it only costs other isolates a check of their own.
    let stored_first = match serde_json::to_string(&fresh) {
        Ok(text) => redis.keep_first_briefly(CACHE_KEY, &text, CHECK_TTL_MS as u64, CACHE_BUDGET_MS).await,
        Err(_) => Ok(true),
    };
    let first = match stored_first {
        Ok(false) => shared().await,
        _ => None,
    };
    adopt(first.unwrap_or(fresh), ctx.now_ms)
}

/// A shared result as stored.
fn parse(text: String) -> Option<Checked> {
    serde_json::from_slice(text.as_bytes()).ok()
}

/// Keeps `checked` as this isolate's result unless a concurrent request kept one first, and reports the one kept.
fn adopt(checked: Checked, now_ms: i64) -> (String, Vec<Check>) {
    let kept = CHECKS.with(|c| {
        let mut cache = c.borrow_mut();
        match cache.get(&(), now_ms) {
            Some(first) => first,
            None => {
                let at = if checked.checked_ms > 0 { checked.checked_ms.min(now_ms) } else { now_ms };
                cache.put((), checked.clone(), at);
                checked
            }
        }
    });
    (kept.checked_at, kept.checks)
}

/// One component's check; the error text is an adapter's own summary, never an upstream body.
async fn check(ctx: &RequestContext<'_>, component: Component) -> Result<(), String> {
    let describe = |e: AdapterError| e.to_string();
    match component {
        Component::Postgrest => ctx.database().ping().await.map_err(describe),
        Component::Redis => ctx.redis().ping().await.map_err(describe),
        Component::DurableObjects => objects_answer(ctx).await,
        Component::Storage => match ctx.avatars() {
            Ok(store) => store.ping(CHECK_BUDGET_MS).await,
            Err(e) => Err(e.to_string()),
        },
    }
}

/// Competition object the check asks: the nil id, which no competition has (Postgres makes random ones), so the
/// check never wakes a real competition's object.
const CHECK_OBJECT: uuid::Uuid = uuid::Uuid::nil();

/// Whether a Competition object answers: its statistics, read from its own storage, within the budget. Binding the
/// namespace alone would report objects up while every call to them fails.
async fn objects_answer(ctx: &RequestContext<'_>) -> Result<(), String> {
    let client = ctx.competition(&CHECK_OBJECT).map_err(|e| e.to_string())?;
    let asked = client.call::<standings::protocol::ObjectStats>(&standings::requests::ObjectRequest::Stats);
    match crate::adapters::guard::deadline(CHECK_BUDGET_MS, asked).await {
        Some(answer) => answer.map(drop).map_err(|e| e.to_string()),
        None => Err(format!("no competition object answered within {CHECK_BUDGET_MS} ms")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_first_check_kept_stands_until_it_expires() {
        let checked = |at: &str, ms: i64| Checked { checked_at: at.to_owned(), checked_ms: ms, checks: Vec::new() };
        assert_eq!(adopt(checked("first", 1_000), 1_000).0, "first");
        assert_eq!(adopt(checked("second", 1_001), 1_002).0, "first", "a concurrent check finishing later");
        let later = 1_000 + CHECK_TTL_MS + 1;
        assert_eq!(adopt(checked("third", later), later).0, "third", "expired: the new one is kept");
    }

    #[test]
    fn a_result_read_from_another_isolate_expires_five_seconds_after_its_check() {
        let checked = |at: &str, ms: i64| Checked { checked_at: at.to_owned(), checked_ms: ms, checks: Vec::new() };
        // Read 4 s after another isolate checked: reused here for the 1 s it has left, not for 5 s more.
        assert_eq!(adopt(checked("shared", 10_000), 14_000).0, "shared");
        assert_eq!(adopt(checked("own", 15_001), 15_001).0, "own");
        // A result stored before `checked_ms` existed counts from when it was read.
        assert_eq!(adopt(checked("old", 0), 30_000).0, "old");
        assert_eq!(adopt(checked("next", 34_000), 34_000).0, "old");
    }

    #[test]
    fn bodies_match_the_contract() {
        let health: serde_json::Value = serde_json::from_slice(&health().body).expect("json");
        assert_eq!(health, json!({"status": "ok", "version": VERSION}));
        let live: serde_json::Value = serde_json::from_slice(&live().body).expect("json");
        assert_eq!(live, json!({"status": "alive"}));
    }
}
