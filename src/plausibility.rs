//! Plausibility caps of `DESIGN.md`: a day's value per metric, and the most a cumulative competition score can be
//! after the days elapsed so far (started days count whole).

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
    fn caps_follow_the_design() {
        assert_eq!(max_score(Metric::Steps, 0, 7 * DAY, DAY + 5), 200_000);
        assert_eq!(max_score(Metric::ActiveMinutes, 0, 7 * DAY, 0), 1_440);
        assert_eq!(max_score(Metric::DistanceM, 0, 7 * DAY, -5), 0);
        assert_eq!(max_score(Metric::Calories, 0, 7 * DAY, 100 * DAY), 140_000);
        assert_eq!(Metric::parse("distance_m"), Some(Metric::DistanceM));
        assert_eq!(Metric::parse("sleep"), None);
    }
}
