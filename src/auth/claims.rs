//! Claim rules of `API.md`: `sub` is a UUID, `exp` required, `nbf`/`iat` honoured, `aud` and `iss` pinned.

use serde::Deserialize;
use uuid::Uuid;

use super::{AuthError, Role, UserContext, LEEWAY_SECS};

/// `aud` may be one string or a list of strings (RFC 7519 §4.1.3).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Audience {
    /// `"aud": "authenticated"`
    One(String),
    /// `"aud": ["a", "b"]`
    Many(Vec<String>),
}

/// The claims we read, as found in the token (before any rule is applied).
#[derive(Debug, Clone, Deserialize, Default, PartialEq, Eq)]
pub struct RawClaims {
    /// Subject: the user id.
    pub sub: Option<String>,
    /// Expiry, seconds since the epoch.
    pub exp: Option<i64>,
    /// Not-before, seconds since the epoch.
    pub nbf: Option<i64>,
    /// Issued-at, seconds since the epoch.
    pub iat: Option<i64>,
    /// Audience.
    pub aud: Option<Audience>,
    /// Issuer.
    pub iss: Option<String>,
    /// Supabase role (`authenticated`, `service_role`, `anon`).
    pub role: Option<String>,
}

/// What the claims must satisfy besides the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRules<'a> {
    /// Required audience.
    pub audience: &'a str,
    /// Required issuer, when configured.
    pub issuer: Option<&'a str>,
}

/// Applies the claim rules at time `now` (seconds since the epoch) and yields the caller's identity.
pub fn check(claims: &RawClaims, rules: &ClaimRules<'_>, now: i64) -> Result<UserContext, AuthError> {
    let exp = claims.exp.ok_or_else(|| AuthError::Invalid("exp claim required".into()))?;
    if now > exp.saturating_add(LEEWAY_SECS) {
        return Err(AuthError::Expired);
    }
    if let Some(nbf) = claims.nbf {
        if now.saturating_add(LEEWAY_SECS) < nbf {
            return Err(AuthError::Invalid("token not yet valid".into()));
        }
    }
    if let Some(iat) = claims.iat {
        if now.saturating_add(LEEWAY_SECS) < iat {
            return Err(AuthError::Invalid("token issued in the future".into()));
        }
    }
    let audience_ok = match &claims.aud {
        Some(Audience::One(aud)) => aud == rules.audience,
        Some(Audience::Many(list)) => list.iter().any(|aud| aud == rules.audience),
        None => false,
    };
    if !audience_ok {
        return Err(AuthError::Invalid("audience not accepted".into()));
    }
    if let Some(issuer) = rules.issuer {
        if claims.iss.as_deref() != Some(issuer) {
            return Err(AuthError::Invalid("issuer not accepted".into()));
        }
    }
    let role = match claims.role.as_deref() {
        Some("service_role") => Role::ServiceRole,
        Some("authenticated") | None => Role::Authenticated,
        Some(_) => return Err(AuthError::Invalid("role not accepted".into())),
    };
    // Supabase's service key carries no `sub`; such an administrator is carried with the nil id, which names nobody
    // (`UserContext::names_nobody`: routes acting for the caller themself refuse it).
    let user_id = match (claims.sub.as_deref(), role) {
        (Some(sub), _) => match Uuid::try_parse(sub) {
            // The nil id is how a token without `sub` is carried; as a user's id it would be everybody's and nobody's.
            Ok(id) if id.is_nil() && role == Role::Authenticated => {
                return Err(AuthError::Invalid("sub must name a user".into()))
            }
            Ok(id) => id,
            Err(_) => return Err(AuthError::Invalid("sub must be a UUID".into())),
        },
        (None, Role::ServiceRole) => Uuid::nil(),
        (None, Role::Authenticated) => return Err(AuthError::Invalid("sub claim required".into())),
    };
    Ok(UserContext { user_id, role, expires_at: exp })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const USER: &str = "5f0c1d9e-8a47-4a43-9d0e-3c1f2a4b5c6d";

    fn valid() -> RawClaims {
        RawClaims {
            sub: Some(USER.into()),
            exp: Some(NOW + 3600),
            nbf: None,
            iat: Some(NOW - 10),
            aud: Some(Audience::One("authenticated".into())),
            iss: Some("https://proj.supabase.co/auth/v1".into()),
            role: Some("authenticated".into()),
        }
    }

    fn rules() -> ClaimRules<'static> {
        ClaimRules { audience: "authenticated", issuer: Some("https://proj.supabase.co/auth/v1") }
    }

    #[test]
    fn claim_rules_table() {
        type Case = (&'static str, fn(&mut RawClaims), Result<Role, AuthError>);
        let invalid = |m: &str| Err(AuthError::Invalid(m.into()));
        let cases: Vec<Case> = vec![
            ("valid user", |_| {}, Ok(Role::Authenticated)),
            ("service role", |c| c.role = Some("service_role".into()), Ok(Role::ServiceRole)),
            ("anon role refused", |c| c.role = Some("anon".into()), invalid("role not accepted")),
            ("missing exp", |c| c.exp = None, invalid("exp claim required")),
            ("expired beyond leeway", |c| c.exp = Some(NOW - LEEWAY_SECS - 1), Err(AuthError::Expired)),
            ("expired within leeway", |c| c.exp = Some(NOW - LEEWAY_SECS), Ok(Role::Authenticated)),
            ("nbf in future", |c| c.nbf = Some(NOW + LEEWAY_SECS + 1), invalid("token not yet valid")),
            ("nbf within leeway", |c| c.nbf = Some(NOW + LEEWAY_SECS), Ok(Role::Authenticated)),
            ("iat in future", |c| c.iat = Some(NOW + 120), invalid("token issued in the future")),
            ("wrong aud", |c| c.aud = Some(Audience::One("other".into())), invalid("audience not accepted")),
            ("missing aud", |c| c.aud = None, invalid("audience not accepted")),
            (
                "aud list containing ours",
                |c| c.aud = Some(Audience::Many(vec!["x".into(), "authenticated".into()])),
                Ok(Role::Authenticated),
            ),
            ("wrong iss", |c| c.iss = Some("https://evil".into()), invalid("issuer not accepted")),
            ("missing iss", |c| c.iss = None, invalid("issuer not accepted")),
            ("non-uuid sub", |c| c.sub = Some("admin".into()), invalid("sub must be a UUID")),
            ("missing sub", |c| c.sub = None, invalid("sub claim required")),
            ("nil sub", |c| c.sub = Some(Uuid::nil().to_string()), invalid("sub must name a user")),
            (
                "service role without sub",
                |c| {
                    c.sub = None;
                    c.role = Some("service_role".into());
                },
                Ok(Role::ServiceRole),
            ),
        ];
        for (name, mutate, expected) in cases {
            let mut claims = valid();
            mutate(&mut claims);
            let got = check(&claims, &rules(), NOW).map(|ctx| ctx.role);
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn issuer_is_not_checked_when_not_configured() {
        let mut claims = valid();
        claims.iss = None;
        let rules = ClaimRules { audience: "authenticated", issuer: None };
        assert!(check(&claims, &rules, NOW).is_ok());
    }

    #[test]
    fn the_user_id_is_the_sub() {
        let ctx = check(&valid(), &rules(), NOW).expect("valid");
        assert_eq!(ctx.user_id.to_string(), USER);
    }
}
