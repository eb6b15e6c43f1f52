//! How a live socket's `auth` frame is checked: with the Worker's verifier, reached through the link it installs at
//! start-up (`worker_link`; the JWT rules and key sources live in the Worker crate, which depends on this one).
//! Without it, every refresh is refused and sockets close when their first token expires.

use std::future::Future;
use std::pin::Pin;

use uuid::Uuid;
use worker::Env;

/// A verification in flight: the token's user and expiry (seconds since the epoch), or why it is refused.
pub type Verification<'a> = Pin<Box<dyn Future<Output = Result<(Uuid, i64), Refusal>> + 'a>>;

/// Why a token is refused: the socket's client is told `token_expired` (fetch a fresh one) or `invalid_token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Past its expiry and the clock leeway.
    Expired,
    /// Anything else, with the reason for the log.
    Invalid(String),
}

impl Refusal {
    /// The code of the socket's `error` frame and close reason.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Expired => "token_expired",
            Refusal::Invalid(_) => "invalid_token",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Expired => f.write_str("token_expired"),
            Refusal::Invalid(reason) => f.write_str(reason),
        }
    }
}

/// Verifies a bearer token with the object's environment (settings and key sources).
pub type Verifier = for<'a> fn(&'a Env, String) -> Verification<'a>;

#[cfg(test)]
mod tests {
    use super::Refusal;

    #[test]
    fn only_an_expired_token_is_told_token_expired() {
        let cases = [
            (Refusal::Expired, "token_expired"),
            (Refusal::Invalid("token_expired in a message".to_owned()), "invalid_token"),
            (Refusal::Invalid("invalid_token".to_owned()), "invalid_token"),
        ];
        for (refusal, code) in cases {
            assert_eq!(refusal.code(), code, "{refusal:?}");
        }
    }
}
