//! Subrequests built on the runtime's own types and answered whole with its `arrayBuffer()`: the Worker's calls to
//! Redis, PostgREST, the key set and the objects, and the objects' calls to each other.
//!
//! workers-rs's `Request::new_with_init` converts its `RequestInit` (the `cf` properties' serialiser came with it,
//! 12 KB of the bundle) and then reads the method, URL, headers and `cf` back from the new request: four crossings
//! per subrequest that nothing here uses. [`request`] builds the runtime's `Request` directly.
//!
//! workers-rs reads a fetched body as a stream, one promise per chunk, and releases the stream's reader when it is
//! done; workerd makes that release costly. Profiled under load (`scripts/profile-load`), reading the object's and
//! Redis's replies that way took ≈ 20 % of the isolate's CPU on a score write, of which the reader's release alone
//! was ≈ 15 %. One `arrayBuffer()` promise reads the same bytes.

use worker::js_sys::Promise;
use worker::wasm_bindgen::{self, prelude::wasm_bindgen, JsCast, JsValue};
use worker::{web_sys, Env};

use crate::promise_wait::wait;

// The stub of a named object in one call: the binding read from `env`, the id derived from the name and the stub
// made from the id were three calls into JavaScript on every call to an object. The ids are kept by name: deriving
// one is a keyed hash of the name in the runtime, and an id (unlike a stub) belongs to no request. Measured on score
// writes, 10–20 µs less CPU per write (BENCHMARKS.md, session 26). At most 4 096 are kept (a few hundred KB); the
// whole map is dropped when full, as the names an isolate serves at once are far fewer.
#[wasm_bindgen(inline_js = "const ids = new Map();
export function object_stub(env, binding, name) {
  const namespace = env[binding];
  if (namespace === undefined || namespace === null) throw new Error('no binding ' + binding);
  const key = binding + '/' + name;
  let id = ids.get(key);
  if (id === undefined) {
    if (ids.size >= 4096) ids.clear();
    id = namespace.idFromName(name);
    ids.set(key, id);
  }
  return namespace.get(id);
}")]
extern "C" {
    #[wasm_bindgen(catch, js_name = object_stub)]
    fn object_stub_js(env: &JsValue, binding: &str, name: &str) -> Result<RawStub, JsValue>;
}

// A body's bytes copied into wasm memory in one call: `Uint8Array::to_vec` asks the view its length twice and copies
// in a third call, after a fourth built the view.
#[wasm_bindgen(inline_js = "export function bytes_of(buffer) { return new Uint8Array(buffer); }")]
extern "C" {
    #[wasm_bindgen(js_name = bytes_of)]
    fn bytes_of_js(buffer: &JsValue) -> Vec<u8>;
}

// A call's promise with a time limit: it rejects with an `Error` marked `timedOut` once `ms` have passed (`ms` 0: no
// limit). A Durable Object can stay silent for as long as its caller waits (an operation queued behind a long one, an
// isolate at full CPU), so the Worker gives its calls a budget. The timer is the runtime's, made and cleared here in
// JavaScript: `worker::Delay` crosses into JavaScript four times and makes a closure per call, on every score write.
#[wasm_bindgen(inline_js = "function within(promise, ms) {
  if (!(ms > 0)) return promise;
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error('no answer within ' + ms + ' ms');
      error.timedOut = true;
      reject(error);
    }, ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
export function order_within(stub, order, ms) { return within(stub.order(order), ms); }
export function fetch_within(stub, request, ms) { return within(stub.fetch(request), ms); }")]
extern "C" {
    #[wasm_bindgen(catch, js_name = order_within)]
    fn order_within_js(stub: &RawStub, order: &str, ms: u32) -> Result<Promise, JsValue>;
    #[wasm_bindgen(catch, js_name = fetch_within)]
    fn fetch_within_js(stub: &RawStub, request: &web_sys::Request, ms: u32) -> Result<Promise, JsValue>;
}

// The stub as the runtime gives it: workers-rs's `Stub` takes its own `Request` and reads replies as streams.
#[wasm_bindgen]
extern "C" {

    /// A Durable Object's stub, as the runtime gives it.
    pub type RawStub;
}

/// The stub of the object named `name` in the namespace bound as `binding`.
pub fn stub(env: &Env, binding: &str, name: &str) -> Result<RawStub, Failure> {
    object_stub_js(env.as_ref(), binding, name).map_err(Failure)
}

impl RawStub {
    /// Sends `request` to the object and reads its answer whole; `within_ms` bounds the wait for the response (0:
    /// unbounded).
    pub async fn call(&self, request: &web_sys::Request, within_ms: u32) -> Result<Answer, Failure> {
        whole(self.respond(request, within_ms).await?).await
    }

    /// Calls the objects' RPC method `order` (`durable_objects/src/object/rpc.rs`, `durable_objects/src/relay/rpc.rs`)
    /// with an operation's JSON; its answer's status and body.
    pub async fn order(&self, order: &str, within_ms: u32) -> Result<Answer, Failure> {
        let text = wait(&order_within_js(self, order, within_ms).map_err(Failure)?).await.map_err(Failure)?;
        let text = text.as_string().unwrap_or_default();
        let (status, body) = standings::requests::decode_reply(&text)
            .ok_or_else(|| Failure(JsValue::from_str("the object's reply has no status")))?;
        Ok(Answer { status, body: body.as_bytes().to_vec() })
    }

    /// Sends an operation's JSON (named `operation`) by RPC, or by `fetch` to an object whose code predates RPC
    /// ([`predates_rpc`]): an object adopts a new deploy's code up to minutes after its callers do, and a rollback can
    /// meet objects of either version; every version answers `fetch`. `within_ms` bounds each wait (0: unbounded).
    pub async fn send_order(&self, operation: &str, json: &str, within_ms: u32) -> Result<Answer, Failure> {
        match self.order(json, within_ms).await {
            Err(failure) if predates_rpc(&failure.message()) => {
                warn_once_of_fetch_fallback(&failure.message());
                self.post_json(operation, json, within_ms).await
            }
            answered => answered,
        }
    }

    /// Posts an operation's JSON to the object as a `fetch` to `{INTERNAL_ORIGIN}/{operation}` (the name labels the
    /// runtime's logs) and reads its answer whole: how objects call each other, and how the Worker reaches an object
    /// whose code predates [`Self::order`].
    pub async fn post_json(&self, operation: &str, json: &str, within_ms: u32) -> Result<Answer, Failure> {
        let headers = worker::Headers::new();
        headers.set("Content-Type", "application/json").map_err(|e| Failure(e.into()))?;
        let url = format!("{}/{operation}", standings::protocol::INTERNAL_ORIGIN);
        self.call(&request("POST", &url, &headers, Some(&JsValue::from_str(json)))?, within_ms).await
    }

    /// Sends `request` to the object and returns its response as it is (a WebSocket upgrade's 101 carries the
    /// socket); `within_ms` bounds the wait for it (0: unbounded).
    pub async fn respond(&self, request: &web_sys::Request, within_ms: u32) -> Result<web_sys::Response, Failure> {
        response(fetch_within_js(self, request, within_ms)).await
    }
}

/// Whether a failed RPC call is the runtime refusing RPC to an object whose class predates it (does not extend
/// `DurableObject`, or has no `order`).
pub fn predates_rpc(message: &str) -> bool {
    message.contains("does not support RPC") || message.contains("does not implement the method")
}

/// Says once per isolate that objects of the previous deploy are answered by `fetch` (expected for minutes after a
/// deploy that introduced RPC; for longer, an object is stuck on old code).
fn warn_once_of_fetch_fallback(message: &str) {
    thread_local! {
        static WARNED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if !WARNED.with(|warned| warned.replace(true)) {
        worker::console_warn!("an object refused RPC, so it is called by fetch: {message}");
    }
}

/// A request for `fetch`: `method`, `url`, `headers` and an optional body (a string or bytes as a JS value).
pub fn request(
    method: &str,
    url: &str,
    headers: &worker::Headers,
    body: Option<&JsValue>,
) -> Result<web_sys::Request, Failure> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_headers(headers.as_ref());
    if let Some(body) = body {
        init.set_body(body);
    }
    web_sys::Request::new_with_str_and_init(url, &init).map_err(Failure)
}

/// A subrequest's status and whole body.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body's bytes.
    pub body: Vec<u8>,
}

/// Why a subrequest has no answer, with the runtime's exception kept (its `overloaded` flag matters to callers).
pub struct Failure(pub JsValue);

impl Failure {
    /// The runtime's message.
    pub fn message(&self) -> String {
        self.0
            .dyn_ref::<worker::js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| self.0.as_string())
            .unwrap_or_else(|| format!("{:?}", self.0))
    }

    /// Whether the runtime flagged the failure as an overloaded Durable Object.
    pub fn overloaded(&self) -> bool {
        self.flag("overloaded")
    }

    /// Whether the runtime says the call failed on its side and may be tried again (`retryable`: the object was
    /// restarting or moving, a connection was lost). The runtime itself retries such a call that never reached the
    /// object; what is left failed after it did.
    pub fn retryable(&self) -> bool {
        self.flag("retryable")
    }

    /// Whether the call's time limit passed before the object answered (`within_ms` of [`RawStub`]'s calls).
    pub fn timed_out(&self) -> bool {
        self.flag("timedOut")
    }

    /// Whether the exception carries the property `name`, set truthy.
    fn flag(&self, name: &str) -> bool {
        worker::js_sys::Reflect::get(&self.0, &name.into()).is_ok_and(|v| v.is_truthy())
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

/// The response a `fetch` promise settles with (a stub's or the global one's).
async fn response(pending: Result<Promise, JsValue>) -> Result<web_sys::Response, Failure> {
    Ok(wait(&pending.map_err(Failure)?).await.map_err(Failure)?.unchecked_into())
}

/// Reads a response's body whole.
pub async fn whole(response: web_sys::Response) -> Result<Answer, Failure> {
    let status = response.status();
    let buffer = wait(&response.array_buffer().map_err(Failure)?).await.map_err(Failure)?;
    Ok(Answer { status, body: bytes_of_js(&buffer) })
}

/// Sends `request` with the global `fetch` and reads the answer whole.
pub async fn send(request: &web_sys::Request) -> Result<Answer, Failure> {
    whole(respond(request).await?).await
}

/// Sends `request` with the global `fetch` and returns the response (for its headers) before its body is read.
pub async fn respond(request: &web_sys::Request) -> Result<web_sys::Response, Failure> {
    let scope: web_sys::WorkerGlobalScope = worker::js_sys::global().unchecked_into();
    response(Ok(scope.fetch_with_request(request))).await
}

/// Reads an incoming request's body whole, when it declared a length (the runtime holds the body to that length).
pub async fn declared_body(request: &web_sys::Request) -> Result<Vec<u8>, Failure> {
    let buffer = wait(&request.array_buffer().map_err(Failure)?).await.map_err(Failure)?;
    Ok(bytes_of_js(&buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_from_before_rpc_is_recognised_from_the_runtime_message() {
        let older = [
            "The receiving Durable Object does not support RPC, because its class was not declared with `extends \
             DurableObject`.",
            "The RPC receiver does not implement the method \"order\".",
        ];
        for message in older {
            assert!(predates_rpc(message), "{message}");
        }
        for message in ["Durable Object is overloaded. Too many requests queued.", "Network connection lost.", ""] {
            assert!(!predates_rpc(message), "{message}");
        }
    }
}
