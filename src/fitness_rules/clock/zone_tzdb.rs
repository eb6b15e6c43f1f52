//! Zones on the host: `jiff` with its compiled-in copy of the IANA time-zone database. Native builds (the unit
//! tests, the local tools) use it; the Worker asks the runtime's own database instead (`zone_intl.rs`), which saves
//! the bundle the database's 49 KiB.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// An IANA time zone.
#[derive(Debug, Clone)]
pub struct Zone(TimeZone);

impl Zone {
    /// The zone of an IANA name (looked up case-insensitively); `None` for a name the database does not know.
    pub fn named(name: &str) -> Option<Zone> {
        TimeZone::get(name).ok().map(Zone)
    }

    /// The calendar date (days since 1970-01-01) in this zone at `ms` milliseconds since the epoch.
    pub fn date_at(&self, ms: i64) -> i64 {
        let instant = Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 { Timestamp::MIN } else { Timestamp::MAX });
        let date = instant.to_zoned(self.0.clone()).date();
        date.duration_since(Date::constant(1970, 1, 1)).as_secs().div_euclid(86_400)
    }
}
