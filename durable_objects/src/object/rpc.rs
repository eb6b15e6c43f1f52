//! The Worker's way in: the RPC method `order`, one operation's JSON in and its reply as one string out.
//!
//! A `fetch` to the object made the Worker build a `Request` (URL, headers, body) and read the `Response`'s body as a
//! promise, and made the object convert the request and read its body as another promise. An RPC call crosses as
//! two strings. `src/js/entry.mjs` declares the class as a `DurableObject` (which the runtime requires for RPC) and
//! passes `order` through; the relays call it the same way (`crate::object_call`). The live upgrade, which carries
//! headers, still uses `fetch`.

use worker::wasm_bindgen::{prelude::wasm_bindgen, JsValue};
use worker::Result;

use super::Competition;
use crate::replies::{error, Reply};
use standings::object_error::ErrorCode;
use standings::requests::ObjectRequest;

// The crate paths as workers-rs's `#[durable_object]` gives them (worker-build builds with `WASM_BINDGEN_USE_JS_SYS`).
#[wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures,
    js_sys = ::worker::js_sys
)]
impl Competition {
    /// Runs one operation (an [`ObjectRequest`]'s JSON) and answers [`Reply::into_text`]'s string; a failure the object
    /// cannot answer (storage threw) rejects, as a `fetch` would have.
    #[wasm_bindgen(js_name = order)]
    pub async fn order(&self, order: String) -> std::result::Result<JsValue, JsValue> {
        std::panic::AssertUnwindSafe(async move {
            let reply = self.run_order(order.as_bytes()).await.map_err(JsValue::from)?;
            Ok(JsValue::from_str(&reply.into_text()))
        })
        .await
    }
}

impl Competition {
    /// Runs one operation's JSON, whichever way it came (RPC or a relay's `fetch`).
    pub(super) async fn run_order(&self, order: &[u8]) -> Result<Reply> {
        let loaded = match self.loaded() {
            Ok(loaded) => loaded,
            Err(reason) => return super::unloaded(reason),
        };
        match ObjectRequest::parse(order) {
            Ok(request) => loaded.handle(request).await,
            Err(e) => error(ErrorCode::BadRequest, format!("unknown or malformed operation: {e}")),
        }
    }
}
