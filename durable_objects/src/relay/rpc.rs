//! The competition's way in: the RPC method `order`, one publish (or test operation) in and its reply as one string
//! out, as the Competition object answers the Worker (`crate::object::rpc`, which says why).

use worker::wasm_bindgen::{prelude::wasm_bindgen, JsValue};

use super::Relay;

// The crate paths as workers-rs's `#[durable_object]` gives them (worker-build builds with `WASM_BINDGEN_USE_JS_SYS`).
#[wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures,
    js_sys = ::worker::js_sys
)]
impl Relay {
    /// Runs one operation (a [`standings::relay::RelayRequest`]'s JSON) and answers
    /// [`crate::replies::Reply::into_text`]'s string; a failure the relay cannot answer rejects, as a `fetch` would.
    #[wasm_bindgen(js_name = order)]
    pub async fn order(&self, order: String) -> std::result::Result<JsValue, JsValue> {
        std::panic::AssertUnwindSafe(async move {
            let reply = self.run_order(order.as_bytes()).await.map_err(JsValue::from)?;
            Ok(JsValue::from_str(&reply.into_text()))
        })
        .await
    }
}
