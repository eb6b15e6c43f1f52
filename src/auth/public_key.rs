//! The public keys of a key set (ES256 and RS256) and their signature check. In the Worker the runtime's WebCrypto
//! checks signatures: native code, nothing compiled into the module. `jwt-compact`'s P-256 and RSA arithmetic (with
//! `num-bigint-dig`, SHA-512 and `anyhow`'s use) was ≈ 35 KiB of the gzipped bundle (issue 15, BENCHMARKS.md), and
//! is slower in wasm than WebCrypto's. On the host `jwt-compact` checks them, so the unit tests' ES256 and RS256 rows
//! run natively; the Worker's path runs under `wasm-bindgen-test` (below) and end to end (tests/jwt.rs).
//! Both accept the same keys: public P-256 keys, and public RSA keys whose modulus is 2048, 3072 or 4096 bits
//! (`jwt-compact`'s `StrongKey`). One difference is left: a P-256 point that is not on the curve is skipped by the
//! host when the set is read, and in the Worker fails WebCrypto's import, so it verifies nothing; both refuse the
//! token (401 `invalid_token`).

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::Deserialize;

/// The members of a JWK (RFC 7517, 7518) this service reads, as their text. Read as flat optional strings (not as
/// `jwt-compact`'s tagged `JsonWebKey`, whose generated parser was a large share of the key-set code in the bundle);
/// [`PublicKey`] decodes and checks them.
#[derive(Debug, Default, Deserialize)]
pub struct Jwk {
    /// Key type: `EC` or `RSA` (others are skipped).
    pub kty: Option<String>,
    /// Key id, which tokens name in their `kid` header.
    pub kid: Option<String>,
    /// Intended use; only `sig` (or none) is used.
    #[serde(rename = "use")]
    pub key_use: Option<String>,
    /// Declared algorithm; a key declared for another algorithm is skipped.
    pub alg: Option<String>,
    /// EC curve.
    pub crv: Option<String>,
    /// EC coordinates (base64url).
    pub x: Option<String>,
    /// EC coordinates (base64url).
    pub y: Option<String>,
    /// RSA modulus (base64url).
    pub n: Option<String>,
    /// RSA public exponent (base64url).
    pub e: Option<String>,
    /// The private exponent or scalar: present only in private keys, which are not verifying keys here.
    pub d: Option<String>,
}

/// The algorithms a key set's keys serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Es256,
    Rs256,
}

impl Kind {
    fn algorithm(self) -> &'static str {
        match self {
            Kind::Es256 => "ES256",
            Kind::Rs256 => "RS256",
        }
    }
}

/// A JWK's key material, decoded, for a key this service accepts.
// The Worker only checks it (WebCrypto imports the members' text); the host builds its keys from it.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
enum Material {
    /// A P-256 point's coordinates, 32 bytes each.
    Es256 { x: Vec<u8>, y: Vec<u8> },
    /// An RSA modulus of 2048, 3072 or 4096 bits and its public exponent.
    Rs256 { n: Vec<u8>, e: Vec<u8> },
}

fn decoded(member: &Option<String>) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(member.as_deref()?).ok()
}

/// The material of a public P-256 or strong RSA key; `None` for anything else (private keys included).
fn material(jwk: &Jwk) -> Option<Material> {
    if jwk.d.is_some() {
        return None;
    }
    match (jwk.kty.as_deref()?, jwk.crv.as_deref()) {
        ("EC", Some("P-256")) => {
            let (x, y) = (decoded(&jwk.x)?, decoded(&jwk.y)?);
            (x.len() == 32 && y.len() == 32).then_some(Material::Es256 { x, y })
        }
        ("RSA", _) => {
            let (n, e) = (decoded(&jwk.n)?, decoded(&jwk.e)?);
            strong_modulus(&n).then_some(Material::Rs256 { n, e })
        }
        _ => None,
    }
}

/// Whether an RSA modulus has a length `StrongKey` accepts (2048, 3072 or 4096 significant bits).
fn strong_modulus(modulus: &[u8]) -> bool {
    let Some(first) = modulus.iter().position(|&byte| byte != 0) else { return false };
    let significant = &modulus[first..];
    let bits = significant.len() * 8 - significant[0].leading_zeros() as usize;
    matches!(bits, 2_048 | 3_072 | 4_096)
}

#[cfg(not(target_arch = "wasm32"))]
mod host {
    use jwt_compact::alg::{Es256, Rsa, RsaPublicKey, StrongAlg, StrongKey};
    use jwt_compact::jwk::JsonWebKey;
    use jwt_compact::{Algorithm, AlgorithmSignature};

    use super::{Jwk, Kind, Material};

    #[derive(Debug, Clone)]
    enum Key {
        Es256(<Es256 as Algorithm>::VerifyingKey),
        Rs256(StrongKey<RsaPublicKey>),
    }

    /// A public key of the key set, for the one algorithm it serves.
    #[derive(Debug, Clone)]
    pub struct PublicKey(Key);

    fn check<A: Algorithm>(alg: A, key: &A::VerifyingKey, signed: &[u8], signature: &[u8]) -> bool {
        match A::Signature::try_from_slice(signature) {
            Ok(signature) => alg.verify_signature(&signature, key, signed),
            Err(_) => false,
        }
    }

    impl PublicKey {
        /// The key of a JWK; `None` for a key this service does not accept.
        pub fn from_jwk(jwk: &Jwk) -> Option<Self> {
            match super::material(jwk)? {
                Material::Es256 { x, y } => {
                    // SEC1 uncompressed point: 0x04 ‖ x ‖ y.
                    let point = [&[4u8][..], &x, &y].concat();
                    let key = <<Es256 as Algorithm>::VerifyingKey as jwt_compact::alg::VerifyingKey<Es256>>::from_slice(
                        &point,
                    );
                    key.ok().map(|key| PublicKey(Key::Es256(key)))
                }
                Material::Rs256 { n, e } => {
                    let jwk = JsonWebKey::Rsa { modulus: n.into(), public_exponent: e.into(), private_parts: None };
                    let key = RsaPublicKey::try_from(&jwk).ok()?;
                    StrongKey::try_from(key).ok().map(|key| PublicKey(Key::Rs256(key)))
                }
            }
        }

        /// The JWS `alg` this key verifies.
        pub fn algorithm(&self) -> &'static str {
            match self.0 {
                Key::Es256(_) => Kind::Es256.algorithm(),
                Key::Rs256(_) => Kind::Rs256.algorithm(),
            }
        }

        /// Whether `signature` is this key's signature of `signed` under its algorithm (the same interface as the
        /// Worker's, which waits for WebCrypto).
        pub async fn verifies(&self, signed: &[u8], signature: &[u8]) -> bool {
            self.verifies_now(signed, signature)
        }

        /// [`Self::verifies`] without the future, for host code (the local PostgREST gateway's token check).
        pub fn verifies_now(&self, signed: &[u8], signature: &[u8]) -> bool {
            match &self.0 {
                Key::Es256(key) => check(Es256, key, signed, signature),
                Key::Rs256(key) => check(StrongAlg(Rsa::rs256()), key, signed, signature),
            }
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod worker_crypto {
    use std::cell::OnceCell;

    use durable_objects::promise_wait::wait;
    use js_sys::{Array, Object, Reflect};
    use wasm_bindgen::prelude::*;

    use super::{Jwk, Kind, Material};
    use crate::platform::{subtle, Subtle};

    /// A public key of the key set, for the one algorithm it serves: its JWK members, imported into WebCrypto on
    /// first use.
    #[derive(Debug, Clone)]
    pub struct PublicKey {
        kind: Kind,
        members: Vec<(&'static str, String)>,
        imported: OnceCell<JsValue>,
    }

    fn object(members: &[(&str, &str)]) -> Option<Object> {
        let object = Object::new();
        for (key, value) in members {
            Reflect::set(&object, &(*key).into(), &(*value).into()).ok()?;
        }
        Some(object)
    }

    impl PublicKey {
        /// The key of a JWK, kept as its members' text; `None` for a key this service does not accept.
        pub fn from_jwk(jwk: &Jwk) -> Option<Self> {
            let text = |name: &'static str, member: &Option<String>| Some((name, member.clone()?));
            let (kind, members) = match super::material(jwk)? {
                Material::Es256 { .. } => (
                    Kind::Es256,
                    vec![("kty", "EC".to_owned()), ("crv", "P-256".to_owned()), text("x", &jwk.x)?, text("y", &jwk.y)?],
                ),
                Material::Rs256 { .. } => {
                    (Kind::Rs256, vec![("kty", "RSA".to_owned()), text("n", &jwk.n)?, text("e", &jwk.e)?])
                }
            };
            Some(PublicKey { kind, members, imported: OnceCell::new() })
        }

        /// The JWS `alg` this key verifies.
        pub fn algorithm(&self) -> &'static str {
            self.kind.algorithm()
        }

        /// WebCrypto's name of the algorithm and its parameters, for the import and for the check.
        fn parameters(&self) -> (Option<Object>, Option<Object>) {
            match self.kind {
                Kind::Es256 => (
                    object(&[("name", "ECDSA"), ("namedCurve", "P-256")]),
                    object(&[("name", "ECDSA"), ("hash", "SHA-256")]),
                ),
                Kind::Rs256 => (
                    object(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")]),
                    object(&[("name", "RSASSA-PKCS1-v1_5")]),
                ),
            }
        }

        async fn imported(&self, subtle: &Subtle, algorithm: &Object) -> Option<JsValue> {
            if let Some(key) = self.imported.get() {
                return Some(key.clone());
            }
            let members: Vec<(&str, &str)> = self.members.iter().map(|(name, value)| (*name, value.as_str())).collect();
            let jwk = object(&members)?;
            let usages = Array::of1(&"verify".into());
            let pending = subtle.import_key("jwk", &jwk, algorithm, false, &usages).ok()?;
            let key = wait(&pending).await.ok()?;
            Some(self.imported.get_or_init(|| key).clone())
        }

        /// Whether `signature` is this key's signature of `signed` under its algorithm. A key WebCrypto refuses to
        /// import verifies nothing.
        pub async fn verifies(&self, signed: &[u8], signature: &[u8]) -> bool {
            // JWS ES256 signatures are r ‖ s, 32 bytes each (WebCrypto's format too); `jwt-compact` checks the length.
            if self.kind == Kind::Es256 && signature.len() != 64 {
                return false;
            }
            let (Some(subtle), (Some(import), Some(check))) = (subtle(), self.parameters()) else { return false };
            let Some(key) = self.imported(&subtle, &import).await else { return false };
            let Ok(pending) = subtle.verify(&check, &key, signature, signed) else { return false };
            wait(&pending).await.ok().and_then(|valid| valid.as_bool()).unwrap_or(false)
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use host::PublicKey;
#[cfg(target_arch = "wasm32")]
pub use worker_crypto::PublicKey;

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokens signed by fixture keys `rsa-1` and `ec-1` (tests/fixtures/jwt), made once with
    /// `auth::test_tokens`; their claims do not matter here, only their signatures.
    const SIGNED_BY_RSA_1: &str = include_str!("../../tests/fixtures/jwt/rs256-rsa-1.jwt");
    const SIGNED_BY_EC_1: &str = include_str!("../../tests/fixtures/jwt/es256-ec-1.jwt");

    fn fixture_keys() -> serde_json::Value {
        serde_json::from_str(include_str!("../../tests/fixtures/jwt/private-keys.json")).expect("fixture")
    }

    /// The public half of fixture key `kid`.
    fn public(kid: &str) -> serde_json::Value {
        let mut key = fixture_keys()[kid].clone();
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            key.as_object_mut().expect("a JWK").remove(private);
        }
        key
    }

    fn key(raw: &serde_json::Value) -> Option<PublicKey> {
        PublicKey::from_jwk(&serde::Deserialize::deserialize(raw).ok()?)
    }

    fn base64url(text: &str) -> Vec<u8> {
        Base64UrlUnpadded::decode_vec(text).expect("a fixture token's signature is base64url")
    }

    async fn verifies(kid: &str, signed: &str, signature: &[u8]) -> bool {
        key(&public(kid)).expect("acceptable key").verifies(signed.as_bytes(), signature).await
    }

    async fn signatures_are_checked() {
        for (token, right, other) in [(SIGNED_BY_RSA_1, "rsa-1", "rsa-2"), (SIGNED_BY_EC_1, "ec-1", "ec-2")] {
            let (signed, signature) = token.trim().rsplit_once('.').expect("three segments");
            let signature = base64url(signature);
            assert!(verifies(right, signed, &signature).await, "{right} verifies its signature");
            assert!(!verifies(other, signed, &signature).await, "{other} does not verify {right}'s");
            assert!(!verifies(right, &format!("{signed}x"), &signature).await, "{right}: a changed payload");
            let mut changed = signature.clone();
            changed[10] ^= 1;
            assert!(!verifies(right, signed, &changed).await, "{right}: a changed signature");
            assert!(!verifies(right, signed, &signature[..signature.len() - 1]).await, "{right}: a short one");
            assert!(!verifies(right, signed, &[]).await, "{right}: none");
        }
    }

    fn keys_are_accepted_by_their_kind() {
        assert_eq!(key(&public("rsa-1")).map(|k| k.algorithm()), Some("RS256"));
        assert_eq!(key(&public("ec-1")).map(|k| k.algorithm()), Some("ES256"));
        assert!(key(&fixture_keys()["rsa-1"]).is_none(), "a private RSA key is not a verifying key here");
        assert!(key(&fixture_keys()["ec-1"]).is_none(), "nor a private EC key");
        // A 1032-bit modulus (the first 129 bytes of rsa-1's).
        let mut weak = public("rsa-1");
        let n = weak["n"].as_str().expect("n").to_owned();
        weak["n"] = n[..172].into();
        assert!(key(&weak).is_none(), "a modulus under 2048 bits is refused");
        let mut zero = public("rsa-1");
        zero["n"] = "AAAA".into();
        assert!(key(&zero).is_none());
        let mut other_curve = public("ec-1");
        other_curve["crv"] = "secp256k1".into();
        assert!(key(&other_curve).is_none(), "only P-256");
        let mut short = public("ec-1");
        short["x"] = "AAAA".into();
        assert!(key(&short).is_none(), "coordinates are 32 bytes");
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn signatures_are_checked_on_the_host() {
        use futures_util::FutureExt;
        signatures_are_checked().now_or_never().expect("the host's check does not wait");
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn keys_are_accepted_by_their_kind_on_the_host() {
        keys_are_accepted_by_their_kind();
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn the_fixture_tokens_name_their_keys() {
        for (token, alg, kid) in [(SIGNED_BY_RSA_1, "RS256", "rsa-1"), (SIGNED_BY_EC_1, "ES256", "ec-1")] {
            let untrusted = jwt_compact::UntrustedToken::new(token.trim()).expect("token");
            assert_eq!(untrusted.algorithm(), alg);
            assert_eq!(untrusted.header().key_id.as_deref(), Some(kid));
        }
    }

    #[cfg(target_arch = "wasm32")]
    #[wasm_bindgen_test::wasm_bindgen_test]
    async fn signatures_are_checked_by_webcrypto() {
        signatures_are_checked().await;
    }

    #[cfg(target_arch = "wasm32")]
    #[wasm_bindgen_test::wasm_bindgen_test]
    fn keys_are_accepted_by_their_kind_in_the_worker() {
        keys_are_accepted_by_their_kind();
    }
}
