//! What the pipeline knows about a request from its arrival, read from the runtime in one call into JavaScript.
//!
//! Read one by one, each header cost two crossings (its name in, its value out); a request needs eight of them, its
//! method and its URL before any route runs. Here one inline function returns them as one string of lines, which
//! plain Rust ([`Sent::parse`]) takes apart. The colo comes from the `cf` object, which the runtime builds anew for
//! each request that reads it; an isolate serves one colo, so it is read once per isolate.

use std::cell::OnceCell;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

use worker::web_sys;

use crate::http::incoming::Incoming;
use crate::http::request_id;
use crate::http::trace::TraceContext;
use crate::platform;

// A present value is written as `=` and the value, an absent one as nothing, so an empty header stays present.
#[wasm_bindgen(inline_js = "export function arrival(request, withColo) {
  const h = request.headers;
  const cf = withColo ? request.cf : null;
  const colo = cf !== null && typeof cf === 'object' ? cf.colo : undefined;
  const values = [request.method, request.url, h.get('x-request-id'), h.get('traceparent'),
    h.get('content-length'), h.get('transfer-encoding'), h.get('origin'), h.get('if-none-match'), h.get('access-control-request-method'),
    h.get('authorization'), typeof colo === 'string' ? colo : null, h.get('content-type'), h.get('cf-connecting-ip'),
    h.get('idempotency-key')];
  return values.map((v) => (v === null ? '' : '=' + v)).join('\\n');
}")]
extern "C" {
    // `catch`: a JavaScript exception must not unwind through Rust (none is expected from these getters).
    #[wasm_bindgen(catch, js_name = arrival)]
    fn arrival_js(request: &web_sys::Request, with_colo: bool) -> Result<String, JsValue>;
}

thread_local! {
    /// The colo this isolate serves, once a request has said (`None` inside: the runtime gives none, as under
    /// plain `workerd serve`).
    static COLO: OnceCell<Option<String>> = const { OnceCell::new() };
}

/// The isolate's colo: the first request that reads it settles it, absent or not, and later ones are told it.
fn settle(known: &OnceCell<Option<String>>, read: Option<String>) -> Option<String> {
    known.get_or_init(|| read).clone()
}

/// The method, URL, headers and colo the pipeline reads before a route runs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Sent {
    pub method: Option<String>,
    pub url: Option<String>,
    pub request_id: Option<String>,
    pub traceparent: Option<String>,
    pub content_length: Option<String>,
    pub transfer_encoding: Option<String>,
    pub origin: Option<String>,
    pub if_none_match: Option<String>,
    /// `Access-Control-Request-Method`: present only on a browser's preflight.
    pub preflight_method: Option<String>,
    pub authorization: Option<String>,
    pub colo: Option<String>,
    /// Headers a route or the limiter may ask for, answered by [`Incoming::header`] without a call of its own.
    pub content_type: Option<String>,
    pub connecting_ip: Option<String>,
    pub idempotency_key: Option<String>,
}

/// The fields in the order the inline function writes them.
const FIELDS: usize = 14;

impl Sent {
    /// Reads them from the runtime's request, the colo only while this isolate does not know it; nothing when the
    /// runtime refuses (every field then absent).
    fn read(req: &web_sys::Request) -> Self {
        let known_colo = COLO.with(|colo| colo.get().cloned());
        let mut sent = match arrival_js(req, known_colo.is_none()) {
            Ok(text) => Self::parse(&text),
            Err(error) => {
                worker::console_error!("request headers unreadable: {error:?}");
                return Self::default();
            }
        };
        sent.colo = known_colo.unwrap_or_else(|| COLO.with(|colo| settle(colo, sent.colo.take())));
        sent
    }

    /// Takes the inline function's lines apart. HTTP forbids line breaks in header values, so a count other than
    /// [`FIELDS`] cannot come from the runtime; it yields nothing rather than values under the wrong names.
    fn parse(text: &str) -> Self {
        let values: Vec<Option<String>> =
            text.split('\n').map(|line| line.strip_prefix('=').map(str::to_owned)).collect();
        let Ok(
            [method, url, request_id, traceparent, content_length, transfer_encoding, origin, if_none_match, preflight_method, authorization, colo, content_type, connecting_ip, idempotency_key],
        ) = <[Option<String>; FIELDS]>::try_from(values)
        else {
            return Self::default();
        };
        Self {
            method,
            url,
            request_id,
            traceparent,
            content_length,
            transfer_encoding,
            origin,
            if_none_match,
            preflight_method,
            authorization,
            colo,
            content_type,
            connecting_ip,
            idempotency_key,
        }
    }
}

/// What the pipeline knows about a request from its arrival, for the handler context, the log and the metrics.
pub(super) struct Arrival {
    pub request_id: String,
    pub trace: TraceContext,
    pub method: String,
    pub started: i64,
    pub colo: Option<String>,
    pub request_bytes: u64,
    pub origin: Option<String>,
    pub if_none_match: Option<String>,
    /// Whether the request is a browser's CORS preflight (an `OPTIONS` naming the method it wants to send).
    pub preflight: bool,
    /// The `Authorization` header (a bearer token, or the operator's metrics token).
    pub authorization: Option<String>,
}

impl Arrival {
    /// Reads the request once: the request the handlers get, and what the pipeline knows of it (generating the
    /// request id and trace context it did not bring).
    pub fn read(raw: web_sys::Request) -> (Incoming, Self) {
        let mut sent = Sent::read(&raw);
        let method = sent.method.take().unwrap_or_default();
        let request_bytes = sent.content_length.as_deref().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        // The body's framing and the headers a write asks for travel with the request, so reading them needs no
        // call of its own.
        let request = Incoming::new(
            raw,
            sent.url.take().unwrap_or_default(),
            vec![
                ("content-length", sent.content_length.take()),
                ("transfer-encoding", sent.transfer_encoding.take()),
                ("content-type", sent.content_type.take()),
                ("cf-connecting-ip", sent.connecting_ip.take()),
                ("idempotency-key", sent.idempotency_key.take()),
            ],
        );
        let arrival = Self {
            request_id: request_id::accept_or_generate(sent.request_id.as_deref(), platform::random_bytes()),
            trace: TraceContext::for_request(sent.traceparent.as_deref(), platform::random()),
            preflight: method == "OPTIONS" && sent.preflight_method.is_some(),
            method,
            started: platform::now_ms(),
            colo: sent.colo,
            request_bytes,
            origin: sent.origin,
            if_none_match: sent.if_none_match,
            authorization: sent.authorization,
        };
        (request, arrival)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lines_of_the_inline_function_become_named_fields() {
        let all_absent = "\n".repeat(FIELDS - 1);
        let all_absent = all_absent.as_str();
        assert_eq!(Sent::parse(all_absent), Sent::default());
        let sent = Sent::parse(
            "=OPTIONS\n=https://api.example/api/v1/x?y=1\n=abc\n\n=12\n=chunked\n=https://app.example\n=\"v1\"\n=POST\n\
             =Bearer t.k.s\n=AMS\n=application/json\n=203.0.113.7\n",
        );
        assert_eq!(
            sent,
            Sent {
                method: Some("OPTIONS".into()),
                url: Some("https://api.example/api/v1/x?y=1".into()),
                request_id: Some("abc".into()),
                traceparent: None,
                content_length: Some("12".into()),
                transfer_encoding: Some("chunked".into()),
                origin: Some("https://app.example".into()),
                if_none_match: Some("\"v1\"".into()),
                preflight_method: Some("POST".into()),
                authorization: Some("Bearer t.k.s".into()),
                colo: Some("AMS".into()),
                content_type: Some("application/json".into()),
                connecting_ip: Some("203.0.113.7".into()),
                idempotency_key: None,
            }
        );
        // An empty header is present, with an empty value.
        assert_eq!(Sent::parse(&format!("=GET\n=/\n={}", "\n".repeat(FIELDS - 3))).request_id, Some(String::new()));
    }

    #[test]
    fn the_first_read_settles_the_isolate_colo() {
        let known = OnceCell::new();
        assert_eq!(settle(&known, Some("AMS".into())), Some("AMS".into()));
        assert_eq!(settle(&known, Some("FRA".into())), Some("AMS".into()), "an isolate serves one colo");
        let none_given = OnceCell::new();
        assert_eq!(settle(&none_given, None), None);
        assert_eq!(settle(&none_given, Some("AMS".into())), None, "absent is settled too: no read per request");
    }

    #[test]
    fn a_line_count_the_runtime_cannot_send_yields_nothing() {
        let lines = |n: usize| vec!["=a"; n].join("\n");
        for text in [String::new(), lines(1), lines(FIELDS - 1), lines(FIELDS + 1)] {
            assert_eq!(Sent::parse(&text), Sent::default(), "{text:?}");
        }
    }
}
