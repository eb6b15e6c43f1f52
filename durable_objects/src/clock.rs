//! The runtime's clock in one call into JavaScript (`Date.now()`). workers-rs's `Date::now()` builds a JS `Date` and
//! then asks it the time: two calls, made several times on every score write (`scripts/count-crossings`).

/// Milliseconds since the epoch on the runtime's clock (workerd advances it only across I/O).
pub fn now_ms() -> i64 {
    worker::js_sys::Date::now() as i64
}
