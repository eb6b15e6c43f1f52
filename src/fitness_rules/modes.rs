//! Scoring modes: how a competition sums a member's counted days into one score.

use serde::{Deserialize, Serialize};

/// A competition's scoring mode (`scoring` in the API and the database).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum Scoring {
    /// The sum of the counted days.
    Total {},
    /// The sum of `min(day, cap)`: one huge day cannot win alone.
    DailyCapped {
        #[schema(minimum = 1, maximum = 9007199254740991.0)]
        cap: i64,
    },
    /// The number of counted days with a value of at least `goal`.
    GoalDays {
        #[schema(minimum = 1, maximum = 9007199254740991.0)]
        goal: i64,
    },
    /// The largest counted day.
    BestDay {},
}

impl Default for Scoring {
    fn default() -> Self {
        Scoring::Total {}
    }
}

/// Largest `cap` or `goal` a competition may set (the API's largest score).
pub const MAX_PARAMETER: i64 = 9_007_199_254_740_991;

impl Scoring {
    /// Why the mode's parameter is out of range, if it is (`cap` and `goal` are 1..=2^53−1).
    pub fn problem(&self) -> Option<&'static str> {
        match *self {
            Scoring::DailyCapped { cap } if !(1..=MAX_PARAMETER).contains(&cap) => {
                Some("cap must be 1 to 9007199254740991")
            }
            Scoring::GoalDays { goal } if !(1..=MAX_PARAMETER).contains(&goal) => {
                Some("goal must be 1 to 9007199254740991")
            }
            _ => None,
        }
    }

    /// The score of a member whose counted days have these values (one per counted date, each ≥ 0).
    pub fn score(&self, days: impl IntoIterator<Item = i64>) -> i64 {
        let days = days.into_iter();
        match *self {
            Scoring::Total {} => days.fold(0i64, |sum, day| sum.saturating_add(day)),
            Scoring::DailyCapped { cap } => days.fold(0i64, |sum, day| sum.saturating_add(day.min(cap))),
            Scoring::GoalDays { goal } => days.filter(|day| *day >= goal).count() as i64,
            Scoring::BestDay {} => days.max().unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_mode_sums_the_days_its_own_way() {
        let week = [12_000, 3_000, 45_000, 0, 10_000];
        let cases = [
            (Scoring::Total {}, 70_000),
            (Scoring::DailyCapped { cap: 10_000 }, 33_000),
            (Scoring::DailyCapped { cap: 100_000 }, 70_000),
            (Scoring::GoalDays { goal: 10_000 }, 3),
            (Scoring::GoalDays { goal: 50_000 }, 0),
            (Scoring::BestDay {}, 45_000),
        ];
        for (mode, expected) in cases {
            assert_eq!(mode.score(week), expected, "{mode:?}");
            assert_eq!(mode.score([]), 0, "{mode:?} of no days");
        }
    }

    #[test]
    fn modes_read_and_write_as_the_contract_spells_them() {
        let cases = [
            (json!({"mode": "total"}), Some(Scoring::Total {})),
            (json!({"mode": "daily_capped", "cap": 15000}), Some(Scoring::DailyCapped { cap: 15_000 })),
            (json!({"mode": "goal_days", "goal": 10000}), Some(Scoring::GoalDays { goal: 10_000 })),
            (json!({"mode": "best_day"}), Some(Scoring::BestDay {})),
            (json!({"mode": "daily_capped"}), None),
            (json!({"mode": "goal_days", "goal": 1.5}), None),
            (json!({"mode": "total", "cap": 3}), None),
            (json!({"mode": "median"}), None),
            (json!({}), None),
        ];
        for (value, expected) in cases {
            let parsed = serde_json::from_value::<Scoring>(value.clone()).ok();
            assert_eq!(parsed, expected, "{value}");
            if let Some(mode) = parsed {
                assert_eq!(serde_json::to_value(mode).expect("serialize"), value);
            }
        }
        let range = [
            (Scoring::DailyCapped { cap: 0 }, Some("cap must be 1 to 9007199254740991")),
            (Scoring::DailyCapped { cap: MAX_PARAMETER }, None),
            (Scoring::DailyCapped { cap: MAX_PARAMETER + 1 }, Some("cap must be 1 to 9007199254740991")),
            (Scoring::GoalDays { goal: -1 }, Some("goal must be 1 to 9007199254740991")),
            (Scoring::GoalDays { goal: 1 }, None),
            (Scoring::GoalDays { goal: i64::MAX }, Some("goal must be 1 to 9007199254740991")),
        ];
        for (mode, problem) in range {
            assert_eq!(mode.problem(), problem, "{mode:?}");
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    use proptest::prelude::*;

    #[cfg(not(target_arch = "wasm32"))]
    proptest! {
        #[test]
        fn modes_agree_with_each_other(days in prop::collection::vec(0i64..=100_000, 0..60), cap in 1i64..200_000,
                                       goal in 1i64..100_000, drop in any::<prop::sample::Index>()) {
            let total = Scoring::Total {}.score(days.iter().copied());
            let capped = Scoring::DailyCapped { cap }.score(days.iter().copied());
            prop_assert!(capped <= total);
            if days.iter().all(|day| *day <= cap) {
                prop_assert_eq!(capped, total);
            }
            let goal_days = Scoring::GoalDays { goal }.score(days.iter().copied());
            prop_assert!(goal_days <= days.len() as i64);
            let best = Scoring::BestDay {}.score(days.iter().copied());
            prop_assert!(best <= total);
            prop_assert!(total <= best.saturating_mul(days.len() as i64));
            if !days.is_empty() {
                let mut fewer = days.clone();
                fewer.remove(drop.index(days.len()));
                for mode in [Scoring::Total {}, Scoring::DailyCapped { cap }, Scoring::GoalDays { goal }, Scoring::BestDay {}] {
                    prop_assert!(mode.score(fewer.iter().copied()) <= mode.score(days.iter().copied()),
                                 "removing a day never raises {:?}", mode);
                }
            }
        }
    }
}
