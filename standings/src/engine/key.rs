//! The rank key: a member's position in the order (score desc, reached first, member slot) packed in one `u128`.
//!
//! Ascending key order is leaderboard order, so the tree compares plain integers. Layout, high to low bits:
//! `MAX_SCORE - score` (53 bits) | `seq` (43 bits) | `slot` (32 bits). `seq` is the object's update sequence at
//! the moment the member reached the score; it is unique per change, so "earlier reached first" needs no clock and
//! two members never tie on the whole key.

/// Largest score JSON clients can hold exactly (2^53 - 1).
pub const MAX_SCORE: u64 = (1 << 53) - 1;
/// Largest update sequence a key can carry (2^43 - 1, about 8.8 × 10^12 updates).
pub const MAX_SEQ: u64 = (1 << 43) - 1;

/// A packed rank key.
pub type RankKey = u128;

/// Packs a member's order position.
pub fn pack(score: u64, seq: u64, slot: u32) -> RankKey {
    debug_assert!(score <= MAX_SCORE && seq <= MAX_SEQ);
    (u128::from(MAX_SCORE - score) << 75) | (u128::from(seq) << 32) | u128::from(slot)
}

/// The score inside a key.
pub fn score(key: RankKey) -> u64 {
    MAX_SCORE - (key >> 75) as u64
}

/// The update sequence inside a key.
pub fn seq(key: RankKey) -> u64 {
    ((key >> 32) as u64) & MAX_SEQ
}

/// The member slot inside a key.
pub fn slot(key: RankKey) -> u32 {
    key as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trips_at_the_extremes() {
        for (score, seq, slot) in [(0, 0, 0), (MAX_SCORE, MAX_SEQ, u32::MAX), (1, 2, 3), (MAX_SCORE, 0, 7)] {
            let key = pack(score, seq, slot);
            assert_eq!((super::score(key), super::seq(key), super::slot(key)), (score, seq, slot));
        }
    }

    #[test]
    fn key_order_is_leaderboard_order() {
        // Higher score first; on equal scores the earlier sequence first; then the slot.
        assert!(pack(10, 5, 0) < pack(9, 1, 0));
        assert!(pack(10, 1, 9) < pack(10, 2, 0));
        assert!(pack(10, 1, 1) < pack(10, 1, 2));
        assert!(pack(MAX_SCORE, MAX_SEQ, u32::MAX) < pack(0, 0, 0));
    }
}
