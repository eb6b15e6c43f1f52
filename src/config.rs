//! Typed configuration, read once per isolate from wrangler vars and secrets.
//!
//! Names follow the services' own conventions (`DESIGN.md`, "Configuration names"). A missing or malformed
//! required setting is a [`ConfigError`] naming the setting, raised on the first request rather than deep in a
//! handler.

use thiserror::Error;
use url::Url;

use crate::adapters::breaker::BreakerConfig;
use crate::auth::verify::Alg;
use crate::rate_limit::policy::Policies;

/// Why the configuration could not be built.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A required setting is absent or empty.
    #[error("missing required setting {0}")]
    Missing(&'static str),
    /// A setting is present but unusable.
    #[error("setting {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Everything the Worker reads from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Supabase project URL; the database REST API lives at `{supabase_url}/rest/v1`.
    pub supabase_url: Url,
    /// Supabase anon key, sent as `apikey` to PostgREST.
    pub supabase_anon_key: String,
    /// Supabase service-role key, for writes the Worker does on its own authority.
    pub supabase_service_role_key: String,
    /// HS256 secret of Supabase Auth access tokens.
    pub jwt_secret: String,
    /// Where the project's asymmetric signing keys are published.
    pub jwks_url: Url,
    /// Accepted token signature algorithms (`JWT_ALGORITHMS`, default `HS256,ES256,RS256`).
    pub jwt_algorithms: Vec<Alg>,
    /// Required `aud` claim.
    pub jwt_audience: String,
    /// Required `iss` claim, when set.
    pub jwt_issuer: Option<String>,
    /// Upstash Redis REST endpoint.
    pub upstash_url: Url,
    /// Upstash Redis REST bearer token.
    pub upstash_token: String,
    /// Bearer token protecting `/metrics`; open when unset.
    pub metrics_token: Option<String>,
    /// Circuit breakers of the adapters (`BREAKER_FAILURE_THRESHOLD`, default 5; `BREAKER_OPEN_SECS`, default 30).
    pub breaker: BreakerConfig,
    /// Time budget of one database API call (`POSTGREST_TIMEOUT_MS`, default 5000).
    pub postgrest_timeout_ms: u64,
    /// Time budget of one Upstash call (`UPSTASH_TIMEOUT_MS`, default 1000).
    pub upstash_timeout_ms: u64,
    /// Time budget of one call to the avatar bucket (`STORAGE_TIMEOUT_MS`, default 10000: a 2 MiB upload included).
    pub storage_timeout_ms: u64,
    /// How long a request waits for a competition object's answer before it answers 503 `dependency_unavailable`
    /// itself (`OBJECT_TIMEOUT_MS`, default 10000).
    pub object_timeout_ms: u32,
    /// Seconds an avatar image no profile shows waits before the cron trigger removes it from the bucket
    /// (`AVATAR_REMOVAL_AFTER_SECS`, default 600: the request that let go of it removes it itself first).
    pub avatar_removal_after_secs: u64,
    /// Pages of 200 members one invocation rescores after a competition's end moved (`RESCORE_PAGES_PER_CALL`,
    /// default 50: 100 subrequests, well inside the paid plan's 10 000; on the free plan's 50, 3, as the cron trigger
    /// rescores five competitions a run); a longer span goes on in the next `PATCH`, operator call or cron run.
    pub rescore_pages_per_call: u32,
    /// Rate-limit policies: the defaults of `API.md` with `RATE_LIMITS` overrides (`name=quota/window[/burst],…`).
    pub rate_limits: Policies,
    /// Web origins allowed to call the API (`CORS_ORIGINS`, comma-separated exact origins; none by default).
    pub cors: crate::http::cors::CorsPolicy,
    /// Members per relay object (`LIVE_RELAY_MEMBERS`): a competition with `max_participants` gets
    /// `ceil(max / this)` relays for its live sockets; unset or 0 (the default), the competition serves them itself.
    pub live_relay_members: Option<u64>,
}

impl Config {
    /// Builds the configuration from a lookup function (wrangler vars/secrets in the Worker, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let required = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));
        let url = |name: &'static str, value: String| {
            let parsed = Url::parse(&value).map_err(|e| ConfigError::Invalid { name, reason: e.to_string() })?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(ConfigError::Invalid { name, reason: "must be an http(s) URL".into() });
            }
            Ok(parsed)
        };

        let number = |name: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| match get(name) {
            None => Ok(default),
            Some(value) => {
                value.parse::<u64>().ok().filter(|n| range.contains(n)).ok_or_else(|| ConfigError::Invalid {
                    name,
                    reason: format!("must be a whole number in {}..={}", range.start(), range.end()),
                })
            }
        };

        let supabase_url = url("SUPABASE_URL", required("SUPABASE_URL")?)?;
        let jwks_url = match get("SUPABASE_JWKS_URL") {
            Some(value) => url("SUPABASE_JWKS_URL", value)?,
            None => supabase_url
                .join("auth/v1/.well-known/jwks.json")
                .map_err(|e| ConfigError::Invalid { name: "SUPABASE_URL", reason: e.to_string() })?,
        };
        let jwt_secret = required("SUPABASE_JWT_SECRET")?;
        // Supabase secrets are at least 32 characters; a short one is a copy-paste accident, not a key.
        if jwt_secret.len() < 32 {
            return Err(ConfigError::Invalid {
                name: "SUPABASE_JWT_SECRET",
                reason: "must be at least 32 characters".into(),
            });
        }
        let jwt_algorithms = get("JWT_ALGORITHMS")
            .unwrap_or_else(|| "HS256,ES256,RS256".to_owned())
            .split(',')
            .map(|name| {
                Alg::from_name(name.trim()).ok_or_else(|| ConfigError::Invalid {
                    name: "JWT_ALGORITHMS",
                    reason: format!("unknown algorithm {:?} (accepted: HS256, ES256, RS256)", name.trim()),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            jwt_algorithms,
            supabase_anon_key: required("SUPABASE_ANON_KEY")?,
            supabase_service_role_key: required("SUPABASE_SERVICE_ROLE_KEY")?,
            jwt_secret,
            jwks_url,
            jwt_audience: get("JWT_AUDIENCE").unwrap_or_else(|| "authenticated".to_owned()),
            jwt_issuer: get("JWT_ISSUER"),
            upstash_url: url("UPSTASH_REDIS_REST_URL", required("UPSTASH_REDIS_REST_URL")?)?,
            upstash_token: required("UPSTASH_REDIS_REST_TOKEN")?,
            metrics_token: get("METRICS_TOKEN"),
            breaker: BreakerConfig {
                failure_threshold: number("BREAKER_FAILURE_THRESHOLD", 5, 1..=1_000)? as u32,
                open_for_ms: number("BREAKER_OPEN_SECS", 30, 1..=3_600)? * 1_000,
            },
            postgrest_timeout_ms: number("POSTGREST_TIMEOUT_MS", 5_000, 50..=60_000)?,
            upstash_timeout_ms: number("UPSTASH_TIMEOUT_MS", 1_000, 50..=60_000)?,
            storage_timeout_ms: number("STORAGE_TIMEOUT_MS", 10_000, 50..=60_000)?,
            object_timeout_ms: {
                use standings::object_config::{DEFAULT_OBJECT_TIMEOUT_MS, OBJECT_TIMEOUT_MS, OBJECT_TIMEOUT_RANGE_MS};
                let (low, high) = (*OBJECT_TIMEOUT_RANGE_MS.start() as u64, *OBJECT_TIMEOUT_RANGE_MS.end() as u64);
                number(OBJECT_TIMEOUT_MS, DEFAULT_OBJECT_TIMEOUT_MS.into(), low..=high)? as u32
            },
            avatar_removal_after_secs: number("AVATAR_REMOVAL_AFTER_SECS", 600, 0..=7 * 86_400)?,
            rescore_pages_per_call: number("RESCORE_PAGES_PER_CALL", 50, 1..=4_000)? as u32,
            rate_limits: Policies::parse(get("RATE_LIMITS").as_deref())
                .map_err(|reason| ConfigError::Invalid { name: "RATE_LIMITS", reason })?,
            cors: crate::http::cors::CorsPolicy::parse(&get("CORS_ORIGINS").unwrap_or_default())
                .map_err(|reason| ConfigError::Invalid { name: "CORS_ORIGINS", reason })?,
            live_relay_members: match get(standings::relay::LIVE_RELAY_MEMBERS) {
                None => None,
                Some(value) => Some(value.parse::<u64>().map_err(|_| ConfigError::Invalid {
                    name: standings::relay::LIVE_RELAY_MEMBERS,
                    reason: "must be a whole number (members per relay; 0 for none)".into(),
                })?)
                .filter(|per| *per > 0),
            },
            supabase_url,
        })
    }

    /// Base URL of the PostgREST API (`$SUPABASE_URL/rest/v1`).
    pub fn postgrest_url(&self) -> String {
        format!("{}/rest/v1", self.supabase_url.as_str().trim_end_matches('/'))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Every required setting with a valid value (other modules' tests build their `Config` from it).
    pub(crate) fn complete() -> HashMap<&'static str, String> {
        HashMap::from([
            ("SUPABASE_URL", "http://127.0.0.1:54321".to_owned()),
            ("SUPABASE_ANON_KEY", "anon".to_owned()),
            ("SUPABASE_SERVICE_ROLE_KEY", "service".to_owned()),
            ("SUPABASE_JWT_SECRET", "super-secret-jwt-token-with-at-least-32-characters-long".to_owned()),
            ("UPSTASH_REDIS_REST_URL", "http://127.0.0.1:8079".to_owned()),
            ("UPSTASH_REDIS_REST_TOKEN", "token".to_owned()),
        ])
    }

    fn build(vars: &HashMap<&'static str, String>) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn complete_settings_parse_with_defaults() {
        let config = build(&complete()).expect("valid");
        assert_eq!(config.jwt_audience, "authenticated");
        assert_eq!(config.jwt_issuer, None);
        assert_eq!(config.metrics_token, None);
        assert_eq!(config.breaker, BreakerConfig::default());
        assert_eq!(config.postgrest_timeout_ms, 5_000);
        assert_eq!(config.storage_timeout_ms, 10_000);
        assert_eq!(config.avatar_removal_after_secs, 600);
        assert_eq!(config.rescore_pages_per_call, 50);
        assert_eq!(config.jwks_url.as_str(), "http://127.0.0.1:54321/auth/v1/.well-known/jwks.json");
        assert_eq!(config.postgrest_url(), "http://127.0.0.1:54321/rest/v1");
        assert_eq!(config.jwt_algorithms, vec![Alg::Hs256, Alg::Es256, Alg::Rs256]);
        assert_eq!(config.live_relay_members, None);
    }

    #[test]
    fn each_required_setting_is_named_when_missing_or_blank() {
        for name in [
            "SUPABASE_URL",
            "SUPABASE_ANON_KEY",
            "SUPABASE_SERVICE_ROLE_KEY",
            "SUPABASE_JWT_SECRET",
            "UPSTASH_REDIS_REST_URL",
            "UPSTASH_REDIS_REST_TOKEN",
        ] {
            let mut vars = complete();
            vars.remove(name);
            assert_eq!(build(&vars), Err(ConfigError::Missing(name)));
            vars.insert(name, "   ".to_owned());
            assert_eq!(build(&vars), Err(ConfigError::Missing(name)));
        }
    }

    #[test]
    fn malformed_values_are_rejected_with_the_setting_name() {
        let cases = [
            ("SUPABASE_URL", "not a url"),
            ("SUPABASE_URL", "ftp://example.com"),
            ("UPSTASH_REDIS_REST_URL", "127.0.0.1:8079"),
            ("SUPABASE_JWT_SECRET", "short"),
            ("SUPABASE_JWKS_URL", "::"),
            ("BREAKER_FAILURE_THRESHOLD", "0"),
            ("BREAKER_OPEN_SECS", "soon"),
            ("POSTGREST_TIMEOUT_MS", "999999"),
            ("STORAGE_TIMEOUT_MS", "10"),
            ("OBJECT_TIMEOUT_MS", "0"),
            ("OBJECT_TIMEOUT_MS", "60001"),
            ("AVATAR_REMOVAL_AFTER_SECS", "-1"),
            ("AVATAR_REMOVAL_AFTER_SECS", "604801"),
            ("RESCORE_PAGES_PER_CALL", "0"),
            ("RESCORE_PAGES_PER_CALL", "4001"),
            ("RATE_LIMITS", "avatar=10"),
            ("JWT_ALGORITHMS", "HS256,none"),
            ("JWT_ALGORITHMS", "hs256"),
            ("LIVE_RELAY_MEMBERS", "many"),
        ];
        for (name, value) in cases {
            let mut vars = complete();
            vars.insert(name, value.to_owned());
            match build(&vars) {
                Err(ConfigError::Invalid { name: got, .. }) => assert_eq!(got, name),
                other => panic!("{name}={value}: expected Invalid, got {other:?}"),
            }
        }
    }

    #[test]
    fn optional_settings_are_read() {
        let mut vars = complete();
        vars.insert("JWT_AUDIENCE", "app".to_owned());
        vars.insert("JWT_ISSUER", "http://127.0.0.1:54321/auth/v1".to_owned());
        vars.insert("METRICS_TOKEN", "m".to_owned());
        vars.insert("BREAKER_FAILURE_THRESHOLD", "2".to_owned());
        vars.insert("BREAKER_OPEN_SECS", "3".to_owned());
        vars.insert("POSTGREST_TIMEOUT_MS", "800".to_owned());
        vars.insert("STORAGE_TIMEOUT_MS", "2500".to_owned());
        vars.insert("OBJECT_TIMEOUT_MS", "4000".to_owned());
        vars.insert("AVATAR_REMOVAL_AFTER_SECS", "0".to_owned());
        vars.insert("RESCORE_PAGES_PER_CALL", "10".to_owned());
        vars.insert("JWT_ALGORITHMS", " ES256 , RS256".to_owned());
        vars.insert("LIVE_RELAY_MEMBERS", "5000".to_owned());
        let config = build(&vars).expect("valid");
        assert_eq!(config.live_relay_members, Some(5_000));
        vars.insert("LIVE_RELAY_MEMBERS", "0".to_owned());
        assert_eq!(build(&vars).expect("valid").live_relay_members, None, "0 turns relays off");
        assert_eq!(config.jwt_algorithms, vec![Alg::Es256, Alg::Rs256]);
        assert_eq!(config.breaker, BreakerConfig { failure_threshold: 2, open_for_ms: 3_000 });
        assert_eq!(config.postgrest_timeout_ms, 800);
        assert_eq!(config.storage_timeout_ms, 2_500);
        assert_eq!(config.object_timeout_ms, 4_000);
        assert_eq!(config.avatar_removal_after_secs, 0);
        assert_eq!(config.rescore_pages_per_call, 10);
        assert_eq!(config.jwt_audience, "app");
        assert_eq!(config.jwt_issuer.as_deref(), Some("http://127.0.0.1:54321/auth/v1"));
        assert_eq!(config.metrics_token.as_deref(), Some("m"));
    }
}
