//! Tokens this isolate has already verified. A client sends the same bearer token with every request until it
//! refreshes it (an hour with Supabase), so each isolate checks a token's signature and claims once and then only
//! its expiry: the signature check and claim parsing were ≈ 7 % of a score write's CPU. Only successes are kept;
//! a key removed from the key set still verifies tokens already seen until they expire, as it does while the key
//! set itself is cached.

use std::cell::RefCell;

use super::{UserContext, LEEWAY_SECS};
use crate::isolate_cache::TtlCache;

/// How long a verified token is trusted without checking it again (its own expiry still applies).
const TRUST_MS: i64 = 10 * 60 * 1000;
/// Tokens kept per isolate.
const CAPACITY: usize = 4_096;

/// Verified tokens and who they prove.
pub struct VerifiedTokens(TtlCache<String, UserContext>);

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self(TtlCache::new(TRUST_MS, CAPACITY))
    }
}

impl VerifiedTokens {
    /// Who `token` proves, if it was verified here and has not expired by `now_ms` (with the contract's leeway).
    pub fn get(&self, token: &str, now_ms: i64) -> Option<UserContext> {
        self.0.get(token, now_ms).filter(|user| now_ms / 1000 <= user.expires_at.saturating_add(LEEWAY_SECS))
    }

    /// Remembers a token that just passed verification.
    pub fn put(&mut self, token: &str, user: UserContext, now_ms: i64) {
        self.0.put(token.to_owned(), user, now_ms);
    }
}

thread_local! {
    // Per isolate, like the key set it saves checks against.
    static VERIFIED: RefCell<VerifiedTokens> = RefCell::new(VerifiedTokens::default());
}

/// Who `token` proves, if this isolate verified it before and it is still valid.
pub fn recall(token: &str, now_ms: i64) -> Option<UserContext> {
    VERIFIED.with(|v| v.borrow().get(token, now_ms))
}

/// Remembers a verified token in this isolate.
pub fn remember(token: &str, user: &UserContext, now_ms: i64) {
    VERIFIED.with(|v| v.borrow_mut().put(token, user.clone(), now_ms));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn user(expires_at: i64) -> UserContext {
        UserContext { user_id: uuid::Uuid::from_u128(7), role: Role::Authenticated, expires_at }
    }

    #[test]
    fn a_kept_token_holds_until_its_expiry_plus_leeway() {
        let mut tokens = VerifiedTokens::default();
        let now_ms = 1_000_000_000;
        tokens.put("t", user(now_ms / 1000 + 60), now_ms);
        let cases = [
            (now_ms, true),
            (now_ms + 60_000, true),
            (now_ms + (60 + LEEWAY_SECS) * 1000, true),
            (now_ms + (61 + LEEWAY_SECS) * 1000, false),
        ];
        for (at, kept) in cases {
            assert_eq!(tokens.get("t", at).is_some(), kept, "at +{} ms", at - now_ms);
        }
        assert!(tokens.get("other", now_ms).is_none());
    }

    #[test]
    fn a_long_lived_token_is_checked_again_after_the_trust_period() {
        let mut tokens = VerifiedTokens::default();
        tokens.put("t", user(i64::MAX / 2), 0);
        assert!(tokens.get("t", TRUST_MS - 1).is_some());
        assert!(tokens.get("t", TRUST_MS).is_none());
    }
}
