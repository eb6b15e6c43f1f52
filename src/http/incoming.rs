//! The request as the Worker's handlers read it: the runtime's `Request` with the URL it arrived with (the method
//! lives in `entry::arrival::Arrival`, which the pipeline reads first).
//!
//! workers-rs's `Request::from` reads the method, the URL, the headers and the `cf` object of every request. The
//! `cf` object is built anew for each request that asks for it, and the Worker needs only its `colo`, which is the
//! same for every request an isolate serves (`entry/arrival.rs` reads it once per isolate). On `GET /health/live`
//! this measured 153.7 → 144.0 µs of CPU per request (BENCHMARKS.md, "Session 19").

use std::cell::OnceCell;

use worker::web_sys;

/// One incoming request.
pub struct Incoming {
    raw: web_sys::Request,
    url: String,
    /// Read from the runtime on first use (liveness and most reads need none).
    headers: OnceCell<worker::Headers>,
    /// Headers read with the arrival (lower-case name, value as sent), answered from here: the body's framing and
    /// those a write asks for.
    known: Vec<(&'static str, Option<String>)>,
}

impl Incoming {
    /// The runtime's request with the URL and the `known` headers read from it.
    pub fn new(raw: web_sys::Request, url: String, known: Vec<(&'static str, Option<String>)>) -> Self {
        Self { raw, url, headers: OnceCell::new(), known }
    }

    /// `Content-Length` as sent.
    pub fn content_length(&self) -> Option<&str> {
        known_value(&self.known, "content-length").and_then(Option::as_deref)
    }

    /// Whether the request sent a `Transfer-Encoding` (the body is then framed by it, not by the length).
    pub fn transfer_encoded(&self) -> bool {
        known_value(&self.known, "transfer-encoding").is_some_and(Option::is_some)
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        path_of(&self.url)
    }

    /// The whole URL, parsed (for its query).
    pub fn url(&self) -> Result<url::Url, url::ParseError> {
        url::Url::parse(&self.url)
    }

    /// The request's headers.
    pub fn headers(&self) -> &worker::Headers {
        self.headers.get_or_init(|| worker::Headers(self.raw.headers()))
    }

    /// A header's value, if present: one read with the arrival from memory, any other from the runtime.
    pub fn header(&self, name: &str) -> Option<String> {
        match known_value(&self.known, name) {
            Some(value) => value.clone(),
            None => self.headers().get(name).ok().flatten(),
        }
    }

    /// The runtime's request (its body is read through it).
    pub fn raw(&self) -> &web_sys::Request {
        &self.raw
    }
}

/// The value read with the arrival for header `name` (`Some(None)`: read, and absent), or `None` when it was not read.
fn known_value<'a>(known: &'a [(&'static str, Option<String>)], name: &str) -> Option<&'a Option<String>> {
    known.iter().find(|(known_name, _)| known_name.eq_ignore_ascii_case(name)).map(|(_, value)| value)
}

/// The path of a URL as the runtime serialises it (WHATWG: a special scheme's path is never empty, so the first `/`
/// after the host starts it, and `?` and `#` inside it are percent-encoded).
fn path_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let Some(start) = url[after_scheme..].find('/').map(|i| after_scheme + i) else { return "/" };
    let end = url[start..].find(['?', '#']).map_or(url.len(), |i| start + i);
    &url[start..end]
}

#[cfg(test)]
mod tests {
    use super::{known_value, path_of};

    #[test]
    fn a_header_read_with_the_arrival_is_answered_whatever_the_case_of_its_name() {
        let known = vec![("content-type", Some("application/json".to_owned())), ("idempotency-key", None)];
        let cases: [(&str, Option<Option<&str>>); 5] = [
            ("Content-Type", Some(Some("application/json"))),
            ("content-type", Some(Some("application/json"))),
            ("IDEMPOTENCY-KEY", Some(None)),
            ("Idempotency-Key", Some(None)),
            ("Host", None),
        ];
        for (name, expected) in cases {
            assert_eq!(known_value(&known, name).map(Option::as_deref), expected, "{name}");
        }
    }

    #[test]
    fn the_path_is_what_lies_between_the_host_and_the_query() {
        let cases = [
            ("http://127.0.0.1:8787/health/live", "/health/live"),
            ("https://api.example/api/v1/leaderboard/abc?limit=5&cursor=x", "/api/v1/leaderboard/abc"),
            ("https://api.example/a/b#frag", "/a/b"),
            ("https://api.example/", "/"),
            ("https://api.example", "/"),
            ("https://api.example?x=1", "/"),
            ("https://api.example/a%3Fb?c=d", "/a%3Fb"),
        ];
        for (url, path) in cases {
            assert_eq!(path_of(url), path, "{url}");
        }
    }
}
