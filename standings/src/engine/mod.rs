//! The leaderboard engine: members, their scores and their ranks, in memory, with no runtime types.
//!
//! Order (`API.md`): higher score first; equal scores by who reached the score first; rank is 1-based and unique.
//! "Reached first" is the object's update sequence at the moment of the change (see [`key`]), which the object
//! persists, so a board rebuilt from storage orders exactly as before.
//!
//! Memory per member: 16 bytes of id, ~21–43 bytes of id index (which holds the rank key) and ~16–24 bytes of
//! tree; `BENCHMARKS.md` has the measured figures.

pub mod id_index;
pub mod key;
pub mod prizes;
pub mod tree;

use uuid::Uuid;

use crate::score::Score;
use id_index::{IdIndex, MAX_SLOT};
use key::{RankKey, MAX_SCORE, MAX_SEQ};
use tree::CountedTree;

/// Why the engine refused a change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The board has used every update sequence number it can encode.
    #[error("update sequence exhausted")]
    SequenceExhausted,
    /// A restored sequence number is out of range.
    #[error("sequence {0} out of range")]
    BadSequence(u64),
    /// The board holds as many members as the id index can address.
    #[error("the board is full")]
    BoardFull,
}

/// One row of a leaderboard view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// 1-based rank.
    pub rank: u64,
    /// The member.
    pub user_id: Uuid,
    /// Their score.
    pub score: Score,
}

/// The outcome of setting a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreChange {
    /// Rank after the change.
    pub rank: u64,
    /// Rank before it; `None` for a new member.
    pub previous_rank: Option<u64>,
    /// Members on the board.
    pub total: u64,
    /// Whether anything changed (an unchanged score changes nothing, not even the order of ties).
    pub changed: bool,
    /// The update sequence the member's score now carries.
    pub seq: u64,
}

/// Bytes of a member's own data: id, score and the sequence at which they reached it.
pub const MEMBER_DATA_BYTES: usize = 16 + 8 + 8;

/// A competition's leaderboard.
#[derive(Debug, Clone)]
pub struct Leaderboard {
    /// Member ids by slot. Score and sequence live in the rank key the id index holds.
    ids: Vec<[u8; 16]>,
    /// Slots of removed members, reused before the vector grows.
    free: Vec<u32>,
    /// Rank keys (slot, score, sequence), found by id.
    index: IdIndex,
    tree: CountedTree,
    next_seq: u64,
}

impl Default for Leaderboard {
    fn default() -> Self {
        // Sequences start at 1 so that 0 can mean "nothing seen yet" to live subscribers.
        Self { ids: Vec::new(), free: Vec::new(), index: IdIndex::new(), tree: CountedTree::new(), next_seq: 1 }
    }
}

fn hash_id(id: &[u8; 16]) -> u64 {
    // Ids are UUIDs minted by the auth service, not chosen by callers; fold them with a multiplicative mix so
    // non-random (e.g. sequential test) ids still spread across buckets.
    let lo = u64::from_le_bytes(id[..8].try_into().unwrap_or_default());
    let hi = u64::from_le_bytes(id[8..].try_into().unwrap_or_default());
    (lo ^ hi.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl Leaderboard {
    /// An empty board.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty board sized for `members` (a rebuild, which knows how many it loads). Growing to a million one
    /// member at a time reallocates the id list and rehashes the id index again and again; wasm memory never
    /// shrinks and its allocator cannot reuse a freed block for the next larger one, so each generation stays in
    /// the high-water mark (a rebuild of a million members took the object's wasm memory to 180 MB; the isolate's
    /// limit is 128).
    pub fn with_capacity(members: usize) -> Self {
        Self { ids: Vec::with_capacity(members), index: IdIndex::with_capacity(members), ..Self::default() }
    }

    /// Members on the board.
    pub fn total(&self) -> u64 {
        self.tree.len() as u64
    }

    /// The update sequence the next change will carry.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Takes the next update sequence for an event that is not a score change (a member removed), so frames stay in
    /// one strictly increasing order.
    pub fn take_seq(&mut self) -> Result<u64, EngineError> {
        if self.next_seq > MAX_SEQ {
            return Err(EngineError::SequenceExhausted);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        Ok(seq)
    }

    /// Makes later changes carry sequences above `seq` (after a rebuild: an event such as a removal left no member
    /// row holding its sequence, only its kept frame).
    pub fn continue_after(&mut self, seq: u64) {
        self.next_seq = self.next_seq.max(seq.saturating_add(1));
    }

    /// The sequence of the last change, `None` before the first.
    pub fn last_seq(&self) -> Option<u64> {
        self.next_seq.checked_sub(1).filter(|&seq| seq > 0)
    }

    /// Where `id`'s rank key sits in the index.
    fn position_of(&self, id: &[u8; 16]) -> Option<usize> {
        let ids = &self.ids;
        self.index.find(hash_id(id), |slot| ids[slot as usize] == *id)
    }

    /// `id`'s rank key (slot, score and sequence).
    fn key_of(&self, id: &[u8; 16]) -> Option<RankKey> {
        self.position_of(id).map(|position| self.index.key_at(position))
    }

    fn entry_for(&self, key: RankKey, rank: u64) -> Entry {
        let score = Score::from_key(key::score(key));
        Entry { rank, user_id: Uuid::from_bytes(self.ids[key::slot(key) as usize]), score }
    }

    /// Adds a member who is not on the board yet and returns their rank key.
    fn insert_member(&mut self, id: [u8; 16], score: u64, seq: u64) -> Result<RankKey, EngineError> {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.ids[slot as usize] = id;
                slot
            }
            None => {
                let slot = u32::try_from(self.ids.len()).ok().filter(|&slot| slot <= MAX_SLOT);
                let slot = slot.ok_or(EngineError::BoardFull)?;
                self.ids.push(id);
                slot
            }
        };
        let key = key::pack(score, seq, slot);
        let ids = &self.ids;
        self.index.insert(hash_id(&id), key, |slot| hash_id(&ids[slot as usize]));
        Ok(key)
    }

    /// Sets `user`'s absolute score. An unchanged score is a no-op that reports the current rank.
    pub fn set_score(&mut self, user: Uuid, score: Score) -> Result<ScoreChange, EngineError> {
        let score = score.get();
        let id = user.into_bytes();
        let existing = self.position_of(&id);
        if let Some(position) = existing {
            let old = self.index.key_at(position);
            if key::score(old) == score {
                let rank = self.tree.count_less(old) as u64 + 1;
                let seq = key::seq(old);
                return Ok(ScoreChange { rank, previous_rank: Some(rank), total: self.total(), changed: false, seq });
            }
        }
        if self.next_seq > MAX_SEQ {
            return Err(EngineError::SequenceExhausted);
        }
        let seq = self.next_seq;
        let (key, previous_rank) = match existing {
            Some(position) => {
                let old = self.index.key_at(position);
                let previous = self.tree.remove_ranked(old).unwrap_or_default() as u64 + 1;
                let key = key::pack(score, seq, key::slot(old));
                self.index.set_key_at(position, key);
                (key, Some(previous))
            }
            None => (self.insert_member(id, score, seq)?, None),
        };
        self.next_seq += 1;
        let rank = self.tree.insert_ranked(key).unwrap_or_default() as u64 + 1;
        Ok(ScoreChange { rank, previous_rank, total: self.total(), changed: true, seq })
    }

    /// Puts back a member exactly as persisted (score and the sequence at which it was reached), for rebuilding a
    /// board from storage. Later changes get sequences above every restored one.
    pub fn restore(&mut self, user: Uuid, score: Score, seq: u64) -> Result<(), EngineError> {
        if seq > MAX_SEQ {
            return Err(EngineError::BadSequence(seq));
        }
        self.remove(user);
        let key = self.insert_member(user.into_bytes(), score.get(), seq)?;
        self.tree.insert(key);
        self.next_seq = self.next_seq.max(seq + 1);
        Ok(())
    }

    /// Takes `user` off the board; returns whether they were on it.
    pub fn remove(&mut self, user: Uuid) -> bool {
        let id = user.into_bytes();
        let ids = &self.ids;
        let removed = self.index.remove(hash_id(&id), |s| ids[s as usize] == id, |s| hash_id(&ids[s as usize]));
        let Some(key) = removed else { return false };
        self.tree.remove(key);
        self.free.push(key::slot(key));
        true
    }

    /// `user`'s score, without computing a rank (a hash lookup, no tree descent).
    pub fn score_of(&self, user: Uuid) -> Option<Score> {
        self.key_of(user.as_bytes()).map(|key| Score::from_key(key::score(key)))
    }

    /// `user`'s rank and score.
    pub fn standing(&self, user: Uuid) -> Option<Entry> {
        let key = self.key_of(user.as_bytes())?;
        Some(self.entry_for(key, self.tree.count_less(key) as u64 + 1))
    }

    /// The standard competition rank ("1224") of `score`: 1 + the members with a strictly higher score. Ties share
    /// it, unlike `rank`, which stays unique. One tree descent: the smallest key with this score counts everyone
    /// above it.
    pub fn display_rank(&self, score: Score) -> u64 {
        self.tree.count_less(key::pack(score.get(), 0, 0)) as u64 + 1
    }

    /// The display ranks of consecutive entries in rank order (a page, a window): one descent for the first; after
    /// it, an entry tied with the one before shares its display rank, and any other's display rank is its rank.
    pub fn display_ranks(&self, entries: &[Entry]) -> Vec<u64> {
        let mut ranks = Vec::with_capacity(entries.len());
        let mut previous: Option<(Score, u64)> = None;
        for entry in entries {
            let display = match previous {
                Some((score, display)) if score == entry.score => display,
                Some(_) => entry.rank,
                None => self.display_rank(entry.score),
            };
            ranks.push(display);
            previous = Some((entry.score, display));
        }
        ranks
    }

    /// How many members from `rank` on have its member's score (`None` past the last member): the rest of a run of
    /// ties, counted by one tree descent, not by walking it.
    pub fn tied_from(&self, rank: u64) -> Option<u64> {
        let score = self.at_rank(rank)?.score.get();
        // Keys order higher scores first: everyone with this score or more sits before the smallest key of the score
        // below it.
        let at_least = match score.checked_sub(1) {
            Some(below) => self.tree.count_less(key::pack(below, 0, 0)) as u64,
            None => self.total(),
        };
        Some(at_least + 1 - rank)
    }

    /// The member at 1-based `rank`.
    pub fn at_rank(&self, rank: u64) -> Option<Entry> {
        let index = usize::try_from(rank.checked_sub(1)?).ok()?;
        self.tree.select(index).map(|key| self.entry_for(key, rank))
    }

    /// Up to `limit` entries from 1-based rank `from`.
    pub fn page(&self, from: u64, limit: usize) -> Vec<Entry> {
        let start = from.max(1) - 1;
        let Ok(start_index) = usize::try_from(start) else { return Vec::new() };
        self.tree
            .range(start_index, limit)
            .into_iter()
            .zip(start + 1..)
            .map(|(key, rank)| self.entry_for(key, rank))
            .collect()
    }

    /// Up to `limit` entries strictly after the position described by `cursor` (see [`Cursor`]). Stable under
    /// concurrent changes: it continues after the last row the caller saw, wherever that row has moved.
    pub fn page_after(&self, cursor: Cursor, limit: usize) -> Vec<Entry> {
        let after = key::pack(cursor.score.min(MAX_SCORE), cursor.seq.min(MAX_SEQ), cursor.slot);
        let start = self.tree.count_less(after) + usize::from(self.tree.contains(after));
        self.page(start as u64 + 1, limit)
    }

    /// The cursor that continues after `entry` (for `next_cursor`).
    pub fn cursor_after(&self, entry: &Entry) -> Option<Cursor> {
        let key = self.key_of(entry.user_id.as_bytes())?;
        Some(Cursor { score: key::score(key), seq: key::seq(key), slot: key::slot(key) })
    }

    /// `user` with up to `radius` members on each side (fewer at the ends of the board).
    pub fn around(&self, user: Uuid, radius: u64) -> Option<Vec<Entry>> {
        let me = self.standing(user)?;
        let from = me.rank.saturating_sub(radius).max(1);
        let to = me.rank.saturating_add(radius).min(self.total());
        Some(self.page(from, (to - from + 1) as usize))
    }

    /// Bytes of heap this board holds (allocated capacity), for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.ids.capacity() * 16 + self.free.capacity() * 4 + self.index.heap_bytes() + self.tree.heap_bytes()
    }

    /// Bytes of heap beyond the members' own data (16-byte id, 8-byte score, 8-byte sequence each): the rank tree,
    /// the id index and the slack of both. This is the "index overhead" the memory budget is about.
    pub fn overhead_bytes(&self) -> usize {
        self.heap_bytes().saturating_sub(self.tree.len() * MEMBER_DATA_BYTES)
    }

    /// Every member in rank order, collected at once (tests only: the product reads boards a page at a time, as the
    /// final standings do, since a million members would double the object's memory).
    #[cfg(test)]
    pub(crate) fn iter_ranked(&self) -> impl Iterator<Item = Entry> + '_ {
        self.page(1, self.tree.len()).into_iter()
    }
}

/// An opaque position in the order, handed to clients as `next_cursor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Score of the last row seen.
    pub score: u64,
    /// Its update sequence.
    pub seq: u64,
    /// Its member slot.
    pub slot: u32,
}

impl Cursor {
    /// Text form: three hex numbers joined by `.`.
    pub fn encode(&self) -> String {
        format!("{:x}.{:x}.{:x}", self.score, self.seq, self.slot)
    }

    /// Parses [`Cursor::encode`]'s form; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let score = u64::from_str_radix(parts.next()?, 16).ok()?;
        let seq = u64::from_str_radix(parts.next()?, 16).ok()?;
        let slot = u32::from_str_radix(parts.next()?, 16).ok()?;
        if parts.next().is_some() || score > MAX_SCORE || seq > MAX_SEQ {
            return None;
        }
        Some(Self { score, seq, slot })
    }
}

#[cfg(test)]
mod tests;
