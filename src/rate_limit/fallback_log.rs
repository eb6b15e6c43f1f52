//! How often the limiter says it fell back (plain Rust). While Redis is down or its breaker open, every request
//! falls back to the isolate's bucket: a warning per request was thousands of lines a second that said the same thing
//! (13 000 in a 10-second run at 64 in flight), and their CPU slowed the isolate that was already overloaded. Each
//! fallback is counted in `rate_limit_fallbacks_total`; the log says it once per interval, with how many it left out.

/// Shortest time between two warnings of one isolate.
pub const INTERVAL_MS: i64 = 10_000;

/// When the last warning was written and how many fallbacks happened since.
#[derive(Debug, Default)]
pub struct FallbackLog {
    last_ms: Option<i64>,
    unsaid: u64,
}

impl FallbackLog {
    /// Notes a fallback at `now_ms`; `Some(n)` when a warning is due now, `n` being the fallbacks since the last
    /// warning that it did not report.
    pub fn note(&mut self, now_ms: i64) -> Option<u64> {
        match self.last_ms {
            Some(last) if now_ms - last < INTERVAL_MS => {
                self.unsaid += 1;
                None
            }
            _ => {
                self.last_ms = Some(now_ms);
                Some(std::mem::take(&mut self.unsaid))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_fallback_is_said_and_the_rest_once_an_interval_with_their_count() {
        let mut log = FallbackLog::default();
        let said: Vec<(i64, Option<u64>)> =
            [0, 1, 2, 9_999, 10_000, 10_001, 25_000].into_iter().map(|at| (at, log.note(at))).collect();
        assert_eq!(
            said,
            vec![
                (0, Some(0)),
                (1, None),
                (2, None),
                (9_999, None),
                (10_000, Some(3)),
                (10_001, None),
                (25_000, Some(1)),
            ]
        );
    }
}
