//! A score as the API knows it: a whole number from 0 to 2^53 − 1, the largest integer a JSON client holds exactly.
//! It is checked once, where it enters (a request body, a stored row, a rescored total), and travels as this type
//! from there through the board to every reply and frame, so nothing downstream checks or converts it again.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A score in `0..=Score::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct Score(u64);

/// A value outside `0..=Score::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("score {0} is outside 0..=9007199254740991")]
pub struct OutOfRange(pub i128);

impl Score {
    /// The largest score (2^53 − 1).
    pub const MAX: Score = Score(crate::engine::key::MAX_SCORE);
    /// No points.
    pub const ZERO: Score = Score(0);

    /// The score, when `value` is one.
    pub const fn new(value: u64) -> Result<Score, OutOfRange> {
        if value <= Self::MAX.0 {
            Ok(Score(value))
        } else {
            Err(OutOfRange(value as i128))
        }
    }

    /// The engine's own scores, read back from rank keys it packed: at most 53 bits by construction.
    pub(crate) const fn from_key(value: u64) -> Score {
        Score(value & Self::MAX.0)
    }

    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl TryFrom<u64> for Score {
    type Error = OutOfRange;

    fn try_from(value: u64) -> Result<Self, Self::Error> {
        Score::new(value)
    }
}

impl TryFrom<i64> for Score {
    type Error = OutOfRange;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        u64::try_from(value).map_err(|_| OutOfRange(value.into())).and_then(Score::new)
    }
}

impl From<Score> for u64 {
    fn from(score: Score) -> u64 {
        score.0
    }
}

impl From<Score> for i64 {
    // At most 2^53 − 1: always fits.
    fn from(score: Score) -> i64 {
        score.0 as i64
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl utoipa::PartialSchema for Score {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(0))
            .maximum(Some(Score::MAX.0 as f64))
            .description(Some("A score: a whole number from 0 to 2^53 − 1"))
            .into()
    }
}

impl utoipa::ToSchema for Score {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_checked_where_they_enter() {
        let cases: [(i64, bool); 6] = [
            (0, true),
            (1, true),
            (9_007_199_254_740_991, true),
            (9_007_199_254_740_992, false),
            (-1, false),
            (i64::MIN, false),
        ];
        for (value, valid) in cases {
            assert_eq!(Score::try_from(value).is_ok(), valid, "{value}");
            assert_eq!(serde_json::from_str::<Score>(&value.to_string()).is_ok(), valid, "{value} as JSON");
        }
        assert_eq!(Score::try_from(u64::MAX), Err(OutOfRange(u64::MAX.into())));
    }

    #[test]
    fn a_score_travels_as_a_plain_number() {
        let score = Score::new(8421).expect("a score");
        assert_eq!(serde_json::to_string(&score).expect("json"), "8421");
        assert_eq!((u64::from(score), i64::from(score), score.to_string()), (8421, 8421, "8421".to_owned()));
        assert_eq!(Score::from_key(Score::MAX.get()), Score::MAX);
    }
}
