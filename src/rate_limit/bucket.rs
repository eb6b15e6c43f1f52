//! Token-bucket arithmetic (plain Rust): the same rules the Redis script applies, used directly by the per-isolate
//! fallback and to check the script's answers in tests.

/// A bucket's settings: `burst` tokens at most, refilled at `rate_per_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Refill {
    pub burst: f64,
    pub rate_per_ms: f64,
}

/// A bucket's state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub tokens: f64,
    pub updated_ms: i64,
}

/// What taking from a bucket gave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Taken {
    /// Whole tokens granted (at most the number asked for).
    pub granted: u32,
    /// Tokens left after the grant (fractional).
    pub remaining: f64,
}

impl Bucket {
    /// A full bucket at `now_ms`.
    pub fn full(refill: Refill, now_ms: i64) -> Self {
        Self { tokens: refill.burst, updated_ms: now_ms }
    }

    /// Refills for the time elapsed since the last update, then grants up to `want` whole tokens. A clock that went
    /// backwards refills nothing (and the bucket keeps its later timestamp), so skew cannot mint tokens.
    pub fn take(&mut self, refill: Refill, now_ms: i64, want: u32) -> Taken {
        if now_ms > self.updated_ms {
            let elapsed = (now_ms - self.updated_ms) as f64;
            self.tokens = (self.tokens + elapsed * refill.rate_per_ms).min(refill.burst);
            self.updated_ms = now_ms;
        }
        let granted = (self.tokens.floor().max(0.0) as u32).min(want);
        self.tokens -= f64::from(granted);
        Taken { granted, remaining: self.tokens }
    }
}

/// Whole seconds until one token is available (≥ 1), for `Retry-After`.
pub fn retry_after_secs(refill: Refill, remaining: f64) -> u64 {
    let missing = (1.0 - remaining).max(0.0);
    ((missing / refill.rate_per_ms / 1000.0).ceil() as u64).max(1)
}

/// Whole seconds until the bucket is full again, for `RateLimit-Reset`.
pub fn reset_secs(refill: Refill, remaining: f64) -> u64 {
    let missing = (refill.burst - remaining).max(0.0);
    (missing / refill.rate_per_ms / 1000.0).ceil() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: Refill = Refill { burst: 200.0, rate_per_ms: 0.1 }; // 100/s

    #[test]
    fn burst_then_refill_then_cap() {
        let mut bucket = Bucket::full(DEFAULT, 0);
        let steps: [(i64, u32, u32, f64); 6] = [
            (0, 150, 150, 50.0),    // part of the burst
            (0, 100, 50, 0.0),      // the rest of it
            (5, 1, 0, 0.5),         // 5 ms refill half a token: nothing whole
            (10, 1, 1, 0.0),        // 10 ms: one token
            (3_000, 500, 200, 0.0), // three seconds refill caps at the burst
            (3_015, 1, 1, 0.5),     // fractional tokens accumulate
        ];
        for (i, (now, want, granted, remaining)) in steps.into_iter().enumerate() {
            let taken = bucket.take(DEFAULT, now, want);
            assert_eq!(taken.granted, granted, "step {i}");
            assert!((taken.remaining - remaining).abs() < 1e-9, "step {i}: {}", taken.remaining);
        }
    }

    #[test]
    fn a_clock_going_backwards_mints_nothing() {
        let mut bucket = Bucket { tokens: 0.0, updated_ms: 1_000 };
        assert_eq!(bucket.take(DEFAULT, 500, 1).granted, 0);
        assert_eq!(bucket.updated_ms, 1_000, "the later timestamp is kept");
        assert_eq!(bucket.take(DEFAULT, 1_010, 1).granted, 1, "refill counts from the later time");
    }

    #[test]
    fn waits_are_whole_seconds() {
        let slow = Refill { burst: 10.0, rate_per_ms: 10.0 / 60_000.0 }; // 10 per minute
        assert_eq!(retry_after_secs(slow, 0.0), 6);
        assert_eq!(retry_after_secs(DEFAULT, 0.99), 1, "never below one second");
        assert_eq!(reset_secs(DEFAULT, 0.0), 2);
        assert_eq!(reset_secs(DEFAULT, 200.0), 0);
    }
}
