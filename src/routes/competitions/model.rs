//! Competition shapes of the API and the validation of a new competition (plain Rust).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::adapters::rows::{CompetitionRow, NewCompetitionRow};
use crate::error::{ApiError, FieldError};
use crate::fitness_rules::{clock, Scoring};
use crate::time;
use standings::protocol::CompetitionMeta;
use standings::rules::{self, Metric, Status};

/// Most places a payout may have.
pub const MAX_PLACES: usize = 100;

/// Body of `POST /api/v1/competitions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewCompetition, examples(json!({"name": "December steps", "metric": "steps",
    "starts_at": "2026-12-01T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z", "prize_pool": 10000,
    "payout": [5000, 3000, 2000], "scoring": {"mode": "daily_capped", "cap": 30000}})))]
pub struct CreateBody {
    /// 1 to 80 characters, no control characters.
    #[schema(min_length = 1, max_length = 80)]
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

/// Longest grace period, in hours.
pub const MAX_GRACE_HOURS: i64 = 72;

/// Largest `max_participants` a competition may set.
pub const MAX_PARTICIPANTS: i64 = 1_000_000;

impl CreateBody {
    /// Checks every field and reports all problems at once.
    pub fn validate(self) -> Result<NewCompetitionRow, ApiError> {
        let mut problems = Vec::new();
        let name = self.name.trim().to_owned();
        if !(1..=80).contains(&name.chars().count()) {
            problems.push(FieldError::new("name", "must be 1 to 80 characters"));
        }
        // Control characters (NUL above all, which Postgres text cannot hold) are never part of a name.
        if name.chars().any(char::is_control) {
            problems.push(FieldError::new("name", "must not contain control characters"));
        }
        if Metric::parse(&self.metric).is_none() {
            problems.push(FieldError::new("metric", "must be steps, active_minutes, distance_m or calories"));
        }
        let starts = time::parse_ms(&self.starts_at);
        let ends = time::parse_ms(&self.ends_at);
        if starts.is_none() {
            problems.push(FieldError::new("starts_at", "must be an RFC 3339 timestamp"));
        }
        if ends.is_none() {
            problems.push(FieldError::new("ends_at", "must be an RFC 3339 timestamp"));
        }
        if let (Some(starts), Some(ends)) = (starts, ends) {
            if ends <= starts {
                problems.push(FieldError::new("ends_at", "must be after starts_at"));
            }
        }
        if !(0..=crate::routes::leaderboard::model::MAX_SCORE).contains(&self.prize_pool) {
            problems.push(FieldError::new("prize_pool", "must be a non-negative integer (minor units)"));
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

/// Body of `PATCH /api/v1/competitions/{id}`: any of the fields an organiser may change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CompetitionPatch)]
pub struct PatchBody {
    /// 1 to 80 characters.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 80)]
    pub name: Option<String>,
    /// Later, or earlier but not before now.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub ends_at: Option<String>,
    /// In minor units.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 9007199254740991.0)]
    pub prize_pool: Option<i64>,
    /// Basis points per place.
    #[serde(default)]
    #[schema(max_items = 100, value_type = Option<Vec<BasisPoints>>)]
    pub payout: Option<Vec<i64>>,
    /// A number sets the limit, `null` removes it, absent leaves it.
    #[serde(default, deserialize_with = "present_or_null")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1000000)]
    pub max_participants: Option<Option<i64>>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present_or_null<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(deserializer).map(Some)
}

impl PatchBody {
    /// Checks the changes against `row` at `now_ms` (every problem at once): the database changes and the row as it
    /// will read after them. `ends_at` may move later or earlier, but not before now.
    pub fn validate(self, row: &CompetitionRow, now_ms: i64) -> Result<(serde_json::Value, CompetitionRow), ApiError> {
        let mut problems = Vec::new();
        let mut changes = serde_json::Map::new();
        let mut next = row.clone();
        if let Some(name) = self.name {
            let name = name.trim().to_owned();
            if !(1..=80).contains(&name.chars().count()) || name.chars().any(char::is_control) {
                problems.push(FieldError::new("name", "must be 1 to 80 characters without control characters"));
            }
            changes.insert("name".into(), name.clone().into());
            next.name = name;
        }
        if let Some(text) = self.ends_at {
            let starts = time::parse_ms(&row.starts_at);
            match time::parse_ms(&text) {
                None => problems.push(FieldError::new("ends_at", "must be an RFC 3339 timestamp")),
                Some(ends) if starts.is_some_and(|starts| ends <= starts) => {
                    problems.push(FieldError::new("ends_at", "must be after starts_at"))
                }
                Some(ends) if ends < now_ms => problems.push(FieldError::new("ends_at", "must not be before now")),
                Some(ends) => {
                    changes.insert("ends_at".into(), time::format_ms(ends).into());
                    next.ends_at = time::format_ms(ends);
                }
            }
        }
        if let Some(pool) = self.prize_pool {
            if !(0..=crate::routes::leaderboard::model::MAX_SCORE).contains(&pool) {
                problems.push(FieldError::new("prize_pool", "must be a non-negative integer (minor units)"));
            }
            changes.insert("prize_pool".into(), pool.into());
            next.prize_pool = pool;
        }
        if let Some(payout) = self.payout {
            if payout.len() > MAX_PLACES {
                problems.push(FieldError::new("payout", format!("at most {MAX_PLACES} places")));
            } else if payout.iter().any(|bps| !(1..=10_000).contains(bps)) {
                problems.push(FieldError::new("payout", "each place is 1 to 10000 basis points"));
            } else if payout.iter().sum::<i64>() > 10_000 {
                problems.push(FieldError::new("payout", "places sum to at most 10000 basis points"));
            }
            changes.insert("payout".into(), serde_json::json!(payout));
            next.payout = payout.iter().map(|bps| (*bps).clamp(0, 10_000) as u32).collect();
        }
        if let Some(max) = self.max_participants {
            if max.is_some_and(|max| !(1..=MAX_PARTICIPANTS).contains(&max)) {
                problems.push(FieldError::new("max_participants", format!("must be 1 to {MAX_PARTICIPANTS} or null")));
            }
            changes.insert("max_participants".into(), serde_json::json!(max));
            next.max_participants = max;
        }
        if problems.is_empty() {
            Ok((serde_json::Value::Object(changes), next))
        } else {
            Err(ApiError::ValidationFailed(problems))
        }
    }
}

/// Body of `POST /api/v1/competitions/{id}/members/{user_id}/disqualify`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Disqualification)]
pub struct DisqualifyBody {
    /// Why, 1 to 200 characters; kept on the membership.
    #[schema(min_length = 1, max_length = 200)]
    pub reason: String,
}

impl DisqualifyBody {
    /// The reason, trimmed: 1..=200 characters, no control characters.
    pub fn validate(self) -> Result<String, ApiError> {
        let reason = self.reason.trim().to_owned();
        if !(1..=200).contains(&reason.chars().count()) || reason.chars().any(char::is_control) {
            return Err(ApiError::ValidationFailed(vec![FieldError::new(
                "reason",
                "must be 1 to 200 characters without control characters",
            )]));
        }
        Ok(reason)
    }
}

/// A competition as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(examples(json!({"id": "5a1d3f0e-8c2b-4f6a-9d7e-3b2a1c0d9e8f", "name": "December steps", "metric": "steps",
    "starts_at": "2026-12-01T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z", "prize_pool": 10000,
    "payout": [5000, 3000, 2000], "participants": 128, "max_participants": null, "status": "active",
    "score_source": "fitness", "scoring": {"mode": "daily_capped", "cap": 30000}, "clock": "participant",
    "grace_hours": 24, "allow_manual": false})))]
pub struct Competition {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// What the board ranks by.
    #[schema(value_type = Metric)]
    pub metric: String,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub starts_at: String,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub ends_at: String,
    /// In minor units.
    pub prize_pool: i64,
    /// Basis points per place.
    pub payout: Vec<u32>,
    /// Members who joined.
    #[schema(minimum = 0)]
    pub participants: i64,
    /// Most members, `null` without a limit.
    #[schema(minimum = 1, maximum = 1000000)]
    pub max_participants: Option<i64>,
    /// Where it stands now.
    pub status: Status,
    /// Where its scores come from.
    #[schema(value_type = ScoreSource)]
    pub score_source: String,
    /// How counted days add up.
    pub scoring: Scoring,
    /// `participant` or an IANA zone name.
    pub clock: String,
    /// Hours after the end in which synced days still count.
    #[schema(minimum = 0, maximum = 72)]
    pub grace_hours: i64,
    /// Whether days typed in by hand count.
    pub allow_manual: bool,
}

/// Reply of `GET /api/v1/competitions`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CompetitionList {
    /// Active and upcoming competitions by start, at most 100.
    #[schema(max_items = 100)]
    pub competitions: Vec<Competition>,
}

/// Reply of `POST /api/v1/competitions/{id}/join`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Membership {
    /// The competition joined.
    pub competition_id: Uuid,
    /// The caller.
    pub user_id: Uuid,
    /// When they joined (the first time), RFC 3339.
    #[schema(format = DateTime)]
    pub joined_at: String,
}

/// Reply of `POST /api/v1/competitions/{id}/members/{user_id}/disqualify`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Disqualified {
    /// The competition.
    pub competition_id: Uuid,
    /// The member.
    pub user_id: Uuid,
    /// Always `disqualified`.
    #[schema(schema_with = disqualified_status)]
    pub status: &'static str,
    /// Why, as given.
    pub reason: Option<String>,
    /// When, RFC 3339.
    #[schema(format = DateTime)]
    pub disqualified_at: Option<String>,
    /// Members left on the board.
    #[schema(minimum = 0)]
    pub total: u64,
}

fn disqualified_status() -> utoipa::openapi::schema::Object {
    crate::http::schema::one_of_words(["disqualified"])
}

/// What a competition's object needs to know, from its database row; `None` when the row breaks the schema's rules.
pub fn meta_from_row(row: &CompetitionRow) -> Option<CompetitionMeta> {
    Metric::parse(&row.metric)?;
    Some(CompetitionMeta {
        competition_id: row.id,
        metric: row.metric.clone(),
        starts_ms: time::parse_ms(&row.starts_at)?,
        ends_ms: time::parse_ms(&row.ends_at)?,
        prize_pool: row.prize_pool,
        payout: row.payout.clone(),
        fitness: row.score_source == "fitness",
        grace_ms: row.grace_hours.clamp(0, MAX_GRACE_HOURS) * 3_600_000,
    })
}

/// The API shape of a row at `now_ms`.
pub fn present(row: &CompetitionRow, now_ms: i64) -> Result<Competition, ApiError> {
    let meta = meta_from_row(row)
        .ok_or_else(|| ApiError::Internal(format!("competition {} has an unreadable schedule", row.id)))?;
    Ok(Competition {
        id: row.id,
        name: row.name.clone(),
        metric: row.metric.clone(),
        starts_at: time::normalize(&row.starts_at),
        ends_at: time::normalize(&row.ends_at),
        prize_pool: row.prize_pool,
        payout: row.payout.clone(),
        participants: row.participants,
        max_participants: row.max_participants,
        status: match row.cancelled_at {
            Some(_) => Status::Cancelled,
            None => rules::status(meta.starts_ms, meta.ends_ms, meta.final_ms(), now_ms),
        },
        score_source: row.score_source.clone(),
        scoring: row.scoring,
        clock: row.clock.clone(),
        grace_hours: row.grace_hours,
        allow_manual: row.allow_manual,
    })
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

    #[test]
    fn an_edit_checks_each_field_and_never_ends_before_now() {
        let row = CompetitionRow {
            id: Uuid::from_u128(7),
            name: "n".into(),
            metric: "steps".into(),
            starts_at: "2026-11-01T00:00:00+00:00".into(),
            ends_at: "2026-11-08T00:00:00+00:00".into(),
            prize_pool: 5,
            payout: vec![10_000],
            participants: 3,
            max_participants: Some(10),
            cancelled_at: None,
            score_source: "client".into(),
            scoring: Scoring::default(),
            clock: "participant".into(),
            grace_hours: 0,
            allow_manual: false,
        };
        let now = time::parse_ms("2026-11-03T00:00:00Z").expect("now");
        let patch =
            |body: serde_json::Value| serde_json::from_value::<PatchBody>(body).expect("shape").validate(&row, now);
        let (changes, next) = patch(json!({"ends_at": "2026-11-10T00:00:00Z", "max_participants": null})).expect("ok");
        assert_eq!(changes, json!({"ends_at": "2026-11-10T00:00:00Z", "max_participants": null}));
        assert_eq!((next.ends_at.as_str(), next.max_participants), ("2026-11-10T00:00:00Z", None));
        let (_, same) = patch(json!({})).expect("nothing to change");
        assert_eq!(same, row);
        let (_, earlier) = patch(json!({"ends_at": "2026-11-03T00:00:00Z"})).expect("end now");
        assert_eq!(earlier.ends_at, "2026-11-03T00:00:00Z");
        let cases = [
            (json!({"ends_at": "2026-11-02T23:59:59Z"}), "ends_at"),
            (json!({"ends_at": "2026-10-01T00:00:00Z"}), "ends_at"),
            (json!({"name": ""}), "name"),
            (json!({"prize_pool": -1}), "prize_pool"),
            (json!({"payout": [6000, 5000]}), "payout"),
            (json!({"max_participants": 0}), "max_participants"),
        ];
        for (body, field) in cases {
            match patch(body.clone()) {
                Err(ApiError::ValidationFailed(problems)) => assert_eq!(problems[0].field, field, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(serde_json::from_value::<PatchBody>(json!({"metric": "calories"})).is_err(), "not editable");
    }

    #[test]
    fn a_disqualification_needs_a_readable_reason() {
        let reason = |text: &str| DisqualifyBody { reason: text.to_owned() }.validate().map_err(|e| e.status());
        assert_eq!(reason("  step counter on a ceiling fan "), Ok("step counter on a ceiling fan".to_owned()));
        assert_eq!(reason(&"x".repeat(200)).map(|r| r.len()), Ok(200));
        for bad in [String::new(), "   ".to_owned(), "x".repeat(201), "tab\tinside".to_owned()] {
            assert_eq!(reason(&bad), Err(422), "{bad:?}");
        }
    }

    #[test]
    fn rows_become_object_settings() {
        let row = CompetitionRow {
            id: Uuid::from_u128(7),
            name: "n".into(),
            metric: "calories".into(),
            starts_at: "2026-11-01T00:00:00+00:00".into(),
            ends_at: "2026-11-08T00:00:00+00:00".into(),
            prize_pool: 5,
            payout: vec![10_000],
            participants: 3,
            max_participants: None,
            cancelled_at: None,
            score_source: "fitness".into(),
            scoring: Scoring::default(),
            clock: "participant".into(),
            grace_hours: 24,
            allow_manual: false,
        };
        let meta = meta_from_row(&row).expect("valid");
        assert_eq!((meta.starts_ms, meta.ends_ms - meta.starts_ms), (1_793_491_200_000, 7 * 86_400_000));
        let shown = present(&row, meta.starts_ms).expect("present");
        assert_eq!((shown.status, shown.starts_at.as_str()), (Status::Active, "2026-11-01T00:00:00Z"));
        assert!(meta_from_row(&CompetitionRow { metric: "sleep".into(), ..row }).is_none());
    }
}
