//! Sends one frame to every socket of an object in a single call into JavaScript. Looping in Rust crosses the
//! wasm/JS boundary twice per socket (the socket list, then `send` with the text copied into a new JS string each
//! time); at 10 000 subscribers that was most of an update's fan-out time. A socket that refuses the frame is closed
//! (its client reconnects and resumes), so one dead peer never blocks the others.

use wasm_bindgen::prelude::*;
use worker::State;

#[wasm_bindgen(inline_js = "export function broadcast(state, text) {
  let sent = 0;
  for (const ws of state.getWebSockets()) {
    try { ws.send(text); sent++; } catch (e) { try { ws.close(1011, 'send failed'); } catch (_) {} }
  }
  return sent;
}")]
extern "C" {
    #[wasm_bindgen(js_name = broadcast)]
    fn broadcast_js(state: &JsValue, text: &str) -> u32;
}

/// Sends `text` to every socket of the object; how many took it.
pub fn to_all(state: &State, text: &str) -> u64 {
    let raw: &JsValue = state.as_raw().as_ref();
    to_all_raw(raw, text)
}

/// [`to_all`] for the runtime's `DurableObjectState` itself (what a deferred send pass holds).
pub fn to_all_raw(state: &JsValue, text: &str) -> u64 {
    u64::from(broadcast_js(state, text))
}
