//! Who a request runs as: the JWT in `Authorization` (or, as Supabase's API gateway does, the `apikey` header
//! when `Authorization` is absent), verified with the project's HS256 secret or — as PostgREST does when its
//! `jwt-secret` is a JWKS — with the ES256/RS256 public key its `kid` names in the JWKS file. Its `role` claim becomes
//! the Postgres role and the whole claim set becomes `request.jwt.claims`. Supabase's newer API keys are not JWTs:
//! an `sb_secret_…` key in `apikey` (with no `Authorization`) runs as `service_role`, an `sb_publishable_…` key as
//! the anonymous role; in `Authorization` they are refused, as Supabase refuses them.

use std::path::Path;

use axum::http::HeaderMap;
use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{Algorithm, AlgorithmExt, TimeOptions, Token, UntrustedToken, ValidationError};
use leaderboard_worker::auth::jwks::KeySet;
use serde_json::Value;

use super::error::GatewayError;

/// The database identity of one request.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The role `SET LOCAL ROLE` switches to.
    pub role: String,
    /// The verified claims, as JSON text, for `request.jwt.claims`.
    pub claims: String,
}

impl Identity {
    /// Whether the request runs as the anonymous role (decides 401 vs 403 on permission errors).
    pub fn anonymous(&self, anon_role: &str) -> bool {
        self.role == anon_role
    }
}

/// The project's non-JWT API keys (Supabase's `sb_secret_…` / `sb_publishable_…` style).
#[derive(Debug, Clone, Default)]
pub struct ApiKeys {
    /// Runs as `service_role`.
    pub secret: Option<String>,
    /// Runs as the anonymous role.
    pub publishable: Option<String>,
}

/// Verifies the request's token and derives its identity.
pub fn identify(
    headers: &HeaderMap,
    secret: &[u8],
    jwks_file: Option<&Path>,
    anon_role: &str,
    api_keys: &ApiKeys,
) -> Result<Identity, GatewayError> {
    let token = match bearer(headers) {
        Some(token) if token.starts_with("sb_") => {
            return Err(GatewayError::jwt("PGRST301", "JWT invalid: an API key is not a JWT (send it as apikey)"))
        }
        Some(token) => token,
        None => {
            let key = headers
                .get("apikey")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .ok_or_else(GatewayError::no_api_key)?;
            if key.starts_with("sb_") {
                let matches = |configured: &Option<String>| {
                    configured.as_deref().is_some_and(|c| subtle_eq(c.as_bytes(), key.as_bytes()))
                };
                let role = if matches(&api_keys.secret) {
                    "service_role"
                } else if matches(&api_keys.publishable) {
                    anon_role
                } else {
                    return Err(GatewayError::jwt("PGRST301", "Invalid API key"));
                };
                let claims = serde_json::json!({ "role": role }).to_string();
                return Ok(Identity { role: role.to_owned(), claims });
            }
            key
        }
    };
    let untrusted = UntrustedToken::new(&token).map_err(|e| GatewayError::jwt("PGRST301", format!("{e}")))?;
    let claims = match untrusted.algorithm() {
        "HS256" => validate(Hs256, &Hs256Key::new(secret), &untrusted)?.into_parts().1,
        "ES256" | "RS256" => {
            let kid =
                untrusted.header().key_id.as_deref().ok_or_else(|| GatewayError::jwt("PGRST301", "JWT has no kid"))?;
            // Read per request: a local file of a few keys, and tests add keys while the gateway runs.
            let keys = jwks_file
                .and_then(|path| std::fs::read_to_string(path).ok())
                .and_then(|text| KeySet::parse(&text).ok())
                .unwrap_or_default();
            let key = keys.get(kid).filter(|key| key.algorithm() == untrusted.algorithm()).ok_or_else(|| {
                GatewayError::jwt("PGRST301", format!("JWT invalid: no {} key {kid}", untrusted.algorithm()))
            })?;
            let signed = token.rsplit_once('.').map_or("", |(signed, _)| signed);
            if !key.verifies_now(signed.as_bytes(), untrusted.signature_bytes()) {
                return Err(GatewayError::jwt("PGRST301", "JWT invalid: signature does not match"));
            }
            untrusted
                .deserialize_claims_unchecked::<Value>()
                .map_err(|e| GatewayError::jwt("PGRST301", format!("JWT invalid: {e}")))?
        }
        other => return Err(GatewayError::jwt("PGRST301", format!("JWT invalid: algorithm {other} not accepted"))),
    };
    let claims = &claims;
    if claims.expiration.is_some() {
        claims.validate_expiration(&TimeOptions::default()).map_err(|e| match e {
            ValidationError::Expired => GatewayError::jwt("PGRST303", "JWT expired"),
            other => GatewayError::jwt("PGRST303", format!("JWT claims invalid: {other}")),
        })?;
    }
    if claims.not_before.is_some() {
        claims
            .validate_maturity(&TimeOptions::default())
            .map_err(|e| GatewayError::jwt("PGRST303", format!("JWT not yet valid: {e}")))?;
    }
    let role = claims.custom.get("role").and_then(Value::as_str).unwrap_or(anon_role).to_owned();
    let claims = serde_json::to_string(claims).map_err(|e| GatewayError::jwt("PGRST301", e.to_string()))?;
    Ok(Identity { role, claims })
}

fn validate<A: Algorithm>(
    alg: A,
    key: &A::VerifyingKey,
    untrusted: &UntrustedToken<'_>,
) -> Result<Token<Value>, GatewayError> {
    alg.validator::<Value>(key)
        .validate(untrusted)
        .map_err(|e| GatewayError::jwt("PGRST301", format!("JWT invalid: {e}")))
}

/// Equality that takes the same time wherever the first difference is.
fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{access_claims, now, sign};

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("header"));
        }
        map
    }

    #[test]
    fn a_valid_token_gives_its_role_and_claims() {
        let token = sign(SECRET, &access_claims("u1", "authenticated", "authenticated", now(), 60));
        let identity = identify(
            &headers(&[("authorization", format!("Bearer {token}"))]),
            SECRET,
            None,
            "anon",
            &ApiKeys::default(),
        )
        .expect("identify");
        assert_eq!(identity.role, "authenticated");
        let claims: Value = serde_json::from_str(&identity.claims).expect("claims json");
        assert_eq!(claims["sub"], "u1");
        assert!(claims["exp"].is_i64());
    }

    #[test]
    fn apikey_stands_in_for_a_missing_authorization_header() {
        let token = sign(SECRET, &serde_json::json!({"role": "anon"}));
        let identity =
            identify(&headers(&[("apikey", token)]), SECRET, None, "anon", &ApiKeys::default()).expect("identify");
        assert!(identity.anonymous("anon"));
    }

    #[test]
    fn new_style_api_keys_run_as_their_role_and_only_as_apikey() {
        let keys = ApiKeys { secret: Some("sb_secret_abc".into()), publishable: Some("sb_publishable_xyz".into()) };
        let as_key = |key: &str| identify(&headers(&[("apikey", key.to_owned())]), SECRET, None, "anon", &keys);
        assert_eq!(as_key("sb_secret_abc").expect("secret").role, "service_role");
        assert_eq!(as_key("sb_publishable_xyz").expect("publishable").role, "anon");
        assert_eq!(as_key("sb_secret_abd").expect_err("unknown").status().as_u16(), 401);
        let bearer =
            identify(&headers(&[("authorization", "Bearer sb_secret_abc".to_owned())]), SECRET, None, "anon", &keys);
        assert_eq!(bearer.expect_err("not a JWT").status().as_u16(), 401);
        // A user's JWT with the publishable key as apikey runs as the user.
        let token = sign(SECRET, &access_claims("u1", "authenticated", "authenticated", now(), 60));
        let user = identify(
            &headers(&[("authorization", format!("Bearer {token}")), ("apikey", "sb_publishable_xyz".to_owned())]),
            SECRET,
            None,
            "anon",
            &keys,
        );
        assert_eq!(user.expect("user").role, "authenticated");
    }

    #[test]
    fn bad_tokens_are_401() {
        let expired = sign(SECRET, &access_claims("u1", "authenticated", "authenticated", now() - 3600, 60));
        let foreign = sign(b"another-secret-another-secret-xx", &access_claims("u", "service_role", "a", now(), 60));
        let cases = [
            headers(&[]),
            headers(&[("authorization", "Bearer not-a-jwt".to_owned())]),
            headers(&[("authorization", format!("Bearer {expired}"))]),
            headers(&[("authorization", format!("Bearer {foreign}"))]),
        ];
        for (i, h) in cases.iter().enumerate() {
            let error = identify(h, SECRET, None, "anon", &ApiKeys::default()).expect_err("refused");
            assert_eq!(error.status().as_u16(), 401, "case {i}");
        }
    }
}
