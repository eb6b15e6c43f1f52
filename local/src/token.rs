//! Mints Supabase-style HS256 access tokens for local use (walkthroughs, tests, the load tool).

use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{AlgorithmExt, Claims, Header};
use serde_json::{json, Value};

/// Signs `claims` (a JSON object) with `secret`.
pub fn sign(secret: &[u8], claims: &Value) -> String {
    let claims = Claims::new(claims.clone());
    // Signing with an HMAC key over serialisable JSON cannot fail.
    Hs256.token(&Header::empty().with_token_type("JWT"), &claims, &Hs256Key::new(secret)).expect("HS256 signing")
}

/// Claims of a Supabase Auth access token for `user_id` with `role`, valid for `ttl_secs` from `now`.
pub fn access_claims(user_id: &str, role: &str, audience: &str, now: i64, ttl_secs: i64) -> Value {
    json!({
        "sub": user_id,
        "role": role,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_secs,
    })
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    let elapsed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    elapsed.as_secs() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwt_compact::UntrustedToken;

    #[test]
    fn minted_tokens_verify_with_the_same_secret_only() {
        let token =
            sign(b"0123456789abcdef0123456789abcdef", &access_claims("u", "authenticated", "authenticated", 0, 60));
        let untrusted = UntrustedToken::new(&token).expect("parse");
        assert_eq!(untrusted.algorithm(), "HS256");
        let ok = Hs256.validator::<Value>(&Hs256Key::new(b"0123456789abcdef0123456789abcdef")).validate(&untrusted);
        assert_eq!(ok.expect("valid").claims().custom["sub"], "u");
        let bad = Hs256.validator::<Value>(&Hs256Key::new(b"another-key-another-key-another!!")).validate(&untrusted);
        assert!(bad.is_err());
    }
}
