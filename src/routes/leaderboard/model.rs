//! Request shapes of the leaderboard routes and their validation (plain Rust).

use serde::Deserialize;
use uuid::Uuid;

use crate::error::{ApiError, FieldError};

/// Largest score JSON clients can hold exactly.
pub const MAX_SCORE: i64 = durable_objects::competition::MAX_SCORE;

/// Body of `POST /api/v1/leaderboard/update`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    /// Competition id (UUID text).
    pub competition_id: String,
    /// Absolute cumulative score.
    pub score: i64,
}

/// A validated score update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreUpdate {
    /// The competition.
    pub competition_id: Uuid,
    /// The new absolute score.
    pub score: i64,
}

impl UpdateBody {
    /// Checks every field and reports all problems at once.
    pub fn validate(self) -> Result<ScoreUpdate, ApiError> {
        let mut problems = Vec::new();
        let competition_id = Uuid::try_parse(&self.competition_id)
            .map_err(|_| problems.push(FieldError::new("competition_id", "must be a UUID")))
            .ok();
        if !(0..=MAX_SCORE).contains(&self.score) {
            problems.push(FieldError::new("score", format!("must be between 0 and {MAX_SCORE}")));
        }
        match competition_id {
            Some(competition_id) if problems.is_empty() => Ok(ScoreUpdate { competition_id, score: self.score }),
            _ => Err(ApiError::ValidationFailed(problems)),
        }
    }
}

/// Parses an id taken from the path.
pub fn path_uuid(name: &str, value: Option<&str>) -> Result<Uuid, ApiError> {
    value.and_then(|v| Uuid::try_parse(v).ok()).ok_or_else(|| ApiError::BadRequest(format!("{name} must be a UUID")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CID: &str = "0d9f3c2a-1b4e-4c5d-8e6f-7a8b9c0d1e2f";

    #[test]
    fn update_validation_table() {
        type Case = (&'static str, i64, Result<(), &'static [&'static str]>);
        let cases: &[Case] = &[
            (CID, 0, Ok(())),
            (CID, MAX_SCORE, Ok(())),
            (CID, MAX_SCORE + 1, Err(&["score"])),
            (CID, -1, Err(&["score"])),
            ("nope", 5, Err(&["competition_id"])),
            ("nope", -5, Err(&["competition_id", "score"])),
        ];
        for (cid, score, expected) in cases {
            let got = UpdateBody { competition_id: (*cid).into(), score: *score }.validate();
            match (got, expected) {
                (Ok(update), Ok(())) => assert_eq!(update.score, *score),
                (Err(ApiError::ValidationFailed(problems)), Err(fields)) => {
                    let got: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
                    assert_eq!(got, *fields, "{cid} {score}");
                }
                (other, _) => panic!("{cid} {score}: unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn path_ids_must_be_uuids() {
        assert!(path_uuid("competition_id", Some(CID)).is_ok());
        assert_eq!(path_uuid("competition_id", Some("x")).unwrap_err().status(), 400);
        assert_eq!(path_uuid("competition_id", None).unwrap_err().status(), 400);
    }
}
