//! A read started now and awaited later, so that the system of record works on the next page while the object
//! writes the current one.
//!
//! Rust futures do nothing until polled: a page's read built before the object writes the page it has would only
//! send its request once awaited, after the writing. [`ReadAhead::start`] polls the read once, which makes its
//! request (the runtime's `fetch`), then lets the runtime's event loop turn once, so the request leaves while the
//! object's synchronous writing holds the isolate. A totals pass then costs about the larger of the database's time
//! and the object's for each page, not their sum (BENCHMARKS.md, session 46).

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

/// A future polled once already, with its output when that poll finished it.
pub struct ReadAhead<'a, T> {
    future: Pin<Box<dyn Future<Output = T> + 'a>>,
    output: Option<T>,
}

impl<'a, T> ReadAhead<'a, T> {
    /// Polls `future` once (its request starts) and yields to the runtime's event loop once (the request leaves).
    pub async fn start(future: Pin<Box<dyn Future<Output = T> + 'a>>) -> ReadAhead<'a, T> {
        Self::start_then(future, worker::Delay::from(Duration::ZERO)).await
    }

    /// Polls `future` once, then awaits `turn` unless that poll finished it.
    async fn start_then(mut future: Pin<Box<dyn Future<Output = T> + 'a>>, turn: impl Future) -> ReadAhead<'a, T> {
        let output = poll_fn(|cx| {
            Poll::Ready(match future.as_mut().poll(cx) {
                Poll::Ready(output) => Some(output),
                Poll::Pending => None,
            })
        })
        .await;
        if output.is_none() {
            turn.await;
        }
        ReadAhead { future, output }
    }

    /// The future's output, awaiting the rest of it (a future is never polled again once it finished).
    pub async fn finish(self) -> T {
        match self.output {
            Some(output) => output,
            None => self.future.await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::future::{pending, ready};
    use std::pin::pin;
    use std::rc::Rc;
    use std::task::{Context, Waker};

    use super::*;

    /// Polls `future` once with a waker that does nothing.
    fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(Waker::noop()))
    }

    /// A future that counts its polls and finishes at the second.
    fn second_poll_finishes(polls: Rc<Cell<u32>>) -> Pin<Box<dyn Future<Output = u32>>> {
        Box::pin(poll_fn(move |_| {
            polls.set(polls.get() + 1);
            if polls.get() >= 2 {
                Poll::Ready(polls.get())
            } else {
                Poll::Pending
            }
        }))
    }

    #[test]
    fn starting_polls_the_read_once_then_turns_the_event_loop() {
        let polls = Rc::new(Cell::new(0));
        let turned = Rc::new(Cell::new(false));
        let turn = {
            let turned = Rc::clone(&turned);
            async move { turned.set(true) }
        };
        let mut start = pin!(ReadAhead::start_then(second_poll_finishes(Rc::clone(&polls)), turn));
        let Poll::Ready(started) = poll_once(start.as_mut()) else { panic!("starting waits only for the turn") };
        assert_eq!(polls.get(), 1, "the read was polled once: its request is made");
        assert!(turned.get(), "the event loop turned after the request was made");
        let mut finish = pin!(started.finish());
        assert_eq!(poll_once(finish.as_mut()), Poll::Ready(2), "finishing polls the rest of it");
    }

    #[test]
    fn a_read_that_finished_at_its_first_poll_is_not_polled_again() {
        let read: Pin<Box<dyn Future<Output = &str>>> = Box::pin(ready("page"));
        // A turn that never ends: starting must not wait for it when the read is done already.
        let mut start = pin!(ReadAhead::start_then(read, pending::<()>()));
        let Poll::Ready(started) = poll_once(start.as_mut()) else { panic!("a finished read needs no turn") };
        // `Ready` panics when polled twice: finishing hands over the first poll's output.
        let mut finish = pin!(started.finish());
        assert_eq!(poll_once(finish.as_mut()), Poll::Ready("page"));
    }
}
