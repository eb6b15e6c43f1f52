//! A JSON Web Key Set (RFC 7517) as published by Supabase Auth at `/auth/v1/.well-known/jwks.json`: the public keys
//! of its asymmetric signing algorithms, by `kid`. Plain Rust; fetching and caching live in `auth::key_source`.

use std::collections::HashMap;

use jwt_compact::alg::{Es256, RsaPublicKey, StrongKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::Algorithm;
use serde::Deserialize;
use serde_json::Value;

/// A P-256 public key (ES256).
pub type EcKey = <Es256 as Algorithm>::VerifyingKey;

/// A public key usable for one algorithm. The algorithm is fixed by the key itself, never by a token's header.
#[derive(Debug, Clone)]
pub enum PublicKey {
    /// ES256: ECDSA on P-256 with SHA-256.
    Es256(EcKey),
    /// RS256: RSA (≥ 2048 bits) with SHA-256 and PKCS#1 v1.5 padding.
    Rs256(StrongKey<RsaPublicKey>),
}

impl PublicKey {
    /// The JWS `alg` this key verifies.
    pub fn algorithm(&self) -> &'static str {
        match self {
            PublicKey::Es256(_) => "ES256",
            PublicKey::Rs256(_) => "RS256",
        }
    }
}

/// The usable keys of a set, by `kid`.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, PublicKey>,
}

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<Value>,
}

impl KeySet {
    /// Parses a JWKS document. Keys this service cannot use (other types or curves, encryption keys, keys without
    /// `kid`, RSA keys under 2048 bits) are skipped, so one odd key never disables the others; a document that is
    /// not a key set at all is an error.
    pub fn parse(document: &str) -> Result<Self, String> {
        let raw: RawSet = serde_json::from_str(document).map_err(|e| format!("not a JWKS document: {e}"))?;
        let keys =
            raw.keys.iter().filter_map(|jwk| Some((jwk["kid"].as_str()?.to_owned(), usable_key(jwk)?))).collect();
        Ok(Self { keys })
    }

    /// The key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<&PublicKey> {
        self.keys.get(kid)
    }

    /// How many usable keys the set has.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set has no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn usable_key(jwk: &Value) -> Option<PublicKey> {
    if jwk.get("use").and_then(Value::as_str).is_some_and(|u| u != "sig") {
        return None;
    }
    let declared = jwk.get("alg").and_then(Value::as_str);
    let parsed: JsonWebKey<'_> = serde_json::from_value(jwk.clone()).ok()?;
    let key = match &parsed {
        JsonWebKey::EllipticCurve { curve, x, y, secret: None } if curve == "P-256" => {
            if x.len() != 32 || y.len() != 32 {
                return None;
            }
            // SEC1 uncompressed point: 0x04 ‖ x ‖ y.
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(x);
            point.extend_from_slice(y);
            PublicKey::Es256(<EcKey as jwt_compact::alg::VerifyingKey<Es256>>::from_slice(&point).ok()?)
        }
        JsonWebKey::Rsa { private_parts: None, .. } => {
            let key = RsaPublicKey::try_from(&parsed).ok()?;
            PublicKey::Rs256(StrongKey::try_from(key).ok()?)
        }
        _ => return None,
    };
    // A key declared for another algorithm (e.g. PS256 on an RSA key) is not used for this one.
    match declared {
        Some(alg) if alg != key.algorithm() => None,
        _ => Some(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Public halves of the test keys in `tests/fixtures/jwt/private-keys.json`.
    fn fixture_set() -> Value {
        let private: Value =
            serde_json::from_str(include_str!("../../tests/fixtures/jwt/private-keys.json")).expect("fixture");
        let public = |name: &str, fields: &[&str]| {
            let key = &private[name];
            let mut out = serde_json::Map::new();
            for field in fields {
                out.insert((*field).to_owned(), key[*field].clone());
            }
            Value::Object(out)
        };
        serde_json::json!({"keys": [
            public("rsa-1", &["kty", "kid", "alg", "use", "n", "e"]),
            public("ec-1", &["kty", "kid", "alg", "use", "crv", "x", "y"]),
        ]})
    }

    #[test]
    fn public_keys_are_read_by_kid_with_their_algorithm() {
        let set = KeySet::parse(&fixture_set().to_string()).expect("set");
        assert_eq!(set.len(), 2);
        assert_eq!(set.get("rsa-1").map(PublicKey::algorithm), Some("RS256"));
        assert_eq!(set.get("ec-1").map(PublicKey::algorithm), Some("ES256"));
        assert!(set.get("rsa-2").is_none());
    }

    #[test]
    fn unusable_keys_are_skipped_and_bad_documents_refused() {
        let mut doc = fixture_set();
        let keys = doc["keys"].as_array_mut().expect("keys");
        let mut encryption = keys[0].clone();
        encryption["kid"] = "enc".into();
        encryption["use"] = "enc".into();
        let mut pss = keys[0].clone();
        pss["kid"] = "pss".into();
        pss["alg"] = "PS256".into();
        let mut no_kid = keys[1].clone();
        no_kid.as_object_mut().expect("object").remove("kid");
        let mut other_curve = keys[1].clone();
        other_curve["kid"] = "k1".into();
        other_curve["crv"] = "secp256k1".into();
        let symmetric = serde_json::json!({"kty": "oct", "kid": "hs", "k": "c2VjcmV0"});
        keys.extend([encryption, pss, no_kid, other_curve, symmetric]);
        let set = KeySet::parse(&doc.to_string()).expect("set");
        assert_eq!(set.len(), 2, "only rsa-1 and ec-1 are usable");

        for bad in ["", "[]", "{\"keys\": 3}", "<html>"] {
            assert!(KeySet::parse(bad).is_err(), "{bad:?}");
        }
        assert!(KeySet::parse("{\"keys\": []}").expect("empty set").is_empty());
    }
}
