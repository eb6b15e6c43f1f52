//! Token verification: `jwt-compact` parses tokens and checks HS256; ES256 and RS256 signatures are checked by the
//! key itself (`auth::public_key`: WebCrypto in the Worker, `jwt-compact` on the host). Which algorithms are accepted
//! is configuration; the key type comes from configuration (the HS256 secret) or from the key set (each JWKS key
//! fixes its own algorithm), never from the token's `alg` header — so `alg: none` and HS/RS confusion are refused
//! before any key is used.

use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{AlgorithmExt, Claims, UntrustedToken, ValidationError};
use serde::Deserialize;

use super::claims::{self, Audience, ClaimRules, RawClaims};
use super::jwks::PublicKey;
use super::{AuthError, UserContext, MAX_TOKEN_LEN};

/// Signature algorithms the service can accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// HMAC-SHA256 with `SUPABASE_JWT_SECRET` (Supabase's legacy signing).
    Hs256,
    /// ECDSA P-256 with a JWKS key (Supabase's default asymmetric signing).
    Es256,
    /// RSA PKCS#1 v1.5 with a JWKS key.
    Rs256,
}

impl Alg {
    /// The JWS `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Alg::Hs256 => "HS256",
            Alg::Es256 => "ES256",
            Alg::Rs256 => "RS256",
        }
    }

    /// The algorithm named `name` (exact JWS spelling).
    pub fn from_name(name: &str) -> Option<Self> {
        [Alg::Hs256, Alg::Es256, Alg::Rs256].into_iter().find(|alg| alg.name() == name)
    }
}

/// What a token's header asks for, checked against the accepted algorithms before any key is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyNeed {
    /// The configured HS256 secret.
    Secret,
    /// The key set's key with this `kid`.
    KeyId(String),
}

/// The key a token is verified with.
#[derive(Debug, Clone, Copy)]
pub enum VerifyingKey<'a> {
    /// The HS256 secret.
    Secret(&'a [u8]),
    /// A key of the key set.
    Public(&'a PublicKey),
}

/// The claims `jwt-compact` leaves to us (it handles `exp`, `nbf`, `iat` itself as timestamps).
#[derive(Debug, Deserialize)]
struct OtherClaims {
    sub: Option<String>,
    aud: Option<Audience>,
    iss: Option<String>,
    role: Option<String>,
}

/// Header members beyond the ones `jwt-compact` reads. `crit` names extensions the verifier must understand
/// (RFC 7515 §4.1.11); this service understands none, so a token that has one is refused, whatever it names.
#[derive(Debug, Clone, Deserialize)]
struct HeaderExtras {
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

fn parse(token: &str) -> Result<UntrustedToken<'_, HeaderExtras>, AuthError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::Invalid("token too large".into()));
    }
    let untrusted =
        UntrustedToken::<HeaderExtras>::try_from(token).map_err(|_| AuthError::Invalid("malformed token".into()))?;
    if untrusted.header().other_fields.crit.is_some() {
        return Err(AuthError::Invalid("critical header extensions not supported".into()));
    }
    Ok(untrusted)
}

/// Reads which key a token needs, refusing algorithms not in `accepted` (and so `none`) and asymmetric tokens
/// without a `kid`.
pub fn key_need(token: &str, accepted: &[Alg]) -> Result<KeyNeed, AuthError> {
    let untrusted = parse(token)?;
    let alg = Alg::from_name(untrusted.algorithm())
        .filter(|alg| accepted.contains(alg))
        .ok_or_else(|| AuthError::Invalid("algorithm not accepted".into()))?;
    match alg {
        Alg::Hs256 => Ok(KeyNeed::Secret),
        Alg::Es256 | Alg::Rs256 => match &untrusted.header().key_id {
            Some(kid) if !kid.is_empty() => Ok(KeyNeed::KeyId(kid.clone())),
            _ => Err(AuthError::Invalid("kid header required".into())),
        },
    }
}

/// Verifies the signature with `key` (whose algorithm must be the one the header names) and applies the claim
/// rules at `now` (seconds since the epoch). Asynchronous because the Worker checks ES256 and RS256 with WebCrypto
/// (`auth::public_key`); on the host, and for HS256, it completes without waiting.
pub async fn verify(
    token: &str,
    key: VerifyingKey<'_>,
    accepted: &[Alg],
    rules: &ClaimRules<'_>,
    now: i64,
) -> Result<UserContext, AuthError> {
    let untrusted = parse(token)?;
    let alg = Alg::from_name(untrusted.algorithm())
        .filter(|alg| accepted.contains(alg))
        .ok_or_else(|| AuthError::Invalid("algorithm not accepted".into()))?;
    let Claims { expiration, not_before, issued_at, custom, .. } = match (alg, key) {
        (Alg::Hs256, VerifyingKey::Secret(secret)) => validate(&Hs256Key::new(secret), &untrusted),
        (Alg::Es256 | Alg::Rs256, VerifyingKey::Public(key)) if key.algorithm() == alg.name() => {
            // The signed part is everything before the last dot (`parse` checked the three segments).
            let signed = token.rsplit_once('.').map_or("", |(signed, _)| signed);
            if key.verifies(signed.as_bytes(), untrusted.signature_bytes()).await {
                untrusted.deserialize_claims_unchecked::<OtherClaims>().map_err(|_| malformed_claims())
            } else {
                Err(AuthError::Invalid("bad signature".into()))
            }
        }
        _ => Err(AuthError::Invalid("algorithm does not match the key".into())),
    }?;
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

fn malformed_claims() -> AuthError {
    AuthError::Invalid("malformed claims".into())
}

/// HS256 through `jwt-compact`'s validator (the asymmetric keys check their own signatures, `auth::public_key`).
fn validate(key: &Hs256Key, untrusted: &UntrustedToken<'_, HeaderExtras>) -> Result<Claims<OtherClaims>, AuthError> {
    let token = Hs256.validator::<OtherClaims>(key).validate(untrusted).map_err(|error| match error {
        ValidationError::InvalidSignature | ValidationError::InvalidSignatureLen { .. } => {
            AuthError::Invalid("bad signature".into())
        }
        ValidationError::AlgorithmMismatch { .. } => AuthError::Invalid("algorithm does not match the key".into()),
        _ => malformed_claims(),
    })?;
    Ok(token.into_parts().1)
}

// Native only: the fixture-key signing helpers (auth::test_tokens) are not built for wasm32.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
