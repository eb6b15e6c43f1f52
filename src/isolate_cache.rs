//! The first cache level: per-isolate memory with a time to live and a size bound (plain Rust, clock passed in).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

/// A map whose entries expire `ttl_ms` after insertion; when full, expired entries go first, then everything.
#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl_ms: i64,
    capacity: usize,
    /// Stored at, whether a caller took it upon itself to refresh the entry ([`TtlCache::get_or_claim`]), the value.
    entries: HashMap<K, (i64, bool, V)>,
}

/// What [`TtlCache::get_or_claim`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Cached<V> {
    /// A live entry nobody needs to refresh yet (or someone else is refreshing).
    Fresh(V),
    /// A live entry close to its expiry, now claimed by this caller: it serves the value and refreshes it.
    Claimed(V),
    /// No live entry.
    Missing,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// An empty cache.
    pub fn new(ttl_ms: i64, capacity: usize) -> Self {
        Self { ttl_ms, capacity, entries: HashMap::new() }
    }

    /// The value stored for `key`, unless it expired by `now_ms`.
    pub fn get<Q: Eq + Hash + ?Sized>(&self, key: &Q, now_ms: i64) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.entries.get(key).filter(|(at, _, _)| now_ms - at < self.ttl_ms).map(|(_, _, v)| v.clone())
    }

    /// Like [`TtlCache::get`], but the first caller to read an entry within `ahead_ms` of its expiry is told to
    /// refresh it ([`Cached::Claimed`]) and everyone after it keeps getting the entry — past its expiry too, for up to
    /// `grace_ms` while that refresh is out — so a busy key is refreshed once instead of by every request in flight
    /// when it expires. A refresh that failed gives its claim back ([`TtlCache::unclaim`]).
    pub fn get_or_claim<Q: Eq + Hash + ?Sized>(
        &mut self,
        key: &Q,
        now_ms: i64,
        ahead_ms: i64,
        grace_ms: i64,
    ) -> Cached<V>
    where
        K: Borrow<Q>,
    {
        let ttl = self.ttl_ms;
        match self.entries.get_mut(key) {
            Some((at, claimed, value)) if now_ms - *at < ttl => {
                if !*claimed && now_ms - *at >= ttl - ahead_ms {
                    *claimed = true;
                    Cached::Claimed(value.clone())
                } else {
                    Cached::Fresh(value.clone())
                }
            }
            Some((at, true, value)) if now_ms - *at < ttl + grace_ms => Cached::Fresh(value.clone()),
            _ => Cached::Missing,
        }
    }

    /// Gives back the refresh claim on `key` (the refresh failed): the entry expires as if never claimed, and the
    /// next reader before then claims it again.
    pub fn unclaim<Q: Eq + Hash + ?Sized>(&mut self, key: &Q)
    where
        K: Borrow<Q>,
    {
        if let Some((_, claimed, _)) = self.entries.get_mut(key) {
            *claimed = false;
        }
    }

    /// Stores `value` as of `now_ms`.
    pub fn put(&mut self, key: K, value: V, now_ms: i64) {
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            let ttl = self.ttl_ms;
            self.entries.retain(|_, (at, _, _)| now_ms - *at < ttl);
            // Still full of live entries: a cache may forget; start over rather than scan for the oldest.
            if self.entries.len() >= self.capacity {
                self.entries.clear();
            }
        }
        self.entries.insert(key, (now_ms, false, value));
    }

    /// Stores a refreshed `value` only if `key` still has an entry, live or not: a refresh that finishes after the
    /// key was [removed](TtlCache::remove) (its value changed) must not bring the old value back.
    pub fn refresh(&mut self, key: &K, value: V, now_ms: i64) {
        if let Some(entry) = self.entries.get_mut(key) {
            *entry = (now_ms, false, value);
        }
    }

    /// Forgets `key` (a write made the cached value stale).
    pub fn remove(&mut self, key: &K) {
        self.entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_ttl() {
        let mut cache = TtlCache::new(100, 10);
        cache.put("a", 1, 0);
        assert_eq!(cache.get(&"a", 99), Some(1));
        assert_eq!(cache.get(&"a", 100), None);
        cache.put("a", 2, 100);
        assert_eq!(cache.get(&"a", 150), Some(2));
        cache.remove(&"a");
        assert_eq!(cache.get(&"a", 150), None);
    }

    #[test]
    fn one_caller_claims_the_refresh_of_an_entry_close_to_its_expiry() {
        let mut cache = TtlCache::new(100, 10);
        cache.put("a", 1, 0);
        let cases = [
            // (now, expected): fresh before the last 20 ms; the first read inside them claims; later reads do not;
            // while that refresh is out the entry outlives its TTL by up to the 50 ms of grace.
            (0, Cached::Fresh(1)),
            (79, Cached::Fresh(1)),
            (80, Cached::Claimed(1)),
            (81, Cached::Fresh(1)),
            (99, Cached::Fresh(1)),
            (100, Cached::Fresh(1)),
            (149, Cached::Fresh(1)),
            (150, Cached::Missing),
        ];
        for (now, expected) in cases {
            assert_eq!(cache.get_or_claim(&"a", now, 20, 50), expected, "at {now}");
        }
        assert_eq!(cache.get_or_claim(&"b", 0, 20, 50), Cached::Missing);
    }

    #[test]
    fn an_unclaimed_entry_gets_no_grace_and_a_failed_refresh_gives_its_claim_back() {
        let mut cache = TtlCache::new(100, 10);
        cache.put("a", 1, 0);
        assert_eq!(cache.get_or_claim(&"a", 100, 20, 50), Cached::Missing, "expired before anyone claimed it");
        cache.put("b", 1, 0);
        assert_eq!(cache.get_or_claim(&"b", 85, 20, 50), Cached::Claimed(1));
        cache.unclaim(&"b");
        assert_eq!(cache.get_or_claim(&"b", 90, 20, 50), Cached::Claimed(1), "the next reader claims it again");
        cache.unclaim(&"b");
        assert_eq!(cache.get_or_claim(&"b", 120, 20, 50), Cached::Missing, "no claim, no grace");
    }

    #[test]
    fn a_refresh_renews_the_entry_and_its_claim_but_never_revives_a_removed_key() {
        let mut cache = TtlCache::new(100, 10);
        cache.put("a", 1, 0);
        assert_eq!(cache.get_or_claim(&"a", 90, 20, 50), Cached::Claimed(1));
        cache.refresh(&"a", 2, 95);
        assert_eq!(cache.get_or_claim(&"a", 150, 20, 50), Cached::Fresh(2));
        assert_eq!(cache.get_or_claim(&"a", 180, 20, 50), Cached::Claimed(2), "a refreshed entry can be claimed again");
        cache.remove(&"a");
        cache.refresh(&"a", 3, 185);
        assert_eq!(cache.get(&"a", 185), None, "an edit removed it while the refresh ran");
        // An entry served past its TTL while its refresh ran is renewed by it.
        cache.put("b", 1, 0);
        assert_eq!(cache.get_or_claim(&"b", 90, 20, 50), Cached::Claimed(1));
        cache.refresh(&"b", 2, 130);
        assert_eq!(cache.get(&"b", 130), Some(2));
    }

    #[test]
    fn a_full_cache_drops_expired_entries_first() {
        let mut cache = TtlCache::new(100, 2);
        cache.put(1, "old", 0);
        cache.put(2, "new", 90);
        cache.put(3, "newer", 150);
        assert_eq!((cache.get(&1, 150), cache.get(&2, 150), cache.get(&3, 150)), (None, Some("new"), Some("newer")));
        cache.put(4, "x", 160);
        assert_eq!(cache.get(&4, 160), Some("x"));
        assert!(cache.entries.len() <= 2);
    }
}
