//! The Worker's fetch entry: the request pipeline in one place, in the order of the design.
//!
//! request id and trace context → route → config → auth → rate limit → handler → error envelope → security
//! headers → metrics and analytics → access log.

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use worker::{event, web_sys, Context, Env, Request, Response};

use crate::adapters::{analytics, metrics_totals};
use crate::auth::verify::{self, KeyNeed, VerifyingKey};
use crate::auth::{self, claims::ClaimRules, key_source, AuthError, UserContext};
use crate::error::ApiError;
use crate::http::access_log::{level_for, AccessLog};
use crate::http::reply::Reply;
use crate::http::request_id;
use crate::http::security_headers::SECURITY_HEADERS;
use crate::http::trace::TraceContext;
use crate::metrics;
use crate::platform;
use crate::rate_limit;
use crate::ready_now::{self, FirstPoll};
use crate::router::{self, Endpoint, RouteMatch};
#[cfg(feature = "test-routes")]
use crate::routes::test_support;
use crate::routes::{
    self, admin, avatars, competitions, fitness, health, leaderboard, live, live_page, openapi, profile,
};
use crate::runtime::{self, RequestContext};
use crate::services::{self, Services};

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
    // Competition objects in this isolate deliver their outbox through the Worker's database adapter, report their
    // sockets and frames into this isolate's metrics, and check live sockets' tokens with the Worker's verifier.
    durable_objects::worker_link::install(durable_objects::worker_link::WorkerLink {
        record_sink: crate::adapters::score_history::factory,
        verify: verify_for_object,
        add_metric: metrics::add_for_object,
        flush_if_due: object_flush_if_due,
    });
}

/// The metrics flush a Competition object hands to its own `wait_until`, when one is due in this isolate.
fn object_flush_if_due(env: &Env) -> Option<durable_objects::telemetry::Flush> {
    metrics_totals::flush_if_due(services::of(env).ok()?, platform::now_ms())
}

/// What the pipeline knows about a request from its arrival, for the handler context, the log and the metrics.
struct Arrival {
    request_id: String,
    trace: TraceContext,
    method: String,
    started: i64,
    colo: Option<String>,
    request_bytes: u64,
}

/// The runtime's `fetch` handler. Not workers-rs's `#[event(fetch)]`, which always answers with a promise: the
/// pipeline is polled here first, so a request that needs no wait gets its response back from this call
/// (`ready_now`); only one that waits becomes a promise. `src/js/entry.mjs` takes either.
#[wasm_bindgen(js_name = fetch)]
pub fn fetch_handler(req: web_sys::Request, env: Env, ctx: worker::worker_sys::Context) -> JsValue {
    let answer = async move {
        match fetch(Request::from(req), env, Context::new(ctx)).await {
            Ok(response) => web_sys::Response::from(response),
            Err(error) => {
                // Only a header the runtime refuses gets here; the reply is what `#[event(fetch)]` gave.
                worker::console_error!("{error}");
                let fallback = Response::error("INTERNAL SERVER ERROR", 500).map(web_sys::Response::from);
                fallback.unwrap_or_else(|_| web_sys::Response::error())
            }
        }
    };
    match ready_now::poll_once(answer) {
        FirstPoll::Ready(response) => response.into(),
        FirstPoll::Pending(rest) => {
            worker::wasm_bindgen_futures::future_to_promise(async move { Ok(rest.await.into()) }).into()
        }
    }
}

async fn fetch(mut req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let arrival = Arrival {
        request_id: request_id::accept_or_generate(header("X-Request-Id").as_deref(), platform::random_bytes()),
        trace: TraceContext::for_request(header("traceparent").as_deref(), platform::random()),
        method: req.method().to_string(),
        started: platform::now_ms(),
        colo: runtime::colo(&req),
        request_bytes: header("Content-Length").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0),
    };

    let origin = header("Origin");
    // The isolate's configured policy, borrowed (no per-request copy); none outside /api or without configuration.
    static NO_CORS: crate::http::cors::CorsPolicy = crate::http::cors::CorsPolicy::NONE;
    let cors = match services::of(&env) {
        Ok(services) if req.path().starts_with("/api/") => &services.config.cors,
        _ => &NO_CORS,
    };
    if arrival.method == "OPTIONS" && cors.enabled() && header("Access-Control-Request-Method").is_some() {
        // A browser's preflight: answered before authentication and rate limits (it carries no token).
        let mut reply = Reply { status: 204, body: Vec::new(), headers: Vec::new() };
        reply.headers.extend(cors.preflight_headers(origin.as_deref().unwrap_or_default()));
        observe(&env, &ctx, &arrival, "preflight", reply.status, 0, None);
        log_request(&arrival, "preflight", reply.status, None, None);
        return into_response(reply, &arrival.request_id);
    }
    let if_none_match = header("If-None-Match");
    let mut conditional = false;
    let (template, user, limit_headers, served) = match router::resolve(&arrival.method, &req.path()) {
        Ok(route) => {
            let template = route.template;
            conditional = matches!(
                route.endpoint,
                Endpoint::LeaderboardPage | Endpoint::CompetitionGet | Endpoint::CompetitionList
            );
            let (user, limit_headers, served) = serve(&route, &mut req, &env, &arrival).await;
            (template, user, limit_headers, served)
        }
        Err((error, template)) => {
            // Every /api response carries the rate-limit headers, 404s and 405s included, and spends a token.
            let (user, limit_headers, limited) = if req.path().starts_with("/api/") {
                limit_unrouted(&req, &env, &arrival).await
            } else {
                (None, Vec::new(), None)
            };
            (template, user, limit_headers, Err(limited.unwrap_or(error)))
        }
    };

    let (reply, error) = match served {
        Ok(Served::Upgrade(response)) => {
            observe(&env, &ctx, &arrival, template, response.status_code(), 0, None);
            log_request(&arrival, template, response.status_code(), user, None);
            return Ok(response);
        }
        Ok(Served::Reply(reply)) => (reply, None),
        Err(error) => {
            let mut reply = Reply::json(error.status(), &error.envelope(&arrival.request_id));
            reply.headers.extend(error.headers().into_iter().map(|(k, v)| (k.to_owned(), v)));
            (reply, Some(error))
        }
    };

    let mut reply = reply;
    reply.headers.extend(limit_headers);
    reply.headers.extend(cors.response_headers(origin.as_deref()));
    if conditional && reply.status == 200 {
        // Reads that repeat often answer 304 without a body when the client already holds this version.
        let tag = crate::http::etag::of(&reply.body);
        if if_none_match.as_deref().is_some_and(|value| crate::http::etag::matches(value, &tag)) {
            reply.status = 304;
            reply.body.clear();
            reply.headers.retain(|(name, _)| !name.eq_ignore_ascii_case("Content-Type"));
        }
        reply.headers.push(("ETag".to_owned(), tag));
    }
    let code = error.as_ref().map(ApiError::code);
    observe(&env, &ctx, &arrival, template, reply.status, reply.body.len() as u64, code);
    log_request(&arrival, template, reply.status, user, error.as_ref());
    into_response(reply, &arrival.request_id)
}

/// Metrics and the analytics data point of one request; the metrics flush (when due) runs after the response, in
/// `wait_until`, so the request never waits on it.
fn observe(
    env: &Env,
    ctx: &Context,
    arrival: &Arrival,
    route: &str,
    status: u16,
    response_bytes: u64,
    error_code: Option<&str>,
) {
    let now = platform::now_ms();
    let seconds = (now - arrival.started) as f64 / 1000.0;
    let method = arrival.method.as_str();
    metrics::record_request(method, route, status, seconds, arrival.request_bytes, response_bytes);
    analytics::write(
        env,
        &analytics::RequestPoint {
            route,
            method,
            status,
            colo: arrival.colo.as_deref().unwrap_or(""),
            error_code: error_code.unwrap_or(""),
            duration_ms: seconds * 1000.0,
            response_bytes: response_bytes as f64,
        },
    );
    let flush = services::of(env).ok().and_then(|services| metrics_totals::flush_if_due(services, now));
    if let Some(flush) = flush {
        ctx.wait_until(flush);
    }
}

/// What a handler produced: a reply the pipeline finishes, or a runtime response passed through untouched (the
/// 101 of a WebSocket upgrade, which carries the socket).
enum Served {
    Reply(Reply),
    Upgrade(Response),
}

fn log_request(arrival: &Arrival, route: &str, status: u16, user: Option<UserContext>, error: Option<&ApiError>) {
    let log = AccessLog {
        ts: String::from(js_sys::Date::new_0().to_iso_string()),
        level: level_for(status),
        request_id: &arrival.request_id,
        trace_id: arrival.trace.trace_id_hex(),
        method: &arrival.method,
        route,
        status,
        duration_ms: (platform::now_ms() - arrival.started) as f64,
        user_id: user.map(|u| u.user_id.to_string()),
        colo: arrival.colo.clone(),
        error: error.map(ApiError::code),
        detail: match error {
            Some(ApiError::Internal(detail)) => Some(detail.clone()),
            _ => None,
        },
    };
    worker::console_log!("{}", log.to_line());
}

/// The rate-limit headers every `/api` response carries.
type LimitHeaders = Vec<(String, String)>;

/// Authenticates (where the route needs it), applies the rate limit to `/api` routes (before any handler runs, so
/// a limited request has no side effect), and runs the handler.
async fn serve(
    route: &RouteMatch,
    req: &mut Request,
    env: &Env,
    arrival: &Arrival,
) -> (Option<UserContext>, LimitHeaders, Result<Served, ApiError>) {
    let now_ms = arrival.started;
    // Liveness must answer even when configuration is broken; everything else needs it.
    match route.endpoint {
        Endpoint::Health => return (None, Vec::new(), Ok(Served::Reply(health::health()))),
        Endpoint::HealthLive => return (None, Vec::new(), Ok(Served::Reply(health::live()))),
        Endpoint::OpenApi => return (None, Vec::new(), Ok(Served::Reply(openapi::document()))),
        Endpoint::LivePage => {
            let host = runtime::header(req, "Host");
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
    let authenticated = authenticate(req, Some(route.endpoint), services, &traceparent, now_ms).await;
    let mut limit_headers = Vec::new();
    if route.template.starts_with("/api/") {
        // A request with a bad token is limited by its address, like an anonymous one.
        let user = authenticated.as_ref().ok().and_then(|found| found.as_ref().map(|(user, _)| user));
        let decision = limit(req, services, &traceparent, Some(route.endpoint), user, now_ms).await;
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
    let ctx = RequestContext { env, services, request_id: &arrival.request_id, traceparent, now_ms, user, token };
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
            let authorization = runtime::header(req, "Authorization");
            routes::metrics::handle(services, authorization.as_deref(), now_ms).await.map(Served::Reply)
        }
        Endpoint::HealthReady => Ok(Served::Reply(health::ready(&ctx).await)),
        Endpoint::HealthDetailed => {
            let authorization = runtime::header(req, "Authorization");
            Ok(Served::Reply(health::detailed(&ctx, authorization.as_deref()).await))
        }
        Endpoint::AdminStats => admin::stats(&ctx, route).await.map(Served::Reply),
        Endpoint::AdminOutbox => admin::outbox(&ctx, route).await.map(Served::Reply),
        Endpoint::AdminOutboxRetry => admin::retry(&ctx, route).await.map(Served::Reply),
        Endpoint::AdminRepair => admin::repair(&ctx, route, req).await.map(Served::Reply),
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
        Endpoint::AvatarGet => avatars::serve(&ctx, route, req).await.map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestBreakers => test_support::breakers(&ctx).map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestPanic => test_support::panic(&ctx).map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestSeed => test_support::seed(&ctx, route, req).await.map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestFinalize => test_support::finalize(&ctx, route, req).await.map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestAlarm => test_support::alarm(&ctx, route).await.map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestStats => test_support::stats(&ctx, route).await.map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestCorrupt => test_support::corrupt(&ctx, route, req).await.map(Served::Reply),
        #[cfg(feature = "test-routes")]
        Endpoint::TestRelay => test_support::relay(&ctx, route).await.map(Served::Reply),
        // Without the feature the router has no test routes, so these cannot be matched.
        #[cfg(not(feature = "test-routes"))]
        Endpoint::TestBreakers
        | Endpoint::TestPanic
        | Endpoint::TestSeed
        | Endpoint::TestFinalize
        | Endpoint::TestAlarm
        | Endpoint::TestCorrupt
        | Endpoint::TestRelay
        | Endpoint::TestStats => Err(ApiError::NotFound(format!("no route for {}", route.template))),
    };
    (ctx.user, limit_headers, outcome)
}

/// Takes one token of the caller's rate-limit bucket for this request.
async fn limit(
    req: &Request,
    services: &Services,
    traceparent: &str,
    endpoint: Option<Endpoint>,
    user: Option<&UserContext>,
    now_ms: i64,
) -> rate_limit::Decision {
    let ip = runtime::header(req, "CF-Connecting-IP").unwrap_or_else(|| "unknown".to_owned());
    let scope = rate_limit::scope_for(&services.config.rate_limits, endpoint, user, &ip);
    rate_limit::check(services, traceparent, &scope, now_ms).await
}

/// The rate limit of an `/api` request no route matched: the caller's bucket (or their address's, without a valid
/// token) is charged and its headers returned, so probing unknown paths is limited like any other request; the
/// error replaces the 404/405 only when the bucket is empty.
async fn limit_unrouted(
    req: &Request,
    env: &Env,
    arrival: &Arrival,
) -> (Option<UserContext>, LimitHeaders, Option<ApiError>) {
    let Ok(services) = services::of(env) else { return (None, Vec::new(), None) };
    let traceparent = arrival.trace.header();
    let user = authenticate(req, None, services, &traceparent, arrival.started).await.ok().flatten().map(|(u, _)| u);
    let decision = limit(req, services, &traceparent, None, user.as_ref(), arrival.started).await;
    let limited = (!decision.allowed).then_some(ApiError::RateLimited { retry_after_secs: decision.retry_after_secs });
    (user, decision.headers, limited)
}

/// Verifies the bearer token when one is presented (returning the caller and the token, which database calls
/// forward so row-level security applies); routes decide whether an anonymous caller is acceptable. Browsers cannot
/// set `Authorization` on a WebSocket, so the live route also reads `Sec-WebSocket-Protocol`.
async fn authenticate(
    req: &Request,
    endpoint: Option<Endpoint>,
    services: &Services,
    traceparent: &str,
    now_ms: i64,
) -> Result<Option<(UserContext, String)>, ApiError> {
    // `/metrics` and `/health/detailed` carry the operator's credential (the metrics token) in `Authorization`,
    // not a user's JWT.
    if matches!(endpoint, Some(Endpoint::Metrics | Endpoint::HealthDetailed)) {
        return Ok(None);
    }
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let authorization = header("Authorization");
    let protocol = header("Sec-WebSocket-Protocol");
    let token = match auth::token::from_authorization(authorization.as_deref())? {
        Some(token) => Some(token),
        None if endpoint == Some(Endpoint::CompetitionLive) => {
            auth::token::from_websocket_protocol(protocol.as_deref())?
        }
        None => None,
    };
    let Some(token) = token else {
        return Ok(None);
    };
    let user = verify_token(services, token, traceparent, now_ms).await?;
    Ok(Some((user, token.to_owned())))
}

/// Verifies a bearer token with the configured secret or key set (the HTTP routes, and the `auth` frame of a live
/// socket through the hook the Competition objects use).
pub(crate) async fn verify_token(
    services: &Services,
    token: &str,
    traceparent: &str,
    now_ms: i64,
) -> Result<UserContext, ApiError> {
    let config = &services.config;
    if let Some(user) = auth::verified::recall(token, now_ms) {
        return Ok(user);
    }
    let rules = ClaimRules { audience: &config.jwt_audience, issuer: config.jwt_issuer.as_deref() };
    let accepted = &config.jwt_algorithms;
    let now = now_ms / 1000;
    let user = match verify::key_need(token, accepted)? {
        KeyNeed::Secret => {
            verify::verify(token, VerifyingKey::Secret(config.jwt_secret.as_bytes()), accepted, &rules, now).await?
        }
        KeyNeed::KeyId(kid) => {
            let mut keys = key_source::current(services, traceparent, now_ms).await?;
            if keys.get(&kid).is_none() {
                // Perhaps the keys were rotated since they were cached.
                keys = key_source::refreshed(services, traceparent, now_ms).await?.unwrap_or(keys);
            }
            let key = keys.get(&kid).ok_or_else(|| AuthError::Invalid("unknown signing key".into()))?;
            verify::verify(token, VerifyingKey::Public(key), accepted, &rules, now).await?
        }
    };
    auth::verified::remember(token, &user, now_ms);
    Ok(user)
}

/// The token check of a live socket's `auth` frame, for the Competition objects (see `durable_objects::token_check`).
fn verify_for_object(env: &Env, token: String) -> durable_objects::token_check::Verification<'_> {
    Box::pin(async move {
        let services = services::of(env).map_err(|e| format!("configuration: {e}"))?;
        let trace = TraceContext::for_request(None, platform::random()).header();
        let user = verify_token(services, &token, &trace, platform::now_ms()).await.map_err(|e| e.code().to_owned())?;
        Ok((user.user_id, user.expires_at))
    })
}

/// Converts a reply into the runtime's response, adding the request id and security headers.
fn into_response(reply: Reply, request_id: &str) -> worker::Result<Response> {
    let response = Response::from_bytes(reply.body)?.with_status(reply.status);
    let headers = response.headers();
    for (name, value) in &reply.headers {
        headers.set(name, value)?;
    }
    for (name, value) in SECURITY_HEADERS {
        // A reply with its own policy (the live page) keeps it; everything else gets the API's.
        if !reply.headers.iter().any(|(set, _)| set.eq_ignore_ascii_case(name)) {
            headers.set(name, value)?;
        }
    }
    headers.set("X-Request-Id", request_id)?;
    Ok(response)
}
