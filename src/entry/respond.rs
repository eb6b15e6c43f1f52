//! The runtime's `Response` for a finished reply, built in one call into JavaScript.
//!
//! Building it through workers-rs took a crossing per step: a `Headers` object, one `set` per header (a dozen on
//! every API reply: the reply's own, the security headers, the rate-limit headers, the request id), the body copied
//! into a new `Uint8Array`, a `ResponseInit` with its status and headers, then the `Response`. Here the headers
//! travel as one string of `name\nvalue\n` lines (neither may contain a line break, by HTTP's grammar) and the
//! function builds everything on the JavaScript side.

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use worker::web_sys;

use crate::http::reply::Reply;
use crate::http::security_headers::SECURITY_HEADERS;

#[wasm_bindgen(inline_js = "function apply(headers, lines) {
  const parts = lines.split('\\n');
  for (let i = 0; i + 1 < parts.length; i += 2) headers.set(parts[i], parts[i + 1]);
  return headers;
}
export function respond(status, lines, body) {
  const headers = apply(new Headers(), lines);
  return new Response(body.length === 0 ? null : body.slice(), { status, headers });
}
export function respond_streamed(status, lines, body) {
  return new Response(body, { status, headers: apply(new Headers(), lines) });
}
export function respond_upgraded(upgrade, lines) {
  if (upgrade.status !== 101 || !upgrade.webSocket) return upgrade;
  const headers = apply(new Headers(upgrade.headers), lines);
  return new Response(null, { status: 101, webSocket: upgrade.webSocket, headers });
}")]
extern "C" {
    // `catch`: a header value the runtime refuses throws, and a JavaScript exception must not unwind through Rust.
    #[wasm_bindgen(catch, js_name = respond)]
    fn respond_js(status: u16, lines: &str, body: &[u8]) -> Result<web_sys::Response, JsValue>;
    #[wasm_bindgen(catch, js_name = respond_streamed)]
    fn respond_streamed_js(
        status: u16,
        lines: &str,
        body: Option<web_sys::ReadableStream>,
    ) -> Result<web_sys::Response, JsValue>;
    #[wasm_bindgen(catch, js_name = respond_upgraded)]
    fn respond_upgraded_js(upgrade: &web_sys::Response, lines: &str) -> Result<web_sys::Response, JsValue>;
}

/// The runtime's response for `reply`, with the security headers (unless the reply sets its own) and the request id;
/// an error when the runtime refuses one of the headers.
pub fn into_response(reply: Reply, request_id: &str) -> worker::Result<web_sys::Response> {
    respond_js(reply.status, &header_lines(&reply, request_id), &reply.body).map_err(worker::Error::from)
}

/// The runtime's response for `reply`'s status and headers (as [`into_response`]) with `body` as its body: a stream
/// the runtime passes on (a stored avatar) without its bytes entering the isolate's memory.
pub fn into_streamed_response(
    reply: Reply,
    body: Option<web_sys::ReadableStream>,
    request_id: &str,
) -> worker::Result<web_sys::Response> {
    respond_streamed_js(reply.status, &header_lines(&reply, request_id), body).map_err(worker::Error::from)
}

/// A WebSocket handshake answered by an object (101, its socket and its own headers, such as the echoed
/// subprotocol), answered again with `headers`, the security headers and the request id added: a response from
/// another object's `fetch` cannot be changed in place.
pub fn with_api_headers(
    upgrade: web_sys::Response,
    headers: Vec<(String, String)>,
    request_id: &str,
) -> worker::Result<web_sys::Response> {
    let reply = Reply { status: upgrade.status(), body: Vec::new(), headers };
    respond_upgraded_js(&upgrade, &header_lines(&reply, request_id)).map_err(worker::Error::from)
}

/// The headers in the order they are set (a later line replaces an earlier one of the same name).
fn header_lines(reply: &Reply, request_id: &str) -> String {
    let mut lines = String::with_capacity(512);
    let mut line = |name: &str, value: &str| {
        // A line break would split a header in two on the JavaScript side: such a value is dropped (HTTP forbids it,
        // and the runtime's `set` would have refused it).
        if !name.contains('\n') && !value.contains('\n') {
            lines.push_str(name);
            lines.push('\n');
            lines.push_str(value);
            lines.push('\n');
        }
    };
    for (name, value) in &reply.headers {
        line(name, value);
    }
    for (name, value) in SECURITY_HEADERS {
        // A reply with its own policy (the live page) keeps it; everything else gets the API's.
        if !reply.headers.iter().any(|(set, _)| set.eq_ignore_ascii_case(name)) {
            line(name, value);
        }
    }
    line("X-Request-Id", request_id);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(lines: &str) -> Vec<(&str, &str)> {
        let parts: Vec<&str> = lines.split('\n').collect();
        parts.chunks(2).filter(|pair| pair.len() == 2).map(|pair| (pair[0], pair[1])).collect()
    }

    #[test]
    fn the_lines_carry_the_replys_headers_then_the_security_headers_then_the_request_id() {
        let reply = Reply {
            status: 200,
            body: Vec::new(),
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
        };
        let lines = header_lines(&reply, "req-1");
        let got = pairs(&lines).into_iter().map(|(n, v)| (n.to_owned(), v.to_owned()));
        let mut want = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        want.extend(SECURITY_HEADERS.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        want.push(("X-Request-Id".to_owned(), "req-1".to_owned()));
        assert_eq!(got.collect::<Vec<_>>(), want);
    }

    #[test]
    fn a_reply_with_its_own_policy_keeps_it_and_a_value_with_a_line_break_is_dropped() {
        let reply = Reply {
            status: 200,
            body: Vec::new(),
            headers: vec![
                ("content-security-policy".to_owned(), "default-src 'self'".to_owned()),
                ("X-Bad".to_owned(), "a\nb".to_owned()),
            ],
        };
        let lines = header_lines(&reply, "r");
        let got = pairs(&lines);
        let policies: Vec<_> = got.iter().filter(|(n, _)| n.eq_ignore_ascii_case("Content-Security-Policy")).collect();
        assert_eq!(policies, vec![&("content-security-policy", "default-src 'self'")]);
        assert!(!lines.contains("X-Bad"), "{lines}");
        assert_eq!(got.len(), SECURITY_HEADERS.len() + 1, "{got:?}");
    }
}
