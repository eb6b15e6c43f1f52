//! RFC 3339 timestamps as the API writes them (UTC, `Z`) and as Postgres prints them, via `chrono`.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

/// The first instant the database can store as the API writes it: 0001-01-01T00:00:00Z. Postgres has no year 0
/// (1 BC), which RFC 3339 and chrono allow.
pub const MIN_MS: i64 = -62_135_596_800_000;

/// The last instant with a four-digit UTC year: 9999-12-31T23:59:59.999Z. `9999-12-31T23:00:00-05:00` is in year
/// 10000 in UTC, which the API could not write back as RFC 3339.
pub const MAX_MS: i64 = 253_402_300_799_999;

/// Milliseconds since the epoch of an RFC 3339 timestamp (any offset), or `None` when it is not one or its UTC
/// instant lies outside years 1 to 9999.
pub fn parse_ms(text: &str) -> Option<i64> {
    let ms = DateTime::parse_from_rfc3339(text.trim()).ok()?.timestamp_millis();
    (MIN_MS..=MAX_MS).contains(&ms).then_some(ms)
}

/// `ms` as an RFC 3339 UTC string with second precision (`2026-11-25T10:00:00Z`), or with milliseconds when it
/// has any.
pub fn format_ms(ms: i64) -> String {
    let time = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    let precision = if ms % 1000 == 0 { SecondsFormat::Secs } else { SecondsFormat::Millis };
    time.to_rfc3339_opts(precision, true)
}

/// `ms` as an RFC 3339 UTC string with milliseconds (`2026-11-25T10:00:00.000Z`, as JavaScript's `toISOString`).
pub fn format_ms_exact(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A timestamp from Postgres re-written in the API's UTC form; unparseable text is passed through.
pub fn normalize(text: &str) -> String {
    parse_ms(text).map_or_else(|| text.to_owned(), format_ms)
}

/// A `YYYY-MM-DD` calendar date of years 1 to 9999 as days since the epoch.
pub fn parse_day(text: &str) -> Option<i64> {
    // By hand rather than with chrono's strftime parser, whose format machinery cost the bundle 12 KB.
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        bytes[range].iter().try_fold(0u32, |n, b| b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0')))
    };
    // Year 0 exists for chrono but not for Postgres, which would refuse the whole sync.
    let year = number(0..4).filter(|year| *year >= 1)?;
    days_from_civil(year as i32, number(5..7)?, number(8..10)?)
}

/// The calendar date `year-month-day` as days since the epoch; `None` for a date that does not exist.
pub fn days_from_civil(year: i32, month: u32, day: u32) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    Some(date.signed_duration_since(NaiveDate::default()).num_days())
}

/// The UTC day (days since the epoch) containing `ms`.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(86_400_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_and_format_in_utc() {
        assert_eq!(parse_ms("2026-11-01T00:00:00+00:00"), Some(1_793_491_200_000));
        assert_eq!(parse_ms("2026-11-01T01:00:00+01:00"), Some(1_793_491_200_000));
        assert_eq!(parse_ms("2026-11-01"), None);
        assert_eq!(parse_ms("yesterday"), None);
        // Only what Postgres stores and the API writes back: UTC years 1 to 9999.
        assert_eq!(parse_ms("0001-01-01T00:00:00Z"), Some(MIN_MS));
        assert_eq!(parse_ms("9999-12-31T23:59:59.999Z"), Some(MAX_MS));
        assert_eq!(format_ms(MIN_MS), "0001-01-01T00:00:00Z");
        assert_eq!(format_ms(MAX_MS), "9999-12-31T23:59:59.999Z");
        for outside in ["0000-01-01T00:00:00Z", "0001-01-01T00:30:00+01:00", "9999-12-31T23:00:00-05:00"] {
            assert_eq!(parse_ms(outside), None, "{outside}");
        }
        assert_eq!(format_ms(1_793_491_200_000), "2026-11-01T00:00:00Z");
        assert_eq!(format_ms(1_793_491_200_123), "2026-11-01T00:00:00.123Z");
        assert_eq!(normalize("2026-11-01T00:00:00+00:00"), "2026-11-01T00:00:00Z");
        // Log lines: always milliseconds, as JavaScript's toISOString writes them.
        assert_eq!(format_ms_exact(1_793_491_200_000), "2026-11-01T00:00:00.000Z");
        assert_eq!(format_ms_exact(1_793_491_200_007), "2026-11-01T00:00:00.007Z");
    }

    #[test]
    fn days_parse_strictly() {
        assert_eq!(parse_day("1970-01-02"), Some(1));
        assert_eq!(parse_day("0001-01-01"), days_from_civil(1, 1, 1));
        assert_eq!(parse_day("9999-12-31"), days_from_civil(9999, 12, 31));
        assert_eq!(days_from_civil(1970, 1, 2), Some(1));
        assert_eq!(days_from_civil(1969, 12, 31), Some(-1));
        assert_eq!(days_from_civil(2026, 2, 30), None);
        assert_eq!(parse_day("2026-11-24"), Some(day_of(1_795_478_400_000)));
        for bad in [
            "2026-02-30",
            "2026-1-5",
            "26-11-24",
            "2026-11-24T00:00:00Z",
            "",
            "2026-13-01",
            "2026-00-10",
            "2026/11/24",
            "+026-11-24",
            "2026-1a-24",
            "0000-01-01",
            "0000-12-31",
            "２０２６-1",
        ] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }
}
