//! The first cache level: per-isolate memory with a time to live and a size bound (plain Rust, clock passed in).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

/// A map whose entries expire `ttl_ms` after insertion, bounded in entries and, for caches of large values, in their
/// total weight (bytes); when full, expired entries go first, then the oldest.
#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl_ms: i64,
    capacity: usize,
    /// The most total weight held at once, and what one value weighs (0 for caches bounded by count alone).
    budget: usize,
    weigh: fn(&V) -> usize,
    /// The total weight of the entries held.
    weight: usize,
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
    /// An empty cache of at most `capacity` entries.
    pub fn new(ttl_ms: i64, capacity: usize) -> Self {
        Self::weighted(ttl_ms, capacity, usize::MAX, |_| 0)
    }

    /// An empty cache of at most `capacity` entries whose values weigh at most `budget` together. A value heavier
    /// than the whole budget is not held.
    pub fn weighted(ttl_ms: i64, capacity: usize, budget: usize, weigh: fn(&V) -> usize) -> Self {
        Self { ttl_ms, capacity, budget, weigh, weight: 0, entries: HashMap::new() }
    }

    /// The total weight of the values held.
    pub fn weight(&self) -> usize {
        self.weight
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
        self.remove(&key);
        let heavy = (self.weigh)(&value);
        if heavy > self.budget {
            return;
        }
        if self.entries.len() >= self.capacity || self.budget - heavy < self.weight {
            self.make_room(heavy, now_ms);
        }
        self.weight += heavy;
        self.entries.insert(key, (now_ms, false, value));
    }

    /// Drops expired entries, then, if that leaves no room for `heavy` more, the oldest ones down to three quarters
    /// of both bounds, so that the puts after this one find room without sorting the entries again.
    fn make_room(&mut self, heavy: usize, now_ms: i64) {
        let (ttl, weigh) = (self.ttl_ms, self.weigh);
        let mut freed = 0;
        self.entries.retain(|_, (at, _, value)| {
            let live = now_ms - *at < ttl;
            if !live {
                freed += weigh(value);
            }
            live
        });
        self.weight -= freed;
        if self.entries.len() < self.capacity && self.budget - heavy >= self.weight {
            return;
        }
        // The ages and weights alone are sorted (one sort of one type for every cache, not one per key type), to find
        // the time up to which entries go.
        let (count_to, weight_to) = (self.capacity / 4 * 3, (self.budget - heavy) / 4 * 3);
        let mut by_age: Vec<(i64, usize)> = self.entries.values().map(|(at, _, value)| (*at, weigh(value))).collect();
        by_age.sort_unstable();
        let (mut count, mut weight, mut cutoff) = (self.entries.len(), self.weight, None);
        for (at, weighs) in by_age {
            // Entries stored in the same millisecond go together: the cut is a time.
            if count <= count_to && weight <= weight_to && cutoff != Some(at) {
                break;
            }
            (count, weight, cutoff) = (count - 1, weight - weighs, Some(at));
        }
        if let Some(cutoff) = cutoff {
            self.entries.retain(|_, (at, _, _)| *at > cutoff);
            self.weight = weight;
        }
    }

    /// Stores a refreshed `value` only if `key` still has an entry, live or not: a refresh that finishes after the
    /// key was [removed](TtlCache::remove) (its value changed) must not bring the old value back.
    pub fn refresh(&mut self, key: &K, value: V, now_ms: i64) {
        let weigh = self.weigh;
        if let Some(entry) = self.entries.get_mut(key) {
            let old = std::mem::replace(entry, (now_ms, false, value));
            self.weight = self.weight - weigh(&old.2) + weigh(&entry.2);
            if self.weight > self.budget {
                self.make_room(0, now_ms);
            }
        }
    }

    /// Forgets `key` (a write made the cached value stale).
    pub fn remove(&mut self, key: &K) {
        if let Some((_, _, value)) = self.entries.remove(key) {
            self.weight -= (self.weigh)(&value);
        }
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

    #[test]
    fn a_cache_full_of_live_entries_drops_the_oldest_down_to_three_quarters() {
        let mut cache = TtlCache::new(1_000, 8);
        for key in 0..8 {
            cache.put(key, key, key);
        }
        cache.put(8, 8, 8);
        let held: Vec<i64> = (0..9).filter(|key| cache.get(key, 8).is_some()).collect();
        assert_eq!(held, [2, 3, 4, 5, 6, 7, 8], "the two oldest went (down to 6 of 8), then the new one came in");
    }

    fn weigh(value: &usize) -> usize {
        *value
    }

    #[test]
    fn a_weighted_cache_holds_at_most_its_budget_and_drops_the_oldest_first() {
        let mut cache = TtlCache::weighted(1_000, 100, 100, weigh);
        let cases: [(&str, usize, i64, &[&str]); 6] = [
            // (key, weight, now, keys held afterwards)
            ("a", 40, 0, &["a"]),
            ("b", 40, 1, &["a", "b"]),
            ("c", 30, 2, &["b", "c"]), // 110 > 100: the oldest go until at most 3/4 of the 70 left for c is held
            ("d", 101, 3, &["b", "c"]), // heavier than the whole budget: not held
            ("c", 101, 4, &["b"]),     // and a key put again with such a value loses its old one
            ("e", 100, 5, &["e"]),
        ];
        for (key, weight, now, held) in cases {
            cache.put(key, weight, now);
            let mut found: Vec<&str> =
                ["a", "b", "c", "d", "e"].into_iter().filter(|k| cache.get(k, now).is_some()).collect();
            found.sort_unstable();
            assert_eq!(found, held, "after {key} ({weight}) at {now}");
            assert!(cache.weight() <= 100);
        }
        cache.remove(&"e");
        assert_eq!(cache.weight(), 0);
    }

    // Its random source needs an opt-in feature on wasm32 (Cargo.toml): the property runs natively.
    #[cfg(not(target_arch = "wasm32"))]
    mod property {
        use super::*;

        proptest::proptest! {
            #[test]
            fn the_weight_is_the_sum_of_what_is_held_and_within_both_bounds(
                ops in proptest::collection::vec((0u8..4, 0u8..12, 0usize..60, 0i64..40), 1..200)
            ) {
                let mut cache = TtlCache::weighted(100, 6, 150, weigh);
                let mut now = 0;
                for (op, key, weight, step) in ops {
                    now += step;
                    match op {
                        0 | 1 => {
                            cache.put(key, weight, now);
                            proptest::prop_assert_eq!(cache.get(&key, now), Some(weight), "a put value is held");
                        }
                        2 => cache.remove(&key),
                        _ => cache.refresh(&key, weight, now),
                    }
                    let held: usize = cache.entries.values().map(|(_, _, value)| *value).sum();
                    proptest::prop_assert_eq!(cache.weight(), held);
                    proptest::prop_assert!(held <= 150 && cache.entries.len() <= 6);
                }
            }
        }
    }
}
