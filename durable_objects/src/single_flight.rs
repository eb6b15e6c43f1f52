//! One run at a time of work that several requests may find due at once (an object's start totals or final
//! standings, `Loaded::settle_if_due`): the others wait for the run in flight to end and then look again whether
//! they still need it, instead of each asking the database again. Plain Rust; one object's requests share a thread.

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

    /// Starts a run unless one is in flight: the guard ends it (waking the waiters) when dropped, also when the run
    /// fails or is dropped half-way.
    pub fn try_start(&self) -> Option<Running<'_>> {
        if self.busy.replace(true) {
            return None;
        }
        Some(Running(self))
    }

    /// Waits until no run is in flight.
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
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    #[derive(Default)]
    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll(idle: &mut Idle<'_>, waker: &Waker) -> Poll<()> {
        Pin::new(idle).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn one_run_at_a_time_and_its_end_wakes_every_waiter() {
        let flight = SingleFlight::new();
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(Arc::clone(&counter));
        assert_eq!(poll(&mut flight.idle(), &waker), Poll::Ready(()), "nothing in flight: no wait");

        let run = flight.try_start().expect("the first starts");
        assert!(flight.try_start().is_none(), "a second waits instead");
        let (mut first, mut second) = (flight.idle(), flight.idle());
        assert_eq!(poll(&mut first, &waker), Poll::Pending);
        assert_eq!(poll(&mut second, &waker), Poll::Pending);
        assert_eq!(counter.0.load(Ordering::SeqCst), 0);

        drop(run);
        assert_eq!(counter.0.load(Ordering::SeqCst), 2, "both waiters woken");
        assert_eq!(poll(&mut first, &waker), Poll::Ready(()));
        assert_eq!(poll(&mut second, &waker), Poll::Ready(()));
        assert!(flight.try_start().is_some(), "free again once the run ended");
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
