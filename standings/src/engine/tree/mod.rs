//! An order-statistic B+tree of distinct `u128` keys: insert, remove, rank, select and range in O(log n).
//!
//! Why our own: the leaderboard needs "how many keys are below this one" and "the k-th key" in O(log n), which
//! `std::collections::BTreeMap` cannot answer without a linear walk, and no well-kept crate offers a counted
//! B-tree over plain integers with the memory profile a 128 MB Durable Object needs. A wide tree keeps that
//! cheap: leaves hold up to 64 keys (1 KiB, one allocation), inner nodes up to 64 children with the key count of
//! each child, so 1M keys are 3–4 levels deep, a rank query reads a handful of cache lines, and the index costs
//! about 16 bytes per key plus slack of partly filled leaves. (Measured at 1M keys: 64-key leaves beat 128 and 32;
//! 64-child inner nodes beat 32 — `scripts/bench-engine`.) Appending at the end of a leaf splits it unevenly,
//! so keys that arrive in order (new members at score 0) pack leaves full.

mod node;

use node::{prefix, Inner, Node, LEAF_CAP};

/// The order-statistic tree.
#[derive(Debug, Clone)]
pub struct CountedTree {
    root: Node,
    len: usize,
}

impl Default for CountedTree {
    fn default() -> Self {
        Self { root: Node::Leaf(Vec::with_capacity(LEAF_CAP)), len: 0 }
    }
}

impl CountedTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the tree holds no key.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Inserts a key; returns false when it was already present.
    pub fn insert(&mut self, key: u128) -> bool {
        self.insert_ranked(key).is_some()
    }

    /// Inserts a key and returns its 0-based position, or `None` when it was already present.
    pub fn insert_ranked(&mut self, key: u128) -> Option<usize> {
        let mut below = 0;
        let inserted = match self.root.insert(key, &mut below) {
            Ok(inserted) => inserted,
            Err(sibling) => {
                let old = std::mem::replace(&mut self.root, Node::Leaf(Vec::new()));
                self.root = Node::Inner(Box::new(Inner {
                    firsts: [old.first().min(key), sibling.first()].into_iter().collect(),
                    counts: [old.len() as u32, sibling.len() as u32].into_iter().collect(),
                    children: [old, sibling].into_iter().collect(),
                }));
                true
            }
        };
        self.len += usize::from(inserted);
        inserted.then_some(below)
    }

    /// Removes a key; returns whether it was present.
    pub fn remove(&mut self, key: u128) -> bool {
        self.remove_ranked(key).is_some()
    }

    /// Removes a key and returns the 0-based position it had, or `None` when it was absent.
    pub fn remove_ranked(&mut self, key: u128) -> Option<usize> {
        let mut below = 0;
        let removed = self.root.remove(key, &mut below);
        if removed {
            self.len -= 1;
            // A root with a single child is replaced by that child, so the height shrinks with the tree.
            while let Node::Inner(inner) = &mut self.root {
                if inner.children.len() != 1 {
                    break;
                }
                let only = inner.children.pop().expect("one child");
                self.root = only;
            }
        }
        removed.then_some(below)
    }

    /// Number of keys strictly less than `key` (its 0-based rank when present).
    pub fn count_less(&self, key: u128) -> usize {
        let mut node = &self.root;
        let mut below = 0;
        loop {
            match node {
                Node::Leaf(keys) => return below + keys.partition_point(|&k| k < key),
                Node::Inner(inner) => {
                    let i = inner.route(key);
                    below += prefix(&inner.counts, i);
                    node = &inner.children[i];
                }
            }
        }
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: u128) -> bool {
        let mut node = &self.root;
        loop {
            match node {
                Node::Leaf(keys) => return keys.binary_search(&key).is_ok(),
                Node::Inner(inner) => node = &inner.children[inner.route(key)],
            }
        }
    }

    /// The key at 0-based position `index`.
    pub fn select(&self, mut index: usize) -> Option<u128> {
        if index >= self.len {
            return None;
        }
        let mut node = &self.root;
        loop {
            match node {
                Node::Leaf(keys) => return keys.get(index).copied(),
                Node::Inner(inner) => {
                    let mut child = 0;
                    while index >= inner.counts[child] as usize {
                        index -= inner.counts[child] as usize;
                        child += 1;
                    }
                    node = &inner.children[child];
                }
            }
        }
    }

    /// Up to `limit` keys in order, starting at 0-based position `start`.
    pub fn range(&self, start: usize, limit: usize) -> Vec<u128> {
        let mut out = Vec::with_capacity(limit.min(self.len.saturating_sub(start)));
        collect(&self.root, start, limit, &mut out);
        out
    }

    /// Bytes held by the tree's nodes (allocated capacity, not just used), for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        fn walk(node: &Node) -> usize {
            match node {
                Node::Leaf(keys) => keys.capacity() * 16,
                Node::Inner(inner) => std::mem::size_of::<Inner>() + inner.children.iter().map(walk).sum::<usize>(),
            }
        }
        walk(&self.root)
    }
}

fn collect(node: &Node, mut skip: usize, limit: usize, out: &mut Vec<u128>) -> usize {
    let wanted = limit - out.len().min(limit);
    if wanted == 0 {
        return skip;
    }
    match node {
        Node::Leaf(keys) => {
            if skip >= keys.len() {
                return skip - keys.len();
            }
            out.extend(keys[skip..].iter().take(wanted));
            0
        }
        Node::Inner(inner) => {
            for (child, &count) in inner.children.iter().zip(&inner.counts) {
                let count = count as usize;
                if out.len() >= limit {
                    break;
                }
                if skip >= count {
                    skip -= count;
                    continue;
                }
                skip = collect(child, skip, limit, out);
            }
            skip
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn check_against(tree: &CountedTree, model: &BTreeSet<u128>) {
        let sorted: Vec<u128> = model.iter().copied().collect();
        assert_eq!(tree.len(), sorted.len());
        assert_eq!(tree.range(0, usize::MAX), sorted);
        for (i, &key) in sorted.iter().enumerate() {
            assert_eq!(tree.count_less(key), i);
            assert_eq!(tree.select(i), Some(key));
            assert!(tree.contains(key));
        }
        assert_eq!(tree.select(sorted.len()), None);
    }

    #[test]
    fn ordered_and_reversed_bulk_loads_split_and_merge_correctly() {
        for keys in [(0..5000u128).collect::<Vec<_>>(), (0..5000u128).rev().collect()] {
            let mut tree = CountedTree::new();
            let mut model = BTreeSet::new();
            for &k in &keys {
                let position = model.range(..k * 3).count();
                assert_eq!(tree.insert_ranked(k * 3), Some(position));
                model.insert(k * 3);
            }
            assert!(!tree.insert(keys[0] * 3), "duplicates are refused");
            check_against(&tree, &model);
            for &k in keys.iter().step_by(2) {
                let position = model.range(..k * 3).count();
                assert_eq!(tree.remove_ranked(k * 3), Some(position));
                model.remove(&(k * 3));
            }
            assert!(!tree.remove(1), "absent keys are not removed");
            check_against(&tree, &model);
            for &k in &keys {
                tree.remove(k * 3);
            }
            assert!(tree.is_empty());
            assert_eq!(tree.range(0, 10), Vec::<u128>::new());
        }
    }

    #[test]
    fn ordered_appends_fill_leaves() {
        let mut tree = CountedTree::new();
        for k in 0..100_000u128 {
            tree.insert(k);
        }
        let per_key = tree.heap_bytes() as f64 / 100_000.0;
        assert!(per_key < 18.0, "{per_key} bytes per key");
    }

    #[test]
    fn range_windows() {
        let mut tree = CountedTree::new();
        for k in 0..1000u128 {
            tree.insert(k);
        }
        assert_eq!(tree.range(995, 10), vec![995, 996, 997, 998, 999]);
        assert_eq!(tree.range(1000, 10), Vec::<u128>::new());
        assert_eq!(tree.range(127, 3), vec![127, 128, 129]);
        assert_eq!(tree.range(5, 0), Vec::<u128>::new());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn random_operations_match_a_btreeset(ops in prop::collection::vec((any::<bool>(), 0u128..3000), 1..4000)) {
            let mut tree = CountedTree::new();
            let mut model = BTreeSet::new();
            for (insert, key) in ops {
                if insert {
                    prop_assert_eq!(tree.insert(key), model.insert(key));
                } else {
                    prop_assert_eq!(tree.remove(key), model.remove(&key));
                }
            }
            check_against(&tree, &model);
        }
    }
}
