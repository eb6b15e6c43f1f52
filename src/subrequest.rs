//! Subrequests whose answer is read whole with the runtime's `arrayBuffer()`.
//!
//! workers-rs reads a fetched body as a stream, one promise per chunk, and releases the stream's reader when it is
//! done; workerd makes that release costly. Profiled under load (`scripts/profile-load`), reading the object's and
//! Redis's replies that way took ≈ 20 % of the isolate's CPU on a score write, of which the reader's release alone
//! was ≈ 15 %. One `arrayBuffer()` promise reads the same bytes.

use worker::js_sys::{Promise, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys;

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
        worker::js_sys::Reflect::get(&self.0, &"overloaded".into()).is_ok_and(|v| v.is_truthy())
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

/// Awaits a `fetch` promise and reads the answer's body whole.
pub async fn answer(pending: Promise) -> Result<Answer, Failure> {
    whole(JsFuture::from(pending).await.map_err(Failure)?.unchecked_into()).await
}

/// Reads a response's body whole.
pub async fn whole(response: web_sys::Response) -> Result<Answer, Failure> {
    let status = response.status();
    let buffer = JsFuture::from(response.array_buffer().map_err(Failure)?).await.map_err(Failure)?;
    Ok(Answer { status, body: Uint8Array::new(&buffer).to_vec() })
}

/// Sends `request` with the global `fetch` and reads the answer whole.
pub async fn send(request: &worker::Request) -> Result<Answer, Failure> {
    let scope: web_sys::WorkerGlobalScope = worker::js_sys::global().unchecked_into();
    answer(scope.fetch_with_request(request.inner())).await
}

/// Reads an incoming request's body whole, when it declared a length (the runtime holds the body to that length).
pub async fn declared_body(request: &worker::Request) -> Result<Vec<u8>, Failure> {
    let buffer = JsFuture::from(request.inner().array_buffer().map_err(Failure)?).await.map_err(Failure)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
