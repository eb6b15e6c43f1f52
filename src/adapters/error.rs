//! The adapter layer's errors, converted once into API errors at the edge of the HTTP layer.

use thiserror::Error;

use crate::error::ApiError;

/// An external service the Worker depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dependency {
    Postgrest,
    Redis,
    /// The identity provider's signing keys (the JWKS document).
    Jwks,
    /// The avatar bucket (R2).
    Storage,
}

impl Dependency {
    /// Every dependency with a breaker, in the order health output lists them.
    pub const ALL: [Dependency; 4] = [Dependency::Postgrest, Dependency::Redis, Dependency::Jwks, Dependency::Storage];

    /// The name used in health output, metrics and error messages.
    pub fn name(self) -> &'static str {
        match self {
            Dependency::Postgrest => "postgrest",
            Dependency::Redis => "redis",
            Dependency::Jwks => "jwks",
            Dependency::Storage => "storage",
        }
    }
}

impl std::fmt::Display for Dependency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a call to a dependency failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AdapterError {
    /// The breaker is open: the call was not attempted.
    #[error("{0} circuit is open")]
    CircuitOpen(Dependency),
    /// No answer within the call's time budget.
    #[error("{0} did not answer within {1} ms")]
    Timeout(Dependency, u64),
    /// The connection failed.
    #[error("{0} unreachable: {1}")]
    Unreachable(Dependency, String),
    /// The service answered with an error status; `code` is its own error code (a SQLSTATE for PostgREST).
    #[error("{dependency} answered {status} ({code}): {message}")]
    Upstream { dependency: Dependency, status: u16, code: String, message: String },
    /// The service's reply could not be decoded.
    #[error("{0} sent an unreadable reply: {1}")]
    Decode(Dependency, String),
}

impl AdapterError {
    /// Whether this failure says the dependency is unhealthy (and so counts against its breaker). A 4xx is the
    /// service working correctly and refusing a request; it does not.
    pub fn counts_against_breaker(&self) -> bool {
        match self {
            AdapterError::Timeout(..) | AdapterError::Unreachable(..) | AdapterError::Decode(..) => true,
            AdapterError::Upstream { status, .. } => *status >= 500,
            AdapterError::CircuitOpen(_) => false,
        }
    }

    /// The upstream error code, when the service answered with one.
    pub fn upstream_code(&self) -> Option<&str> {
        match self {
            AdapterError::Upstream { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// The SQLSTATE of Postgres's "time zone \"…\" not recognized" (invalid_parameter_value).
const INVALID_PARAMETER: &str = "22023";

/// Whether the database refused a zone name the Worker's own zone data accepted. The two come from different
/// builds of the time-zone database (ICU in the runtime, Postgres's tzdata), which disagree on retired aliases
/// such as `US/Pacific-New`; the only zone the Worker hands the database is a member's `time_zone`.
fn unknown_zone(status: u16, code: &str, message: &str) -> bool {
    status < 500 && code == INVALID_PARAMETER && message.starts_with("time zone ")
}

/// The SQLSTATE the database raises when a token's user no longer exists (their account was deleted, and the
/// token, still valid until it expires, asked for their profile): PostgREST answers it with 401.
pub const ACCOUNT_DELETED: &str = "PT401";

impl From<AdapterError> for ApiError {
    /// An unhealthy dependency is a 503 `dependency_unavailable`; a 4xx nobody mapped is our own bug, a 500. Neither
    /// carries the upstream body to the client (it is logged through the error's display). A deleted account's
    /// token is refused as an invalid token, wherever the database noticed it, and a zone the database does not
    /// know as the caller's invalid `time_zone`.
    fn from(error: AdapterError) -> Self {
        match &error {
            AdapterError::Upstream { status, code, message, .. } if unknown_zone(*status, code, message) => {
                ApiError::ValidationFailed(vec![crate::error::FieldError::new(
                    "time_zone",
                    "is not a time zone the database knows (use a current IANA name, e.g. America/Los_Angeles)",
                )])
            }
            AdapterError::Upstream { code, .. } if code == ACCOUNT_DELETED => {
                ApiError::InvalidToken("the account of this token was deleted".to_owned())
            }
            AdapterError::Upstream { status, .. } if *status < 500 => ApiError::Internal(error.to_string()),
            AdapterError::CircuitOpen(dependency)
            | AdapterError::Timeout(dependency, _)
            | AdapterError::Unreachable(dependency, _)
            | AdapterError::Decode(dependency, _)
            | AdapterError::Upstream { dependency, .. } => ApiError::DependencyUnavailable {
                dependency: dependency.name().to_owned(),
                retry_after_secs: Some(if matches!(error, AdapterError::CircuitOpen(_)) { 5 } else { 1 }),
                cause: error.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(status: u16) -> AdapterError {
        AdapterError::Upstream {
            dependency: Dependency::Postgrest,
            status,
            code: "XX000".into(),
            message: "SELECT secret FROM t".into(),
        }
    }

    #[test]
    fn only_unhealthy_answers_count_against_the_breaker() {
        let cases = [
            (AdapterError::Timeout(Dependency::Redis, 1), true),
            (AdapterError::Unreachable(Dependency::Redis, "refused".into()), true),
            (AdapterError::Decode(Dependency::Postgrest, "bad".into()), true),
            (upstream(503), true),
            (upstream(409), false),
            (upstream(403), false),
            (AdapterError::CircuitOpen(Dependency::Postgrest), false),
        ];
        for (error, counts) in cases {
            assert_eq!(error.counts_against_breaker(), counts, "{error}");
        }
    }

    #[test]
    fn a_deleted_account_is_an_invalid_token() {
        let deleted = AdapterError::Upstream {
            dependency: Dependency::Postgrest,
            status: 401,
            code: ACCOUNT_DELETED.into(),
            message: "the account of this token was deleted".into(),
        };
        assert!(!deleted.counts_against_breaker());
        let api = ApiError::from(deleted);
        assert_eq!((api.status(), api.code()), (401, "invalid_token"));
        // Another 401 of the database API (say, our service key refused) is still our fault, not the caller's.
        assert_eq!(ApiError::from(upstream(401)).status(), 500);
    }

    #[test]
    fn a_zone_the_database_does_not_know_is_the_callers_invalid_time_zone() {
        let refused = |code: &str, message: &str| AdapterError::Upstream {
            dependency: Dependency::Postgrest,
            status: 400,
            code: code.into(),
            message: message.into(),
        };
        let api = ApiError::from(refused("22023", "time zone \"US/Pacific-New\" not recognized"));
        assert_eq!((api.status(), api.code()), (422, "validation_failed"));
        let fields: Vec<String> = match api {
            ApiError::ValidationFailed(details) => details.into_iter().map(|d| d.field).collect(),
            other => panic!("{other:?}"),
        };
        assert_eq!(fields, ["time_zone"]);
        // Any other invalid parameter is still our own bug.
        assert_eq!(ApiError::from(refused("22023", "step size cannot equal zero")).status(), 500);
        assert_eq!(ApiError::from(refused("22008", "time zone displacement out of range")).status(), 500);
    }

    #[test]
    fn api_errors_never_carry_upstream_bodies() {
        let cases = [(upstream(500), 503), (upstream(400), 500), (AdapterError::CircuitOpen(Dependency::Redis), 503)];
        for (error, status) in cases {
            let api = ApiError::from(error.clone());
            assert_eq!(api.status(), status, "{error}");
            let public = api.public_message();
            assert!(!public.contains("secret") && !public.contains("XX000"), "{public}");
        }
        // The access log still learns why: the upstream's answer rides along as the 503's cause.
        match ApiError::from(upstream(502)) {
            ApiError::DependencyUnavailable { dependency, cause, .. } => {
                assert_eq!(dependency, "postgrest");
                assert!(cause.contains("502") && cause.contains("XX000"), "{cause}");
            }
            other => panic!("{other:?}"),
        }
    }
}
