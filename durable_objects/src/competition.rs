//! The Competition Durable Object: one per competition, the single writer of its leaderboard.
//!
//! Thin glue: it parses the Worker's message, asks the [`ScoreStore`], and answers JSON. It never awaits
//! anything between reading and writing its state, so requests cannot interleave inside a read-modify-write.

use uuid::Uuid;
use worker::{durable_object, DurableObject, Env, Method, Request, Response, Result, State};

use crate::protocol::{ObjectError, ScoreWrite, ScoreWriteReply, PATH_SCORES, PATH_SCORE_OF};
use crate::score_store::ScoreStore;

/// Largest score JSON clients can hold exactly (2^53 - 1).
pub const MAX_SCORE: i64 = (1 << 53) - 1;

/// The Durable Object class bound as `COMPETITION` in `wrangler.toml`.
#[durable_object]
pub struct Competition {
    store: ScoreStore,
}

fn error(status: u16, code: &str, message: impl Into<String>) -> Result<Response> {
    Ok(Response::from_json(&ObjectError { code: code.to_owned(), message: message.into() })?.with_status(status))
}

impl Competition {
    async fn write_score(&self, mut req: Request) -> Result<Response> {
        let write: ScoreWrite = match req.json().await {
            Ok(write) => write,
            Err(e) => return error(400, "bad_request", format!("bad score write: {e}")),
        };
        if !(0..=MAX_SCORE).contains(&write.score) {
            return error(400, "bad_request", "score out of range");
        }
        let previous_rank = self.store.set_score(&write.user_id, write.score, write.at_ms)?;
        let standing = self.store.standing(&write.user_id)?.ok_or_else(|| worker::Error::from("score vanished"))?;
        Response::from_json(&ScoreWriteReply {
            competition_id: write.competition_id,
            user_id: write.user_id,
            score: standing.score,
            rank: standing.rank,
            previous_rank,
            total: self.store.total()?,
        })
    }

    fn read_standing(&self, user: &str) -> Result<Response> {
        let Ok(user_id) = Uuid::try_parse(user) else {
            return error(400, "bad_request", "user id must be a UUID");
        };
        match self.store.standing(&user_id)? {
            Some(standing) => Response::from_json(&standing),
            None => error(404, "not_found", "no score for this user"),
        }
    }
}

impl DurableObject for Competition {
    fn new(state: State, _env: Env) -> Self {
        // Schema creation is synchronous and idempotent; failing here means storage itself is broken, which the
        // runtime reports better than we could.
        let store = ScoreStore::open(state.storage().sql()).expect("competition storage schema");
        Self { store }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, PATH_SCORES) => self.write_score(req).await,
            (Method::Get, p) if p.starts_with(PATH_SCORE_OF) => self.read_standing(&p[PATH_SCORE_OF.len()..]),
            _ => error(404, "not_found", "unknown competition operation"),
        }
    }
}
