//! Authentication: Supabase access tokens turned into a typed [`UserContext`].
//!
//! `token` extracts the bearer token from a request's headers, `verify` checks the signature with the configured
//! key, `claims` checks the claims. All of it is plain Rust, tested natively; only the clock comes from the runtime.

pub mod claims;
pub mod jwks;
pub mod key_source;
pub mod public_key;
#[cfg(not(target_arch = "wasm32"))]
pub mod test_tokens;
pub mod token;
pub mod verified;
pub mod verify;

use thiserror::Error;
use uuid::Uuid;

use crate::error::ApiError;

/// Longest token accepted; anything larger is refused before parsing.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Clock leeway for `exp`, `nbf` and `iat`, in seconds (the contract allows at most 30).
pub const LEEWAY_SECS: i64 = 30;

/// Who is calling, as proven by a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserContext {
    /// The `sub` claim.
    pub user_id: Uuid,
    /// The `role` claim, reduced to what the API distinguishes.
    pub role: Role,
    /// The `exp` claim, seconds since the epoch (live sockets close when it passes).
    pub expires_at: i64,
}

/// Roles the API distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An app user.
    Authenticated,
    /// An administrator (Supabase `service_role`).
    ServiceRole,
}

impl UserContext {
    /// Whether the caller may manage competitions.
    pub fn is_admin(&self) -> bool {
        self.role == Role::ServiceRole
    }

    /// Whether the token names no user: Supabase's service key has no `sub`, and such an administrator is carried
    /// with the nil id (`claims.rs`). It acts for nobody on routes that act for the caller themself.
    pub fn names_nobody(&self) -> bool {
        self.user_id.is_nil()
    }
}

/// Why a request is not authenticated.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No credentials at all.
    #[error("a bearer token is required")]
    Missing,
    /// Credentials present but unacceptable.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The token's `exp` has passed (beyond the leeway).
    #[error("token expired")]
    Expired,
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Missing => ApiError::MissingToken,
            AuthError::Invalid(reason) => ApiError::InvalidToken(format!("invalid token: {reason}")),
            AuthError::Expired => ApiError::TokenExpired,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MAX_TOKEN_LEN;
    use standings::socket_rules::MAX_CLIENT_FRAME_CHARS;

    #[test]
    fn a_live_auth_frame_with_the_largest_token_is_not_refused_as_too_long() {
        let frame = serde_json::json!({"type": "auth", "token": "a".repeat(MAX_TOKEN_LEN)}).to_string();
        assert!(frame.len() <= MAX_CLIENT_FRAME_CHARS, "{} > {MAX_CLIENT_FRAME_CHARS}", frame.len());
    }
}
