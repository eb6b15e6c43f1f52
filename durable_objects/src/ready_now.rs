//! A request's future polled in the call that made it: an answer that needs no wait (liveness, a 404, a reply from
//! isolate memory, an object's score write whose alarm is already set) goes back to the runtime at once, without a
//! promise and a turn of the microtask queue; one that must wait is handed on to the runtime's executor to finish.
//! The Worker's `fetch` (`src/entry`) and the objects' RPC method `order` (`rpc_order`) both answer this way.
//!
//! Why the first poll uses a waker of its own: a future that waits keeps a waker from an earlier poll, and not
//! every leaf replaces it when polled again (`worker::Delay` keeps the first one it saw, so an adapter's time budget
//! would never fire). The first poll's waker therefore forwards to whichever executor polls the future next.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

/// What one poll of a future gave: its output, or the future to finish elsewhere.
pub enum FirstPoll<F: Future> {
    /// The future finished in its first poll.
    Ready(F::Output),
    /// The future waits; awaiting this finishes it, and every wake reaches the executor that polls it.
    Pending(Resume<F>),
}

/// Polls `future` once, here and now.
pub fn poll_once<F: Future>(future: F) -> FirstPoll<F> {
    let forward = Arc::new(Forward::default());
    let waker = Waker::from(Arc::clone(&forward));
    let mut future = Box::pin(future);
    match future.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(output) => FirstPoll::Ready(output),
        Poll::Pending => FirstPoll::Pending(Resume { future, forward, waker }),
    }
}

/// A future that did not finish in its first poll.
pub struct Resume<F: Future> {
    future: Pin<Box<F>>,
    forward: Arc<Forward>,
    waker: Waker,
}

impl<F: Future> Future for Resume<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // Registered before the poll, so a wake during it is not lost; every poll of the inner future uses the same
        // forwarding waker, so leaves that kept the first one still reach the current executor.
        self.forward.target.register(cx.waker());
        let this = &mut *self;
        this.future.as_mut().poll(&mut Context::from_waker(&this.waker))
    }
}

/// The first poll's waker: wakes whichever executor last polled the future.
#[derive(Default)]
struct Forward {
    target: AtomicWaker,
}

impl Wake for Forward {
    fn wake(self: Arc<Self>) {
        self.target.wake();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.target.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use crate::counting_waker::CountingWaker;

    /// A leaf that, like `worker::Delay`, keeps the waker of its first poll and ignores later ones.
    struct FirstWakerOnly {
        kept: Rc<RefCell<Option<Waker>>>,
        done: Rc<Cell<bool>>,
    }

    impl Future for FirstWakerOnly {
        type Output = u32;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
            if self.done.get() {
                return Poll::Ready(7);
            }
            self.kept.borrow_mut().get_or_insert_with(|| cx.waker().clone());
            Poll::Pending
        }
    }

    #[test]
    fn a_future_that_needs_no_wait_is_answered_in_the_first_poll() {
        match poll_once(async { 3 }) {
            FirstPoll::Ready(value) => assert_eq!(value, 3),
            FirstPoll::Pending(_) => panic!("a ready future was not answered at once"),
        }
    }

    #[test]
    fn a_wake_kept_from_the_first_poll_reaches_the_executor_that_polls_later() {
        let kept = Rc::new(RefCell::new(None));
        let done = Rc::new(Cell::new(false));
        let leaf = FirstWakerOnly { kept: Rc::clone(&kept), done: Rc::clone(&done) };
        let FirstPoll::Pending(mut rest) = poll_once(async move { leaf.await + 1 }) else {
            panic!("the leaf was not ready yet")
        };
        let (executor, executor_waker) = CountingWaker::new();
        let mut cx = Context::from_waker(&executor_waker);
        assert!(Pin::new(&mut rest).poll(&mut cx).is_pending());
        assert_eq!(executor.wakes(), 0);

        // The leaf wakes the only waker it has: the first poll's. The executor must hear it.
        done.set(true);
        kept.borrow_mut().take().expect("the leaf kept a waker").wake();
        assert_eq!(executor.wakes(), 1, "the wake was lost");
        assert_eq!(Pin::new(&mut rest).poll(&mut cx), Poll::Ready(8));
    }
}
