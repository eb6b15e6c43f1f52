//! The rules a score write must pass, checked by the Competition DO against the competition it holds: the
//! competition's window, and the plausibility caps of `DESIGN.md` (a day's value per metric; a cumulative score at
//! most the daily cap × the days started so far, started days counting whole). Pure Rust.

use crate::object_error::ErrorCode;
use crate::score::Score;

/// The metrics a competition can rank by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Steps,
    ActiveMinutes,
    DistanceM,
    Calories,
}

impl Metric {
    /// Every metric, in the order fitness samples list them.
    pub const ALL: [Metric; 4] = [Metric::Steps, Metric::ActiveMinutes, Metric::DistanceM, Metric::Calories];

    /// Parses the API/database name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The API/database name.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Steps => "steps",
            Metric::ActiveMinutes => "active_minutes",
            Metric::DistanceM => "distance_m",
            Metric::Calories => "calories",
        }
    }

    /// The largest plausible value for one day (the **hard** cap: a sample above it is rejected).
    pub fn daily_cap(self) -> i64 {
        match self {
            Metric::Steps => 100_000,
            Metric::ActiveMinutes => 1_440,
            Metric::DistanceM => 200_000,
            Metric::Calories => 20_000,
        }
    }

    /// The **review** threshold: a day above it is held, and counts as exactly this until an administrator decides.
    pub fn review_threshold(self) -> i64 {
        match self {
            Metric::Steps => 60_000,
            Metric::ActiveMinutes => 600,
            Metric::DistanceM => 60_000,
            Metric::Calories => 8_000,
        }
    }

    /// The **manual** cap: the most a typed-in value counts for one day, where a competition allows them at all.
    pub fn manual_cap(self) -> i64 {
        match self {
            Metric::Steps => 20_000,
            Metric::ActiveMinutes => 240,
            Metric::DistanceM => 15_000,
            Metric::Calories => 2_000,
        }
    }

    /// What a sample's `value` may count for its day before any other rule: a typed-in one at most the manual cap.
    pub fn countable(self, value: i64, typed_in: bool) -> i64 {
        if typed_in {
            value.min(self.manual_cap())
        } else {
            value
        }
    }
}

/// Where a competition stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = CompetitionStatus)]
pub enum Status {
    Upcoming,
    Active,
    /// Between `ends_at` and the end of the grace period: late syncs of counted days still move the board.
    Finalizing,
    Finished,
    /// Called off by an administrator: no writes, no joins, no prizes (never the result of [`status`]).
    Cancelled,
}

/// The status at `now_ms` of a competition running `[starts_ms, ends_ms)` whose standings become final at
/// `final_ms` (`ends_ms` plus its grace period).
pub fn status(starts_ms: i64, ends_ms: i64, final_ms: i64, now_ms: i64) -> Status {
    if now_ms < starts_ms {
        Status::Upcoming
    } else if now_ms < ends_ms {
        Status::Active
    } else if now_ms < final_ms {
        Status::Finalizing
    } else {
        Status::Finished
    }
}

/// Why a score cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Before `starts_at` (409).
    NotStarted,
    /// At or after `ends_at` (409).
    Finished,
    /// Above what the metric allows so far (422).
    Implausible { cap: i64 },
}

impl Refusal {
    /// Error code and message in the terms of `API.md`.
    pub fn describe(&self, metric: Metric) -> (ErrorCode, String) {
        match self {
            Refusal::NotStarted => (ErrorCode::Conflict, "the competition has not started".to_owned()),
            Refusal::Finished => (ErrorCode::Conflict, "the competition has finished".to_owned()),
            Refusal::Implausible { cap } => (
                ErrorCode::ValidationFailed,
                format!("implausible score: at most {cap} {} so far in this competition", metric.name()),
            ),
        }
    }
}

/// Who made a score, which decides the plausibility cap it must stay under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreOrigin {
    /// Posted as a number (by a member of a client competition, or an administrator's correction): at most the
    /// daily cap for every day of the competition started so far in UTC.
    Posted,
    /// Computed from stored fitness days, where a member's days are their own local days: at most the daily cap for
    /// every local date one member's clock can have counted so far ([`counted_days_anywhere`]).
    FitnessDays,
}

/// Checks a cumulative score against the window (writes are taken until the standings are final at `final_ms`) and
/// the plausibility cap for its origin. No caller can lift the cap: a fitness total above the daily cap × the days
/// any clock has counted so far is refused like a posted one.
pub fn check_score(
    metric: Metric,
    (starts_ms, ends_ms, final_ms): (i64, i64, i64),
    score: Score,
    now_ms: i64,
    origin: ScoreOrigin,
) -> Result<(), Refusal> {
    match status(starts_ms, ends_ms, final_ms, now_ms) {
        Status::Upcoming => Err(Refusal::NotStarted),
        Status::Finished | Status::Cancelled => Err(Refusal::Finished),
        Status::Active | Status::Finalizing => {
            let cap = max_score(metric, (starts_ms, ends_ms), now_ms, origin);
            if i64::from(score) > cap {
                Err(Refusal::Implausible { cap })
            } else {
                Ok(())
            }
        }
    }
}

const DAY_MS: i64 = 86_400_000;
/// Civil time zones run from UTC−12:00 to UTC+14:00, in steps of 15 minutes at the finest.
const ZONE_STEP_MS: i64 = 15 * 60_000;
const WEST_MOST_MS: i64 = -12 * 3_600_000;
const EAST_MOST_MS: i64 = 14 * 3_600_000;

/// Local dates, in a zone `offset_ms` ahead of UTC, whose midnight-to-midnight interval overlaps
/// `[starts_ms, ends_ms)`, up to `latest_date` (days since the epoch).
fn counted_dates_at_offset(starts_ms: i64, ends_ms: i64, latest_date: i64, offset_ms: i64) -> i64 {
    // In local wall time a date D counts when D < end and D + 1 day > start.
    let first = (starts_ms + offset_ms).div_euclid(DAY_MS);
    let last = (ends_ms - 1 + offset_ms).div_euclid(DAY_MS).min(latest_date);
    (last - first + 1).max(0)
}

/// The most local dates any one member can have counted by `now_ms`, whatever their zone: the bound of a total
/// made of days that were each at most the daily cap. A date counts when it overlaps the window on the member's
/// clock (whichever zone that is now), and it was stored when it had begun in the zone the member synced from then,
/// so at the latest today at UTC+14: a member who synced in the east and then set a western zone counts a date that
/// has not begun on their new clock.
pub fn counted_days_anywhere(starts_ms: i64, ends_ms: i64, now_ms: i64) -> i64 {
    let latest_date = (now_ms + EAST_MOST_MS).div_euclid(DAY_MS);
    (WEST_MOST_MS..=EAST_MOST_MS)
        .step_by(ZONE_STEP_MS as usize)
        .map(|offset| counted_dates_at_offset(starts_ms, ends_ms, latest_date, offset))
        .max()
        .unwrap_or(0)
}

/// Days of the competition that have started by `now_ms` (0 before the start; the running day counts whole).
pub fn started_days(starts_ms: i64, ends_ms: i64, now_ms: i64) -> i64 {
    if now_ms < starts_ms {
        return 0;
    }
    let until = now_ms.min(ends_ms.saturating_sub(1));
    (until - starts_ms).div_euclid(86_400_000) + 1
}

/// The largest plausible cumulative score at `now_ms` of a competition running `[starts_ms, ends_ms)`, for a score
/// of `origin`.
pub fn max_score(metric: Metric, (starts_ms, ends_ms): (i64, i64), now_ms: i64, origin: ScoreOrigin) -> i64 {
    let days = match origin {
        ScoreOrigin::Posted => started_days(starts_ms, ends_ms, now_ms),
        ScoreOrigin::FitnessDays => counted_days_anywhere(starts_ms, ends_ms, now_ms),
    };
    metric.daily_cap().saturating_mul(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;
    const HOUR: i64 = 3_600_000;

    #[test]
    fn local_dates_count_when_they_overlap_the_window_up_to_the_latest_date_begun() {
        // A seven-day competition [day 10, day 17) in UTC.
        let (starts, ends) = (10 * DAY, 17 * DAY);
        let cases = [
            // (latest date begun, offset, dates counted)
            (10, 0, 1),
            (9, 0, 0),
            (16, 0, 7),
            (30, 0, 7),
            // UTC+14: its day 17 (10:00Z..) overlaps the last 10 hours.
            (10, 14 * HOUR, 1),
            (30, 14 * HOUR, 8),
            // UTC−11: its day 9 runs until day 10 11:00Z and overlaps the start.
            (10, -11 * HOUR, 2),
            (30, -11 * HOUR, 8),
        ];
        for (latest, offset, expected) in cases {
            assert_eq!(counted_dates_at_offset(starts, ends, latest, offset), expected, "{latest} offset {offset}");
        }
        // At the first instant it is already day 10 at UTC+14: a member who stored it there and then set UTC−12 (on
        // whose clock day 9 overlaps the start too) counts two dates; ten hours later day 11 has begun at UTC+14.
        assert_eq!(counted_days_anywhere(starts, ends, 10 * DAY), 2);
        assert_eq!(counted_days_anywhere(starts, ends, 10 * DAY + 10 * HOUR), 3);
        assert_eq!(counted_days_anywhere(starts, ends, 30 * DAY), 8);
        // Never fewer than the UTC days started, and at most two more (a day either side of UTC's dates).
        for now in (10 * DAY..18 * DAY).step_by(HOUR as usize) {
            let anywhere = counted_days_anywhere(starts, ends, now);
            let utc = started_days(starts, ends, now);
            assert!(anywhere >= utc && anywhere <= utc + 2, "now {now}: {anywhere} vs {utc}");
        }
    }

    #[test]
    fn started_days_count_whole() {
        let cases = [
            (-1, 0),       // before the start
            (0, 1),        // the first instant
            (DAY - 1, 1),  // still day one
            (DAY, 2),      // day two has started
            (10 * DAY, 7), // after the end: all seven days
        ];
        for (now, days) in cases {
            assert_eq!(started_days(0, 7 * DAY, now), days, "now {now}");
        }
    }

    #[test]
    fn scores_are_checked_against_the_window_and_the_caps() {
        let (starts, ends) = (10 * DAY, 17 * DAY);
        let (posted, days) = (ScoreOrigin::Posted, ScoreOrigin::FitnessDays);
        let cases = [
            (10 * DAY - 1, 0, posted, Err(Refusal::NotStarted)),
            (17 * DAY, 0, posted, Err(Refusal::Finished)),
            (17 * DAY, 0, days, Err(Refusal::Finished)),
            (10 * DAY, 100_000, posted, Ok(())),
            (10 * DAY, 100_001, posted, Err(Refusal::Implausible { cap: 100_000 })),
            // At the first instant a member's days can count two dates (day 10 stored at UTC+14, day 9 and day 10
            // counted at UTC−12)...
            (10 * DAY, 200_000, days, Ok(())),
            (10 * DAY, 200_001, days, Err(Refusal::Implausible { cap: 200_000 })),
            // ...and ten hours later three: day 11 has begun at UTC+14.
            (10 * DAY + 10 * HOUR, 300_000, days, Ok(())),
            (10 * DAY + 10 * HOUR, 300_001, days, Err(Refusal::Implausible { cap: 300_000 })),
            (10 * DAY + 10 * HOUR, 100_001, posted, Err(Refusal::Implausible { cap: 100_000 })),
            (12 * DAY + 1, 300_000, posted, Ok(())),
            (12 * DAY + 1, 300_001, posted, Err(Refusal::Implausible { cap: 300_000 })),
        ];
        for (now, score, origin, expected) in cases {
            let window = (starts, ends, ends);
            assert_eq!(
                check_score(Metric::Steps, window, Score::new(score).expect("a score"), now, origin),
                expected,
                "{now} {score}"
            );
        }
        // With a day of grace, late syncs are still taken, capped by the eight local dates that a seven-day UTC
        // window overlaps somewhere on Earth.
        let graced = (starts, ends, ends + DAY);
        assert_eq!(check_score(Metric::Steps, graced, Score::new(800_000).expect("a score"), 17 * DAY, days), Ok(()));
        let late = check_score(Metric::Steps, graced, Score::new(800_001).expect("a score"), 18 * DAY - 1, days);
        assert_eq!(late, Err(Refusal::Implausible { cap: 800_000 }));
        assert_eq!(
            check_score(Metric::Steps, graced, Score::new(0).expect("a score"), 18 * DAY, days),
            Err(Refusal::Finished)
        );
        let cases = [
            (9, Status::Upcoming),
            (10, Status::Active),
            (20, Status::Finalizing),
            (29, Status::Finalizing),
            (30, Status::Finished),
        ];
        for (now, expected) in cases {
            assert_eq!(status(10, 20, 30, now), expected, "{now}");
        }
        assert_eq!(status(10, 20, 20, 20), Status::Finished, "no grace: final at the end");
    }

    #[test]
    fn caps_follow_the_design() {
        let (posted, days) = (ScoreOrigin::Posted, ScoreOrigin::FitnessDays);
        let cases = [
            (Metric::Steps, DAY + 5, posted, 200_000),
            (Metric::ActiveMinutes, 0, posted, 1_440),
            (Metric::DistanceM, -5, posted, 0),
            (Metric::Calories, 100 * DAY, posted, 140_000),
            // Local dates: UTC−12's day −1 overlaps the start, and day 2 has begun at UTC+14 by day 1 10:00Z.
            (Metric::Steps, DAY + 10 * HOUR, days, 400_000),
            (Metric::Calories, 100 * DAY, days, 160_000),
        ];
        for (metric, now, origin, expected) in cases {
            assert_eq!(max_score(metric, (0, 7 * DAY), now, origin), expected, "{metric:?} at {now}, {origin:?}");
        }
        assert_eq!(Metric::parse("distance_m"), Some(Metric::DistanceM));
        assert_eq!(Metric::parse("sleep"), None);
    }
}
