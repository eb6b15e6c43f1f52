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

const LEAF_CAP: usize = 64;
const INNER_CAP: usize = 64;
/// A node with fewer entries than this is merged with a neighbour when they fit together.
const LEAF_MIN: usize = LEAF_CAP / 4;
const INNER_MIN: usize = INNER_CAP / 4;

use arrayvec::ArrayVec;

/// Room for one entry over capacity: an insert places the new child first and splits the node after.
const INNER_ROOM: usize = INNER_CAP + 1;

#[derive(Debug, Clone)]
enum Node {
    Leaf(Vec<u128>),
    Inner(Box<Inner>),
}

/// An inner node in one allocation (fixed-size arrays, not three vectors), so a descent through it follows one
/// pointer instead of four.
#[derive(Debug, Clone)]
struct Inner {
    /// Lower bound of each child's keys: child `i` holds keys in `[firsts[i], firsts[i + 1])`. A bound may be
    /// below the child's smallest key after removals, which keeps routing correct.
    firsts: ArrayVec<u128, INNER_ROOM>,
    /// Number of keys under each child (u32 halves the bytes a rank query scans; a board holds < 2^32 members).
    counts: ArrayVec<u32, INNER_ROOM>,
    children: ArrayVec<Node, INNER_ROOM>,
}

impl Node {
    fn len(&self) -> usize {
        match self {
            Node::Leaf(keys) => keys.len(),
            Node::Inner(inner) => inner.counts.iter().map(|&c| c as usize).sum(),
        }
    }

    /// Entries (keys or children) held directly by this node.
    fn width(&self) -> usize {
        match self {
            Node::Leaf(keys) => keys.len(),
            Node::Inner(inner) => inner.children.len(),
        }
    }

    fn first(&self) -> u128 {
        match self {
            Node::Leaf(keys) => keys.first().copied().unwrap_or(0),
            Node::Inner(inner) => inner.firsts[0],
        }
    }

    fn underfull(&self) -> bool {
        match self {
            Node::Leaf(keys) => keys.len() < LEAF_MIN,
            Node::Inner(inner) => inner.children.len() < INNER_MIN,
        }
    }

    fn capacity(&self) -> usize {
        match self {
            Node::Leaf(_) => LEAF_CAP,
            Node::Inner(_) => INNER_CAP,
        }
    }

    /// Inserts `key`, adding to `below` the number of keys under this node that order before it. Returns
    /// `Ok(true)` when inserted, `Ok(false)` when already present, and `Err(sibling)` when the node split: the
    /// sibling holds the upper part and must be placed right after this node.
    fn insert(&mut self, key: u128, below: &mut usize) -> Result<bool, Node> {
        match self {
            Node::Leaf(keys) => {
                let pos = match keys.binary_search(&key) {
                    Ok(pos) => {
                        *below += pos;
                        return Ok(false);
                    }
                    Err(pos) => pos,
                };
                *below += pos;
                if keys.len() < LEAF_CAP {
                    keys.insert(pos, key);
                    return Ok(true);
                }
                // Full: appending at the end leaves this leaf full (ordered arrivals pack densely); otherwise halve.
                let at = if pos == LEAF_CAP { LEAF_CAP } else { LEAF_CAP / 2 };
                let mut upper = Vec::with_capacity(LEAF_CAP);
                upper.extend(keys.drain(at..));
                if pos >= at {
                    upper.insert(pos - at, key);
                } else {
                    keys.insert(pos, key);
                }
                Err(Node::Leaf(upper))
            }
            Node::Inner(inner) => {
                let i = inner.route(key);
                *below += prefix(&inner.counts, i);
                match inner.children[i].insert(key, below) {
                    Ok(inserted) => {
                        if inserted {
                            inner.counts[i] += 1;
                            if key < inner.firsts[i] {
                                inner.firsts[i] = key;
                            }
                        }
                        Ok(inserted)
                    }
                    Err(sibling) => {
                        inner.counts[i] = inner.children[i].len() as u32;
                        if key < inner.firsts[i] {
                            inner.firsts[i] = key;
                        }
                        inner.firsts.insert(i + 1, sibling.first());
                        inner.counts.insert(i + 1, sibling.len() as u32);
                        inner.children.insert(i + 1, sibling);
                        if inner.children.len() <= INNER_CAP {
                            return Ok(true);
                        }
                        let at = if i + 1 == INNER_CAP { INNER_CAP } else { inner.children.len() / 2 };
                        Err(Node::Inner(Box::new(Inner {
                            firsts: inner.firsts.drain(at..).collect(),
                            counts: inner.counts.drain(at..).collect(),
                            children: inner.children.drain(at..).collect(),
                        })))
                    }
                }
            }
        }
    }

    /// Removes `key`, adding to `below` the number of keys under this node that order before it; returns whether
    /// it was present.
    fn remove(&mut self, key: u128, below: &mut usize) -> bool {
        match self {
            Node::Leaf(keys) => match keys.binary_search(&key) {
                Ok(pos) => {
                    *below += pos;
                    keys.remove(pos);
                    true
                }
                Err(_) => false,
            },
            Node::Inner(inner) => {
                let i = inner.route(key);
                *below += prefix(&inner.counts, i);
                if !inner.children[i].remove(key, below) {
                    return false;
                }
                inner.counts[i] -= 1;
                inner.rebalance(i);
                true
            }
        }
    }
}

impl Inner {
    /// Index of the child whose key range contains `key`.
    fn route(&self, key: u128) -> usize {
        self.firsts.partition_point(|&first| first <= key).saturating_sub(1)
    }

    /// Merges child `i` into a neighbour when it became underfull and they fit in one node.
    fn rebalance(&mut self, i: usize) {
        if self.children[i].width() == 0 {
            self.remove_child(i);
            return;
        }
        if !self.children[i].underfull() {
            return;
        }
        let (left, right) = if i + 1 < self.children.len() {
            (i, i + 1)
        } else if i > 0 {
            (i - 1, i)
        } else {
            return;
        };
        if self.children[left].width() + self.children[right].width() > self.children[left].capacity() {
            return;
        }
        let absorbed = self.remove_child(right);
        match (&mut self.children[left], absorbed) {
            (Node::Leaf(into), Node::Leaf(from)) => into.extend(from),
            (Node::Inner(into), Node::Inner(from)) => {
                let from = *from;
                into.firsts.extend(from.firsts);
                into.counts.extend(from.counts);
                into.children.extend(from.children);
            }
            // Siblings are always at the same depth, hence of the same kind.
            _ => unreachable!("siblings of different kinds"),
        }
        self.counts[left] = self.children[left].len() as u32;
    }

    fn remove_child(&mut self, i: usize) -> Node {
        self.firsts.remove(i);
        self.counts.remove(i);
        self.children.remove(i)
    }
}

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

/// Keys under the first `children` children.
fn prefix(counts: &[u32], children: usize) -> usize {
    counts[..children].iter().map(|&c| c as usize).sum()
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
