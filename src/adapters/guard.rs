//! Runs a call to a dependency under its circuit breaker and a time budget.

use std::cell::RefCell;
use std::future::Future;

use futures_util::future::{select, Either};

use super::breaker::{BreakerConfig, BreakerState, CircuitBreaker};
use super::error::{AdapterError, Dependency};

/// One isolate's circuit breakers, one per dependency, built once from the configuration (`services::Services`) and
/// shared by its adapters. Breakers are per isolate by design: workerd runs one request at a time per isolate thread.
#[derive(Debug)]
pub struct Breakers {
    breakers: RefCell<[CircuitBreaker; Dependency::ALL.len()]>,
}

fn index(dependency: Dependency) -> usize {
    match dependency {
        Dependency::Postgrest => 0,
        Dependency::Redis => 1,
        Dependency::Jwks => 2,
        Dependency::Storage => 3,
    }
}

impl Breakers {
    /// Closed breakers with `config`'s threshold and cool-down.
    pub fn new(config: BreakerConfig) -> Self {
        Self { breakers: RefCell::new(std::array::from_fn(|_| CircuitBreaker::new(config))) }
    }

    fn with<T>(&self, dependency: Dependency, f: impl FnOnce(&mut CircuitBreaker) -> T) -> T {
        f(&mut self.breakers.borrow_mut()[index(dependency)])
    }

    /// Every breaker's state now, for `/health/detailed` and `/metrics`.
    pub fn states(&self) -> Vec<(Dependency, BreakerState)> {
        let now = clock_ms();
        Dependency::ALL.iter().map(|d| (*d, self.with(*d, |b| b.state(now)))).collect()
    }

    /// Runs `call` like [`Breakers::guarded`], except that an open breaker does not skip it: for the rare writes
    /// whose loss would leave others reading stale data (a cache invalidation after an edit). While the breaker is
    /// open the outcome is counted but does not move the breaker; its half-open probe stays the only way back.
    pub async fn insisted<T>(
        &self,
        dependency: Dependency,
        budget_ms: u64,
        call: impl Future<Output = Result<T, AdapterError>>,
    ) -> Result<T, AdapterError> {
        if self.with(dependency, |b| b.state(clock_ms())) == BreakerState::Closed {
            return self.guarded(dependency, budget_ms, call).await;
        }
        let outcome = timed(dependency, budget_ms, call).await;
        count_call(dependency, if outcome.is_ok() { "ok_while_open" } else { "error_while_open" });
        outcome
    }

    /// Runs `call` if the breaker of `dependency` allows it, fails it after `budget_ms`, and reports the outcome.
    pub async fn guarded<T>(
        &self,
        dependency: Dependency,
        budget_ms: u64,
        call: impl Future<Output = Result<T, AdapterError>>,
    ) -> Result<T, AdapterError> {
        if self.with(dependency, |b| b.try_acquire(clock_ms())).is_none() {
            count_call(dependency, "circuit_open");
            return Err(AdapterError::CircuitOpen(dependency));
        }
        let started = clock_ms();
        let outcome = timed(dependency, budget_ms, call).await;
        let label = match &outcome {
            Ok(_) => "ok",
            Err(AdapterError::Timeout(..)) => "timeout",
            Err(error) if error.counts_against_breaker() => "error",
            Err(_) => "refused",
        };
        count_call(dependency, label);
        let seconds = clock_ms().saturating_sub(started) as f64 / 1000.0;
        crate::metrics::observe(
            crate::metrics::Family::ExternalRequestDurationSeconds,
            &[("service", dependency.name())],
            seconds,
            crate::metrics::series::DURATION_BUCKETS,
        );
        match &outcome {
            Err(error) if error.counts_against_breaker() => {
                self.with(dependency, |b| b.record_failure(started, clock_ms()))
            }
            _ => self.with(dependency, CircuitBreaker::record_success),
        }
        outcome
    }
}

/// Counts one call to `dependency` in `external_requests_total` by its outcome.
fn count_call(dependency: Dependency, outcome: &str) {
    crate::metrics::add(
        crate::metrics::Family::ExternalRequestsTotal,
        &[("service", dependency.name()), ("outcome", outcome)],
        1.0,
    );
}

/// `call`'s outcome, or a timeout of `dependency` when it takes longer than `budget_ms`.
async fn timed<T>(
    dependency: Dependency,
    budget_ms: u64,
    call: impl Future<Output = Result<T, AdapterError>>,
) -> Result<T, AdapterError> {
    deadline(budget_ms, call).await.unwrap_or(Err(AdapterError::Timeout(dependency, budget_ms)))
}

/// `call`'s output, or `None` when it takes longer than `budget_ms` (a plain time limit, no breaker).
pub async fn deadline<T>(budget_ms: u64, call: impl Future<Output = T>) -> Option<T> {
    match select(Box::pin(call), Box::pin(crate::platform::sleep(budget_ms))).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(((), _)) => None,
    }
}

/// Milliseconds on the runtime's clock.
#[cfg(target_arch = "wasm32")]
pub fn clock_ms() -> u64 {
    durable_objects::clock::now_ms().max(0) as u64
}

/// Milliseconds on the system clock (native tests).
#[cfg(not(target_arch = "wasm32"))]
pub fn clock_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::task::{Context, Poll, Waker};

    /// The output of a future that finishes on its first poll (every call here answers at once).
    fn at_once<T>(future: impl Future<Output = T>) -> T {
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("the guarded call did not finish at once"),
        }
    }

    #[test]
    fn failures_open_only_their_dependencys_breaker_and_an_open_one_answers_without_calling() {
        let breakers = Breakers::new(BreakerConfig { failure_threshold: 2, open_for_ms: 60_000 });
        let calls = Cell::new(0);
        let call = |outcome: Result<(), AdapterError>| {
            let calls = &calls;
            async move {
                calls.set(calls.get() + 1);
                outcome
            }
        };
        let refused = AdapterError::Upstream {
            dependency: Dependency::Jwks,
            status: 404,
            code: "404".into(),
            message: "not served".into(),
        };
        let down = || AdapterError::Unreachable(Dependency::Jwks, "refused".into());
        let cases = [
            (Err(refused.clone()), Err(refused), BreakerState::Closed, 1),
            (Err(down()), Err(down()), BreakerState::Closed, 2),
            (Ok(()), Ok(()), BreakerState::Closed, 3),
            (Err(down()), Err(down()), BreakerState::Closed, 4),
            (Err(down()), Err(down()), BreakerState::Open, 5),
            (Ok(()), Err(AdapterError::CircuitOpen(Dependency::Jwks)), BreakerState::Open, 5),
        ];
        for (step, (outcome, answered, state, calls_made)) in cases.into_iter().enumerate() {
            assert_eq!(at_once(breakers.guarded(Dependency::Jwks, 1_000, call(outcome))), answered, "step {step}");
            let states = breakers.states();
            assert_eq!(states[index(Dependency::Jwks)], (Dependency::Jwks, state), "step {step}");
            assert_eq!(calls.get(), calls_made, "step {step}");
        }
        let others: Vec<_> = breakers.states().into_iter().filter(|(d, _)| *d != Dependency::Jwks).collect();
        assert_eq!(
            others,
            [
                (Dependency::Postgrest, BreakerState::Closed),
                (Dependency::Redis, BreakerState::Closed),
                (Dependency::Storage, BreakerState::Closed)
            ]
        );
    }

    #[test]
    fn an_insisted_call_runs_through_an_open_breaker_without_moving_it() {
        let breakers = Breakers::new(BreakerConfig { failure_threshold: 1, open_for_ms: 60_000 });
        let down = || AdapterError::Unreachable(Dependency::Redis, "refused".into());
        let calls = Cell::new(0);
        let call = |outcome: Result<(), AdapterError>| {
            let calls = &calls;
            async move {
                calls.set(calls.get() + 1);
                outcome
            }
        };
        let redis = |b: &Breakers| b.states()[index(Dependency::Redis)].1;
        // Closed: an insisted call is an ordinary guarded one, and its failure opens the breaker.
        assert_eq!(at_once(breakers.insisted(Dependency::Redis, 1_000, call(Err(down())))), Err(down()));
        assert_eq!((redis(&breakers), calls.get()), (BreakerState::Open, 1));
        // Open: a guarded call is refused without running; an insisted one runs, and neither its success nor its
        // failure closes or re-arms the breaker.
        let refused = at_once(breakers.guarded(Dependency::Redis, 1_000, call(Ok(()))));
        assert_eq!((refused, calls.get()), (Err(AdapterError::CircuitOpen(Dependency::Redis)), 1));
        assert_eq!(at_once(breakers.insisted(Dependency::Redis, 1_000, call(Ok(())))), Ok(()));
        assert_eq!(at_once(breakers.insisted(Dependency::Redis, 1_000, call(Err(down())))), Err(down()));
        assert_eq!((redis(&breakers), calls.get()), (BreakerState::Open, 3));
    }
}
