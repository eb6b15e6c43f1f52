//! The API error type and its one rendering into the error envelope of `API.md`.

use serde::Serialize;
use standings::object_error::{ErrorCode, ObjectError};
use thiserror::Error;
use utoipa::ToSchema;

/// One field-level problem reported with `validation_failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the offending field, e.g. `score` or `samples[3].date`.
    pub field: String,
    /// What is wrong with it, for a human.
    pub message: String,
}

impl FieldError {
    /// Builds a field error from anything string-like.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Every code [`ApiError::code`] answers, as the contract lists them (a test keeps the two equal).
pub const CODES: [&str; 16] = [
    "bad_request",
    "invalid_json",
    "validation_failed",
    "missing_token",
    "invalid_token",
    "token_expired",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "conflict",
    "payload_too_large",
    "unsupported_media_type",
    "rate_limited",
    "internal",
    "dependency_unavailable",
    "idempotency_mismatch",
];

/// The error envelope of `API.md`: every error response's body.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = Error, examples(json!({"error": {"code": "rate_limited", "message": "rate limit exceeded",
    "request_id": "b7c6f5e4-d3c2-4b1a-9f8e-7d6c5b4a3f2e"}})))]
pub struct Envelope {
    /// What went wrong.
    pub error: ErrorBody,
}

/// The inside of the envelope.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Machine-readable; one of [`CODES`].
    #[schema(schema_with = code_schema)]
    pub code: &'static str,
    /// For a human; never internal detail.
    pub message: String,
    /// The request's id (also in `X-Request-Id`), for support.
    pub request_id: String,
    /// Each invalid field, with `validation_failed` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<FieldError>>,
}

/// The schema of an error code: a string from [`CODES`].
fn code_schema() -> utoipa::openapi::schema::Object {
    crate::http::schema::one_of_words(CODES)
}

/// Every error the HTTP layer can answer with. Converted into a response exactly once, in the entry point.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ApiError {
    /// 400: the request is malformed in a way that is not about one field.
    #[error("{0}")]
    BadRequest(String),
    /// 400: the body is not valid JSON (or not the JSON shape expected).
    #[error("{0}")]
    InvalidJson(String),
    /// 422: one or more fields are invalid.
    #[error("validation failed")]
    ValidationFailed(Vec<FieldError>),
    /// 401: no bearer token was presented.
    #[error("a bearer token is required")]
    MissingToken,
    /// 401: the token is malformed, badly signed or has unacceptable claims.
    #[error("{0}")]
    InvalidToken(String),
    /// 401: the token is past its `exp`.
    #[error("the token has expired")]
    TokenExpired,
    /// 403: authenticated, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such route or resource.
    #[error("{0}")]
    NotFound(String),
    /// 405: the route exists, the method does not; `allow` lists the methods that do.
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<&'static str> },
    /// 409: the request conflicts with the resource's state.
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is larger than `limit` bytes.
    #[error("payload larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 415: the body's content type is not accepted here.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 429: the caller's bucket is empty; retry after the given whole seconds.
    #[error("rate limit exceeded")]
    RateLimited { retry_after_secs: u64 },
    /// 500: a bug or an unexpected runtime failure. The detail is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
    /// 503: a dependency (or an overloaded competition) cannot serve now. `cause` says why, for the access log only
    /// (it may hold an upstream's own words, which never reach the caller).
    #[error("{dependency} unavailable")]
    DependencyUnavailable { dependency: String, retry_after_secs: Option<u64>, cause: String },
    /// 422: an `Idempotency-Key` was reused with a different request body.
    #[error("idempotency key reused with a different request")]
    IdempotencyMismatch,
}

impl ApiError {
    /// HTTP status code of this error.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) | Self::InvalidJson(_) => 400,
            Self::MissingToken | Self::InvalidToken(_) | Self::TokenExpired => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::Conflict(_) => 409,
            Self::PayloadTooLarge { .. } => 413,
            Self::UnsupportedMediaType(_) => 415,
            Self::ValidationFailed(_) | Self::IdempotencyMismatch => 422,
            Self::RateLimited { .. } => 429,
            Self::Internal(_) => 500,
            Self::DependencyUnavailable { .. } => 503,
        }
    }

    /// Machine-readable error code of `API.md`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::InvalidJson(_) => "invalid_json",
            Self::ValidationFailed(_) => "validation_failed",
            Self::MissingToken => "missing_token",
            Self::InvalidToken(_) => "invalid_token",
            Self::TokenExpired => "token_expired",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::RateLimited { .. } => "rate_limited",
            Self::Internal(_) => "internal",
            Self::DependencyUnavailable { .. } => "dependency_unavailable",
            Self::IdempotencyMismatch => "idempotency_mismatch",
        }
    }

    /// The message shown to the caller. Internal details never leave the process.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        }
    }

    /// Extra response headers this error requires (`Allow`, `Retry-After`, `WWW-Authenticate`).
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::MethodNotAllowed { allow } => vec![("Allow", allow.join(", "))],
            Self::RateLimited { retry_after_secs } => {
                vec![("Retry-After", (*retry_after_secs).max(1).to_string())]
            }
            Self::DependencyUnavailable { retry_after_secs: Some(secs), .. } => {
                vec![("Retry-After", (*secs).max(1).to_string())]
            }
            Self::MissingToken => vec![("WWW-Authenticate", "Bearer".to_owned())],
            Self::InvalidToken(_) => {
                vec![("WWW-Authenticate", "Bearer error=\"invalid_token\"".to_owned())]
            }
            Self::TokenExpired => vec![(
                "WWW-Authenticate",
                "Bearer error=\"invalid_token\", error_description=\"token expired\"".to_owned(),
            )],
            _ => Vec::new(),
        }
    }

    /// The JSON envelope `{"error": {"code", "message", "request_id", "details"?}}`.
    pub fn envelope(&self, request_id: &str) -> Envelope {
        let details = match self {
            Self::ValidationFailed(details) => Some(details.clone()),
            _ => None,
        };
        Envelope {
            error: ErrorBody {
                code: self.code(),
                message: self.public_message(),
                request_id: request_id.to_owned(),
                details,
            },
        }
    }

    /// Maps an error answered by a Competition Durable Object onto the API's errors.
    pub fn from_object(error: ObjectError) -> Self {
        let message = error.message;
        match error.code {
            ErrorCode::BadRequest => Self::BadRequest(message),
            // The object's one 422 is a score its rules refuse (`standings::rules::Refusal::Implausible`).
            ErrorCode::ValidationFailed => Self::ValidationFailed(vec![FieldError::new("score", message)]),
            ErrorCode::TokenExpired => Self::TokenExpired,
            ErrorCode::Forbidden | ErrorCode::NotAMember => Self::Forbidden(message),
            ErrorCode::NotFound => Self::NotFound(message),
            ErrorCode::Conflict | ErrorCode::CompetitionUnknown => Self::Conflict(message),
            ErrorCode::DependencyUnavailable | ErrorCode::LiveFull => Self::DependencyUnavailable {
                dependency: "competition".to_owned(),
                retry_after_secs: Some(1),
                cause: format!("the object answered: {message}"),
            },
            ErrorCode::Internal | ErrorCode::Unknown => Self::Internal(format!("competition object: {message}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_errors_become_the_contracts_errors() {
        let cases = [
            (ErrorCode::BadRequest, 400, "bad_request"),
            (ErrorCode::ValidationFailed, 422, "validation_failed"),
            (ErrorCode::TokenExpired, 401, "token_expired"),
            (ErrorCode::Forbidden, 403, "forbidden"),
            (ErrorCode::NotAMember, 403, "forbidden"),
            (ErrorCode::NotFound, 404, "not_found"),
            (ErrorCode::Conflict, 409, "conflict"),
            (ErrorCode::CompetitionUnknown, 409, "conflict"),
            (ErrorCode::Internal, 500, "internal"),
            (ErrorCode::Unknown, 500, "internal"),
            (ErrorCode::DependencyUnavailable, 503, "dependency_unavailable"),
            (ErrorCode::LiveFull, 503, "dependency_unavailable"),
        ];
        for (code, status, api_code) in cases {
            let error = ApiError::from_object(ObjectError { code, message: "m".into() });
            assert_eq!((error.status(), error.code()), (status, api_code), "{code:?}");
        }
    }

    #[test]
    fn every_variant_has_the_status_and_code_of_the_contract() {
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (ApiError::BadRequest("x".into()), 400, "bad_request"),
            (ApiError::InvalidJson("x".into()), 400, "invalid_json"),
            (ApiError::ValidationFailed(vec![]), 422, "validation_failed"),
            (ApiError::MissingToken, 401, "missing_token"),
            (ApiError::InvalidToken("x".into()), 401, "invalid_token"),
            (ApiError::TokenExpired, 401, "token_expired"),
            (ApiError::Forbidden("x".into()), 403, "forbidden"),
            (ApiError::NotFound("x".into()), 404, "not_found"),
            (ApiError::MethodNotAllowed { allow: vec!["GET"] }, 405, "method_not_allowed"),
            (ApiError::Conflict("x".into()), 409, "conflict"),
            (ApiError::PayloadTooLarge { limit: 1 }, 413, "payload_too_large"),
            (ApiError::UnsupportedMediaType("x".into()), 415, "unsupported_media_type"),
            (ApiError::RateLimited { retry_after_secs: 1 }, 429, "rate_limited"),
            (ApiError::Internal("x".into()), 500, "internal"),
            (
                ApiError::DependencyUnavailable {
                    dependency: "redis".into(),
                    retry_after_secs: None,
                    cause: String::new(),
                },
                503,
                "dependency_unavailable",
            ),
            (ApiError::IdempotencyMismatch, 422, "idempotency_mismatch"),
        ];
        // The table has every variant (code() matches exhaustively), so the document's list is exactly these.
        assert_eq!(cases.iter().map(|case| case.2).collect::<Vec<_>>(), CODES);
        for (error, status, code) in cases {
            assert_eq!(error.status(), status, "{error:?}");
            assert_eq!(error.code(), code, "{error:?}");
        }
    }

    #[test]
    fn internal_details_never_reach_the_envelope() {
        let body = serde_json::to_value(
            ApiError::Internal("SELECT * FROM secrets failed at db.rs:12".into()).envelope("rid-1"),
        )
        .expect("json");
        let text = body.to_string();
        assert!(!text.contains("SELECT"), "{text}");
        assert_eq!(body["error"]["message"], "internal error");
        assert_eq!(body["error"]["request_id"], "rid-1");
    }

    #[test]
    fn validation_errors_list_their_fields() {
        let body = serde_json::to_value(
            ApiError::ValidationFailed(vec![FieldError::new("score", "must be >= 0")]).envelope("r"),
        )
        .expect("json");
        assert_eq!(body["error"]["details"][0]["field"], "score");
        assert_eq!(body["error"]["details"][0]["message"], "must be >= 0");
    }

    #[test]
    fn retry_after_is_whole_seconds_at_least_one() {
        let headers = ApiError::RateLimited { retry_after_secs: 0 }.headers();
        assert_eq!(headers, vec![("Retry-After", "1".to_owned())]);
    }

    #[test]
    fn method_not_allowed_lists_allowed_methods() {
        let headers = ApiError::MethodNotAllowed { allow: vec!["GET", "POST"] }.headers();
        assert_eq!(headers, vec![("Allow", "GET, POST".to_owned())]);
    }

    #[test]
    fn auth_errors_carry_www_authenticate() {
        for error in [ApiError::MissingToken, ApiError::InvalidToken("bad".into()), ApiError::TokenExpired] {
            assert!(error.headers().iter().any(|(name, _)| *name == "WWW-Authenticate"), "{error:?}");
        }
    }
}
