//! The runtime's clock and randomness: the two facts of the platform every layer needs, in a module that needs
//! nothing of the crate (so the metrics recorder and the adapters can use them without importing the request
//! context).

/// Milliseconds since the epoch from the runtime's clock.
pub fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

/// 16 random bytes from the platform's CSPRNG.
pub fn random_bytes() -> [u8; 16] {
    random()
}

/// `N` random bytes from the platform's CSPRNG.
pub fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The Workers runtime always provides crypto.getRandomValues; on failure fall back to the clock rather than
    // failing a request over an id.
    if getrandom::getrandom(&mut bytes).is_err() {
        let clock = now_ms().to_le_bytes();
        let n = N.min(clock.len());
        bytes[..n].copy_from_slice(&clock[..n]);
    }
    bytes
}

#[cfg(all(test, target_arch = "wasm32"))]
mod wasm_tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn random_bytes_come_from_the_js_crypto_source() {
        let (a, b) = (super::random_bytes(), super::random_bytes());
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 16]);
    }

    #[wasm_bindgen_test]
    fn the_clock_is_the_js_clock() {
        let now = super::now_ms();
        // After 2026-01-01 and before 2100: a real wall clock, not a zero fallback.
        assert!(now > 1_767_225_600_000 && now < 4_102_444_800_000, "{now}");
    }

    #[wasm_bindgen_test]
    fn generated_request_ids_are_fresh_uuids() {
        let a = crate::http::request_id::accept_or_generate(None, super::random_bytes());
        let b = crate::http::request_id::accept_or_generate(None, super::random_bytes());
        assert_ne!(a, b);
    }
}
