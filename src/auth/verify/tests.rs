//! The attack-token table of the auth issue, for HS256, ES256 and RS256, against the key-selection rules.

use serde_json::{json, Value};

use super::*;
use crate::auth::jwks::KeySet;
use crate::auth::test_tokens::{
    b64, es256, hs256, hs256_with_header, private_keys, public_jwks, rs256, with_header, with_payload,
};

const SECRET: &[u8] = b"super-secret-jwt-token-with-at-least-32-characters-long";
const USER: &str = "5f0c1d9e-8a47-4a43-9d0e-3c1f2a4b5c6d";
const RULES: ClaimRules<'static> = ClaimRules { audience: "authenticated", issuer: Some("https://issuer.test") };
const ALL: &[Alg] = &[Alg::Hs256, Alg::Es256, Alg::Rs256];

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

fn public_set() -> KeySet {
    KeySet::parse(&public_jwks(&["rsa-1", "ec-1"])).expect("set")
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
    use futures_util::FutureExt;
    verify(token, key, accepted, &RULES, now()).now_or_never().expect("the host's checks do not wait")
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
    let tampered =
        |token: String| with_payload(&token, &with(payload(), "sub", json!("00000000-0000-4000-8000-000000000000")));
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
            with_header(&es256("ec-1", payload()), r#"{"alg":"RS256","kid":"ec-1"}"#),
            ALL,
            invalid("algorithm does not match the key"),
        ),
        (
            "HS256 header naming a JWKS key",
            with_header(&rs256("rsa-1", payload()), r#"{"alg":"HS256","kid":"rsa-1"}"#),
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
            // Signed with the right secret: only the critical extension refuses it.
            "a critical header extension",
            hs256_with_header(SECRET, json!({"crit": ["b64"], "b64": false}), payload()),
            ALL,
            invalid("critical header extensions not supported"),
        ),
        (
            "an empty crit list (which RFC 7515 forbids too)",
            hs256_with_header(SECRET, json!({"crit": []}), payload()),
            ALL,
            invalid("critical header extensions not supported"),
        ),
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
                with_header(&token, r#"{"alg":"ES256"}"#)
            },
            ALL,
            invalid("kid header required"),
        ),
    ];
    for (name, token, accepted, expected) in cases {
        assert_eq!(check(&token, accepted).map(drop), expected, "{name}");
    }
}
