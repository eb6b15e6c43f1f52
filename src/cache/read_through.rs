//! The memory level's rule in front of a slower lookup (plain Rust, clock and lookup passed in): a live entry
//! answers; the first read in an entry's last moments refreshes it with its own lookup while every other read keeps
//! the entry (past its expiry too, while that refresh is out); with nothing live, the read looks it up and keeps
//! what it found.

use std::cell::RefCell;
use std::future::Future;
use std::hash::Hash;
use std::thread::LocalKey;

use crate::isolate_cache::{Cached, TtlCache};

/// When a refresh starts and how long its entry is still served while it is out ([`TtlCache::get_or_claim`]).
#[derive(Debug, Clone, Copy)]
pub struct Refresh {
    /// How long before the expiry the first read refreshes the entry.
    pub ahead_ms: i64,
    /// How long past the expiry the entry is served while that refresh is out.
    pub grace_ms: i64,
}

/// How a read was answered.
#[derive(Debug, PartialEq, Eq)]
pub enum Via<E> {
    /// From memory, nobody needing to look.
    Memory,
    /// By this read's refresh of a live entry (the lookup answered; what it found replaced the entry).
    Refreshed,
    /// From a live entry whose refresh failed with this error: served as it was, its claim given back.
    KeptAfter(E),
    /// By the lookup, memory holding nothing live (what it found was kept).
    Lookup,
}

/// Reads `key` through `memory` at `now_ms`; `lookup` is called at most once, only when this read must look.
/// `clock` stamps what a lookup found (the lookup may take a while).
pub async fn read_through<K, V, E, L, F>(
    memory: &'static LocalKey<RefCell<TtlCache<K, V>>>,
    key: &K,
    now_ms: i64,
    refresh: Refresh,
    clock: impl Fn() -> i64,
    lookup: L,
) -> (Result<Option<V>, E>, Via<E>)
where
    K: Eq + Hash + Clone + 'static,
    V: Clone + 'static,
    L: FnOnce() -> F,
    F: Future<Output = Result<Option<V>, E>>,
{
    let found = memory.with(|m| m.borrow_mut().get_or_claim(key, now_ms, refresh.ahead_ms, refresh.grace_ms));
    match found {
        Cached::Fresh(value) => (Ok(Some(value)), Via::Memory),
        Cached::Claimed(value) => match lookup().await {
            Ok(Some(fresh)) => {
                memory.with(|m| m.borrow_mut().refresh(key, fresh.clone(), clock()));
                (Ok(Some(fresh)), Via::Refreshed)
            }
            Ok(None) => {
                memory.with(|m| m.borrow_mut().remove(key));
                (Ok(None), Via::Refreshed)
            }
            // Without its claim the entry expires as it would have, and the next reader before then retries.
            Err(error) => {
                memory.with(|m| m.borrow_mut().unclaim(key));
                (Ok(Some(value)), Via::KeptAfter(error))
            }
        },
        Cached::Missing => match lookup().await {
            Ok(Some(value)) => {
                memory.with(|m| m.borrow_mut().put(key.clone(), value.clone(), now_ms));
                (Ok(Some(value)), Via::Lookup)
            }
            other => (other, Via::Lookup),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::future::{ready, Future};
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::*;

    const TTL: i64 = 5_000;
    const TIMING: Refresh = Refresh { ahead_ms: 1_000, grace_ms: 5_000 };

    thread_local! {
        static MEMORY: RefCell<TtlCache<u8, &'static str>> = RefCell::new(TtlCache::new(TTL, 16));
    }

    type Answer = (Result<Option<&'static str>, &'static str>, Via<&'static str>);

    /// One read whose lookup answers at once; `None` as the lookup means it must not be called.
    fn read(now_ms: i64, lookup: Option<Result<Option<&'static str>, &'static str>>) -> Answer {
        let called = Cell::new(false);
        let future = read_through(
            &MEMORY,
            &1,
            now_ms,
            TIMING,
            || now_ms,
            || {
                called.set(true);
                ready(lookup.expect("this read must not look the key up"))
            },
        );
        let answer = poll_once(future).expect("a lookup that answers at once never leaves the read pending");
        assert!(called.get() || !matches!(answer.1, Via::Refreshed | Via::Lookup | Via::KeptAfter(_)));
        answer
    }

    fn poll_once<T>(future: impl Future<Output = T>) -> Option<T> {
        match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(value) => Some(value),
            Poll::Pending => None,
        }
    }

    #[test]
    fn each_read_is_answered_as_the_entry_s_age_says() {
        MEMORY.with(|m| *m.borrow_mut() = TtlCache::new(TTL, 16));
        type Case = (i64, Option<Result<Option<&'static str>, &'static str>>, Answer);
        let cases: [Case; 9] = [
            // Nothing in memory: looked up and kept.
            (0, Some(Ok(Some("v1"))), (Ok(Some("v1")), Via::Lookup)),
            // Live and not yet near its expiry: memory only.
            (3_999, None, (Ok(Some("v1")), Via::Memory)),
            // Its last second: this read refreshes it; the new value is stamped with the clock (4 000).
            (4_000, Some(Ok(Some("v2"))), (Ok(Some("v2")), Via::Refreshed)),
            (7_999, None, (Ok(Some("v2")), Via::Memory)),
            // The next refresh fails: the old value is served and the claim given back...
            (8_000, Some(Err("redis down")), (Ok(Some("v2")), Via::KeptAfter("redis down"))),
            // ...so the next read in that last second claims it again.
            (8_500, Some(Ok(Some("v3"))), (Ok(Some("v3")), Via::Refreshed)),
            // The competition is gone from the database: the refresh drops the entry.
            (12_600, Some(Ok(None)), (Ok(None), Via::Refreshed)),
            // So the next read looks again; an absence is not kept either.
            (12_700, Some(Ok(None)), (Ok(None), Via::Lookup)),
            // And a failed lookup with nothing in memory is the read's error.
            (12_800, Some(Err("database down")), (Err("database down"), Via::Lookup)),
        ];
        for (now_ms, lookup, expected) in cases {
            assert_eq!(read(now_ms, lookup), expected, "at {now_ms} ms");
        }
    }

    #[test]
    fn while_one_read_refreshes_the_others_keep_the_entry_even_past_its_expiry() {
        MEMORY.with(|m| *m.borrow_mut() = TtlCache::new(TTL, 16));
        assert_eq!(read(0, Some(Ok(Some("old")))).1, Via::Lookup);
        // The refreshing read's lookup is still out (it answers once `answered` is set).
        let answered = Cell::new(false);
        let lookup = std::future::poll_fn(|_| match answered.get() {
            true => Poll::Ready(Ok::<_, &'static str>(Some("new"))),
            false => Poll::Pending,
        });
        let mut refreshing = Box::pin(read_through(&MEMORY, &1, 4_500, TIMING, || 7_000, || lookup));
        assert!(refreshing.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
        // Every other read in flight, before and after the expiry at 5 000, is served the old row without a lookup.
        for now_ms in [4_600, 5_000, 9_999] {
            assert_eq!(read(now_ms, None), (Ok(Some("old")), Via::Memory), "at {now_ms} ms");
        }
        // Past the grace, a read looks for itself.
        assert_eq!(read(10_000, Some(Ok(Some("own")))), (Ok(Some("own")), Via::Lookup));
        // The refresh lands: its value replaces the entry, stamped with the clock at landing.
        answered.set(true);
        let landed = refreshing.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        assert_eq!(landed, Poll::Ready((Ok(Some("new")), Via::Refreshed)));
        assert_eq!(read(10_500, None), (Ok(Some("new")), Via::Memory));
    }
}
