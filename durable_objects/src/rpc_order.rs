//! The RPC method `order` both object classes export: one operation's JSON in, its reply as one string out.
//!
//! A `fetch` made the caller build a `Request` (URL, headers, body) and read the `Response`'s body as a promise, and
//! made the object convert the request and read its body as another promise. An RPC call crosses as two strings.
//! `src/js/entry.mjs` declares the classes as `DurableObject`s (which the runtime requires for RPC) and passes
//! `order` through. One macro, because `#[wasm_bindgen]` exports a method of one concrete class at a time.

/// Exports `order` on `$class`, which runs the operation with its own `run_order(&self, &[u8]) ->
/// Result<Reply>`; a failure the object cannot answer (storage threw) rejects, as a `fetch` would have.
// Not formatted: rustfmt indents the attribute's arguments further on every run inside `macro_rules!`.
#[rustfmt::skip]
macro_rules! export_order {
    ($class:ty) => {
        // The crate paths as workers-rs's `#[durable_object]` gives them (worker-build builds with
        // `WASM_BINDGEN_USE_JS_SYS`).
        #[::worker::wasm_bindgen::prelude::wasm_bindgen(
            wasm_bindgen = ::worker::wasm_bindgen,
            wasm_bindgen_futures = ::worker::wasm_bindgen_futures,
            js_sys = ::worker::js_sys
        )]
        impl $class {
            /// Runs one operation's JSON and answers [`crate::replies::Reply::into_text`]'s string.
            #[wasm_bindgen(js_name = order)]
            pub async fn order(
                &self,
                order: String,
            ) -> std::result::Result<::worker::wasm_bindgen::JsValue, ::worker::wasm_bindgen::JsValue> {
                std::panic::AssertUnwindSafe(async move {
                    let reply =
                        self.run_order(order.as_bytes()).await.map_err(::worker::wasm_bindgen::JsValue::from)?;
                    Ok(::worker::wasm_bindgen::JsValue::from_str(&reply.into_text()))
                })
                .await
            }
        }
    };
}

pub(crate) use export_order;
