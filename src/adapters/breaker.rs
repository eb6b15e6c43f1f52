//! A circuit breaker per dependency: closed → open after N consecutive failures, open → half-open after a cool-down,
//! one probe at a time while half-open; the probe's outcome closes or re-opens it (`DESIGN.md`, failure behaviour).
//! Pure logic with the clock passed in, so every transition is table-tested natively.

/// Breaker settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// How long an open breaker refuses calls before letting one probe through.
    pub open_for_ms: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self { failure_threshold: 5, open_for_ms: 30_000 }
    }
}

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    /// The name `/health/detailed` and `/metrics` show.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// A call the breaker let through: report its outcome with `record_success` / `record_failure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// A normal call while closed.
    Call,
    /// The one probe of a half-open breaker.
    Probe,
}

/// Calls that began this long apart fail on separate evidence, even while both were in flight (see `record_failure`).
pub const SEPARATE_STARTS_MS: u64 = 1_000;

/// A failure that counted: when its call began and when it was reported.
#[derive(Debug, Clone, Copy)]
struct Counted {
    started_ms: u64,
    reported_ms: u64,
}

/// The breaker of one dependency.
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    state: BreakerState,
    consecutive_failures: u32,
    /// The last failure that counted: when its call began and when it was reported.
    last_counted: Option<Counted>,
    opened_at_ms: u64,
    probe_started_ms: Option<u64>,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            state: BreakerState::Closed,
            consecutive_failures: 0,
            last_counted: None,
            opened_at_ms: 0,
            probe_started_ms: None,
        }
    }

    /// The state as of `now_ms` (an open breaker whose cool-down has passed reads as half-open).
    pub fn state(&self, now_ms: u64) -> BreakerState {
        match self.state {
            BreakerState::Open if self.cooled_down(now_ms) => BreakerState::HalfOpen,
            state => state,
        }
    }

    fn cooled_down(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.opened_at_ms) >= self.config.open_for_ms
    }

    /// Asks to make a call now; `None` means fail fast without touching the dependency.
    pub fn try_acquire(&mut self, now_ms: u64) -> Option<Permit> {
        match self.state {
            BreakerState::Closed => Some(Permit::Call),
            BreakerState::Open if self.cooled_down(now_ms) => {
                self.state = BreakerState::HalfOpen;
                self.probe_started_ms = Some(now_ms);
                Some(Permit::Probe)
            }
            BreakerState::Open => None,
            BreakerState::HalfOpen => match self.probe_started_ms {
                // A probe whose outcome never arrived (its request was cancelled) must not wedge the breaker.
                Some(started) if now_ms.saturating_sub(started) < self.config.open_for_ms => None,
                _ => {
                    self.probe_started_ms = Some(now_ms);
                    Some(Permit::Probe)
                }
            },
        }
    }

    /// The call succeeded: the breaker closes and the failure count restarts.
    pub fn record_success(&mut self) {
        self.state = BreakerState::Closed;
        self.consecutive_failures = 0;
        self.last_counted = None;
        self.probe_started_ms = None;
    }

    /// The call that began at `started_ms` failed: a failed probe, or the N-th consecutive failure, opens the breaker.
    /// Calls in flight together that fail together count once: only a call that began after the last failure counted
    /// was reported, or at least `SEPARATE_STARTS_MS` after that failure's call began, counts again. A burst of work
    /// in this isolate made its Redis calls miss their budget all at once — three rounds of 24 avatar uploads of
    /// 2 MiB under `wrangler dev` — and opened the breaker for 30 s while Redis answered in 2 ms (limits fell back to
    /// the isolate, replays went unenforced, `/metrics` answered 503): those calls began together. A dependency that
    /// hangs fails calls that began one after another, each at the end of its budget: counting only calls begun
    /// after the last report kept 64 requests in flight waiting 5 s each for 25 s (five budgets) before the database
    /// API's breaker opened; calls begun a second apart are separate evidence, so it opens after one budget and four
    /// seconds. A dependency that refuses fails the calls that follow at once, which count as before.
    pub fn record_failure(&mut self, started_ms: u64, now_ms: u64) {
        let separate = self.last_counted.is_none_or(|last| {
            started_ms >= last.reported_ms || started_ms >= last.started_ms.saturating_add(SEPARATE_STARTS_MS)
        });
        if separate {
            self.consecutive_failures = self.consecutive_failures.saturating_add(1);
            self.last_counted = Some(Counted { started_ms, reported_ms: now_ms });
        }
        let trips = match self.state {
            BreakerState::HalfOpen => true,
            BreakerState::Closed => self.consecutive_failures >= self.config.failure_threshold,
            BreakerState::Open => false,
        };
        if trips {
            self.state = BreakerState::Open;
            self.opened_at_ms = now_ms;
            self.probe_started_ms = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step of a scenario and the state expected after it.
    #[derive(Debug, Clone, Copy)]
    enum Step {
        /// Acquire at t; expect a permit or a refusal.
        Acquire(u64, Option<Permit>),
        Fail(u64),
        /// A failure of a call that began at the first time, reported at the second.
        FailStarted(u64, u64),
        Succeed,
    }
    use BreakerState::*;
    use Step::*;

    fn run(name: &str, steps: &[(Step, BreakerState, u64)]) {
        let mut breaker = CircuitBreaker::new(BreakerConfig { failure_threshold: 3, open_for_ms: 1_000 });
        for (i, (step, expected, at)) in steps.iter().enumerate() {
            match *step {
                Acquire(now, permit) => assert_eq!(breaker.try_acquire(now), permit, "{name}: step {i}"),
                Fail(now) => breaker.record_failure(now, now),
                FailStarted(started, now) => breaker.record_failure(started, now),
                Succeed => breaker.record_success(),
            }
            assert_eq!(breaker.state(*at), *expected, "{name}: state after step {i}");
        }
    }

    #[test]
    fn breaker_transitions() {
        let call = Some(Permit::Call);
        let probe = Some(Permit::Probe);
        run(
            "opens after the threshold of consecutive failures",
            &[(Fail(0), Closed, 0), (Fail(1), Closed, 1), (Fail(2), Open, 2), (Acquire(3, None), Open, 3)],
        );
        run(
            "a success in between resets the count",
            &[
                (Fail(0), Closed, 0),
                (Fail(1), Closed, 1),
                (Succeed, Closed, 1),
                (Fail(2), Closed, 2),
                (Fail(3), Closed, 3),
            ],
        );
        run(
            "half-open after the cool-down lets exactly one probe through",
            &[
                (Fail(0), Closed, 0),
                (Fail(0), Closed, 0),
                (Fail(0), Open, 0),
                (Acquire(999, None), Open, 999),
                (Acquire(1_000, probe), HalfOpen, 1_000),
                (Acquire(1_001, None), HalfOpen, 1_001),
            ],
        );
        run(
            "a successful probe closes it",
            &[
                (Fail(0), Closed, 0),
                (Fail(0), Closed, 0),
                (Fail(0), Open, 0),
                (Acquire(1_500, probe), HalfOpen, 1_500),
                (Succeed, Closed, 1_500),
                (Acquire(1_501, call), Closed, 1_501),
            ],
        );
        run(
            "a failed probe re-opens it for a whole cool-down",
            &[
                (Fail(0), Closed, 0),
                (Fail(0), Closed, 0),
                (Fail(0), Open, 0),
                (Acquire(1_000, probe), HalfOpen, 1_000),
                (Fail(1_100), Open, 1_100),
                (Acquire(2_000, None), Open, 2_000),
                (Acquire(2_100, probe), HalfOpen, 2_100),
            ],
        );
        run(
            "calls in flight together count once; the calls after them count again",
            &[
                (FailStarted(0, 300), Closed, 300),
                (FailStarted(0, 310), Closed, 310),
                (FailStarted(10, 320), Closed, 320),
                (FailStarted(299, 330), Closed, 330),
                (FailStarted(300, 560), Closed, 560),
                (FailStarted(100, 570), Closed, 570),
                (FailStarted(561, 800), Open, 800),
            ],
        );
        run(
            "a hung dependency: calls begun a second apart count apart though they were in flight together",
            &[
                (FailStarted(0, 5_000), Closed, 5_000),
                (FailStarted(500, 5_500), Closed, 5_500),
                (FailStarted(999, 5_999), Closed, 5_999),
                (FailStarted(1_000, 6_000), Closed, 6_000),
                (FailStarted(1_999, 6_999), Closed, 6_999),
                (FailStarted(2_000, 7_000), Open, 7_000),
            ],
        );
        run(
            "a success forgets the failures counted",
            &[(FailStarted(0, 300), Closed, 300), (Succeed, Closed, 300), (FailStarted(0, 400), Closed, 400)],
        );
        run(
            "a probe's failure re-opens it even if it began before the last failure counted",
            &[
                (Fail(0), Closed, 0),
                (Fail(0), Closed, 0),
                (Fail(0), Open, 0),
                (Acquire(1_000, probe), HalfOpen, 1_000),
                (FailStarted(1_000, 1_200), Open, 1_200),
            ],
        );
        run(
            "a probe that never reports is replaced after a cool-down",
            &[
                (Fail(0), Closed, 0),
                (Fail(0), Closed, 0),
                (Fail(0), Open, 0),
                (Acquire(1_000, probe), HalfOpen, 1_000),
                (Acquire(1_999, None), HalfOpen, 1_999),
                (Acquire(2_000, probe), HalfOpen, 2_000),
            ],
        );
    }

    #[test]
    fn states_have_the_names_health_and_metrics_show() {
        let cases =
            [(BreakerState::Closed, "closed"), (BreakerState::Open, "open"), (BreakerState::HalfOpen, "half_open")];
        for (state, name) in cases {
            assert_eq!(state.as_str(), name);
        }
    }

    #[test]
    fn a_failure_reported_while_open_keeps_the_cool_down() {
        let mut breaker = CircuitBreaker::new(BreakerConfig { failure_threshold: 1, open_for_ms: 100 });
        breaker.record_failure(0, 0);
        assert_eq!(breaker.state(50), BreakerState::Open);
        // A call let through before the breaker opened reports late: the cool-down still counts from 0.
        breaker.record_failure(0, 60);
        assert_eq!(breaker.state(100), BreakerState::HalfOpen);
    }

    #[test]
    fn defaults_match_the_design() {
        assert_eq!(BreakerConfig::default(), BreakerConfig { failure_threshold: 5, open_for_ms: 30_000 });
    }
}
