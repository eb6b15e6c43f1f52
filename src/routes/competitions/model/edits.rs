//! Changes to a competition: an organiser's edit and a member's disqualification, with the rules that check them.

use serde::Deserialize;
use utoipa::ToSchema;

use super::create::{prize_pool_problem, BasisPoints, MAX_NAME_CHARS, MAX_PARTICIPANTS, MAX_PLACES};
use crate::adapters::rows::CompetitionRow;
use crate::error::{ApiError, FieldError};
use crate::http::body::present;
use crate::time;

/// Body of `PATCH /api/v1/competitions/{id}`: any of the fields an organiser may change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CompetitionPatch)]
pub struct PatchBody {
    /// 1 to 80 characters once trimmed, no control characters.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = super::competition_name)]
    pub name: Option<String>,
    /// Later, or earlier but not before now.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Option<String>,
    /// In minor units.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = i64, minimum = 0, maximum = 9007199254740991.0)]
    pub prize_pool: Option<i64>,
    /// Basis points per place.
    #[serde(default, deserialize_with = "present")]
    #[schema(max_items = 100, value_type = Vec<BasisPoints>)]
    pub payout: Option<Vec<i64>>,
    /// A number sets the limit, `null` removes it, absent leaves it.
    // `present` of an `Option`: absent is `None`, an explicit `null` is `Some(None)`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1000000)]
    pub max_participants: Option<Option<i64>>,
}

impl PatchBody {
    /// Checks the changes against `row` at `now_ms` (every problem at once): the database changes and the row as it
    /// will read after them. `ends_at` may move later or earlier, but not before now.
    pub fn validate(self, row: &CompetitionRow, now_ms: i64) -> Result<(serde_json::Value, CompetitionRow), ApiError> {
        let mut problems = Vec::new();
        let mut changes = serde_json::Map::new();
        let mut next = row.clone();
        if let Some(name) = self.name {
            match trimmed_text(&name, MAX_NAME_CHARS, "name") {
                Ok(name) => {
                    changes.insert("name".into(), name.clone().into());
                    next.name = name;
                }
                Err(problem) => problems.push(problem),
            }
        }
        if let Some(text) = self.ends_at {
            let starts = time::parse_ms(&row.starts_at);
            match time::parse_ms(&text) {
                None => problems
                    .push(FieldError::new("ends_at", "must be an RFC 3339 timestamp in years 0001 to 9999 (UTC)")),
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
            if let Some(problem) = prize_pool_problem(pool) {
                problems.push(problem);
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
    /// Why; kept on the membership.
    #[schema(schema_with = disqualification_reason)]
    pub reason: String,
}

fn disqualification_reason() -> utoipa::openapi::schema::Object {
    crate::http::schema::trimmed_text(
        200,
        "Why: 1 to 200 characters once trimmed, no control characters; kept on the membership",
    )
}

impl DisqualifyBody {
    /// The reason, trimmed: 1..=200 characters, no control characters.
    pub fn validate(self) -> Result<String, ApiError> {
        reason(&self.reason).map_err(|problem| ApiError::ValidationFailed(vec![problem]))
    }
}

/// An administrator's stated reason (a disqualification's, a review decision's): [`trimmed_text`] of at most 200.
pub fn reason(text: &str) -> Result<String, FieldError> {
    trimmed_text(text, 200, "reason")
}

/// `text` without its surrounding white space, for a `field` the document gives as `http::schema::trimmed_text`: at
/// most `max` characters as sent (the document's `maxLength`; trimming first let 81 through), at least one once
/// trimmed, and no control characters inside (Postgres refuses a NUL in text, and names and reasons are shown to
/// people).
pub fn trimmed_text(text: &str, max: usize, field: &str) -> Result<String, FieldError> {
    let trimmed = text.trim();
    if text.chars().count() > max || trimmed.is_empty() || trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(field, format!("must be 1 to {max} characters without control characters")));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fitness_rules::Scoring;
    use serde_json::json;
    use uuid::Uuid;

    /// As the document states it: `maxLength` counts the text as sent, surrounding white space included.
    #[test]
    fn trimmed_text_is_at_most_max_as_sent_and_not_empty_once_trimmed() {
        let long = "x".repeat(80);
        let cases: Vec<(String, Option<&str>)> = vec![
            ("  Winter steps  ".into(), Some("Winter steps")),
            (long.clone(), Some(long.as_str())),
            ("x".repeat(81), None),
            (format!("  {}", "x".repeat(79)), None),
            (format!("\u{2000}{}", "x".repeat(78)), Some(&long[..78])),
            (String::new(), None),
            (" \u{b} ".into(), None),
            ("a\u{0}b".into(), None),
        ];
        for (text, expected) in cases {
            let got = trimmed_text(&text, 80, "name");
            assert_eq!(got.as_deref().ok(), expected, "{text:?}");
            if let Err(problem) = got {
                assert_eq!(problem.field, "name");
            }
        }
    }

    #[test]
    fn a_field_may_be_left_out_but_only_max_participants_may_be_null() {
        let body = |text: &str| serde_json::from_str::<PatchBody>(text);
        assert!(body("{}").is_ok_and(|b| b.name.is_none() && b.max_participants.is_none()));
        assert!(body(r#"{"max_participants": null}"#).is_ok_and(|b| b.max_participants == Some(None)));
        assert!(body(r#"{"max_participants": 5}"#).is_ok_and(|b| b.max_participants == Some(Some(5))));
        assert!(body(r#"{"name": "n", "payout": [10000]}"#).is_ok_and(|b| b.payout == Some(vec![10_000])));
        for field in ["name", "ends_at", "prize_pool", "payout"] {
            assert!(body(&format!(r#"{{"{field}": null}}"#)).is_err(), "{field}");
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
            settings_version: 0,
            rescore_from: None,
            rescore_to: None,
            rescore_after: None,
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
}
