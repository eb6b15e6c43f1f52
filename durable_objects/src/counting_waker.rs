//! A waker that counts its wakes, for the unit tests of the crate's hand-written futures (test builds only).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

/// Counts the wakes it gets.
#[derive(Default)]
pub struct CountingWaker(AtomicUsize);

impl CountingWaker {
    /// A new counter and a waker that wakes it.
    pub fn new() -> (Arc<Self>, Waker) {
        let count = Arc::new(Self::default());
        (Arc::clone(&count), Waker::from(count))
    }

    /// How many wakes it got.
    pub fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
