//! The id index: from a member's hashed id to its slot in the member table.
//!
//! Why not `hashbrown`: a SwissTable keeps its control bytes and its buckets in separate regions, so a lookup that
//! must then read the member record to confirm the id touches three cache lines — at a million members, three
//! misses before the rank tree is even reached. Here a bucket is one `u64` holding the top 31 bits of the hash
//! beside the slot, so a lookup reads one bucket and, all but always, exactly the one member record that matches:
//! two misses. Linear probing keeps collisions in the same cache line; deletion shifts followers back instead of
//! leaving tombstones, so lookups never slow down as members come and go. The table grows at 3/4 load and does not
//! shrink. Measured with `scripts/bench-engine` (BENCHMARKS.md).

/// Bits of a bucket that hold `slot + 1` (0 marks an empty bucket); the bits above hold the hash's top bits.
const SLOT_BITS: u32 = 33;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
const MIN_BUCKETS: usize = 8;

/// Open-addressing map from a 64-bit hash to a `u32` slot; equality of the real keys is decided by the caller.
#[derive(Debug, Clone)]
pub struct IdIndex {
    buckets: Vec<u64>,
    /// `64 - log2(buckets.len())`: a hash's home bucket is `hash >> shift`.
    shift: u32,
    len: usize,
}

impl Default for IdIndex {
    fn default() -> Self {
        Self { buckets: vec![0; MIN_BUCKETS], shift: 64 - MIN_BUCKETS.trailing_zeros(), len: 0 }
    }
}

impl IdIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of heap held (allocated buckets).
    pub fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<u64>()
    }

    fn mask(&self) -> usize {
        self.buckets.len() - 1
    }

    fn home(&self, hash_bits: u64) -> usize {
        (hash_bits >> self.shift) as usize
    }

    /// Position of the bucket holding the slot for which `is_it` holds among those stored under `hash`.
    fn position(&self, hash: u64, mut is_it: impl FnMut(u32) -> bool) -> Option<usize> {
        let mask = self.mask();
        let mut i = self.home(hash);
        loop {
            let bucket = self.buckets[i];
            if bucket == 0 {
                return None;
            }
            if (bucket ^ hash) >> SLOT_BITS == 0 && is_it(slot_in(bucket)) {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// The slot stored under `hash` for which `is_it` holds (the caller compares the real ids).
    pub fn find(&self, hash: u64, is_it: impl FnMut(u32) -> bool) -> Option<u32> {
        self.position(hash, is_it).map(|i| slot_in(self.buckets[i]))
    }

    /// Stores `slot` under `hash`. The caller guarantees the key is not present yet.
    pub fn insert(&mut self, hash: u64, slot: u32) {
        if (self.len + 1) * 4 > self.buckets.len() * 3 {
            self.grow();
        }
        let bucket = (hash & !SLOT_MASK) | (u64::from(slot) + 1);
        self.place(bucket);
        self.len += 1;
    }

    /// Removes and returns the slot stored under `hash` for which `is_it` holds.
    pub fn remove(&mut self, hash: u64, is_it: impl FnMut(u32) -> bool) -> Option<u32> {
        let found = self.position(hash, is_it)?;
        let slot = slot_in(self.buckets[found]);
        // Backward shift: pull later members of the probe run into the hole when their home allows it, so every
        // run stays unbroken without tombstones.
        let mask = self.mask();
        let mut hole = found;
        let mut i = (found + 1) & mask;
        loop {
            let bucket = self.buckets[i];
            if bucket == 0 {
                break;
            }
            let home = self.home(bucket);
            if i.wrapping_sub(home) & mask >= i.wrapping_sub(hole) & mask {
                self.buckets[hole] = bucket;
                hole = i;
            }
            i = (i + 1) & mask;
        }
        self.buckets[hole] = 0;
        self.len -= 1;
        Some(slot)
    }

    fn place(&mut self, bucket: u64) {
        let mask = self.mask();
        let mut i = self.home(bucket);
        while self.buckets[i] != 0 {
            i = (i + 1) & mask;
        }
        self.buckets[i] = bucket;
    }

    fn grow(&mut self) {
        let doubled = self.buckets.len() * 2;
        let old = std::mem::replace(&mut self.buckets, vec![0; doubled]);
        self.shift -= 1;
        // A bucket keeps the hash's top bits, so it is re-homed without the original key.
        for bucket in old.into_iter().filter(|&b| b != 0) {
            self.place(bucket);
        }
    }
}

fn slot_in(bucket: u64) -> u32 {
    ((bucket & SLOT_MASK) - 1) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// Keys are small integers; their "hash" is chosen by the test so collisions can be forced.
    fn check(ops: &[(bool, u16)], hash_of: impl Fn(u16) -> u64) {
        let mut index = IdIndex::new();
        // slot -> key, as the member table would hold it
        let mut keys: Vec<u16> = Vec::new();
        let mut model: HashMap<u16, u32> = HashMap::new();
        for &(insert, key) in ops {
            let hash = hash_of(key);
            if insert {
                if model.contains_key(&key) {
                    continue;
                }
                let slot = keys.len() as u32;
                keys.push(key);
                index.insert(hash, slot);
                model.insert(key, slot);
            } else {
                assert_eq!(index.remove(hash, |s| keys[s as usize] == key), model.remove(&key));
            }
            assert_eq!(index.len(), model.len());
        }
        for key in 0..=600 {
            assert_eq!(index.find(hash_of(key), |s| keys[s as usize] == key), model.get(&key).copied(), "key {key}");
        }
    }

    #[test]
    fn growth_keeps_every_entry_and_removal_shifts_runs_back() {
        let spread = |k: u16| u64::from(k).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut ops: Vec<(bool, u16)> = (0..500).map(|k| (true, k)).collect();
        ops.extend((0..500).step_by(3).map(|k| (false, k)));
        ops.extend((0..500).step_by(2).map(|k| (true, k)));
        check(&ops, spread);
    }

    #[test]
    fn runs_that_wrap_around_the_end_of_the_table() {
        // Every key homes to the last bucket, so each probe run wraps to the start.
        let ops: Vec<(bool, u16)> = vec![(true, 1), (true, 2), (true, 3), (false, 1), (true, 4), (false, 3), (true, 1)];
        check(&ops, |k| u64::MAX - u64::from(k));
    }

    #[test]
    fn slots_at_the_top_of_the_range_round_trip() {
        let mut index = IdIndex::new();
        index.insert(42, u32::MAX);
        assert_eq!(index.find(42, |_| true), Some(u32::MAX));
        assert_eq!(index.remove(42, |_| true), Some(u32::MAX));
        assert!(index.is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn random_operations_match_a_hashmap(
            ops in prop::collection::vec((any::<bool>(), 0u16..600), 1..3000),
            collide in 0u32..4,
        ) {
            // From well spread hashes to only four distinct ones (long runs, equal tags).
            let bits = [64, 12, 6, 2][collide as usize];
            check(&ops, |k| {
                let spread = u64::from(k).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                if bits == 64 { spread } else { spread >> (64 - bits) << (64 - bits) }
            });
        }
    }
}
