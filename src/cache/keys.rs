//! Redis keys of the caches (plain Rust, so their shapes are tested natively); the operations on them are named
//! in `adapters::redis_ops`.

use uuid::Uuid;

/// Seconds a competition row stays in Redis.
pub const COMPETITION_TTL_SECS: u64 = 60;

/// The key of a cached competition row.
pub fn competition(id: &Uuid) -> String {
    format!("comp:{id}")
}

/// Seconds a competition row's fence outlives its last move: far longer than any read of the row takes, so a read
/// that began before a move never finds the fence gone (and taken for the value it had) when it comes to keep.
pub const FENCE_TTL_SECS: u64 = 86_400;

/// The fence of a cached competition row: moved by every drop of the row, so a read that began before the drop
/// does not keep what it read after it.
pub fn competition_fence(id: &Uuid) -> String {
    format!("comp:{id}:fence")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn competition_keys_name_their_row() {
        let id = Uuid::from_u128(1);
        assert_eq!(competition(&id), format!("comp:{id}"));
        assert_ne!(competition(&id), competition(&Uuid::from_u128(2)));
        assert_eq!(competition_fence(&id), format!("comp:{id}:fence"));
    }
}
