//! One run at a time of work that several requests may find due at once (an object's start totals or final
//! standings, `Loaded::settle_if_due`): the others wait for the run in flight to end, then take their turn and look
//! again whether they still need it, instead of each asking the database at once. Plain Rust; one object's requests
//! share a thread.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Whether a run is in flight, and who waits for it to end.
#[derive(Default)]
pub struct SingleFlight {
    busy: Cell<bool>,
    waiters: RefCell<Vec<Waker>>,
}

impl SingleFlight {
    /// Nothing in flight.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a run once none is in flight: the guard ends it (waking the waiters) when dropped, also when the run
    /// fails or is dropped half-way.
    pub async fn start(&self) -> Running<'_> {
        loop {
            match self.try_start() {
                Some(running) => return running,
                None => self.idle().await,
            }
        }
    }

    /// Whether a run is in flight.
    pub fn is_busy(&self) -> bool {
        self.busy.get()
    }

    /// Starts a run unless one is in flight.
    fn try_start(&self) -> Option<Running<'_>> {
        if self.busy.replace(true) {
            return None;
        }
        Some(Running(self))
    }

    /// Waits until no run is in flight (without taking a turn).
    pub fn idle(&self) -> Idle<'_> {
        Idle(self)
    }
}

/// A run in flight; dropping it ends the run.
pub struct Running<'a>(&'a SingleFlight);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.busy.set(false);
        for waker in self.0.waiters.take() {
            waker.wake();
        }
    }
}

/// Ready once no run is in flight.
pub struct Idle<'a>(&'a SingleFlight);

impl Future for Idle<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if !self.0.busy.get() {
            return Poll::Ready(());
        }
        self.0.waiters.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counting_waker::CountingWaker;

    fn poll<F: Future>(future: &mut Pin<Box<F>>, waker: &Waker) -> Poll<F::Output> {
        future.as_mut().poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn one_run_at_a_time_and_its_end_wakes_every_waiter() {
        let flight = SingleFlight::new();
        let (counter, waker) = CountingWaker::new();
        assert!(!flight.is_busy());
        let mut first = Box::pin(flight.start());
        let Poll::Ready(run) = poll(&mut first, &waker) else { panic!("nothing in flight: no wait") };
        assert!(flight.is_busy(), "a run in flight");

        let (mut second, mut third) = (Box::pin(flight.start()), Box::pin(flight.start()));
        assert!(poll(&mut second, &waker).is_pending(), "a second waits for the run in flight");
        assert!(poll(&mut third, &waker).is_pending());
        assert_eq!(counter.wakes(), 0);

        drop(run);
        assert_eq!(counter.wakes(), 2, "both waiters woken");
        let Poll::Ready(second_run) = poll(&mut second, &waker) else { panic!("the second's turn") };
        assert!(poll(&mut third, &waker).is_pending(), "one run at a time: the third waits again");
        drop(second_run);
        assert!(poll(&mut third, &waker).is_ready(), "then its turn");
        drop(third);
        assert!(!flight.is_busy(), "every run ended");
    }

    #[test]
    fn waiting_for_the_run_in_flight_to_end_does_not_start_one() {
        let flight = SingleFlight::new();
        let (counter, waker) = CountingWaker::new();
        let mut before = Box::pin(flight.idle());
        assert!(poll(&mut before, &waker).is_ready(), "nothing in flight: no wait");
        let run = flight.try_start().expect("free");
        let mut during = Box::pin(flight.idle());
        assert!(poll(&mut during, &waker).is_pending());
        drop(run);
        assert_eq!(counter.wakes(), 1, "woken when the run ends");
        assert!(poll(&mut during, &waker).is_ready());
        assert!(!flight.is_busy(), "the wait took no turn");
    }

    #[test]
    fn a_run_that_fails_half_way_still_ends() {
        let flight = SingleFlight::new();
        let failed: Result<(), &str> = (|| {
            let _run = flight.try_start().ok_or("busy")?;
            Err("the database did not answer")
        })();
        assert!(failed.is_err());
        assert!(flight.try_start().is_some(), "the guard ended the run");
    }
}
