//! A JSON Web Key Set (RFC 7517) as published by Supabase Auth at `/auth/v1/.well-known/jwks.json`: the public keys
//! of its asymmetric signing algorithms, by `kid`. Plain Rust; fetching and caching live in `auth::key_source`.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use super::public_key::Jwk;
pub use super::public_key::PublicKey;

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
    /// `kid`, RSA keys other than 2048, 3072 or 4096 bits) are skipped, so one odd key never disables the others; a
    /// document that is not a key set at all is an error.
    pub fn parse(document: &str) -> Result<Self, String> {
        let raw: RawSet =
            serde_json::from_slice(document.as_bytes()).map_err(|e| format!("not a JWKS document: {e}"))?;
        let keys = raw
            .keys
            .iter()
            .filter_map(|key| {
                let jwk = Jwk::deserialize(key).ok()?;
                Some((jwk.kid.clone()?, usable_key(&jwk)?))
            })
            .collect();
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

fn usable_key(jwk: &Jwk) -> Option<PublicKey> {
    if jwk.key_use.as_deref().is_some_and(|u| u != "sig") {
        return None;
    }
    let key = PublicKey::from_jwk(jwk)?;
    // A key declared for another algorithm (e.g. PS256 on an RSA key) is not used for this one.
    match jwk.alg.as_deref() {
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
