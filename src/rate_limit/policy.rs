//! Rate-limit policies: which bucket a request draws from, the settings of each, and the response headers of
//! `API.md` (`RateLimit-Limit/-Remaining/-Reset`, the IETF draft's `RateLimit-Policy` and `RateLimit`).

use super::bucket::{reset_secs, Refill};

/// One policy: `quota` requests per `window_secs`, bursting to `burst`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The name in `RateLimit-Policy` and in bucket keys.
    pub name: String,
    pub quota: u32,
    pub window_secs: u32,
    pub burst: u32,
}

impl Policy {
    /// The bucket arithmetic of this policy.
    pub fn refill(&self) -> Refill {
        Refill {
            burst: f64::from(self.burst),
            rate_per_ms: f64::from(self.quota) / f64::from(self.window_secs) / 1000.0,
        }
    }

    /// Parses `quota/window_secs[/burst]` (burst defaults to the quota).
    pub fn parse(name: &str, text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.trim().split('/').collect();
        let number = |s: &str| s.trim().parse::<u32>().ok().filter(|n| *n > 0);
        let (quota, window_secs, burst) = match parts.as_slice() {
            [q, w] => (number(q), number(w), number(q)),
            [q, w, b] => (number(q), number(w), number(b)),
            _ => (None, None, None),
        };
        match (quota, window_secs, burst) {
            (Some(quota), Some(window_secs), Some(burst)) => {
                Ok(Self { name: name.to_owned(), quota, window_secs, burst })
            }
            _ => Err(format!("{name}: expected quota/window_secs[/burst] of positive integers, got {text:?}")),
        }
    }
}

/// Every policy the Worker applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policies {
    pub default: Policy,
    /// Requests without a valid token, by client address. `None` (unless `RATE_LIMITS` names it): the contract's
    /// default bucket applies to them too, each address its own bucket, so a screen of public avatar images or a
    /// client's burst of 401s is limited like any caller's requests, not at a tenth of that.
    pub anonymous: Option<Policy>,
    pub avatar: Policy,
    pub fitness_sync: Policy,
    pub competition_create: Policy,
    /// `PATCH /api/v1/me`: a new name is announced to every board the user joined (an `update` frame to each board's
    /// sockets) and a new zone rescores them all, so one request costs what a sync does. 30 a minute, as syncs, with a
    /// burst of 60 so a settings screen's edits never meet it.
    pub profile: Policy,
    /// `service_role` tokens (administrators, back offices): their own bucket, and no per-route user limits.
    pub admin: Policy,
}

impl Default for Policies {
    fn default() -> Self {
        let policy =
            |name: &str, quota, window_secs, burst| Policy { name: name.to_owned(), quota, window_secs, burst };
        Self {
            default: policy("default", 100, 1, 200),
            anonymous: None,
            avatar: policy("avatar", 10, 60, 10),
            fitness_sync: policy("fitness_sync", 30, 60, 30),
            competition_create: policy("competition_create", 10, 60, 10),
            profile: policy("profile", 30, 60, 60),
            admin: policy("admin", 100, 1, 200),
        }
    }
}

impl Policies {
    /// The defaults with overrides from `RATE_LIMITS` (`name=quota/window[/burst],…`).
    pub fn parse(overrides: Option<&str>) -> Result<Self, String> {
        let mut policies = Self::default();
        for item in overrides.unwrap_or("").split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (name, value) =
                item.split_once('=').ok_or_else(|| format!("expected name=quota/window, got {item:?}"))?;
            if name.trim() == "anonymous" {
                policies.anonymous = Some(Policy::parse("anonymous", value)?);
                continue;
            }
            let slot = match name.trim() {
                "default" => &mut policies.default,
                "avatar" => &mut policies.avatar,
                "fitness_sync" => &mut policies.fitness_sync,
                "competition_create" => &mut policies.competition_create,
                "profile" => &mut policies.profile,
                "admin" => &mut policies.admin,
                other => return Err(format!("unknown rate-limit policy {other:?}")),
            };
            *slot = Policy::parse(name.trim(), value)?;
        }
        Ok(policies)
    }
}

/// What a request is limited by: its policy and whose bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope<'a> {
    pub policy: &'a Policy,
    /// `user:{uuid}` or `ip:{address}`.
    pub subject: String,
}

impl Scope<'_> {
    /// The Redis key of the bucket.
    pub fn key(&self) -> String {
        format!("rl:{}:{}", self.policy.name, self.subject)
    }
}

/// The headers of a decision, `remaining` tokens left.
pub fn headers(policy: &Policy, remaining: f64) -> Vec<(String, String)> {
    let left = remaining.max(0.0).floor() as u64;
    let reset = reset_secs(policy.refill(), remaining);
    vec![
        ("RateLimit-Limit".to_owned(), policy.burst.to_string()),
        ("RateLimit-Remaining".to_owned(), left.to_string()),
        ("RateLimit-Reset".to_owned(), reset.to_string()),
        ("RateLimit-Policy".to_owned(), format!("\"{}\";q={};w={}", policy.name, policy.burst, policy.window_secs)),
        ("RateLimit".to_owned(), format!("\"{}\";r={left};t={reset}", policy.name)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_renders_the_contract_headers() {
        let policies = Policies::default();
        let headers = headers(&policies.default, 150.4);
        let get = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!(get("RateLimit-Limit"), Some("200"));
        assert_eq!(get("RateLimit-Remaining"), Some("150"));
        assert_eq!(get("RateLimit-Reset"), Some("1"));
        assert_eq!(get("RateLimit-Policy"), Some("\"default\";q=200;w=1"));
        assert_eq!(get("RateLimit"), Some("\"default\";r=150;t=1"));
    }

    #[test]
    fn overrides_parse_and_mistakes_are_named() {
        let policies = Policies::parse(Some("avatar=5/60, default=50/1/80")).expect("valid");
        assert_eq!((policies.avatar.quota, policies.avatar.window_secs, policies.avatar.burst), (5, 60, 5));
        assert_eq!((policies.default.quota, policies.default.burst), (50, 80));
        for bad in ["avatar", "avatar=5", "avatar=0/60", "nope=1/1", "avatar=x/60"] {
            assert!(Policies::parse(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(Policies::parse(None).expect("defaults"), Policies::default());
    }

    #[test]
    fn anonymous_callers_share_the_default_terms_unless_configured() {
        assert_eq!(Policies::default().anonymous, None);
        let tightened = Policies::parse(Some("anonymous=10/1/20")).expect("valid");
        let anonymous = tightened.anonymous.expect("configured");
        assert_eq!((anonymous.name.as_str(), anonymous.quota, anonymous.burst), ("anonymous", 10, 20));
        assert!(Policies::parse(Some("anonymous=0/1")).is_err());
    }

    #[test]
    fn bucket_keys_separate_policies_and_subjects() {
        let policies = Policies::default();
        let scope = Scope { policy: &policies.avatar, subject: "user:u1".into() };
        assert_eq!(scope.key(), "rl:avatar:user:u1");
    }
}
