//! The errors a Competition object answers the Worker with: one code per outcome, each with one HTTP status, so the
//! Worker converts them once (`ApiError::from_object`) instead of matching strings.

use serde::{Deserialize, Serialize};

/// What went wrong, as the object answers it. Most are codes of `API.md`; the others ask the Worker to act
/// (introduce the competition or the member and retry, tell the client to come back later). Each has one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A malformed request (400).
    BadRequest,
    /// A score the rules refuse as implausible (422; the Worker reports it on the field `score`).
    ValidationFailed,
    /// A live socket's token expired (401).
    TokenExpired,
    /// Not allowed, e.g. a disqualified member or a member's post in a fitness competition (403).
    Forbidden,
    /// The writer is not on the object's roster (403; the Worker checks Postgres and introduces a new member).
    NotAMember,
    /// No such member or row (404).
    NotFound,
    /// The competition's state refuses it, e.g. final standings (409).
    Conflict,
    /// The object has not been told its competition yet (409; the Worker introduces it and retries).
    CompetitionUnknown,
    /// The object failed (500).
    Internal,
    /// Storage or a dependency is unavailable (503).
    DependencyUnavailable,
    /// The live feed holds as many sockets as it takes (503, retry later).
    LiveFull,
    /// A code this build does not know (an object of a newer deploy answering an older Worker): internal.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The HTTP status the object answers with.
    pub const fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::TokenExpired => 401,
            ErrorCode::Forbidden | ErrorCode::NotAMember => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict | ErrorCode::CompetitionUnknown => 409,
            ErrorCode::ValidationFailed => 422,
            ErrorCode::Internal | ErrorCode::Unknown => 500,
            ErrorCode::DependencyUnavailable | ErrorCode::LiveFull => 503,
        }
    }
}

/// An error answered by the object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ObjectError {
    /// What went wrong.
    pub code: ErrorCode,
    /// Human-readable message.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_travel_as_snake_case_and_an_unknown_one_is_internal() {
        let cases = [
            (ErrorCode::BadRequest, "bad_request", 400),
            (ErrorCode::ValidationFailed, "validation_failed", 422),
            (ErrorCode::TokenExpired, "token_expired", 401),
            (ErrorCode::Forbidden, "forbidden", 403),
            (ErrorCode::NotAMember, "not_a_member", 403),
            (ErrorCode::NotFound, "not_found", 404),
            (ErrorCode::Conflict, "conflict", 409),
            (ErrorCode::CompetitionUnknown, "competition_unknown", 409),
            (ErrorCode::Internal, "internal", 500),
            (ErrorCode::DependencyUnavailable, "dependency_unavailable", 503),
            (ErrorCode::LiveFull, "live_full", 503),
        ];
        for (code, text, status) in cases {
            let error = ObjectError { code, message: "m".into() };
            let json = serde_json::to_value(&error).expect("serialise");
            assert_eq!(json["code"], text);
            assert_eq!(serde_json::from_value::<ObjectError>(json).expect("parse"), error);
            assert_eq!(code.status(), status, "{text}");
        }
        let newer: ObjectError =
            serde_json::from_str(r#"{"code":"something_new","message":"m"}"#).expect("an unknown code parses");
        assert_eq!((newer.code, newer.code.status()), (ErrorCode::Unknown, 500));
    }
}
