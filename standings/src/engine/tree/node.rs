//! The tree's nodes and the mutations that keep it balanced: inserting into a node (splitting it when full),
//! removing from one, and merging an underfull child into a neighbour. `mod.rs` holds the queries.

pub(super) const LEAF_CAP: usize = 64;
const INNER_CAP: usize = 64;
/// A node with fewer entries than this is merged with a neighbour when they fit together.
const LEAF_MIN: usize = LEAF_CAP / 4;
const INNER_MIN: usize = INNER_CAP / 4;

use arrayvec::ArrayVec;

/// Room for one entry over capacity: an insert places the new child first and splits the node after.
const INNER_ROOM: usize = INNER_CAP + 1;

#[derive(Debug, Clone)]
pub(super) enum Node {
    Leaf(Vec<u128>),
    Inner(Box<Inner>),
}

/// An inner node in one allocation (fixed-size arrays, not three vectors), so a descent through it follows one
/// pointer instead of four.
#[derive(Debug, Clone)]
pub(super) struct Inner {
    /// Lower bound of each child's keys: child `i` holds keys in `[firsts[i], firsts[i + 1])`. A bound may be
    /// below the child's smallest key after removals, which keeps routing correct.
    pub(super) firsts: ArrayVec<u128, INNER_ROOM>,
    /// Number of keys under each child (u32 halves the bytes a rank query scans; a board holds < 2^32 members).
    pub(super) counts: ArrayVec<u32, INNER_ROOM>,
    pub(super) children: ArrayVec<Node, INNER_ROOM>,
}

impl Node {
    pub(super) fn len(&self) -> usize {
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

    pub(super) fn first(&self) -> u128 {
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
    pub(super) fn insert(&mut self, key: u128, below: &mut usize) -> Result<bool, Node> {
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
    pub(super) fn remove(&mut self, key: u128, below: &mut usize) -> bool {
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
    pub(super) fn route(&self, key: u128) -> usize {
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

/// Keys under the first `children` children.
pub(super) fn prefix(counts: &[u32], children: usize) -> usize {
    counts[..children].iter().map(|&c| c as usize).sum()
}
