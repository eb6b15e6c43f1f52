//! Redis keys of the caches (plain Rust, so their shapes are tested natively); the operations on them are named
//! in `adapters::redis_ops`.

use uuid::Uuid;

/// Seconds a competition row stays in Redis.
pub const COMPETITION_TTL_SECS: u64 = 60;

/// The key of a cached competition row.
pub fn competition(id: &Uuid) -> String {
    format!("comp:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn competition_keys_name_their_row() {
        let id = Uuid::from_u128(1);
        assert_eq!(competition(&id), format!("comp:{id}"));
        assert_ne!(competition(&id), competition(&Uuid::from_u128(2)));
    }
}
