//! `GET /metrics`: this isolate's deltas flushed first, then every series' total rendered in the Prometheus text
//! format, with this isolate's breaker states.

use crate::adapters::breaker::BreakerState;
use crate::adapters::metrics_totals;
use crate::config::Config;
use crate::error::ApiError;
use crate::http::reply::Reply;
use crate::metrics::{render, series, Family};
use crate::services::Services;

/// Whether `authorization` carries the operator's `METRICS_TOKEN` (always, when none is configured). The token is
/// compared in constant time, so response timing tells an attacker nothing about how much of a guess was right.
pub fn operator_authorized(config: &Config, authorization: Option<&str>) -> Result<(), ApiError> {
    use subtle::ConstantTimeEq;
    let Some(token) = &config.metrics_token else { return Ok(()) };
    match authorization.and_then(|v| v.strip_prefix("Bearer ")) {
        None => Err(ApiError::MissingToken),
        Some(given) if bool::from(given.trim().as_bytes().ct_eq(token.as_bytes())) => Ok(()),
        Some(_) => Err(ApiError::InvalidToken("wrong metrics token".into())),
    }
}

/// `GET /metrics`: Prometheus text format 0.0.4; needs `Authorization: Bearer $METRICS_TOKEN` when that is set.
pub async fn handle(services: &Services, authorization: Option<&str>, now_ms: i64) -> Result<Reply, ApiError> {
    operator_authorized(&services.config, authorization)?;
    if let Err(error) = metrics_totals::flush(services, now_ms).await {
        worker::console_warn!("metrics flush before a scrape failed: {error}");
    }
    let mut values = metrics_totals::totals(services).await?;
    // Breaker states are this isolate's own view (breakers are per isolate by design).
    for (dependency, state) in services.breakers.states() {
        let level = match state {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        };
        values.insert(series::key(Family::CircuitBreakerState.name(), &[("service", dependency.name())]), level);
    }
    Ok(Reply::typed(200, render::CONTENT_TYPE, render::render(&values).into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config with `METRICS_TOKEN` set to `token`, or without one.
    fn config(token: Option<&str>) -> Config {
        let mut vars = crate::config::tests::complete();
        vars.extend(token.map(|token| ("METRICS_TOKEN", token.to_owned())));
        Config::from_lookup(|name| vars.get(name).cloned()).expect("a complete config")
    }

    #[test]
    fn the_operator_token_is_required_only_when_one_is_configured() {
        let cases: [(Option<&str>, Option<&str>, bool); 6] = [
            (None, None, true),
            (None, Some("Bearer anything"), true),
            (Some("s3cret"), None, false),
            (Some("s3cret"), Some("Bearer s3cret"), true),
            (Some("s3cret"), Some("Bearer s3cre"), false),
            (Some("s3cret"), Some("s3cret"), false),
        ];
        for (configured, given, allowed) in cases {
            assert_eq!(operator_authorized(&config(configured), given).is_ok(), allowed, "{configured:?} {given:?}");
        }
    }
}
