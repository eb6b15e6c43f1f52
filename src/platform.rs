//! The runtime's clock, timers, randomness and WebCrypto: the facts of the platform every layer needs, in a module
//! that needs nothing of the crate (so the metrics recorder and the adapters can use them without importing the
//! request context).

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

// The runtime's `crypto.subtle`, with the methods the Worker calls: token signatures (`auth::public_key`).
#[wasm_bindgen]
extern "C" {
    /// The runtime's `crypto.subtle`.
    pub type Subtle;
    /// `importKey`.
    #[wasm_bindgen(method, catch, js_name = importKey)]
    pub fn import_key(
        this: &Subtle,
        format: &str,
        key: &Object,
        algorithm: &Object,
        extractable: bool,
        usages: &Array,
    ) -> Result<Promise, JsValue>;
    /// `verify`. WebCrypto copies both buffers before it returns, so views into wasm memory are safe to pass.
    #[wasm_bindgen(method, catch)]
    pub fn verify(
        this: &Subtle,
        algorithm: &Object,
        key: &JsValue,
        signature: &[u8],
        data: &[u8],
    ) -> Result<Promise, JsValue>;
}

/// The runtime's `crypto.subtle` (`None` where the global has none).
pub fn subtle() -> Option<Subtle> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    Some(Reflect::get(&crypto, &"subtle".into()).ok()?.unchecked_into())
}

/// Milliseconds since the epoch from the runtime's clock.
pub fn now_ms() -> i64 {
    durable_objects::clock::now_ms()
}

/// Resolves after `ms` milliseconds (the runtime's `setTimeout`).
#[cfg(target_arch = "wasm32")]
pub async fn sleep(ms: u64) {
    worker::Delay::from(std::time::Duration::from_millis(ms)).await;
}

/// Resolves after `ms` milliseconds (a timer thread, in native tests).
#[cfg(not(target_arch = "wasm32"))]
pub async fn sleep(ms: u64) {
    futures_timer::Delay::new(std::time::Duration::from_millis(ms)).await;
}

/// 16 random bytes from the platform's CSPRNG.
pub fn random_bytes() -> [u8; 16] {
    random()
}

/// `N` random bytes from the platform's CSPRNG, through the isolate's pool.
pub fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    let drawn = POOL.with(|pool| pool.borrow_mut().take(&mut bytes, |buffer| getrandom::getrandom(buffer).is_ok()));
    if !drawn {
        // The Workers runtime always provides crypto.getRandomValues; on failure fall back to the clock rather than
        // failing a request over an id.
        let clock = now_ms().to_le_bytes();
        let n = N.min(clock.len());
        bytes[..n].copy_from_slice(&clock[..n]);
    }
    bytes
}

/// Bytes drawn from the CSPRNG at a time. Every request needs 40 (its request id and trace context), and each call
/// into `crypto.getRandomValues` cost about 1 % of a `GET /health/live` in a profile under load: one draw now serves
/// about a hundred requests.
const POOL_BYTES: usize = 4_096;

thread_local! {
    static POOL: std::cell::RefCell<RandomPool> = std::cell::RefCell::new(RandomPool::new());
}

/// CSPRNG output drawn ahead and handed out once each, front to back. The bytes are ids (request ids, trace and
/// span ids, the metrics batches' names), never keys; they stay in this isolate's memory until used.
struct RandomPool {
    buffer: Box<[u8; POOL_BYTES]>,
    /// The first byte not handed out yet (`POOL_BYTES`: empty).
    next: usize,
}

impl RandomPool {
    fn new() -> Self {
        Self { buffer: Box::new([0; POOL_BYTES]), next: POOL_BYTES }
    }

    /// Fills `out` with unused bytes, refilling the pool with `draw` when too few are left; false (and `out`
    /// untouched) when `draw` fails.
    fn take(&mut self, out: &mut [u8], mut draw: impl FnMut(&mut [u8]) -> bool) -> bool {
        if out.len() > POOL_BYTES {
            return draw(out);
        }
        if POOL_BYTES - self.next < out.len() {
            if !draw(&mut self.buffer[..]) {
                return false;
            }
            self.next = 0;
        }
        out.copy_from_slice(&self.buffer[self.next..self.next + out.len()]);
        // Handed out once: a later request can never be given the same bytes.
        self.buffer[self.next..self.next + out.len()].fill(0);
        self.next += out.len();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that writes a running counter, so every byte it ever produced is distinct (as u32 words), and
    /// counts its calls.
    struct Counter {
        value: u32,
        calls: usize,
    }

    impl Counter {
        fn draw(&mut self, buffer: &mut [u8]) -> bool {
            self.calls += 1;
            for word in buffer.chunks_mut(4) {
                self.value += 1;
                word.copy_from_slice(&self.value.to_le_bytes()[..word.len()]);
            }
            true
        }
    }

    #[test]
    fn each_drawn_byte_is_handed_out_once_and_a_draw_serves_many_requests() {
        let mut pool = RandomPool::new();
        let mut source = Counter { value: 0, calls: 0 };
        let mut seen = std::collections::HashSet::new();
        let requests: usize = 1_000;
        for _ in 0..requests {
            let mut id = [0u8; 40];
            assert!(pool.take(&mut id, |b| source.draw(b)));
            for word in id.chunks(4) {
                assert!(seen.insert(u32::from_le_bytes(word.try_into().unwrap())), "a word was handed out twice");
            }
        }
        assert_eq!(source.calls, (requests * 40).div_ceil(POOL_BYTES / 40 * 40), "one draw per pool's worth");
    }

    #[test]
    fn a_failed_draw_hands_out_nothing_and_the_next_draw_is_tried_again() {
        let mut pool = RandomPool::new();
        let mut out = [7u8; 16];
        assert!(!pool.take(&mut out, |_| false));
        assert_eq!(out, [7u8; 16], "untouched");
        let mut source = Counter { value: 0, calls: 0 };
        assert!(pool.take(&mut out, |b| source.draw(b)));
        assert_eq!(source.calls, 1);
        assert_eq!(&out[..4], &1u32.to_le_bytes());
    }

    #[test]
    fn a_request_larger_than_the_pool_is_drawn_directly() {
        let mut pool = RandomPool::new();
        let mut source = Counter { value: 0, calls: 0 };
        let mut big = vec![0u8; POOL_BYTES + 1];
        assert!(pool.take(&mut big, |b| source.draw(b)));
        assert_eq!((source.calls, pool.next), (1, POOL_BYTES), "the pool itself is left as it was");
    }
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
