//! Runs a call to a dependency under its circuit breaker and a time budget. Breakers are per isolate (workerd runs
//! one request at a time per isolate thread, so a thread-local is the isolate's state).

use std::cell::RefCell;
use std::future::Future;

use futures_util::future::{select, Either};

use super::breaker::{BreakerConfig, BreakerState, CircuitBreaker};
use super::error::{AdapterError, Dependency};

thread_local! {
    static BREAKERS: RefCell<Option<[CircuitBreaker; 3]>> = const { RefCell::new(None) };
}

fn index(dependency: Dependency) -> usize {
    match dependency {
        Dependency::Postgrest => 0,
        Dependency::Redis => 1,
        Dependency::Jwks => 2,
    }
}

/// Sets the breakers' configuration (first call wins; later calls keep the breakers' state).
pub fn configure(config: BreakerConfig) {
    BREAKERS.with(|cell| {
        cell.borrow_mut().get_or_insert_with(|| std::array::from_fn(|_| CircuitBreaker::new(config)));
    });
}

fn with_breaker<T>(dependency: Dependency, f: impl FnOnce(&mut CircuitBreaker) -> T) -> T {
    BREAKERS.with(|cell| {
        let mut slot = cell.borrow_mut();
        let breakers =
            slot.get_or_insert_with(|| std::array::from_fn(|_| CircuitBreaker::new(BreakerConfig::default())));
        f(&mut breakers[index(dependency)])
    })
}

/// Every breaker's state now, for `/health/detailed` and `/metrics`.
pub fn breaker_states() -> Vec<(Dependency, BreakerState)> {
    let now = clock_ms();
    Dependency::ALL.iter().map(|d| (*d, with_breaker(*d, |b| b.state(now)))).collect()
}

/// Runs `call` if the breaker of `dependency` allows it, fails it after `budget_ms`, and reports the outcome.
pub async fn guarded<T>(
    dependency: Dependency,
    budget_ms: u64,
    call: impl Future<Output = Result<T, AdapterError>>,
) -> Result<T, AdapterError> {
    let service = dependency.name();
    if with_breaker(dependency, |b| b.try_acquire(clock_ms())).is_none() {
        crate::metrics::add(
            crate::metrics::Family::ExternalRequestsTotal,
            &[("service", service), ("outcome", "circuit_open")],
            1.0,
        );
        return Err(AdapterError::CircuitOpen(dependency));
    }
    let started = clock_ms();
    let outcome = deadline(budget_ms, call).await.unwrap_or(Err(AdapterError::Timeout(dependency, budget_ms)));
    let label = match &outcome {
        Ok(_) => "ok",
        Err(AdapterError::Timeout(..)) => "timeout",
        Err(error) if error.counts_against_breaker() => "error",
        Err(_) => "refused",
    };
    crate::metrics::add(
        crate::metrics::Family::ExternalRequestsTotal,
        &[("service", service), ("outcome", label)],
        1.0,
    );
    let seconds = clock_ms().saturating_sub(started) as f64 / 1000.0;
    crate::metrics::observe(
        crate::metrics::Family::ExternalRequestDurationSeconds,
        &[("service", service)],
        seconds,
        crate::metrics::series::DURATION_BUCKETS,
    );
    match &outcome {
        Err(error) if error.counts_against_breaker() => with_breaker(dependency, |b| b.record_failure(clock_ms())),
        _ => with_breaker(dependency, CircuitBreaker::record_success),
    }
    outcome
}

/// `call`'s output, or `None` when it takes longer than `budget_ms` (a plain time limit, no breaker).
pub async fn deadline<T>(budget_ms: u64, call: impl Future<Output = T>) -> Option<T> {
    match select(Box::pin(call), Box::pin(sleep(budget_ms))).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(((), _)) => None,
    }
}

/// Milliseconds on the runtime's clock.
#[cfg(target_arch = "wasm32")]
pub fn clock_ms() -> u64 {
    worker::Date::now().as_millis()
}

/// Milliseconds on the system clock (native tests).
#[cfg(not(target_arch = "wasm32"))]
pub fn clock_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

#[cfg(target_arch = "wasm32")]
async fn sleep(ms: u64) {
    worker::Delay::from(std::time::Duration::from_millis(ms)).await;
}

#[cfg(not(target_arch = "wasm32"))]
async fn sleep(ms: u64) {
    futures_timer::Delay::new(std::time::Duration::from_millis(ms)).await;
}
