//! Signing with the test-only fixture keys of `tests/fixtures/jwt` (two RS256, two ES256), for the unit tests and
//! the end-to-end JWT tests (native builds only; never part of the deployed Worker).

use jwt_compact::alg::{Es256, Hs256, Hs256Key, Rsa, RsaPrivateKey, StrongAlg, StrongKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{Algorithm, AlgorithmExt, Claims, Header};
use serde_json::{json, Value};

/// The fixture's private keys (JWKs by kid).
pub fn private_keys() -> Value {
    serde_json::from_str(include_str!("../../tests/fixtures/jwt/private-keys.json")).expect("fixture keys are JSON")
}

/// The JWKS document publishing the public halves of the named fixture keys.
pub fn public_jwks(kids: &[&str]) -> String {
    let keys = private_keys();
    let public: Vec<Value> = kids
        .iter()
        .map(|kid| {
            let mut key = keys[*kid].clone();
            if let Some(fields) = key.as_object_mut() {
                for private in ["d", "p", "q", "dp", "dq", "qi"] {
                    fields.remove(private);
                }
            }
            key
        })
        .collect();
    json!({ "keys": public }).to_string()
}

/// An HS256 token over `claims`.
pub fn hs256(secret: &[u8], claims: Value) -> String {
    Hs256.token(&Header::empty(), &Claims::new(claims), &Hs256Key::new(secret)).expect("HS256 signing")
}

/// An HS256 token over `claims` whose header carries `fields` besides `alg` and `typ`.
pub fn hs256_with_header(secret: &[u8], fields: Value, claims: Value) -> String {
    Hs256.token(&Header::new(fields), &Claims::new(claims), &Hs256Key::new(secret)).expect("HS256 signing")
}

/// An ES256 token over `claims`, signed by fixture key `kid` and naming it.
pub fn es256(kid: &str, claims: Value) -> String {
    let keys = private_keys();
    let jwk: JsonWebKey<'_> = serde_json::from_value(keys[kid].clone()).expect("fixture JWK");
    let JsonWebKey::EllipticCurve { secret: Some(d), .. } = &jwk else { panic!("{kid} is not a private EC key") };
    let key = <<Es256 as Algorithm>::SigningKey as jwt_compact::alg::SigningKey<Es256>>::from_slice(d)
        .expect("P-256 signing key");
    Es256.token(&Header::empty().with_key_id(kid), &Claims::new(claims), &key).expect("ES256 signing")
}

/// An RS256 token over `claims`, signed by fixture key `kid` and naming it.
pub fn rs256(kid: &str, claims: Value) -> String {
    let keys = private_keys();
    let jwk: JsonWebKey<'_> = serde_json::from_value(keys[kid].clone()).expect("fixture JWK");
    let key = StrongKey::try_from(RsaPrivateKey::try_from(&jwk).expect("RSA key")).expect("2048-bit key");
    StrongAlg(Rsa::rs256()).token(&Header::empty().with_key_id(kid), &Claims::new(claims), &key).expect("RS256 signing")
}

/// Unpadded base64url, as JWT segments are written.
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with its header segment replaced (for algorithm-confusion cases).
pub fn with_header(token: &str, header: &str) -> String {
    let rest = token.split_once('.').map_or("", |(_, rest)| rest);
    format!("{}.{rest}", b64(header.as_bytes()))
}

/// A token with its payload replaced but the original signature kept (tampering).
pub fn with_payload(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], b64(claims.to_string().as_bytes()), parts.get(2).unwrap_or(&""))
}
