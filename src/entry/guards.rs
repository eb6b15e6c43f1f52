//! Who is calling and whether they may: the bearer token's check (HTTP routes and live sockets' `auth` frames) and
//! the rate limit's token.

use worker::{Context, Env};

use crate::http::incoming::Incoming;

use super::{Arrival, LimitHeaders};
use crate::auth::verify::{self, KeyNeed, VerifyingKey};
use crate::auth::{self, claims::ClaimRules, key_source, AuthError, UserContext};
use crate::error::ApiError;
use crate::http::trace::TraceContext;
use crate::platform;
use crate::rate_limit;
use crate::router::Endpoint;
use crate::services::{self, Services};

/// Takes one token of the caller's rate-limit bucket for this request; a lease renewal it starts runs in the
/// request's `wait_until`.
pub(super) async fn limit(
    req: &Incoming,
    ctx: &Context,
    services: &'static Services,
    traceparent: &str,
    endpoint: Option<Endpoint>,
    user: Option<&UserContext>,
    now_ms: i64,
) -> rate_limit::Decision {
    let ip = req.header("CF-Connecting-IP").unwrap_or_else(|| "unknown".to_owned());
    let scope = rate_limit::scope_for(&services.config.rate_limits, endpoint, user, &ip);
    rate_limit::check(services, traceparent, &scope, now_ms, |renewal| ctx.wait_until(renewal)).await
}

/// The rate limit of an `/api` request no route matched: the caller's bucket (or their address's, without a valid
/// token) is charged and its headers returned, so probing unknown paths is limited like any other request; the
/// error replaces the 404/405 only when the bucket is empty.
pub(super) async fn limit_unrouted(
    req: &Incoming,
    ctx: &Context,
    env: &Env,
    arrival: &Arrival,
) -> (Option<UserContext>, LimitHeaders, Option<ApiError>) {
    let Ok(services) = services::of(env) else { return (None, Vec::new(), None) };
    let traceparent = arrival.trace.header();
    let user = authenticate(req, arrival, None, services, &traceparent).await.ok().flatten().map(|(u, _)| u);
    let decision = limit(req, ctx, services, &traceparent, None, user.as_ref(), arrival.started).await;
    let limited = (!decision.allowed).then_some(ApiError::RateLimited { retry_after_secs: decision.retry_after_secs });
    (user, decision.headers, limited)
}

/// Verifies the bearer token when one is presented (returning the caller and the token, which database calls
/// forward so row-level security applies); routes decide whether an anonymous caller is acceptable. Browsers cannot
/// set `Authorization` on a WebSocket, so the live route also reads `Sec-WebSocket-Protocol`.
pub(super) async fn authenticate(
    req: &Incoming,
    arrival: &Arrival,
    endpoint: Option<Endpoint>,
    services: &Services,
    traceparent: &str,
) -> Result<Option<(UserContext, String)>, ApiError> {
    // `/metrics` and `/health/detailed` carry the operator's credential (the metrics token) in `Authorization`,
    // not a user's JWT.
    if matches!(endpoint, Some(Endpoint::Metrics | Endpoint::HealthDetailed)) {
        return Ok(None);
    }
    // Read only where it can carry the token: every header read crosses into JavaScript.
    let protocol;
    let token = match auth::token::from_authorization(arrival.authorization.as_deref())? {
        Some(token) => Some(token),
        None if endpoint == Some(Endpoint::CompetitionLive) => {
            protocol = req.header("Sec-WebSocket-Protocol");
            auth::token::from_websocket_protocol(protocol.as_deref())?
        }
        None => None,
    };
    let Some(token) = token else {
        return Ok(None);
    };
    let user = verify_token(services, token, traceparent, arrival.started).await?;
    Ok(Some((user, token.to_owned())))
}

/// Verifies a bearer token with the configured secret or key set (the HTTP routes, and the `auth` frame of a live
/// socket through the hook the Competition objects use).
pub(super) async fn verify_token(
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
pub(super) fn verify_for_object(env: &Env, token: String) -> durable_objects::token_check::Verification<'_> {
    use durable_objects::token_check::Refusal;
    Box::pin(async move {
        let services = services::of(env).map_err(|e| Refusal::Invalid(format!("configuration: {e}")))?;
        let trace = TraceContext::for_request(None, platform::random()).header();
        let user = verify_token(services, &token, &trace, platform::now_ms()).await.map_err(|e| match e {
            ApiError::TokenExpired => Refusal::Expired,
            other => Refusal::Invalid(other.code().to_owned()),
        })?;
        Ok((user.user_id, user.expires_at))
    })
}
