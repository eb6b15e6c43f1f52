//! Fair-day clocks. A member's day is a calendar date in a time zone (their own, or the competition's fixed one); a
//! date counts for a competition when its midnight-to-midnight interval in that zone overlaps `[starts_at,
//! ends_at)`. Zones come from the IANA time-zone database — the runtime's own in the Worker (`Intl`, workerd has no
//! zoneinfo files), `jiff`'s compiled-in copy on the host — so daylight-saving days of 23 or 25 hours and zones from
//! UTC−12 to UTC+14 are handled as the zone's rules say.

use std::ops::RangeInclusive;

#[cfg_attr(target_arch = "wasm32", path = "clock/zone_intl.rs")]
#[cfg_attr(not(target_arch = "wasm32"), path = "clock/zone_tzdb.rs")]
mod zone;

use zone::Zone;

/// A clock that tells which calendar date an instant falls on.
#[derive(Debug, Clone)]
pub struct Clock {
    /// `None` is UTC, whose dates need no database.
    zone: Option<Zone>,
}

/// The name of the clock that gives each member their own profile's zone.
pub const PARTICIPANT: &str = "participant";
/// The zone of a profile that never set one.
pub const DEFAULT_ZONE: &str = "UTC";

/// [`PARTICIPANT`] as an owned name (the default of a competition's `clock` when rows are read).
pub fn participant_name() -> String {
    PARTICIPANT.to_owned()
}

/// [`DEFAULT_ZONE`] as an owned name (the default of a profile's `time_zone` when rows are read).
pub fn default_zone_name() -> String {
    DEFAULT_ZONE.to_owned()
}

impl Clock {
    /// The clock of an IANA zone name (`Europe/Berlin`, `UTC`); `None` for a name the database does not know.
    pub fn named(name: &str) -> Option<Clock> {
        // Names are looked up case-insensitively; the API keeps them as written.
        if name.is_empty() || name.len() > 64 || is_not_iana(name) {
            return None;
        }
        // Every profile's default: its dates need no zone lookup (in the Worker, an `Intl` object per rescore).
        if name.eq_ignore_ascii_case(DEFAULT_ZONE) {
            return Some(Clock::utc());
        }
        Zone::named(name).map(|zone| Clock { zone: Some(zone) })
    }

    /// Coordinated Universal Time.
    pub fn utc() -> Clock {
        Clock { zone: None }
    }

    /// The calendar date (days since 1970-01-01) at `ms` milliseconds since the epoch.
    pub fn date_at(&self, ms: i64) -> i64 {
        match &self.zone {
            Some(zone) => zone.date_at(ms),
            None => crate::time::day_of(ms),
        }
    }

    /// The dates whose midnight-to-midnight interval overlaps `[starts_ms, ends_ms)`. Consecutive dates tile the
    /// time line, so they are the dates from the one holding `starts_ms` to the one holding the window's last
    /// millisecond (empty when the window is).
    pub fn counted_dates(&self, starts_ms: i64, ends_ms: i64) -> RangeInclusive<i64> {
        if ends_ms <= starts_ms {
            #[allow(clippy::reversed_empty_ranges)]
            return 1..=0;
        }
        self.date_at(starts_ms)..=self.date_at(ends_ms - 1)
    }
}

/// ICU's (the Worker's `Intl`) Java-style three-letter ids, which are not IANA names. Several name another zone than
/// the same abbreviation does in PostgreSQL (`IST` is Asia/Kolkata to ICU, Israel's +02 to the database; `BST`
/// Asia/Dhaka against +01), so a profile or clock named so would count its days by one zone and check `future_date`
/// by another. (`EST`, `MST` and `HST` are IANA zones, and kept.)
const ICU_THREE_LETTER_IDS: &str =
    "ACT AET AGT ART AST BET BST CAT CNT CST CTT EAT ECT IET IST JST MIT NET NST PLT PNT PRT PST SST VST";

/// Names a zone lookup takes that the IANA database has not (or no longer) got: ICU's three-letter ids, its
/// `SystemV/…` zones (dropped by IANA in 2020), and the placeholder for an unknown zone (which `jiff` and ICU know).
fn is_not_iana(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    name.starts_with("SYSTEMV/")
        || name == "ETC/UNKNOWN"
        || ICU_THREE_LETTER_IDS.split_whitespace().any(|id| id == name)
}

/// Whether `name` is a zone of the time-zone database (what profiles and competition clocks may name).
pub fn is_known_zone(name: &str) -> bool {
    Clock::named(name).is_some()
}

// The same tables run natively (jiff's database) and under `wasm-bindgen-test` (the JS runtime's `Intl`), so the
// Worker's zones are checked against the host's.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{parse_day, parse_ms};

    fn ms(text: &str) -> i64 {
        parse_ms(text).expect("timestamp")
    }

    fn day(text: &str) -> i64 {
        parse_day(text).expect("date")
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_dates_that_count_depend_on_the_clock() {
        // (zone, starts_at, ends_at, first counted date, last counted date)
        let cases = [
            // The contract's example: UTC clock, ends_at 2026-12-02T00:00Z → 2026-12-02 does not count.
            ("UTC", "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z", "2026-12-01", "2026-12-01"),
            // UTC+14: the window's first instant is already 14:00 on 2026-12-01 there, its last 13:59 on the 2nd.
            ("Pacific/Kiritimati", "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z", "2026-12-01", "2026-12-02"),
            // UTC−11: it starts at 13:00 on 2026-11-30 there.
            ("Pacific/Pago_Pago", "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z", "2026-11-30", "2026-12-01"),
            // A window drawn in local time counts exactly its local days.
            ("Pacific/Kiritimati", "2026-11-30T10:00:00Z", "2026-12-01T10:00:00Z", "2026-12-01", "2026-12-01"),
            ("Pacific/Pago_Pago", "2026-12-01T11:00:00Z", "2026-12-02T11:00:00Z", "2026-12-01", "2026-12-01"),
            // New York springs forward on 2026-03-08: that local day lasts 23 hours (05:00Z to 04:00Z).
            ("America/New_York", "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z", "2026-03-08", "2026-03-08"),
            ("America/New_York", "2026-03-08T05:00:00Z", "2026-03-09T04:00:00.001Z", "2026-03-08", "2026-03-09"),
            // ... and falls back on 2026-11-01: 25 hours (04:00Z to 05:00Z).
            ("America/New_York", "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z", "2026-11-01", "2026-11-01"),
            ("Europe/Berlin", "2026-03-29T00:00:00Z", "2026-03-30T00:00:00Z", "2026-03-29", "2026-03-30"),
            // Before the Gregorian reform, down to year 1 (the first the API takes), dates stay proleptic
            // Gregorian; Berlin then kept its local mean time (+00:53:28), Kiritimati its (−10:29:20).
            ("Europe/Berlin", "1000-06-01T23:30:00Z", "1000-06-02T00:00:00Z", "1000-06-02", "1000-06-02"),
            ("Europe/Berlin", "0001-01-01T00:00:00Z", "0001-01-01T12:00:00Z", "0001-01-01", "0001-01-01"),
            ("Pacific/Kiritimati", "0001-01-02T00:00:00Z", "0001-01-02T12:00:00Z", "0001-01-01", "0001-01-02"),
            ("UTC", "1582-10-04T00:00:00Z", "1582-10-06T00:00:00Z", "1582-10-04", "1582-10-05"),
        ];
        for (zone, starts, ends, first, last) in cases {
            let clock = Clock::named(zone).expect("known zone");
            assert_eq!(clock.counted_dates(ms(starts), ms(ends)), day(first)..=day(last), "{zone} {starts} {ends}");
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn local_today_is_the_zone_date_of_now() {
        let now = ms("2026-12-01T11:30:00Z");
        let cases = [
            ("UTC", "2026-12-01"),
            ("Pacific/Kiritimati", "2026-12-02"),
            ("Pacific/Pago_Pago", "2026-12-01"),
            ("Etc/GMT+12", "2026-11-30"),
            ("Asia/Kolkata", "2026-12-01"),
        ];
        for (zone, today) in cases {
            assert_eq!(Clock::named(zone).expect("zone").date_at(now), day(today), "{zone}");
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn zones_named_like_abbreviations_keep_summer_time() {
        // The same table as the database's `local_today` test (tests/fitness_rules.rs): these names are zones with
        // summer time, not the fixed offsets PostgreSQL's abbreviations of the same names are.
        let cases = [
            ("CET", "2026-07-01T22:30:00Z", "2026-07-02"),
            ("MET", "2026-07-01T22:30:00Z", "2026-07-02"),
            ("EET", "2026-07-01T21:30:00Z", "2026-07-02"),
            ("WET", "2026-07-01T23:30:00Z", "2026-07-02"),
            ("cet", "2026-12-01T22:30:00Z", "2026-12-01"),
        ];
        for (zone, at, today) in cases {
            assert_eq!(Clock::named(zone).expect("zone").date_at(ms(at)), day(today), "{zone} at {at}");
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn zone_names_come_from_the_time_zone_database() {
        // EST, MST and HST are IANA zones (fixed offsets), unlike ICU's other three-letter ids.
        for known in ["UTC", "America/Chicago", "Europe/Berlin", "Asia/Kathmandu", "Pacific/Chatham", "europe/berlin"]
            .into_iter()
            .chain(["EST", "MST", "HST", "CET", "EST5EDT", "Asia/Calcutta", "US/Eastern"])
        {
            assert!(is_known_zone(known), "{known}");
        }
        // ICU's own ids (Java's three-letter ones, SystemV) are not IANA names, though the runtime's `Intl` takes them.
        for unknown in
            ["", "Mars/Olympus_Mons", "Europe/Berlinn", "participant", "+01:00", &"A".repeat(65), "IST", "bst"]
                .into_iter()
                .chain(["PST", "AST", "NST", "CTT", "SystemV/AST4", "SystemV/PST8PDT", "Etc/Unknown"])
        {
            assert!(!is_known_zone(unknown), "{unknown}");
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn an_empty_window_counts_no_date() {
        let clock = Clock::utc();
        assert!(clock.counted_dates(ms("2026-12-01T00:00:00Z"), ms("2026-12-01T00:00:00Z")).is_empty());
    }
}
