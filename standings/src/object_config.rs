//! What a Competition object reads from its deployment's settings, read once when it wakes and passed to what needs
//! it (the socket limit to the upgrade, the coalescing threshold to the fan-out); nothing reads a setting later.

use crate::live::{coalesce_from, socket_capacity};
use crate::relay::{DEFAULT_RELAY_LEAVE_AFTER_MS, RELAY_LEAVE_AFTER_MS};

/// Setting of the most live sockets one competition takes.
pub const LIVE_SOCKETS_PER_COMPETITION: &str = "LIVE_SOCKETS_PER_COMPETITION";
/// Setting of the socket count from which frames are combined.
pub const LIVE_COALESCE_FROM_SOCKETS: &str = "LIVE_COALESCE_FROM_SOCKETS";
/// Setting of how long a call to an object may wait for its answer (the Worker's calls and the objects' own).
pub const OBJECT_TIMEOUT_MS: &str = "OBJECT_TIMEOUT_MS";
/// [`OBJECT_TIMEOUT_MS`] when unset.
pub const DEFAULT_OBJECT_TIMEOUT_MS: u32 = 10_000;
/// The values [`OBJECT_TIMEOUT_MS`] may take (the Worker refuses others at its start; an object takes the default).
pub const OBJECT_TIMEOUT_RANGE_MS: std::ops::RangeInclusive<u32> = 100..=60_000;

/// A Competition object's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectConfig {
    /// Most open live sockets; more are refused with 503.
    pub socket_capacity: u64,
    /// Open sockets from which on frames are combined into send passes.
    pub coalesce_from: u64,
    /// How long a relay goes without sockets before it leaves its competition.
    pub relay_leave_after_ms: i64,
    /// How long a call to another object (a relay's batch, a relay's question to its competition) waits for its
    /// answer: a silent object must not hold up the caller's stream for good.
    pub call_within_ms: u32,
}

impl ObjectConfig {
    /// The settings from `lookup` (a setting's text by name); unset or unreadable ones take their defaults.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            socket_capacity: socket_capacity(lookup(LIVE_SOCKETS_PER_COMPETITION).as_deref()),
            coalesce_from: coalesce_from(lookup(LIVE_COALESCE_FROM_SOCKETS).as_deref()),
            relay_leave_after_ms: lookup(RELAY_LEAVE_AFTER_MS)
                .and_then(|text| text.trim().parse::<i64>().ok())
                .filter(|ms| *ms >= 0)
                .unwrap_or(DEFAULT_RELAY_LEAVE_AFTER_MS),
            call_within_ms: lookup(OBJECT_TIMEOUT_MS)
                .and_then(|text| text.trim().parse::<u32>().ok())
                .filter(|ms| OBJECT_TIMEOUT_RANGE_MS.contains(ms))
                .unwrap_or(DEFAULT_OBJECT_TIMEOUT_MS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{DEFAULT_COALESCE_FROM_SOCKETS, DEFAULT_LIVE_SOCKETS, RUNTIME_SOCKET_LIMIT};

    /// Settings as (name, text) pairs, and the socket capacity, coalescing threshold, relay leave delay and object
    /// call limit they give.
    type Case = (&'static [(&'static str, &'static str)], u64, u64, i64, u32);

    #[test]
    fn settings_are_read_once_with_their_defaults() {
        let config = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            ObjectConfig::from_lookup(|name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
        };
        let (leave, within) = (DEFAULT_RELAY_LEAVE_AFTER_MS, DEFAULT_OBJECT_TIMEOUT_MS);
        let (sockets, coalesce) = (DEFAULT_LIVE_SOCKETS, DEFAULT_COALESCE_FROM_SOCKETS);
        let cases: [Case; 10] = [
            (&[], sockets, coalesce, leave, within),
            (&[(LIVE_SOCKETS_PER_COMPETITION, "500"), (LIVE_COALESCE_FROM_SOCKETS, " 100 ")], 500, 100, leave, within),
            (
                &[(LIVE_SOCKETS_PER_COMPETITION, "lots"), (LIVE_COALESCE_FROM_SOCKETS, "")],
                sockets,
                coalesce,
                leave,
                within,
            ),
            (&[(LIVE_SOCKETS_PER_COMPETITION, "1000000")], RUNTIME_SOCKET_LIMIT, coalesce, leave, within),
            (&[(RELAY_LEAVE_AFTER_MS, " 1500 ")], sockets, coalesce, 1_500, within),
            (&[(RELAY_LEAVE_AFTER_MS, "-1")], sockets, coalesce, leave, within),
            (&[(OBJECT_TIMEOUT_MS, "2500")], sockets, coalesce, leave, 2_500),
            (&[(OBJECT_TIMEOUT_MS, "99")], sockets, coalesce, leave, within),
            (&[(OBJECT_TIMEOUT_MS, "60001")], sockets, coalesce, leave, within),
            (&[(OBJECT_TIMEOUT_MS, "soon")], sockets, coalesce, leave, within),
        ];
        for (pairs, socket_capacity, coalesce_from, relay_leave_after_ms, call_within_ms) in cases {
            let expected = ObjectConfig { socket_capacity, coalesce_from, relay_leave_after_ms, call_within_ms };
            assert_eq!(config(pairs), expected, "{pairs:?}");
        }
    }
}
