//! The route table: authentication and the rate limit in the order the design gives, then the one handler of the
//! matched route.

use worker::{Context, Env};

use crate::http::incoming::Incoming;

use super::guards::{authenticate, limit};
use super::{Arrival, Served};
use crate::auth::UserContext;
use crate::error::ApiError;
use crate::router::{Endpoint, RouteMatch};
#[cfg(feature = "test-routes")]
use crate::routes::test_support;
use crate::routes::{
    self, admin, avatars, competitions, fitness, health, leaderboard, live, live_page, openapi, profile,
};
use crate::runtime::RequestContext;
use crate::services;

/// The rate-limit headers every `/api` response carries.
pub(super) type LimitHeaders = Vec<(String, String)>;

/// Authenticates (where the route needs it), applies the rate limit to `/api` routes (before any handler runs, so
/// a limited request has no side effect), and runs the handler.
pub(super) async fn serve(
    route: &RouteMatch,
    req: &mut Incoming,
    env: &Env,
    worker_ctx: &Context,
    arrival: &Arrival,
) -> (Option<UserContext>, LimitHeaders, Result<Served, ApiError>) {
    let now_ms = arrival.started;
    // Liveness must answer even when configuration is broken; everything else needs it.
    match route.endpoint {
        Endpoint::Health => return (None, Vec::new(), Ok(Served::Reply(health::health()))),
        Endpoint::HealthLive => return (None, Vec::new(), Ok(Served::Reply(health::live()))),
        Endpoint::OpenApi => return (None, Vec::new(), Ok(Served::Reply(openapi::document()))),
        Endpoint::LivePage => {
            let host = req.header("Host");
            return (None, Vec::new(), live_page::page(route, host.as_deref()).map(Served::Reply));
        }
        Endpoint::Asset => return (None, Vec::new(), live_page::asset(route).map(Served::Reply)),
        _ => {}
    }
    let services = match services::of(env) {
        Ok(services) => services,
        Err(error) => return (None, Vec::new(), Err(ApiError::Internal(format!("configuration: {error}")))),
    };
    // Formatted only here: the routes answered above call no dependency, so they never send it.
    let traceparent = arrival.trace.header();
    let authenticated = authenticate(req, arrival, Some(route.endpoint), services, &traceparent).await;
    let mut limit_headers = Vec::new();
    if route.template.starts_with("/api/") {
        // A request with a bad token is limited by its address, like an anonymous one.
        let user = authenticated.as_ref().ok().and_then(|found| found.as_ref().map(|(user, _)| user));
        let decision = limit(req, worker_ctx, services, &traceparent, Some(route.endpoint), user, now_ms).await;
        limit_headers = decision.headers;
        if !decision.allowed {
            let user = user.cloned();
            return (user, limit_headers, Err(ApiError::RateLimited { retry_after_secs: decision.retry_after_secs }));
        }
    }
    let (user, token) = match authenticated {
        Ok(Some((user, token))) => (Some(user), Some(token)),
        Ok(None) => (None, None),
        Err(error) => return (None, limit_headers, Err(error)),
    };
    let ctx = RequestContext {
        env,
        services,
        request_id: &arrival.request_id,
        traceparent,
        now_ms,
        user,
        token,
        own_work: false,
    };
    let outcome = match route.endpoint {
        Endpoint::Health | Endpoint::HealthLive | Endpoint::OpenApi | Endpoint::LivePage | Endpoint::Asset => {
            unreachable!("answered above")
        }
        Endpoint::LeaderboardUpdate => leaderboard::update(&ctx, req).await.map(Served::Reply),
        Endpoint::LeaderboardUser => leaderboard::user_standing(&ctx, route).await.map(Served::Reply),
        Endpoint::LeaderboardPage => leaderboard::page(&ctx, route, req).await.map(Served::Reply),
        Endpoint::LeaderboardPrizes => leaderboard::prizes(&ctx, route).await.map(Served::Reply),
        Endpoint::LeaderboardMe => leaderboard::me(&ctx, route, req).await.map(Served::Reply),
        Endpoint::CompetitionLive => live::subscribe(&ctx, route, req).await.map(Served::Upgrade),
        Endpoint::Metrics => {
            routes::metrics::handle(services, arrival.authorization.as_deref(), now_ms).await.map(Served::Reply)
        }
        Endpoint::HealthReady => Ok(Served::Reply(health::ready(&ctx).await)),
        Endpoint::HealthDetailed => Ok(Served::Reply(health::detailed(&ctx, arrival.authorization.as_deref()).await)),
        Endpoint::AdminStats => admin::stats(&ctx, route).await.map(Served::Reply),
        Endpoint::AdminOutbox => admin::outbox(&ctx, route).await.map(Served::Reply),
        Endpoint::AdminOutboxRetry => admin::retry(&ctx, route).await.map(Served::Reply),
        Endpoint::AdminRepair => admin::repair(&ctx, route, req).await.map(Served::Reply),
        Endpoint::AdminRescore => admin::rescore(&ctx, route).await.map(Served::Reply),
        Endpoint::AdminAudit => admin::audit::list(&ctx, req).await.map(Served::Reply),
        Endpoint::AdminHolds => admin::holds::list(&ctx, req).await.map(Served::Reply),
        Endpoint::AdminHoldDecide => admin::holds::decide(&ctx, route, req).await.map(Served::Reply),
        Endpoint::ProfileGet => profile::get(&ctx).await.map(Served::Reply),
        Endpoint::ProfilePatch => profile::patch(&ctx, req).await.map(Served::Reply),
        Endpoint::ProfileDelete => profile::deletion::delete(&ctx).await.map(Served::Reply),
        Endpoint::MyCompetitions => profile::competitions::list(&ctx).await.map(Served::Reply),
        Endpoint::CompetitionCreate => competitions::create(&ctx, req).await.map(Served::Reply),
        Endpoint::CompetitionList => competitions::list(&ctx).await.map(Served::Reply),
        Endpoint::CompetitionGet => competitions::get(&ctx, route).await.map(Served::Reply),
        Endpoint::CompetitionJoin => competitions::join(&ctx, route).await.map(Served::Reply),
        Endpoint::CompetitionDisqualify => competitions::disqualify(&ctx, route, req).await.map(Served::Reply),
        Endpoint::CompetitionPatch => competitions::patch(&ctx, route, req).await.map(Served::Reply),
        Endpoint::CompetitionCancel => competitions::cancel(&ctx, route).await.map(Served::Reply),
        Endpoint::FitnessSync => fitness::sync(&ctx, req).await.map(Served::Reply),
        Endpoint::AvatarUpload => avatars::upload(&ctx, req).await.map(Served::Reply),
        Endpoint::AvatarGet => avatars::serve(&ctx, route, req).await.map(Served::Streamed),
        #[cfg(feature = "test-routes")]
        Endpoint::TestBreakers => test_support::breakers(&ctx).map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestStorage => test_support::storage(&ctx, req).map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestStorageKeys => test_support::storage_keys(&ctx, req).await.map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestPanic => test_support::panic(&ctx, req).await.map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestSeed => test_support::seed(&ctx, route, req).await.map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestFinalize => test_support::finalize(&ctx, route, req).await.map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestAlarm => test_support::alarm(&ctx, route).await.map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestAbort => test_support::abort(&ctx, route).await.map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestStats => test_support::stats(&ctx, route).await.map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestCorrupt => test_support::corrupt(&ctx, route, req).await.map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestStall => test_support::stall(&ctx, route, req).await.map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestRescoreBudget => test_support::rescore_budget(&ctx, route, req).map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestRelay => test_support::relay(&ctx, route, req).await.map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestLateAnnouncement => test_support::late_announcement(&ctx, route, req).await.map(Served::Reply),
        // Without the feature the router has no test routes, so these cannot be matched.
        #[cfg(not(feature = "test-routes"))]
        Endpoint::TestBreakers
        | Endpoint::TestStorage
        | Endpoint::TestStorageKeys
        | Endpoint::TestPanic
        | Endpoint::TestSeed
        | Endpoint::TestFinalize
        | Endpoint::TestAlarm
        | Endpoint::TestAbort
        | Endpoint::TestCorrupt
        | Endpoint::TestStall
        | Endpoint::TestRescoreBudget
        | Endpoint::TestRelay
        | Endpoint::TestLateAnnouncement
        | Endpoint::TestStats => Err(ApiError::NotFound(format!("no route for {}", route.template))),
    };
    (ctx.user, limit_headers, outcome)
}
