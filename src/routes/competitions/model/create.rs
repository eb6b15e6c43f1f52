//! A new competition: the body of `POST /api/v1/competitions`, its limits and the rules that check it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::adapters::rows::NewCompetitionRow;
use crate::error::{ApiError, FieldError};
use crate::fitness_rules::{clock, Scoring};
use crate::time;
use standings::rules::Metric;

/// Most places a payout may have.
pub const MAX_PLACES: usize = 100;

/// Body of `POST /api/v1/competitions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewCompetition, examples(json!({"name": "December steps", "metric": "steps",
    "starts_at": "2026-12-01T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z", "prize_pool": 10000,
    "payout": [5000, 3000, 2000], "scoring": {"mode": "daily_capped", "cap": 30000}})))]
pub struct CreateBody {
    /// 1 to 80 characters once trimmed, no control characters.
    #[schema(schema_with = super::competition_name)]
    pub name: String,
    /// What the board ranks by.
    #[schema(value_type = Metric)]
    pub metric: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub starts_at: String,
    /// RFC 3339, after `starts_at`.
    #[schema(format = DateTime)]
    pub ends_at: String,
    /// In minor units.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 9007199254740991.0)]
    pub prize_pool: i64,
    /// Basis points per place, summing to at most 10 000.
    #[serde(default)]
    #[schema(max_items = 100, value_type = Vec<BasisPoints>)]
    pub payout: Vec<i64>,
    /// Most members (1..=1 000 000); absent or null: no limit.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000000)]
    pub max_participants: Option<i64>,
    /// `fitness` (default) or `client`.
    #[serde(default)]
    #[schema(value_type = Option<ScoreSource>)]
    pub score_source: Option<String>,
    /// How a fitness competition sums its counted days (default `{"mode":"total"}`); checked field by field.
    #[serde(default)]
    #[schema(value_type = Option<Scoring>)]
    pub scoring: Option<serde_json::Value>,
    /// `participant` (default) or an IANA zone name.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64)]
    pub clock: Option<String>,
    /// 0..=72; default 24 for fitness and 0 for client competitions (which must have 0).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 72)]
    pub grace_hours: Option<i64>,
    /// Whether days typed in by hand count (default false).
    #[serde(default)]
    pub allow_manual: Option<bool>,
}

/// One place's share of the pool, in basis points (1..=10 000).
pub struct BasisPoints;

impl utoipa::PartialSchema for BasisPoints {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(10_000)).into()
    }
}

impl ToSchema for BasisPoints {}

/// Where a competition's scores come from: the members' synced fitness days, or the app posting them.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScoreSource {
    /// Computed from the members' fitness days (members cannot post scores).
    Fitness,
    /// Posted by the app (`POST /api/v1/leaderboard/update`).
    Client,
}

/// What is wrong with a prize pool, if anything: integer minor units that JSON clients read exactly (≤ 2^53 − 1).
pub fn prize_pool_problem(pool: i64) -> Option<FieldError> {
    let most = crate::routes::leaderboard::model::MAX_SCORE;
    (!(0..=most).contains(&pool))
        .then(|| FieldError::new("prize_pool", format!("must be an integer from 0 to {most} (minor units)")))
}

/// Longest competition name, in characters.
pub const MAX_NAME_CHARS: usize = 80;

/// Longest grace period, in hours.
pub const MAX_GRACE_HOURS: i64 = 72;

/// Largest `max_participants` a competition may set.
pub const MAX_PARTICIPANTS: i64 = 1_000_000;

impl CreateBody {
    /// Checks every field and reports all problems at once.
    pub fn validate(self) -> Result<NewCompetitionRow, ApiError> {
        let mut problems = Vec::new();
        let name = super::trimmed_text(&self.name, MAX_NAME_CHARS, "name").unwrap_or_else(|problem| {
            problems.push(problem);
            String::new()
        });
        if Metric::parse(&self.metric).is_none() {
            problems.push(FieldError::new("metric", "must be steps, active_minutes, distance_m or calories"));
        }
        let starts = time::parse_ms(&self.starts_at);
        let ends = time::parse_ms(&self.ends_at);
        if starts.is_none() {
            problems.push(FieldError::new("starts_at", "must be an RFC 3339 timestamp in years 0001 to 9999 (UTC)"));
        }
        if ends.is_none() {
            problems.push(FieldError::new("ends_at", "must be an RFC 3339 timestamp in years 0001 to 9999 (UTC)"));
        }
        if let (Some(starts), Some(ends)) = (starts, ends) {
            if ends <= starts {
                problems.push(FieldError::new("ends_at", "must be after starts_at"));
            }
        }
        if let Some(problem) = prize_pool_problem(self.prize_pool) {
            problems.push(problem);
        }
        if self.payout.len() > MAX_PLACES {
            problems.push(FieldError::new("payout", format!("at most {MAX_PLACES} places")));
        }
        if self.payout.iter().any(|bps| !(1..=10_000).contains(bps)) {
            problems.push(FieldError::new("payout", "each place is 1 to 10000 basis points"));
        } else if self.payout.iter().sum::<i64>() > 10_000 {
            problems.push(FieldError::new("payout", "places sum to at most 10000 basis points"));
        }
        if self.max_participants.is_some_and(|max| !(1..=MAX_PARTICIPANTS).contains(&max)) {
            problems.push(FieldError::new("max_participants", format!("must be 1 to {MAX_PARTICIPANTS} or null")));
        }
        let score_source = self.score_source.unwrap_or_else(|| "fitness".to_owned());
        let fitness = score_source == "fitness";
        if !fitness && score_source != "client" {
            problems.push(FieldError::new("score_source", "must be fitness or client"));
        }
        let scoring = match self.scoring {
            None => Scoring::default(),
            Some(value) => match serde_json::from_value::<Scoring>(value) {
                Ok(scoring) => {
                    if let Some(problem) = scoring.problem() {
                        problems.push(FieldError::new("scoring", problem));
                    }
                    scoring
                }
                Err(_) => {
                    problems.push(FieldError::new(
                        "scoring",
                        "must be {\"mode\":\"total\"}, {\"mode\":\"daily_capped\",\"cap\":N}, \
                         {\"mode\":\"goal_days\",\"goal\":N} or {\"mode\":\"best_day\"}",
                    ));
                    Scoring::default()
                }
            },
        };
        let clock = self.clock.unwrap_or_else(|| clock::PARTICIPANT.to_owned());
        if clock != clock::PARTICIPANT && !clock::is_known_zone(&clock) {
            problems.push(FieldError::new("clock", "must be participant or an IANA time zone name"));
        }
        let grace_hours = self.grace_hours.unwrap_or(if fitness { 24 } else { 0 });
        if !(0..=MAX_GRACE_HOURS).contains(&grace_hours) {
            problems.push(FieldError::new("grace_hours", format!("must be 0 to {MAX_GRACE_HOURS}")));
        } else if !fitness && grace_hours != 0 {
            problems.push(FieldError::new("grace_hours", "must be 0 for a client competition"));
        }
        match (starts, ends) {
            (Some(starts), Some(ends)) if problems.is_empty() => Ok(NewCompetitionRow {
                name,
                metric: self.metric,
                starts_at: time::format_ms(starts),
                ends_at: time::format_ms(ends),
                prize_pool: self.prize_pool,
                payout: self.payout.into_iter().map(|bps| bps as u32).collect(),
                max_participants: self.max_participants,
                score_source,
                scoring,
                clock,
                grace_hours,
                allow_manual: self.allow_manual.unwrap_or(false),
            }),
            _ => Err(ApiError::ValidationFailed(problems)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(overrides: serde_json::Value) -> Result<NewCompetitionRow, ApiError> {
        let mut value = json!({
            "name": "November steps", "metric": "steps",
            "starts_at": "2026-11-01T00:00:00Z", "ends_at": "2026-12-01T00:00:00+01:00",
            "prize_pool": 10000, "payout": [5000, 3000, 2000],
        });
        for (key, field) in overrides.as_object().expect("object") {
            value[key] = field.clone();
        }
        serde_json::from_value::<CreateBody>(value).expect("shape").validate()
    }

    fn fields(result: Result<NewCompetitionRow, ApiError>) -> Vec<String> {
        match result {
            Err(ApiError::ValidationFailed(problems)) => problems.into_iter().map(|p| p.field).collect(),
            other => panic!("expected validation_failed, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_competition_is_normalised() {
        let row = body(json!({})).expect("valid");
        assert_eq!(row.ends_at, "2026-11-30T23:00:00Z");
        assert_eq!(row.payout, [5000, 3000, 2000]);
        assert!(body(json!({"payout": [], "prize_pool": 0})).is_ok());
        assert_eq!(body(json!({"max_participants": 10})).expect("valid").max_participants, Some(10));
        assert_eq!(body(json!({"max_participants": null})).expect("valid").max_participants, None);
        assert!(body(json!({"starts_at": "2020-01-01T00:00:00Z", "ends_at": "2020-01-02T00:00:00Z"})).is_ok());
    }

    #[test]
    fn a_prize_pool_out_of_range_says_the_range() {
        let cases = [(-1, false), (0, true), (9_007_199_254_740_991, true), (9_007_199_254_740_992, false)];
        for (pool, accepted) in cases {
            let problem = prize_pool_problem(pool);
            assert_eq!(problem.is_none(), accepted, "{pool}");
            if let Some(problem) = problem {
                assert_eq!(problem.message, "must be an integer from 0 to 9007199254740991 (minor units)");
            }
        }
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases = [
            (json!({"name": ""}), "name"),
            (json!({"name": "x".repeat(81)}), "name"),
            (json!({"name": "a\u{0000}b"}), "name"),
            (json!({"name": "line\nbreak"}), "name"),
            (json!({"metric": "sleep"}), "metric"),
            (json!({"starts_at": "yesterday"}), "starts_at"),
            (json!({"ends_at": "2026-10-01T00:00:00Z"}), "ends_at"),
            (json!({"ends_at": "2026-11-01T00:00:00Z"}), "ends_at"),
            (json!({"prize_pool": -1}), "prize_pool"),
            (json!({"prize_pool": 9_007_199_254_740_992_i64}), "prize_pool"),
            (json!({"payout": [0]}), "payout"),
            (json!({"payout": [10001]}), "payout"),
            (json!({"payout": [6000, 5000]}), "payout"),
            (json!({"payout": vec![1; 101]}), "payout"),
            (json!({"max_participants": 0}), "max_participants"),
            (json!({"max_participants": 1_000_001}), "max_participants"),
        ];
        for (overrides, field) in cases {
            assert_eq!(fields(body(overrides.clone())), [field], "{overrides}");
        }
    }
}
