//! The rules a score write must pass, checked by the Competition DO against the competition it holds: the
//! competition's window, and the plausibility caps of `DESIGN.md` (a day's value per metric; a cumulative score at
//! most the daily cap × the days started so far, started days counting whole). Pure Rust.

/// The metrics a competition can rank by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    /// The largest plausible value for one day.
    pub fn daily_cap(self) -> i64 {
        match self {
            Metric::Steps => 100_000,
            Metric::ActiveMinutes => 1_440,
            Metric::DistanceM => 200_000,
            Metric::Calories => 20_000,
        }
    }
}

/// Where a competition stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Upcoming,
    Active,
    Finished,
}

/// The status at `now_ms` of a competition running `[starts_ms, ends_ms)`.
pub fn status(starts_ms: i64, ends_ms: i64, now_ms: i64) -> Status {
    if now_ms < starts_ms {
        Status::Upcoming
    } else if now_ms < ends_ms {
        Status::Active
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
    /// HTTP status, error code and message in the terms of `API.md`.
    pub fn describe(&self, metric: Metric) -> (u16, &'static str, String) {
        match self {
            Refusal::NotStarted => (409, "conflict", "the competition has not started".to_owned()),
            Refusal::Finished => (409, "conflict", "the competition has finished".to_owned()),
            Refusal::Implausible { cap } => (
                422,
                "validation_failed",
                format!("implausible score: at most {cap} {} so far in this competition", metric.name()),
            ),
        }
    }
}

/// Checks a cumulative score against the window and, unless `capped_per_day` (a total computed from days that were
/// each capped already, where a user ahead of UTC may legitimately count one more day), the plausibility cap.
pub fn check_score(
    metric: Metric,
    starts_ms: i64,
    ends_ms: i64,
    score: i64,
    now_ms: i64,
    capped_per_day: bool,
) -> Result<(), Refusal> {
    match status(starts_ms, ends_ms, now_ms) {
        Status::Upcoming => Err(Refusal::NotStarted),
        Status::Finished => Err(Refusal::Finished),
        Status::Active if capped_per_day => Ok(()),
        Status::Active => {
            let cap = max_score(metric, starts_ms, ends_ms, now_ms);
            if score > cap {
                Err(Refusal::Implausible { cap })
            } else {
                Ok(())
            }
        }
    }
}

/// Days of the competition that have started by `now_ms` (0 before the start; the running day counts whole).
pub fn started_days(starts_ms: i64, ends_ms: i64, now_ms: i64) -> i64 {
    if now_ms < starts_ms {
        return 0;
    }
    let until = now_ms.min(ends_ms.saturating_sub(1));
    (until - starts_ms).div_euclid(86_400_000) + 1
}

/// The largest plausible cumulative score at `now_ms`.
pub fn max_score(metric: Metric, starts_ms: i64, ends_ms: i64, now_ms: i64) -> i64 {
    metric.daily_cap().saturating_mul(started_days(starts_ms, ends_ms, now_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

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
        let cases = [
            (10 * DAY - 1, 0, false, Err(Refusal::NotStarted)),
            (17 * DAY, 0, false, Err(Refusal::Finished)),
            (17 * DAY, 0, true, Err(Refusal::Finished)),
            (10 * DAY, 100_000, false, Ok(())),
            (10 * DAY, 100_001, false, Err(Refusal::Implausible { cap: 100_000 })),
            (10 * DAY, 200_000, true, Ok(())),
            (12 * DAY + 1, 300_000, false, Ok(())),
            (12 * DAY + 1, 300_001, false, Err(Refusal::Implausible { cap: 300_000 })),
        ];
        for (now, score, capped, expected) in cases {
            assert_eq!(check_score(Metric::Steps, starts, ends, score, now, capped), expected, "{now} {score}");
        }
        assert_eq!(status(10, 20, 9), Status::Upcoming);
        assert_eq!(status(10, 20, 10), Status::Active);
        assert_eq!(status(10, 20, 20), Status::Finished);
    }

    #[test]
    fn caps_follow_the_design() {
        assert_eq!(max_score(Metric::Steps, 0, 7 * DAY, DAY + 5), 200_000);
        assert_eq!(max_score(Metric::ActiveMinutes, 0, 7 * DAY, 0), 1_440);
        assert_eq!(max_score(Metric::DistanceM, 0, 7 * DAY, -5), 0);
        assert_eq!(max_score(Metric::Calories, 0, 7 * DAY, 100 * DAY), 140_000);
        assert_eq!(Metric::parse("distance_m"), Some(Metric::DistanceM));
        assert_eq!(Metric::parse("sleep"), None);
    }
}
