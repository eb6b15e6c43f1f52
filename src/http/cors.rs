//! Cross-origin access for web clients: an exact allowlist of origins (`CORS_ORIGINS`, none by default). Preflights
//! are answered before authentication and rate limiting; every `/api` answer to an allowed origin names it, and
//! every answer varies by `Origin` once a list is configured, so shared caches keep origins apart.

/// Methods the API serves.
const METHODS: &str = "GET, POST, PATCH, DELETE, OPTIONS";
/// Request headers a web client may send (`If-None-Match` for the pages' and competitions' ETags, which a client
/// that keeps its own copy sets itself).
const ALLOW_HEADERS: &str = "Authorization, Content-Type, Idempotency-Key, If-None-Match, X-Request-Id, traceparent";
/// Response headers a web client may read: every header `API.md` gives a client to act on, the draft's structured
/// `RateLimit` field as well as the older `RateLimit-*` trio.
const EXPOSE_HEADERS: &str = "RateLimit, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy, \
                              Retry-After, X-Request-Id, ETag, Idempotent-Replayed";
/// How long a browser may reuse a preflight answer, in seconds.
const MAX_AGE_SECS: &str = "600";

/// The allowed origins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsPolicy {
    origins: Vec<String>,
}

impl CorsPolicy {
    /// No origin allowed (the default).
    pub const NONE: CorsPolicy = CorsPolicy { origins: Vec::new() };

    /// Parses `CORS_ORIGINS`: comma-separated exact origins (`https://app.example.com`, `http://localhost:5173`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut origins = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let url = url::Url::parse(item).map_err(|e| format!("{item}: {e}"))?;
            let origin = url.origin().ascii_serialization();
            if !matches!(url.scheme(), "http" | "https") || origin != item.trim_end_matches('/') {
                return Err(format!("{item}: an origin is scheme://host[:port], without a path"));
            }
            origins.push(origin);
        }
        Ok(Self { origins })
    }

    /// Whether any origin is allowed.
    pub fn enabled(&self) -> bool {
        !self.origins.is_empty()
    }

    fn allows(&self, origin: &str) -> bool {
        self.origins.iter().any(|allowed| allowed == origin)
    }

    /// Headers of an `/api` answer to a request from `origin` (none without a configured list).
    pub fn response_headers(&self, origin: Option<&str>) -> Vec<(String, String)> {
        if !self.enabled() {
            return Vec::new();
        }
        let mut headers = vec![("Vary".to_owned(), "Origin".to_owned())];
        if let Some(origin) = origin.filter(|o| self.allows(o)) {
            headers.push(("Access-Control-Allow-Origin".to_owned(), origin.to_owned()));
            headers.push(("Access-Control-Expose-Headers".to_owned(), EXPOSE_HEADERS.to_owned()));
        }
        headers
    }

    /// Headers of the answer (204) to a preflight from `origin`: the grant when the origin is allowed, only `Vary`
    /// otherwise (the browser then refuses the request).
    pub fn preflight_headers(&self, origin: &str) -> Vec<(String, String)> {
        let mut headers = vec![("Vary".to_owned(), "Origin".to_owned())];
        if self.allows(origin) {
            headers.extend([
                ("Access-Control-Allow-Origin".to_owned(), origin.to_owned()),
                ("Access-Control-Allow-Methods".to_owned(), METHODS.to_owned()),
                ("Access-Control-Allow-Headers".to_owned(), ALLOW_HEADERS.to_owned()),
                ("Access-Control-Max-Age".to_owned(), MAX_AGE_SECS.to_owned()),
            ]);
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn origins_are_exact_and_parsed_strictly() {
        let policy = CorsPolicy::parse("https://app.example.com, http://localhost:5173").expect("valid");
        assert!(policy.allows("https://app.example.com") && policy.allows("http://localhost:5173"));
        for other in ["https://app.example.com.evil.net", "http://app.example.com", "https://example.com", "null"] {
            assert!(!policy.allows(other), "{other}");
        }
        for bad in ["app.example.com", "https://app.example.com/path", "ftp://files.example.com", "https://"] {
            assert!(CorsPolicy::parse(bad).is_err(), "{bad}");
        }
        assert!(!CorsPolicy::parse("").expect("empty").enabled());
    }

    #[test]
    fn answers_name_only_allowed_origins_and_always_vary() {
        let policy = CorsPolicy::parse("https://app.example.com").expect("valid");
        let allowed = policy.response_headers(Some("https://app.example.com"));
        assert_eq!(header(&allowed, "Access-Control-Allow-Origin"), Some("https://app.example.com"));
        assert!(header(&allowed, "Access-Control-Expose-Headers").is_some_and(|h| h.contains("RateLimit-Remaining")));
        let other = policy.response_headers(Some("https://evil.example"));
        assert_eq!((header(&other, "Vary"), header(&other, "Access-Control-Allow-Origin")), (Some("Origin"), None));
        let preflight = policy.preflight_headers("https://app.example.com");
        assert!(header(&preflight, "Access-Control-Allow-Headers").is_some_and(|h| h.contains("Idempotency-Key")));
        assert_eq!(header(&policy.preflight_headers("https://evil.example"), "Access-Control-Allow-Methods"), None);
        assert!(CorsPolicy::default().response_headers(Some("https://app.example.com")).is_empty());
    }

    #[test]
    fn a_browser_may_read_every_header_the_contract_gives_and_send_every_one_it_takes() {
        let policy = CorsPolicy::parse("https://app.example.com").expect("valid");
        let items = |value: Option<&str>| -> Vec<String> {
            value.unwrap_or_default().split(',').map(|item| item.trim().to_ascii_lowercase()).collect()
        };
        // Compared item by item: a substring test let `RateLimit` pass on `RateLimit-Limit`.
        let exposed =
            items(header(&policy.response_headers(Some("https://app.example.com")), "Access-Control-Expose-Headers"));
        for name in [
            "RateLimit",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
            "RateLimit-Policy",
            "Retry-After",
            "X-Request-Id",
            "ETag",
            crate::idempotency::REPLAYED_HEADER,
        ] {
            assert!(exposed.contains(&name.to_ascii_lowercase()), "{name} not exposed: {exposed:?}");
        }
        let allowed =
            items(header(&policy.preflight_headers("https://app.example.com"), "Access-Control-Allow-Headers"));
        for name in ["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match", "X-Request-Id", "traceparent"]
        {
            assert!(allowed.contains(&name.to_ascii_lowercase()), "{name} not allowed: {allowed:?}");
        }
    }
}
