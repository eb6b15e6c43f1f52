//! What one user-day counts for one metric in one competition. Per day, in this order (API.md, clarifications): the
//! manual cap applies to typed-in values (and they count only where the competition allows them), then the largest
//! value across sources counts (a watch and a phone counting the same walk do not add up), then the review: a held
//! day counts as exactly the review threshold until an administrator approves it (full value) or rejects it (0).

use serde::{Deserialize, Serialize};

use standings::rules::Metric;

/// The review decision on a held user-day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HoldStatus {
    /// Waiting for an administrator: counts as the review threshold.
    #[default]
    Pending,
    /// Counts in full.
    Approved,
    /// Counts 0 for the held metric.
    Rejected,
}

impl HoldStatus {
    /// The API/database name.
    pub fn name(self) -> &'static str {
        match self {
            HoldStatus::Pending => "pending",
            HoldStatus::Approved => "approved",
            HoldStatus::Rejected => "rejected",
        }
    }

    /// Parses the API/database name.
    pub fn parse(name: &str) -> Option<HoldStatus> {
        [HoldStatus::Pending, HoldStatus::Approved, HoldStatus::Rejected].into_iter().find(|s| s.name() == name)
    }

    /// What a held value of `metric` counts under this decision.
    pub fn counted(self, metric: Metric, value: i64) -> i64 {
        match self {
            HoldStatus::Pending => value.min(metric.review_threshold()),
            HoldStatus::Approved => value,
            HoldStatus::Rejected => 0,
        }
    }
}

/// One stored sample: one user-day from one source.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub source: String,
    /// Typed in by hand (HealthKit's `HKMetadataKeyWasUserEntered`, Health Connect manual entries).
    #[serde(default)]
    pub user_entered: bool,
    #[serde(default)]
    pub steps: i64,
    #[serde(default)]
    pub active_minutes: i64,
    #[serde(default)]
    pub distance_m: i64,
    #[serde(default)]
    pub calories: i64,
    /// The metrics of this sample that were above the review threshold when it was stored.
    #[serde(default)]
    pub held_metrics: Vec<String>,
}

impl StoredDay {
    /// The sample's value of `metric`.
    pub fn value(&self, metric: Metric) -> i64 {
        match metric {
            Metric::Steps => self.steps,
            Metric::ActiveMinutes => self.active_minutes,
            Metric::DistanceM => self.distance_m,
            Metric::Calories => self.calories,
        }
    }

    /// Whether a person typed the value in (the `manual` source, or a sample marked as user-entered).
    pub fn is_manual(&self) -> bool {
        self.source == "manual" || self.user_entered
    }

    fn holds(&self, metric: Metric) -> bool {
        self.held_metrics.iter().any(|m| m == metric.name())
    }
}

/// What one user-day counts for `metric` in a competition that does (or does not) `allow_manual`, given the day's
/// samples (every source) and the decision on the day's hold, if it has one.
pub fn counted(metric: Metric, allow_manual: bool, samples: &[&StoredDay], hold: Option<HoldStatus>) -> i64 {
    let mut best = 0i64;
    let mut held = false;
    for sample in samples {
        if sample.is_manual() && !allow_manual {
            continue;
        }
        best = best.max(metric.countable(sample.value(metric), sample.is_manual()).max(0));
        // Typed-in values are capped below the review threshold, so they never hold the day (rows stored before
        // this rule may still carry the mark).
        held |= !sample.is_manual() && sample.holds(metric);
    }
    if held || best > metric.review_threshold() {
        hold.unwrap_or_default().counted(metric, best)
    } else {
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(source: &str, user_entered: bool, steps: i64) -> StoredDay {
        let held_metrics = if steps > Metric::Steps.review_threshold() { vec!["steps".to_owned()] } else { vec![] };
        StoredDay {
            day: "2026-12-01".into(),
            source: source.into(),
            user_entered,
            steps,
            active_minutes: 0,
            distance_m: 0,
            calories: 0,
            held_metrics,
        }
    }

    #[test]
    fn a_day_counts_by_the_manual_cap_then_the_largest_source_then_the_review() {
        use HoldStatus::*;
        // (samples, allow_manual, hold decision, counted steps)
        let cases: Vec<(Vec<StoredDay>, bool, Option<HoldStatus>, i64)> = vec![
            (vec![sample("healthkit", false, 8_000), sample("garmin", false, 9_500)], false, None, 9_500),
            (vec![sample("manual", false, 15_000)], false, None, 0),
            (vec![sample("manual", false, 15_000)], true, None, 15_000),
            (vec![sample("manual", false, 50_000)], true, None, 20_000),
            (vec![sample("healthkit", true, 30_000)], true, None, 20_000),
            (vec![sample("healthkit", true, 30_000), sample("fitbit", false, 12_000)], false, None, 12_000),
            (vec![sample("healthkit", true, 30_000), sample("fitbit", false, 12_000)], true, None, 20_000),
            // Typed-in values are capped before they can be held: 90 000 typed steps count 20 000 at most.
            (vec![sample("manual", false, 90_000)], true, Some(Pending), 20_000),
            // Nor does a rejection that should never have been asked for zero the recorded steps beside them.
            (vec![sample("manual", false, 90_000), sample("fitbit", false, 30_000)], true, Some(Rejected), 30_000),
            (vec![sample("healthkit", true, 90_000), sample("fitbit", false, 30_000)], false, Some(Rejected), 30_000),
            (vec![sample("healthkit", false, 70_000)], false, Some(Pending), 60_000),
            (vec![sample("healthkit", false, 70_000)], false, None, 60_000),
            (vec![sample("healthkit", false, 70_000)], false, Some(Approved), 70_000),
            (vec![sample("healthkit", false, 70_000)], false, Some(Rejected), 0),
            (vec![sample("healthkit", false, 70_000), sample("google_fit", false, 50_000)], false, Some(Rejected), 0),
            (vec![sample("healthkit", false, 60_000)], false, None, 60_000),
            (vec![], true, None, 0),
        ];
        for (samples, allow_manual, hold, expected) in cases {
            let refs: Vec<&StoredDay> = samples.iter().collect();
            assert_eq!(
                counted(Metric::Steps, allow_manual, &refs, hold),
                expected,
                "{samples:?} {allow_manual} {hold:?}"
            );
        }
    }

    #[test]
    fn a_decision_touches_only_the_metric_that_was_held() {
        let mut day = sample("healthkit", false, 70_000);
        day.active_minutes = 90;
        let refs = [&day];
        assert_eq!(counted(Metric::Steps, false, &refs, Some(HoldStatus::Rejected)), 0);
        assert_eq!(counted(Metric::ActiveMinutes, false, &refs, Some(HoldStatus::Rejected)), 90);
    }
}
