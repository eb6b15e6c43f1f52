//! A member's scores in every fitness competition they are in, from what the database returns after a sync or a
//! hold decision (`rescore_inputs` in `supabase/migrations/`): their stored days, the decisions on their held days, and each
//! competition's rules.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use standings::score::Score;
use uuid::Uuid;

use standings::rules::Metric;

use super::clock::{Clock, PARTICIPANT};
use super::day_value::{self, HoldStatus, StoredDay};
use super::modes::Scoring;
use crate::time;

/// The rules of one competition that a score depends on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CompetitionRules {
    pub id: Uuid,
    pub metric: String,
    /// RFC 3339.
    pub starts_at: String,
    pub ends_at: String,
    #[serde(default)]
    pub scoring: Scoring,
    /// `participant` or an IANA zone name.
    #[serde(default = "super::clock::participant_name")]
    pub clock: String,
    #[serde(default)]
    pub allow_manual: bool,
}

/// The decision on one held user-day.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DayHold {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub status: HoldStatus,
}

/// Everything rescoring one member needs (`rescore_inputs(p_user, p_version)`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RescoreInputs {
    /// The member's days version after the change: the object drops a total older than the last it applied.
    pub version: i64,
    /// The member's profile zone (the `participant` clock).
    #[serde(default = "super::clock::default_zone_name")]
    pub time_zone: String,
    /// Every fitness competition the member is in that still takes syncs.
    #[serde(default)]
    pub competitions: Vec<CompetitionRules>,
    /// The member's stored days that any clock could count for those competitions.
    #[serde(default)]
    pub days: Vec<StoredDay>,
    /// Decisions on the member's held days.
    #[serde(default)]
    pub holds: Vec<DayHold>,
}

/// One competition's new score for the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rescored {
    pub competition_id: Uuid,
    pub score: Score,
}

impl RescoreInputs {
    /// These inputs with only the competitions that count by the member's own zone (`participant` clock): after a
    /// zone change the others' totals are what they were, so writing them again would cost an object call each for
    /// nothing.
    pub fn counting_by_own_zone(mut self) -> Self {
        self.competitions.retain(|rules| rules.clock == PARTICIPANT);
        self
    }

    /// The member's score in each competition, in the order the database listed them. A competition whose rules
    /// cannot be read (a schedule that does not parse, an unknown metric), or whose total is not a score (above
    /// 2^53 − 1: the daily caps make that impossible from sound days), is left out rather than scored wrongly.
    pub fn scores(&self) -> Vec<Rescored> {
        let mut by_date: BTreeMap<i64, Vec<&StoredDay>> = BTreeMap::new();
        for day in &self.days {
            if let Some(date) = time::parse_day(&day.day) {
                by_date.entry(date).or_default().push(day);
            }
        }
        let holds: HashMap<i64, HoldStatus> =
            self.holds.iter().filter_map(|h| time::parse_day(&h.day).map(|date| (date, h.status))).collect();
        // An unknown profile zone (never written by the Worker, which checks names) counts as UTC.
        let own_clock = Clock::named(&self.time_zone).unwrap_or_else(Clock::utc);
        self.competitions
            .iter()
            .filter_map(|rules| {
                let metric = Metric::parse(&rules.metric)?;
                let starts = time::parse_ms(&rules.starts_at)?;
                let ends = time::parse_ms(&rules.ends_at)?;
                let clock = if rules.clock == PARTICIPANT {
                    own_clock.clone()
                } else {
                    Clock::named(&rules.clock).unwrap_or_else(Clock::utc)
                };
                let counted = by_date.range(clock.counted_dates(starts, ends)).map(|(date, samples)| {
                    day_value::counted(metric, rules.allow_manual, samples, holds.get(date).copied())
                });
                let score = Score::try_from(rules.scoring.score(counted)).ok()?;
                Some(Rescored { competition_id: rules.id, score })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inputs(time_zone: &str, competitions: serde_json::Value, days: serde_json::Value) -> RescoreInputs {
        serde_json::from_value(json!({
            "version": 7, "time_zone": time_zone, "competitions": competitions, "days": days,
            "holds": [{"day": "2026-11-03", "status": "rejected"}],
        }))
        .expect("inputs")
    }

    fn competition(id: u128, clock: &str, scoring: serde_json::Value) -> serde_json::Value {
        json!({"id": Uuid::from_u128(id), "metric": "steps", "starts_at": "2026-11-02T00:00:00+00:00",
               "ends_at": "2026-11-05T00:00:00+00:00", "scoring": scoring, "clock": clock, "allow_manual": false})
    }

    fn steps(day: &str, source: &str, steps: i64) -> serde_json::Value {
        let held: Vec<&str> = if steps > 60_000 { vec!["steps"] } else { vec![] };
        json!({"day": day, "source": source, "user_entered": false, "steps": steps, "active_minutes": 0,
               "distance_m": 0, "calories": 0, "held_metrics": held})
    }

    #[test]
    fn each_competition_scores_the_days_its_clock_counts() {
        let days = json!([
            steps("2026-11-01", "healthkit", 1_000),
            steps("2026-11-02", "healthkit", 10_000),
            steps("2026-11-02", "garmin", 12_000),
            steps("2026-11-03", "healthkit", 70_000),
            steps("2026-11-04", "healthkit", 5_000),
            steps("2026-11-05", "healthkit", 2_000),
        ]);
        let comps = json!([
            competition(1, "participant", json!({"mode": "total"})),
            competition(2, "UTC", json!({"mode": "best_day"})),
            competition(3, "Pacific/Kiritimati", json!({"mode": "total"})),
            competition(4, "participant", json!({"mode": "goal_days", "goal": 5000})),
        ]);
        // In UTC the window counts 2, 3 and 4 November; the 3rd was held and rejected (0).
        let scored = inputs("UTC", comps.clone(), days.clone()).scores();
        let scores: Vec<i64> = scored.iter().map(|r| i64::from(r.score)).collect();
        assert_eq!(scores, [12_000 + 5_000, 12_000, 12_000 + 5_000 + 2_000, 2]);
        // A member at UTC−11 has their 1st of November counted too (it ends at 11:00Z on the 2nd).
        let west = inputs("Pacific/Pago_Pago", comps, days).scores();
        assert_eq!(west[0].score.get(), 1_000 + 12_000 + 5_000);
        assert_eq!(west[1].score.get(), 12_000, "a fixed clock is everyone's");
    }

    #[test]
    fn a_zone_change_moves_only_the_competitions_on_the_members_own_clock() {
        let days = json!([steps("2026-11-01", "healthkit", 1_000), steps("2026-11-04", "healthkit", 5_000)]);
        let comps = json!([
            competition(1, "participant", json!({"mode": "total"})),
            competition(2, "UTC", json!({"mode": "total"})),
            competition(3, "participant", json!({"mode": "best_day"})),
            competition(4, "Pacific/Pago_Pago", json!({"mode": "total"})),
        ]);
        let (utc, west) = (inputs("UTC", comps.clone(), days.clone()), inputs("Pacific/Pago_Pago", comps, days));
        let moved: Vec<Uuid> = utc
            .scores()
            .into_iter()
            .zip(west.scores())
            .filter(|(before, after)| before != after)
            .map(|(before, _)| before.competition_id)
            .collect();
        assert_eq!(moved, [Uuid::from_u128(1)], "only an own-clock total moved here");
        let kept: Vec<Uuid> = west.counting_by_own_zone().scores().iter().map(|r| r.competition_id).collect();
        assert_eq!(kept, [Uuid::from_u128(1), Uuid::from_u128(3)], "every own-clock competition, none of the others");
    }

    #[test]
    fn unreadable_rules_are_left_out() {
        let mut bad = competition(9, "UTC", json!({"mode": "total"}));
        bad["starts_at"] = json!("soon");
        let scored = inputs("UTC", json!([bad, competition(1, "UTC", json!({"mode": "total"}))]), json!([])).scores();
        assert_eq!(scored, [Rescored { competition_id: Uuid::from_u128(1), score: Score::ZERO }]);
    }
}
