//! Redis keys and scripts of the caches (plain Rust, so their shapes are tested natively).

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

/// Reads the version and the page at that version in one round trip: `KEYS[1]` the version key, `ARGV[1]`/`ARGV[2]`
/// the page key around the version. Returns `{version, page or false}`.
pub const READ_PAGE: &str = "local v = redis.call('GET', KEYS[1]) or '0' \
     return {v, redis.call('GET', ARGV[1] .. v .. ARGV[2])}";

/// Raises the version to `ARGV[1]` unless it is already higher (writes from different isolates may arrive out of
/// order), refreshing its TTL (`ARGV[2]` seconds).
pub const RAISE_VERSION: &str = "local current = tonumber(redis.call('GET', KEYS[1]) or '0') \
     local wanted = tonumber(ARGV[1]) \
     if wanted > current then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) \
     else redis.call('EXPIRE', KEYS[1], ARGV[2]) end \
     return math.max(current, wanted)";

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
