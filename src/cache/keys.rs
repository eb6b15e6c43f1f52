//! Redis keys of the caches (plain Rust, so their shapes are tested natively); the operations on them are named
//! in `adapters::redis_ops`.

use uuid::Uuid;

/// Seconds a page stays in Redis.
pub const PAGE_TTL_SECS: u64 = 15;
/// Seconds a competition's version key lives (refreshed by every write).
pub const VERSION_TTL_SECS: u64 = 24 * 60 * 60;
/// Seconds a competition row stays in Redis.
pub const COMPETITION_TTL_SECS: u64 = 60;

/// The key holding a competition's version (its latest acknowledged update sequence).
pub fn version(competition: &Uuid) -> String {
    format!("lb:v:{competition}")
}

/// The prefix and suffix around the version in a page key (the read script splices the version in).
pub fn page_parts(competition: &Uuid, limit: usize, cursor: Option<&str>) -> (String, String) {
    (format!("lb:p:{competition}:"), format!(":{limit}:{}", cursor.unwrap_or("-")))
}

/// A page key at a given version.
pub fn page(competition: &Uuid, version: u64, limit: usize, cursor: Option<&str>) -> String {
    let (prefix, suffix) = page_parts(competition, limit, cursor);
    format!("{prefix}{version}{suffix}")
}

/// The key of a cached competition row.
pub fn competition(id: &Uuid) -> String {
    format!("comp:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_keys_splice_the_version_between_their_parts() {
        let id = Uuid::from_u128(1);
        let (prefix, suffix) = page_parts(&id, 50, None);
        assert_eq!(format!("{prefix}7{suffix}"), page(&id, 7, 50, None));
        assert_eq!(page(&id, 7, 50, Some("ab.cd")), format!("lb:p:{id}:7:50:ab.cd"));
        assert_ne!(page(&id, 7, 50, None), page(&id, 8, 50, None));
        assert_ne!(page(&id, 7, 50, None), page(&id, 7, 20, None));
    }
}
