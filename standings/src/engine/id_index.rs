//! The id index: from a member's hashed id to the member's rank key, which holds its slot, score and sequence.
//!
//! Why our own table: at a million members every random memory access is a cache and TLB miss (≈ 170 ns on our
//! machine), and a rank query or a score update starts with "where does this member stand". With `hashbrown` and a
//! member record that was three misses one after another: control bytes, bucket, record. Here a bucket *is* the
//! member's rank key, so one miss yields everything the tree needs; the member's id is read only to confirm the
//! match, and that read runs in parallel with the tree descent because nothing waits for it but a well-predicted
//! branch. Eight bits of the id's hash sit in the unused top byte of the key's slot field, so a probe skips other
//! members' buckets without reading their ids. Linear probing keeps collisions in the same or the next cache line;
//! deletion shifts followers back instead of leaving tombstones (their home buckets are recomputed from their ids,
//! which only deletion and growth need). The table grows at 3/4 load and does not shrink.

use super::key::RankKey;

/// Bits of the key's slot field that hold the slot; the byte above holds the hash tag.
const SLOT_BITS: u32 = 24;
const TAG_MASK: u128 = 0xFF << SLOT_BITS;
/// Largest member slot the index can hold (about 16.7 million members, far beyond what fits in an object).
pub const MAX_SLOT: u32 = (1 << SLOT_BITS) - 1;
const MIN_BUCKETS: usize = 8;
/// An empty bucket. Every stored bucket has a non-zero tag, so it is never 0.
const EMPTY: u128 = 0;

/// Open-addressing map from a 64-bit id hash to a rank key; equality of the real ids is decided by the caller.
#[derive(Debug, Clone)]
pub struct IdIndex {
    buckets: Vec<u128>,
    /// `64 - log2(buckets.len())`: a hash's home bucket is `hash >> shift`.
    shift: u32,
    len: usize,
}

impl Default for IdIndex {
    fn default() -> Self {
        Self { buckets: vec![EMPTY; MIN_BUCKETS], shift: 64 - MIN_BUCKETS.trailing_zeros(), len: 0 }
    }
}

/// The tag stored with a hash: 8 bits the home position does not use (never 0, so a bucket is never empty).
fn tag(hash: u64) -> u128 {
    u128::from((hash >> 8) as u8 | 1) << SLOT_BITS
}

/// The slot inside a key (or a bucket).
fn slot_of(bucket: u128) -> u32 {
    (bucket as u32) & MAX_SLOT
}

impl IdIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty index that holds `members` without growing (the buckets it grows to at that many entries).
    pub fn with_capacity(members: usize) -> Self {
        let buckets = members.saturating_mul(4).div_ceil(3).next_power_of_two().max(MIN_BUCKETS);
        Self { buckets: vec![EMPTY; buckets], shift: 64 - buckets.trailing_zeros(), len: 0 }
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
        self.buckets.capacity() * std::mem::size_of::<u128>()
    }

    fn mask(&self) -> usize {
        self.buckets.len() - 1
    }

    fn home(&self, hash: u64) -> usize {
        (hash >> self.shift) as usize
    }

    /// Position of the entry stored under `hash` whose slot satisfies `is_it` (the caller compares the real ids).
    /// A position stays valid until the next insert or remove.
    pub fn find(&self, hash: u64, mut is_it: impl FnMut(u32) -> bool) -> Option<usize> {
        let tag = tag(hash);
        let mask = self.mask();
        let mut i = self.home(hash);
        loop {
            let bucket = self.buckets[i];
            if bucket == EMPTY {
                return None;
            }
            if bucket & TAG_MASK == tag && is_it(slot_of(bucket)) {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// The rank key at a position from [`IdIndex::find`].
    pub fn key_at(&self, position: usize) -> RankKey {
        self.buckets[position] & !TAG_MASK
    }

    /// Replaces the rank key at a position from [`IdIndex::find`]; the slot must stay the same.
    pub fn set_key_at(&mut self, position: usize, key: RankKey) {
        debug_assert_eq!(slot_of(key), slot_of(self.buckets[position]));
        self.buckets[position] = key | (self.buckets[position] & TAG_MASK);
    }

    /// Stores `key` (whose slot is at most [`MAX_SLOT`]) under `hash`. The caller guarantees the id is not present
    /// yet; `hash_of_slot` gives the id hash of any stored slot (growth re-homes every entry).
    pub fn insert(&mut self, hash: u64, key: RankKey, hash_of_slot: impl Fn(u32) -> u64) {
        debug_assert!(key & TAG_MASK == 0, "slot above MAX_SLOT");
        if (self.len + 1) * 4 > self.buckets.len() * 3 {
            self.grow(&hash_of_slot);
        }
        self.place(hash, key | tag(hash));
        self.len += 1;
    }

    /// Removes the entry stored under `hash` whose slot satisfies `is_it`, returning its rank key.
    pub fn remove(
        &mut self,
        hash: u64,
        is_it: impl FnMut(u32) -> bool,
        hash_of_slot: impl Fn(u32) -> u64,
    ) -> Option<RankKey> {
        let found = self.find(hash, is_it)?;
        let key = self.key_at(found);
        // Backward shift: pull later entries of the probe run into the hole when their home allows it, so every
        // run stays unbroken without tombstones.
        let mask = self.mask();
        let mut hole = found;
        let mut i = (found + 1) & mask;
        loop {
            let bucket = self.buckets[i];
            if bucket == EMPTY {
                break;
            }
            let home = self.home(hash_of_slot(slot_of(bucket)));
            if i.wrapping_sub(home) & mask >= i.wrapping_sub(hole) & mask {
                self.buckets[hole] = bucket;
                hole = i;
            }
            i = (i + 1) & mask;
        }
        self.buckets[hole] = EMPTY;
        self.len -= 1;
        Some(key)
    }

    fn place(&mut self, hash: u64, bucket: u128) {
        let mask = self.mask();
        let mut i = self.home(hash);
        while self.buckets[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.buckets[i] = bucket;
    }

    fn grow(&mut self, hash_of_slot: &impl Fn(u32) -> u64) {
        let doubled = self.buckets.len() * 2;
        let old = std::mem::replace(&mut self.buckets, vec![EMPTY; doubled]);
        self.shift -= 1;
        for bucket in old.into_iter().filter(|&b| b != EMPTY) {
            self.place(hash_of_slot(slot_of(bucket)), bucket);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// Drives the index as the board does: `ids[slot]` is the id stored in a slot, `hash_of(id)` its hash, and the
    /// key of a slot is `slot` plus a payload in the high bits (standing in for score and sequence).
    fn check(ops: &[(bool, u16)], hash_of: impl Fn(u16) -> u64) {
        let mut index = IdIndex::new();
        let mut ids: Vec<u16> = Vec::new();
        let mut model: HashMap<u16, RankKey> = HashMap::new();
        for &(insert, id) in ops {
            let hash = hash_of(id);
            if insert {
                if let Some(position) = index.find(hash, |s| ids[s as usize] == id) {
                    // Present: change its payload in place, as a score update does.
                    let key = index.key_at(position) + (1 << 64);
                    index.set_key_at(position, key);
                    model.insert(id, key);
                    continue;
                }
                let slot = ids.len() as u32;
                ids.push(id);
                let key = (u128::from(id) << 80) | u128::from(slot);
                index.insert(hash, key, |s| hash_of(ids[s as usize]));
                model.insert(id, key);
            } else {
                let removed = index.remove(hash, |s| ids[s as usize] == id, |s| hash_of(ids[s as usize]));
                assert_eq!(removed, model.remove(&id));
            }
            assert_eq!(index.len(), model.len());
        }
        for id in 0..=600 {
            let found = index.find(hash_of(id), |s| ids[s as usize] == id).map(|p| index.key_at(p));
            assert_eq!(found, model.get(&id).copied(), "id {id}");
        }
    }

    fn spread(id: u16) -> u64 {
        u64::from(id).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    #[test]
    fn growth_keeps_every_entry_and_removal_shifts_runs_back() {
        let mut ops: Vec<(bool, u16)> = (0..500).map(|id| (true, id)).collect();
        ops.extend((0..500).step_by(3).map(|id| (false, id)));
        ops.extend((0..500).step_by(2).map(|id| (true, id)));
        check(&ops, spread);
    }

    #[test]
    fn runs_that_wrap_around_the_end_of_the_table() {
        // Every id homes to the last bucket with the same tag, so each probe run wraps and only the ids decide.
        let ops: Vec<(bool, u16)> = vec![(true, 1), (true, 2), (true, 3), (false, 1), (true, 4), (false, 3), (true, 1)];
        check(&ops, |_| u64::MAX);
    }

    #[test]
    fn the_largest_slot_and_key_round_trip() {
        let mut index = IdIndex::new();
        let key = !TAG_MASK; // every key bit set, the largest slot included
        index.insert(42, key, |_| 42);
        let position = index.find(42, |slot| slot == MAX_SLOT).expect("present");
        assert_eq!(index.key_at(position), key);
        assert_eq!(index.remove(42, |_| true, |_| 42), Some(key));
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
            check(&ops, |id| if bits == 64 { spread(id) } else { spread(id) >> (64 - bits) << (64 - bits) });
        }
    }
}
