//! The RPC method `order` both object classes export: one operation's JSON in, its reply as one string out.
//!
//! A `fetch` made the caller build a `Request` (URL, headers, body) and read the `Response`'s body as a promise, and
//! made the object convert the request and read its body as another promise. An RPC call crosses as two strings.
//! `src/js/entry.mjs` declares the classes as `DurableObject`s (which the runtime requires for RPC) and passes
//! `order` through. One macro, because `#[wasm_bindgen]` exports a method of one concrete class at a time.
//!
//! The operation is polled once in the call ([`crate::ready_now`]): most finish there (a score write whose alarm is
//! already set, every read), and their string goes back as the call's value, with no promise for wasm-bindgen to
//! build and settle and none for the runtime to wait on. One that waits (on storage's alarm, a subrequest) becomes
//! a promise as before.

/// Exports `order` on `$class`, which runs the operation with its own `order_future(&self, Vec<u8>) -> impl
/// Future<Output = Result<Reply>> + 'static`; a failure the object cannot answer (storage threw) throws (or
/// rejects, after a wait), as a `fetch` would have failed.
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
            /// Runs one operation's JSON and answers [`crate::replies::Reply::into_text`]'s string: at once when the
            /// operation needs no wait, else as a promise of it.
            #[wasm_bindgen(js_name = order)]
            pub fn order(
                &self,
                order: String,
            ) -> std::result::Result<::worker::wasm_bindgen::JsValue, ::worker::wasm_bindgen::JsValue> {
                use ::worker::wasm_bindgen::JsValue;
                let answer = |reply: ::worker::Result<$crate::replies::Reply>| {
                    reply.map(|reply| JsValue::from_str(&reply.into_text())).map_err(JsValue::from)
                };
                match $crate::ready_now::poll_once(self.order_future(order.into_bytes())) {
                    $crate::ready_now::FirstPoll::Ready(reply) => answer(reply),
                    $crate::ready_now::FirstPoll::Pending(rest) => Ok(::worker::wasm_bindgen_futures::future_to_promise(
                        async move { answer(rest.await) },
                    )
                    .into()),
                }
            }
        }
    };
}

pub(crate) use export_order;
