//! Awaiting a JavaScript promise through one callback that lives as long as the wasm instance.
//!
//! wasm-bindgen's `JsFuture` makes two closures per promise (fulfil and reject), each a JS function registered with
//! a finalizer, hands both to `then`, and destroys them afterwards: about eleven calls across the boundary per
//! awaited promise, two of every five on a score write (`scripts/count-crossings`). Here a promise gets a slot
//! number; one inline function attaches the isolate's single `settle` callback to it, which files the outcome under
//! that number and wakes the waiting task: two calls.
//!
//! A slot is freed when its outcome is taken, or when the outcome arrives for a wait that was dropped first; a
//! promise that never settles keeps its (small) slot, as a never-settled `JsFuture` keeps its closures.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use wasm_bindgen::prelude::*;
use worker::js_sys::Promise;

#[wasm_bindgen(inline_js = "export function watch(promise, id, settle) {
  promise.then((value) => settle(id, value, true), (error) => settle(id, error, false));
}")]
extern "C" {
    #[wasm_bindgen(js_name = watch)]
    fn watch_js(promise: &Promise, id: u32, settle: &JsValue);
}

thread_local! {
    static SLOTS: RefCell<Slots<Result<JsValue, JsValue>>> = RefCell::new(Slots::default());
    // Leaked on purpose: one function for the instance's life (a new instance after a panic makes its own).
    static SETTLE: JsValue = Closure::<dyn FnMut(u32, JsValue, bool)>::new(|id: u32, value: JsValue, fulfilled: bool| {
        let outcome = if fulfilled { Ok(value) } else { Err(value) };
        // Woken after the table is released: a waker may poll at once.
        let waker = SLOTS.with(|slots| slots.borrow_mut().settle(id, outcome));
        if let Some(waker) = waker {
            waker.wake();
        }
    })
    .into_js_value();
}

/// Waits for `promise`: its value, or what it was rejected with.
pub fn wait(promise: &Promise) -> Wait {
    let id = SLOTS.with(|slots| slots.borrow_mut().open());
    SETTLE.with(|settle| watch_js(promise, id, settle));
    Wait { id, done: false }
}

/// A promise being waited for ([`wait`]).
pub struct Wait {
    id: u32,
    done: bool,
}

impl Future for Wait {
    type Output = Result<JsValue, JsValue>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.id;
        let polled = SLOTS.with(|slots| slots.borrow_mut().poll(id, cx.waker()));
        if polled.is_ready() {
            self.done = true;
        }
        polled
    }
}

impl Drop for Wait {
    fn drop(&mut self) {
        if !self.done {
            let id = self.id;
            // `try_with`: a wait dropped while the instance's thread-locals are torn down has nothing to free.
            let _ = SLOTS.try_with(|slots| slots.borrow_mut().abandon(id));
        }
    }
}

/// One slot per promise being waited for.
enum Slot<T> {
    /// Unused, on the free list.
    Free,
    /// Not settled yet; the waker of the last poll.
    Waiting(Option<Waker>),
    /// Settled, not taken yet.
    Settled(T),
    /// Its wait was dropped before it settled; freed when it does.
    Abandoned,
}

/// The slots, by number, with the free ones reused (plain Rust, so the bookkeeping is tested natively).
struct Slots<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Self { slots: Vec::new(), free: Vec::new() }
    }
}

impl<T> Slots<T> {
    /// A slot for a new promise.
    fn open(&mut self) -> u32 {
        if let Some(id) = self.free.pop() {
            self.slots[id as usize] = Slot::Waiting(None);
            return id;
        }
        self.slots.push(Slot::Waiting(None));
        (self.slots.len() - 1) as u32
    }

    /// Files promise `id`'s outcome; the waker to wake, if its wait was polled.
    fn settle(&mut self, id: u32, outcome: T) -> Option<Waker> {
        let slot = self.slots.get_mut(id as usize)?;
        match std::mem::replace(slot, Slot::Free) {
            Slot::Waiting(waker) => {
                *slot = Slot::Settled(outcome);
                waker
            }
            Slot::Abandoned => {
                self.free.push(id);
                None
            }
            // A second outcome for one promise cannot happen; keep whatever the slot held.
            other => {
                *slot = other;
                None
            }
        }
    }

    /// The outcome of promise `id` once settled (its slot is then free); until then `waker` is kept to wake.
    fn poll(&mut self, id: u32, waker: &Waker) -> Poll<T> {
        let Some(slot) = self.slots.get_mut(id as usize) else { return Poll::Pending };
        match std::mem::replace(slot, Slot::Free) {
            Slot::Settled(outcome) => {
                self.free.push(id);
                Poll::Ready(outcome)
            }
            Slot::Waiting(_) => {
                *slot = Slot::Waiting(Some(waker.clone()));
                Poll::Pending
            }
            other => {
                *slot = other;
                Poll::Pending
            }
        }
    }

    /// Gives up on promise `id`: its slot is freed now if it settled, else when it does.
    fn abandon(&mut self, id: u32) {
        let Some(slot) = self.slots.get_mut(id as usize) else { return };
        match slot {
            Slot::Waiting(_) => *slot = Slot::Abandoned,
            Slot::Settled(_) => {
                *slot = Slot::Free;
                self.free.push(id);
            }
            Slot::Free | Slot::Abandoned => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counting_waker::CountingWaker;

    #[test]
    fn an_outcome_wakes_the_wait_that_was_polled_and_is_taken_once() {
        let mut slots = Slots::default();
        let (woken, waker) = CountingWaker::new();
        let id = slots.open();
        assert!(slots.poll(id, &waker).is_pending());
        let to_wake = slots.settle(id, 7);
        to_wake.expect("the polled wait is woken").wake();
        assert_eq!(woken.wakes(), 1);
        assert_eq!(slots.poll(id, &waker), Poll::Ready(7));
        assert_eq!(slots.free, vec![id], "taken: the slot is free");
    }

    #[test]
    fn an_outcome_before_the_first_poll_is_kept_for_it() {
        let mut slots = Slots::default();
        let (_, waker) = CountingWaker::new();
        let id = slots.open();
        assert!(slots.settle(id, "done").is_none(), "nobody polled yet: nothing to wake");
        assert_eq!(slots.poll(id, &waker), Poll::Ready("done"));
    }

    #[test]
    fn a_dropped_wait_frees_its_slot_when_the_promise_settles_and_not_before() {
        let mut slots = Slots::default();
        let first = slots.open();
        slots.abandon(first);
        assert!(slots.free.is_empty(), "the promise may still settle into it");
        let second = slots.open();
        assert_ne!(first, second);
        assert!(slots.settle(first, 1).is_none());
        assert_eq!(slots.free, vec![first]);
        assert_eq!(slots.open(), first, "reused once settled");
    }

    #[test]
    fn a_settled_outcome_nobody_takes_is_freed_with_its_wait() {
        let mut slots = Slots::default();
        let id = slots.open();
        let _ = slots.settle(id, 3);
        slots.abandon(id);
        assert_eq!(slots.free, vec![id]);
    }

    #[test]
    fn unknown_and_repeated_outcomes_change_nothing() {
        let mut slots: Slots<i32> = Slots::default();
        let (_, waker) = CountingWaker::new();
        assert!(slots.settle(9, 1).is_none());
        assert!(slots.poll(9, &waker).is_pending());
        let id = slots.open();
        let _ = slots.settle(id, 1);
        assert!(slots.settle(id, 2).is_none());
        assert_eq!(slots.poll(id, &waker), Poll::Ready(1), "the first outcome stands");
    }

    #[test]
    fn many_waits_each_get_their_own_outcome() {
        let mut slots = Slots::default();
        let (_, waker) = CountingWaker::new();
        let ids: Vec<u32> = (0..100).map(|_| slots.open()).collect();
        for (n, id) in ids.iter().enumerate().rev() {
            let _ = slots.settle(*id, n);
        }
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(slots.poll(*id, &waker), Poll::Ready(n));
        }
        assert_eq!(slots.free.len(), 100);
    }
}
