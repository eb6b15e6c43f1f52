//! Signature verification with `jwt-compact`. The key type is chosen by configuration, never by the token's
//! `alg` header, so `alg: none` and HS/RS confusion are refused before any key is used.

use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{AlgorithmExt, Claims, UntrustedToken, ValidationError};
use serde::Deserialize;

use super::claims::{self, Audience, ClaimRules, RawClaims};
use super::{AuthError, UserContext, MAX_TOKEN_LEN};

/// The claims `jwt-compact` leaves to us (it handles `exp`, `nbf`, `iat` itself as timestamps).
#[derive(Debug, Deserialize)]
struct OtherClaims {
    sub: Option<String>,
    aud: Option<Audience>,
    iss: Option<String>,
    role: Option<String>,
}

/// Verifies an HS256 Supabase access token and applies the claim rules at `now` (seconds since the epoch).
pub fn verify_hs256(token: &str, secret: &[u8], rules: &ClaimRules<'_>, now: i64) -> Result<UserContext, AuthError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::Invalid("token too large".into()));
    }
    let untrusted = UntrustedToken::new(token).map_err(|_| AuthError::Invalid("malformed token".into()))?;
    if untrusted.algorithm() != "HS256" {
        return Err(AuthError::Invalid("algorithm not accepted".into()));
    }
    let key = Hs256Key::new(secret);
    let verified = Hs256.validator::<OtherClaims>(&key).validate(&untrusted).map_err(|error| match error {
        ValidationError::InvalidSignature | ValidationError::InvalidSignatureLen { .. } => {
            AuthError::Invalid("bad signature".into())
        }
        _ => AuthError::Invalid("malformed claims".into()),
    })?;
    let (_, Claims { expiration, not_before, issued_at, custom, .. }) = verified.into_parts();
    let raw = RawClaims {
        sub: custom.sub,
        exp: expiration.map(|t| t.timestamp()),
        nbf: not_before.map(|t| t.timestamp()),
        iat: issued_at.map(|t| t.timestamp()),
        aud: custom.aud,
        iss: custom.iss,
        role: custom.role,
    };
    claims::check(&raw, rules, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwt_compact::Header;

    const SECRET: &[u8] = b"super-secret-jwt-token-with-at-least-32-characters-long";
    const USER: &str = "5f0c1d9e-8a47-4a43-9d0e-3c1f2a4b5c6d";
    const RULES: ClaimRules<'static> = ClaimRules { audience: "authenticated", issuer: None };

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn mint(secret: &[u8], payload: serde_json::Value) -> String {
        let claims = Claims::new(payload);
        Hs256.token(&Header::empty(), &claims, &Hs256Key::new(secret)).expect("sign")
    }

    fn now() -> i64 {
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock");
        since_epoch.as_secs() as i64
    }

    fn good_payload() -> serde_json::Value {
        serde_json::json!({"sub": USER, "aud": "authenticated", "role": "authenticated", "exp": now() + 600})
    }

    #[test]
    fn a_valid_token_yields_the_user() {
        let ctx = verify_hs256(&mint(SECRET, good_payload()), SECRET, &RULES, now()).expect("valid");
        assert_eq!(ctx.user_id.to_string(), USER);
    }

    #[test]
    fn attack_tokens_are_refused() {
        let good = mint(SECRET, good_payload());
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        let tampered = {
            let mut payload = good_payload();
            payload["sub"] = serde_json::json!("00000000-0000-4000-8000-000000000000");
            parts[1] = b64(payload.to_string().as_bytes());
            parts.join(".")
        };
        let none_alg =
            format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), b64(good_payload().to_string().as_bytes()));
        let rs_header = format!(
            "{}.{}.{}",
            b64(br#"{"alg":"RS256","typ":"JWT"}"#),
            b64(good_payload().to_string().as_bytes()),
            b64(b"sig")
        );
        let expired = {
            let mut p = good_payload();
            p["exp"] = serde_json::json!(now() - 120);
            mint(SECRET, p)
        };
        let cases: Vec<(&str, String, AuthError)> = vec![
            (
                "wrong secret",
                mint(b"another-secret-of-at-least-32-characters!!", good_payload()),
                AuthError::Invalid("bad signature".into()),
            ),
            ("tampered payload", tampered, AuthError::Invalid("bad signature".into())),
            ("alg none", none_alg, AuthError::Invalid("algorithm not accepted".into())),
            ("alg confusion", rs_header, AuthError::Invalid("algorithm not accepted".into())),
            ("garbage", "not-a-jwt".into(), AuthError::Invalid("malformed token".into())),
            ("expired", expired, AuthError::Expired),
            ("oversized", "a".repeat(MAX_TOKEN_LEN + 1), AuthError::Invalid("token too large".into())),
        ];
        for (name, token, expected) in cases {
            assert_eq!(verify_hs256(&token, SECRET, &RULES, now()), Err(expected), "{name}");
        }
    }
}
