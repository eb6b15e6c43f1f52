//! Request shapes of the leaderboard routes and their validation (plain Rust).

use serde::{Deserialize, Serialize};
use standings::engine::Cursor;
use standings::protocol::PublicEntry;
use standings::score::Score;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, FieldError};
use crate::runtime::{limit_query, query_value};

/// Largest score JSON clients can hold exactly.
pub use standings::protocol::MAX_SCORE;

/// Body of `POST /api/v1/leaderboard/update`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ScoreUpdate, examples(json!({"competition_id": "5a1d3f0e-8c2b-4f6a-9d7e-3b2a1c0d9e8f", "score": 8421})))]
pub struct UpdateBody {
    /// Competition id (UUID text).
    #[schema(format = Uuid)]
    pub competition_id: String,
    /// Absolute cumulative score.
    #[schema(minimum = 0, maximum = 9007199254740991.0)]
    pub score: i64,
    /// Whose score: administrators' corrections only (a user always posts their own).
    #[serde(default)]
    #[schema(format = Uuid)]
    pub user_id: Option<String>,
}

/// Reply of `GET /api/v1/leaderboard/{competition_id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(examples(json!({"competition_id": "5a1d3f0e-8c2b-4f6a-9d7e-3b2a1c0d9e8f", "total": 128, "entries": [
    {"rank": 1, "display_rank": 1, "user_id": "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f", "display_name": "Ana", "avatar_url": null, "score": 91234},
    {"rank": 2, "display_rank": 2, "user_id": "7c1e2d3f-4a5b-4c6d-9e8f-0a1b2c3d4e5f", "display_name": "player-7c1e2d3f",
     "avatar_url": null, "score": 88012}], "next_cursor": "15ac4.2"})))]
pub struct LeaderboardPage {
    /// The competition.
    pub competition_id: Uuid,
    /// Members on the board.
    pub total: u64,
    /// The page's rows, in rank order.
    pub entries: Vec<PublicEntry>,
    /// Pass as `cursor` for the next page; `null` at the end of the board.
    pub next_cursor: Option<String>,
}

/// Reply of `GET /api/v1/leaderboard/{competition_id}/me`: the caller's standing and the rows around it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Around)]
pub struct Window {
    /// The caller's rank.
    #[schema(minimum = 1)]
    pub rank: u64,
    /// Standard competition rank ("1224").
    #[schema(minimum = 1)]
    pub display_rank: u64,
    /// The caller's score.
    pub score: Score,
    /// Members on the board.
    pub total: u64,
    /// Share of the board ranked at or below the caller, in percent (rank 1 is 100).
    pub percentile: f64,
    /// The rows around the caller, in rank order.
    pub entries: Vec<PublicEntry>,
}

/// A validated score update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreUpdate {
    /// The competition.
    pub competition_id: Uuid,
    /// The new absolute score.
    pub score: Score,
    /// The member an administrator corrects, when named.
    pub user_id: Option<Uuid>,
}

impl UpdateBody {
    /// Checks every field and reports all problems at once.
    pub fn validate(self) -> Result<ScoreUpdate, ApiError> {
        let mut problems = Vec::new();
        let competition_id = Uuid::try_parse(&self.competition_id)
            .map_err(|_| problems.push(FieldError::new("competition_id", "must be a UUID")))
            .ok();
        let score = Score::try_from(self.score)
            .map_err(|_| problems.push(FieldError::new("score", format!("must be between 0 and {MAX_SCORE}"))))
            .ok();
        let user_id = self.user_id.as_deref().and_then(|text| {
            Uuid::try_parse(text).map_err(|_| problems.push(FieldError::new("user_id", "must be a UUID"))).ok()
        });
        match (competition_id, score) {
            (Some(competition_id), Some(score)) if problems.is_empty() => {
                Ok(ScoreUpdate { competition_id, score, user_id })
            }
            _ => Err(ApiError::ValidationFailed(problems)),
        }
    }
}

/// The page and window limits, defined once for the Worker and the object.
pub use standings::requests::{
    DEFAULT_AROUND, DEFAULT_PAGE_LIMIT as DEFAULT_LIMIT, MAX_AROUND, MAX_PAGE_LIMIT as MAX_LIMIT,
};

/// Validated query of `GET /api/v1/leaderboard/{competition_id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageQuery {
    /// Rows wanted, 1..=200.
    pub limit: usize,
    /// Where to continue, as handed out in `next_cursor`.
    pub cursor: Option<String>,
}

/// Validates `limit` and `cursor`.
pub fn page_query(pairs: &[(String, String)]) -> Result<PageQuery, ApiError> {
    let mut problems = Vec::new();
    let limit = limit_query(pairs, DEFAULT_LIMIT, MAX_LIMIT).unwrap_or_else(|problem| {
        problems.push(problem);
        DEFAULT_LIMIT
    });
    let cursor = query_value(pairs, "cursor").map(str::to_owned);
    if let Some(text) = &cursor {
        match Cursor::decode(text) {
            None => problems.push(FieldError::new("cursor", "is not a cursor this API handed out")),
            // The same position spelled another way (leading zeros, capitals) would be another cache key: one
            // spelling only, so random spellings cannot fill the page cache.
            Some(decoded) if decoded.encode() != *text => {
                return Err(ApiError::BadRequest("cursor must be passed exactly as next_cursor gave it".to_owned()))
            }
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        Ok(PageQuery { limit, cursor })
    } else {
        Err(ApiError::ValidationFailed(problems))
    }
}

/// Validates `around` of `GET /api/v1/leaderboard/{competition_id}/me`.
pub fn around_query(pairs: &[(String, String)]) -> Result<u64, ApiError> {
    match query_value(pairs, "around") {
        None => Ok(DEFAULT_AROUND),
        Some(text) => match text.parse::<u64>() {
            Ok(around) if around <= MAX_AROUND => Ok(around),
            _ => Err(ApiError::ValidationFailed(vec![FieldError::new(
                "around",
                format!("must be an integer from 0 to {MAX_AROUND}"),
            )])),
        },
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
            let got = UpdateBody { competition_id: (*cid).into(), score: *score, user_id: None }.validate();
            match (got, expected) {
                (Ok(update), Ok(())) => assert_eq!(i64::from(update.score), *score),
                (Err(ApiError::ValidationFailed(problems)), Err(fields)) => {
                    let got: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
                    assert_eq!(got, *fields, "{cid} {score}");
                }
                (other, _) => panic!("{cid} {score}: unexpected {other:?}"),
            }
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn page_query_table() {
        let good_cursor = Cursor { score: 5, seq: 7, slot: 1 }.encode();
        type Case = (Vec<(String, String)>, Result<(usize, bool), Vec<&'static str>>);
        let cases: Vec<Case> = vec![
            (pairs(&[]), Ok((50, false))),
            (pairs(&[("limit", "1")]), Ok((1, false))),
            (pairs(&[("limit", "200"), ("cursor", &good_cursor)]), Ok((200, true))),
            (pairs(&[("limit", "0")]), Err(vec!["limit"])),
            (pairs(&[("limit", "201")]), Err(vec!["limit"])),
            (pairs(&[("limit", "ten")]), Err(vec!["limit"])),
            (pairs(&[("limit", "-1"), ("cursor", "zzz")]), Err(vec!["limit", "cursor"])),
        ];
        for (query, expected) in cases {
            let got = page_query(&query).map(|q| (q.limit, q.cursor.is_some())).map_err(|e| match e {
                ApiError::ValidationFailed(problems) => problems.into_iter().map(|p| p.field).collect::<Vec<_>>(),
                other => panic!("{other:?}"),
            });
            let expected = expected.map_err(|fields| fields.into_iter().map(str::to_owned).collect::<Vec<_>>());
            assert_eq!(got, expected, "{query:?}");
        }
    }

    #[test]
    fn a_cursor_has_one_spelling() {
        let good = Cursor { score: 0x5a, seq: 7, slot: 1 }.encode();
        assert!(page_query(&pairs(&[("cursor", &good)])).is_ok());
        for other in [good.to_uppercase(), format!("0{good}"), good.replace(".7.", ".07.")] {
            assert_eq!(page_query(&pairs(&[("cursor", &other)])).unwrap_err().status(), 400, "{other}");
        }
    }

    #[test]
    fn around_query_table() {
        assert_eq!(around_query(&pairs(&[])), Ok(5));
        assert_eq!(around_query(&pairs(&[("around", "0")])), Ok(0));
        assert_eq!(around_query(&pairs(&[("around", "50")])), Ok(50));
        for bad in ["51", "-1", "x", ""] {
            assert_eq!(around_query(&pairs(&[("around", bad)])).unwrap_err().status(), 422, "{bad}");
        }
    }

    #[test]
    fn path_ids_must_be_uuids() {
        assert!(path_uuid("competition_id", Some(CID)).is_ok());
        assert_eq!(path_uuid("competition_id", Some("x")).unwrap_err().status(), 400);
        assert_eq!(path_uuid("competition_id", None).unwrap_err().status(), 400);
    }
}
