//! The first cache level: per-isolate memory with a time to live and a size bound (plain Rust, clock passed in).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

/// A map whose entries expire `ttl_ms` after insertion; when full, expired entries go first, then everything.
#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl_ms: i64,
    capacity: usize,
    entries: HashMap<K, (i64, V)>,
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
        self.entries.get(key).filter(|(at, _)| now_ms - at < self.ttl_ms).map(|(_, v)| v.clone())
    }

    /// Stores `value` as of `now_ms`.
    pub fn put(&mut self, key: K, value: V, now_ms: i64) {
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            let ttl = self.ttl_ms;
            self.entries.retain(|_, (at, _)| now_ms - *at < ttl);
            // Still full of live entries: a cache may forget; start over rather than scan for the oldest.
            if self.entries.len() >= self.capacity {
                self.entries.clear();
            }
        }
        self.entries.insert(key, (now_ms, value));
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
