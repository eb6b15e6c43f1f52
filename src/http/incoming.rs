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
    /// `Content-Length` as sent, read with the arrival's other headers.
    content_length: Option<String>,
    /// Whether a `Transfer-Encoding` was sent (the body is then framed by it, not by the length).
    transfer_encoded: bool,
}

impl Incoming {
    /// The runtime's request with the URL and the body's framing headers read from it.
    pub fn new(raw: web_sys::Request, url: String, content_length: Option<String>, transfer_encoded: bool) -> Self {
        Self { raw, url, headers: OnceCell::new(), content_length, transfer_encoded }
    }

    /// `Content-Length` as sent.
    pub fn content_length(&self) -> Option<&str> {
        self.content_length.as_deref()
    }

    /// Whether the request sent a `Transfer-Encoding`.
    pub fn transfer_encoded(&self) -> bool {
        self.transfer_encoded
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

    /// A header's value, if present.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers().get(name).ok().flatten()
    }

    /// The runtime's request (its body is read through it).
    pub fn raw(&self) -> &web_sys::Request {
        &self.raw
    }

    /// The body as a stream of chunks (a body without a declared length), through workers-rs's reader; `None`
    /// without a body. Only this rare path builds workers-rs's `Request`.
    pub fn stream(&self) -> Option<worker::ByteStream> {
        // `Clone::clone`: the runtime's own `clone()` would copy the request and tee its body.
        worker::Request::from(Clone::clone(&self.raw)).stream().ok()
    }
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
    use super::path_of;

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
