//! The attack-token table of the auth issue, for HS256, ES256 and RS256, against the key-selection rules.

use jwt_compact::alg::{Es256, Hs256, Hs256Key, Rsa, RsaPrivateKey, StrongAlg, StrongKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{Algorithm, AlgorithmExt, Claims, Header};
use serde_json::{json, Value};

use super::*;
use crate::auth::jwks::KeySet;

const SECRET: &[u8] = b"super-secret-jwt-token-with-at-least-32-characters-long";
const USER: &str = "5f0c1d9e-8a47-4a43-9d0e-3c1f2a4b5c6d";
const RULES: ClaimRules<'static> = ClaimRules { audience: "authenticated", issuer: Some("https://issuer.test") };
const ALL: &[Alg] = &[Alg::Hs256, Alg::Es256, Alg::Rs256];

fn private_keys() -> Value {
    serde_json::from_str(include_str!("../../../tests/fixtures/jwt/private-keys.json")).expect("fixture")
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock");
    since_epoch.as_secs() as i64
}

fn payload() -> Value {
    json!({"sub": USER, "aud": "authenticated", "iss": "https://issuer.test", "role": "authenticated",
           "exp": now() + 600, "iat": now() - 5})
}

fn with(mut p: Value, key: &str, value: Value) -> Value {
    p[key] = value;
    p
}

fn hs256(secret: &[u8], p: Value) -> String {
    Hs256.token(&Header::empty(), &Claims::new(p), &Hs256Key::new(secret)).expect("sign")
}

fn es256(kid: &str, p: Value) -> String {
    let keys = private_keys();
    let d =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, keys[kid]["d"].as_str().expect("d"))
            .expect("d bytes");
    let key = <<Es256 as Algorithm>::SigningKey as jwt_compact::alg::SigningKey<Es256>>::from_slice(&d).expect("key");
    Es256.token(&Header::empty().with_key_id(kid), &Claims::new(p), &key).expect("sign")
}

fn rs256(kid: &str, p: Value) -> String {
    let keys = private_keys();
    let jwk: JsonWebKey<'_> = serde_json::from_value(keys[kid].clone()).expect("jwk");
    let key = StrongKey::try_from(RsaPrivateKey::try_from(&jwk).expect("rsa key")).expect("strong");
    StrongAlg(Rsa::rs256()).token(&Header::empty().with_key_id(kid), &Claims::new(p), &key).expect("sign")
}

fn public_set() -> KeySet {
    let keys = private_keys();
    let public: Vec<Value> = ["rsa-1", "ec-1"]
        .iter()
        .map(|kid| {
            let mut key = keys[*kid].clone();
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                key.as_object_mut().expect("object").remove(private);
            }
            key
        })
        .collect();
    KeySet::parse(&json!({ "keys": public }).to_string()).expect("set")
}

/// What the edge does: read the key need, look the key up, verify.
fn check(token: &str, accepted: &[Alg]) -> Result<UserContext, AuthError> {
    let set = public_set();
    let key = match key_need(token, accepted)? {
        KeyNeed::Secret => VerifyingKey::Secret(SECRET),
        KeyNeed::KeyId(kid) => {
            VerifyingKey::Public(set.get(&kid).ok_or_else(|| AuthError::Invalid("unknown signing key".into()))?)
        }
    };
    verify(token, key, accepted, &RULES, now())
}

fn header_swapped(token: &str, header: &str) -> String {
    let rest = token.split_once('.').expect("jwt").1;
    format!("{}.{rest}", b64(header.as_bytes()))
}

#[test]
fn valid_tokens_of_each_algorithm_pass() {
    for (name, token) in
        [("HS256", hs256(SECRET, payload())), ("ES256", es256("ec-1", payload())), ("RS256", rs256("rsa-1", payload()))]
    {
        let user = check(&token, ALL).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(user.user_id.to_string(), USER, "{name}");
    }
    let admin = check(&es256("ec-1", with(payload(), "role", json!("service_role"))), ALL).expect("admin");
    assert!(admin.is_admin());
}

#[test]
fn attack_tokens_are_refused() {
    let invalid = |m: &str| Err::<(), _>(AuthError::Invalid(m.into()));
    let rsa_public_n = private_keys()["rsa-1"]["n"].as_str().expect("n").to_owned();
    let tampered = |token: String| {
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = b64(with(payload(), "sub", json!("00000000-0000-4000-8000-000000000000")).to_string().as_bytes());
        parts.join(".")
    };
    let none_alg = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), b64(payload().to_string().as_bytes()));
    type Case = (&'static str, String, &'static [Alg], Result<(), AuthError>);
    let cases: Vec<Case> = vec![
        ("alg none", none_alg, ALL, invalid("algorithm not accepted")),
        (
            // The classic confusion: HS256 "signed" with the RSA public key; HS256 only ever uses the secret.
            "HS256 signed with the RS256 public key",
            hs256(rsa_public_n.as_bytes(), payload()),
            ALL,
            invalid("bad signature"),
        ),
        (
            "RS256 header on an ES256 key id",
            header_swapped(&es256("ec-1", payload()), r#"{"alg":"RS256","kid":"ec-1"}"#),
            ALL,
            invalid("algorithm does not match the key"),
        ),
        (
            "HS256 header naming a JWKS key",
            header_swapped(&rs256("rsa-1", payload()), r#"{"alg":"HS256","kid":"rsa-1"}"#),
            ALL,
            invalid("bad signature"),
        ),
        (
            "wrong secret",
            hs256(b"another-secret-of-at-least-32-characters!!", payload()),
            ALL,
            invalid("bad signature"),
        ),
        ("tampered HS256 payload", tampered(hs256(SECRET, payload())), ALL, invalid("bad signature")),
        ("tampered ES256 payload", tampered(es256("ec-1", payload())), ALL, invalid("bad signature")),
        ("tampered RS256 payload", tampered(rs256("rsa-1", payload())), ALL, invalid("bad signature")),
        ("signed by an unpublished key", es256("ec-2", payload()), ALL, invalid("unknown signing key")),
        ("RS256 with an unknown kid", rs256("rsa-2", payload()), ALL, invalid("unknown signing key")),
        ("expired", hs256(SECRET, with(payload(), "exp", json!(now() - 120))), ALL, Err(AuthError::Expired)),
        ("expired ES256", es256("ec-1", with(payload(), "exp", json!(now() - 120))), ALL, Err(AuthError::Expired)),
        (
            "not yet valid",
            rs256("rsa-1", with(payload(), "nbf", json!(now() + 600))),
            ALL,
            invalid("token not yet valid"),
        ),
        ("wrong aud", es256("ec-1", with(payload(), "aud", json!("anon"))), ALL, invalid("audience not accepted")),
        (
            "wrong iss",
            rs256("rsa-1", with(payload(), "iss", json!("https://evil"))),
            ALL,
            invalid("issuer not accepted"),
        ),
        ("non-UUID sub", es256("ec-1", with(payload(), "sub", json!("admin"))), ALL, invalid("sub must be a UUID")),
        ("oversized", format!("{}.{}.x", "a".repeat(MAX_TOKEN_LEN), "b"), ALL, invalid("token too large")),
        ("garbage", "not-a-jwt".into(), ALL, invalid("malformed token")),
        (
            "RS256 when only HS256 is accepted",
            rs256("rsa-1", payload()),
            &[Alg::Hs256],
            invalid("algorithm not accepted"),
        ),
        (
            "HS256 when only ES256 is accepted",
            hs256(SECRET, payload()),
            &[Alg::Es256],
            invalid("algorithm not accepted"),
        ),
        (
            "ES256 without kid",
            {
                let token = es256("ec-1", payload());
                header_swapped(&token, r#"{"alg":"ES256"}"#)
            },
            ALL,
            invalid("kid header required"),
        ),
    ];
    for (name, token, accepted, expected) in cases {
        assert_eq!(check(&token, accepted).map(drop), expected, "{name}");
    }
}
