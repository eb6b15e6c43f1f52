//! How many avatar uploads one isolate holds at once. Each holds its image (up to 2 MiB) in the wasm memory of an
//! isolate limited to 128 MB, and that memory, once grown, never shrinks: without a bound, forty uploads at once took
//! it to 53 MB under `wrangler dev` (20 MB with the bound), and a few accounts at their rate limit could take an
//! isolate past its limit, which ends every request it serves. An upload beyond the bound waits, before it reads its
//! body (the body stays with the runtime meanwhile), for the uploads ahead of it, in arrival order, and after
//! `WAIT_MS` is answered 503 with `Retry-After`.
//!
//! A waiting upload looks again on its own timer rather than being woken by the upload that gives its place back:
//! a task woken from another request's handler runs in that request's context, and the runtime refuses it the I/O
//! of its own request (reading its body threw "Cannot perform I/O on behalf of a different request").

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;

use crate::error::ApiError;

/// Uploads one isolate holds at once (≤ 16 MiB of images).
pub const MAX_UPLOADS: usize = 8;
/// How long an upload waits for a place before it is refused.
pub const WAIT_MS: u64 = 10_000;
/// How often a waiting upload looks again.
pub const POLL_MS: u64 = 20;

/// The places held and the uploads waiting for one, first come first served.
#[derive(Default)]
struct Places {
    held: usize,
    waiting: VecDeque<u64>,
    tickets: u64,
}

impl Places {
    /// A place for the upload holding `ticket` (none yet: it just came), if one is free and nobody waits ahead of
    /// it; otherwise it keeps (or takes) its place in the queue.
    fn try_take(&mut self, ticket: &mut Option<u64>) -> Option<Place> {
        let first = match ticket {
            None => self.waiting.is_empty(),
            Some(ticket) => self.waiting.front() == Some(ticket),
        };
        if first && self.held < MAX_UPLOADS {
            if ticket.take().is_some() {
                self.waiting.pop_front();
            }
            self.held += 1;
            return Some(Place(()));
        }
        if ticket.is_none() {
            self.tickets += 1;
            self.waiting.push_back(self.tickets);
            *ticket = Some(self.tickets);
        }
        None
    }
}

thread_local! {
    static PLACES: RefCell<Places> = RefCell::new(Places::default());
}

/// One upload's place; given back when dropped, however the upload ends.
#[derive(Debug)]
pub struct Place(());

impl Drop for Place {
    fn drop(&mut self) {
        PLACES.with(|places| {
            let mut places = places.borrow_mut();
            places.held = places.held.saturating_sub(1);
        });
    }
}

/// An upload's ticket in the queue, which it leaves when dropped (its place taken, its time run out, or the request
/// gone).
struct Queued(Option<u64>);

impl Drop for Queued {
    fn drop(&mut self) {
        if let Some(ticket) = self.0 {
            PLACES.with(|places| places.borrow_mut().waiting.retain(|waiting| *waiting != ticket));
        }
    }
}

/// A place for one more upload, looking again every `POLL_MS` (`sleep`) for at most `WAIT_MS`; then 503
/// `dependency_unavailable` with `Retry-After`.
pub async fn take_with<F: Future<Output = ()>>(mut sleep: impl FnMut(u64) -> F) -> Result<Place, ApiError> {
    let mut queued = Queued(None);
    let mut waited = 0;
    loop {
        if let Some(place) = PLACES.with(|places| places.borrow_mut().try_take(&mut queued.0)) {
            return Ok(place);
        }
        if waited >= WAIT_MS {
            return Err(ApiError::DependencyUnavailable {
                dependency: "avatar uploads (this server is busy)".to_owned(),
                retry_after_secs: Some(1),
                cause: format!("{MAX_UPLOADS} uploads in flight for {WAIT_MS} ms"),
            });
        }
        sleep(POLL_MS).await;
        waited += POLL_MS;
    }
}

/// A place for one more upload, on the runtime's timers.
pub async fn take() -> Result<Place, ApiError> {
    take_with(crate::platform::sleep).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};

    fn poll<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
        Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
    }

    /// A sleep that never ends: the upload stays where it is until polled again after a place is given back.
    fn forever(_ms: u64) -> std::future::Pending<()> {
        std::future::pending()
    }

    fn held_and_waiting() -> (usize, usize) {
        PLACES.with(|places| (places.borrow().held, places.borrow().waiting.len()))
    }

    #[test]
    fn uploads_beyond_the_bound_wait_their_turn_in_arrival_order() {
        let mut held: Vec<Place> = (0..MAX_UPLOADS)
            .map(|_| match poll(&mut Box::pin(take_with(forever))) {
                Poll::Ready(Ok(place)) => place,
                other => panic!("a free place, got {other:?}"),
            })
            .collect();
        let (mut first, mut second) = (Box::pin(take_with(forever)), Box::pin(take_with(forever)));
        assert!(poll(&mut first).is_pending());
        assert!(poll(&mut second).is_pending());
        assert_eq!(held_and_waiting(), (MAX_UPLOADS, 2));
        drop(held.pop());
        // The sleeps are pending forever, so looking again is modelled by a fresh upload polling `try_take` with the
        // waiting one's ticket: the second in line does not get the place, and neither does a newcomer.
        let second_ticket = PLACES.with(|places| places.borrow().waiting[1]);
        assert!(PLACES.with(|places| places.borrow_mut().try_take(&mut Some(second_ticket))).is_none());
        assert!(poll(&mut Box::pin(take_with(forever))).is_pending(), "a newcomer queues behind them");
        let first_ticket = PLACES.with(|places| places.borrow().waiting[0]);
        let place = PLACES.with(|places| places.borrow_mut().try_take(&mut Some(first_ticket)));
        assert!(place.is_some(), "the upload that came first gets the place");
        drop((first, second, place, held));
        assert_eq!(held_and_waiting(), (0, 0), "every place given back, nobody left waiting");
    }

    #[test]
    fn an_upload_that_waits_past_its_time_gets_503_with_retry_after_and_leaves_the_queue() {
        let held: Vec<Place> =
            (0..MAX_UPLOADS).map(|_| PLACES.with(|p| p.borrow_mut().held += 1)).map(|()| Place(())).collect();
        let mut slept = 0;
        let outcome = poll(&mut Box::pin(take_with(|ms| {
            slept += ms;
            std::future::ready(())
        })));
        match outcome {
            Poll::Ready(Err(error @ ApiError::DependencyUnavailable { .. })) => {
                assert_eq!(error.status(), 503);
                assert_eq!(error.headers(), [("Retry-After", "1".to_owned())]);
            }
            other => panic!("expected 503, got {other:?}"),
        }
        assert_eq!(slept, WAIT_MS, "it looked again every {POLL_MS} ms for {WAIT_MS} ms");
        assert_eq!(held_and_waiting(), (MAX_UPLOADS, 0), "it left the queue");
        drop(held);
        assert!(matches!(poll(&mut Box::pin(take_with(forever))), Poll::Ready(Ok(_))));
    }
}
