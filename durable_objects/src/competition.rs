//! The Competition Durable Object: one per competition, the single writer of its leaderboard.
//!
//! Thin glue around the [`Leaderboard`] engine and the [`ScoreStore`]: the board lives in memory, rebuilt from
//! SQLite when the object wakes; a change is written to SQLite first and applied to the board after, with no
//! `await` in between, so requests cannot interleave inside a read-modify-write and a failed write changes nothing.

use std::cell::RefCell;

use uuid::Uuid;
use worker::{durable_object, DurableObject, Env, Method, Request, Response, Result, State};

use crate::engine::Leaderboard;
use crate::protocol::{ObjectError, ScoreWrite, ScoreWriteReply, Standing, PATH_SCORES, PATH_SCORE_OF};
use crate::score_store::{ScoreStore, StoreError};

/// Largest score JSON clients can hold exactly (2^53 - 1).
pub const MAX_SCORE: i64 = crate::engine::key::MAX_SCORE as i64;

/// The board and its storage, once loaded.
struct Loaded {
    store: ScoreStore,
    board: RefCell<Leaderboard>,
}

/// The Durable Object class bound as `COMPETITION` in `wrangler.toml`.
#[durable_object]
pub struct Competition {
    /// `Err` when storage could not be opened or loaded; every request then answers 503 and logs why, rather than
    /// serving a board that silently lost members.
    loaded: std::result::Result<Loaded, String>,
}

fn error(status: u16, code: &str, message: impl Into<String>) -> Result<Response> {
    Ok(Response::from_json(&ObjectError { code: code.to_owned(), message: message.into() })?.with_status(status))
}

fn storage_failure(failure: &StoreError) -> Result<Response> {
    worker::console_error!("competition storage failure: {failure}");
    error(503, "dependency_unavailable", "competition storage unavailable")
}

impl Loaded {
    fn open(state: &State) -> std::result::Result<Self, StoreError> {
        let store = ScoreStore::open(state.storage().sql())?;
        let board = RefCell::new(store.load()?);
        Ok(Self { store, board })
    }

    async fn write_score(&self, mut req: Request) -> Result<Response> {
        let write: ScoreWrite = match req.json().await {
            Ok(write) => write,
            Err(e) => return error(400, "bad_request", format!("bad score write: {e}")),
        };
        let Ok(score) = u64::try_from(write.score) else { return error(400, "bad_request", "negative score") };
        if write.score > MAX_SCORE {
            return error(400, "bad_request", "score out of range");
        }
        let mut board = self.board.borrow_mut();
        let unchanged = board.standing(write.user_id).filter(|entry| entry.score == score);
        if unchanged.is_none() {
            // Durable first: the engine takes the sequence it announces, so the stored row orders as the board does.
            if let Err(e) = self.store.save(&write.user_id, score, board.next_seq(), write.at_ms) {
                return storage_failure(&e);
            }
        }
        let change = match board.set_score(write.user_id, score) {
            Ok(change) => change,
            Err(e) => return error(400, "bad_request", e.to_string()),
        };
        Response::from_json(&ScoreWriteReply {
            competition_id: write.competition_id,
            user_id: write.user_id,
            score: write.score,
            rank: change.rank,
            previous_rank: change.previous_rank,
            total: change.total,
        })
    }

    fn read_standing(&self, user: &str) -> Result<Response> {
        let Ok(user_id) = Uuid::try_parse(user) else {
            return error(400, "bad_request", "user id must be a UUID");
        };
        match self.board.borrow().standing(user_id) {
            Some(entry) => Response::from_json(&Standing { rank: entry.rank, score: entry.score as i64 }),
            None => error(404, "not_found", "no score for this user"),
        }
    }
}

impl DurableObject for Competition {
    fn new(state: State, _env: Env) -> Self {
        // SQLite calls are synchronous, so the board is complete before the first request is delivered.
        Self { loaded: Loaded::open(&state).map_err(|e| e.to_string()) }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let loaded = match &self.loaded {
            Ok(loaded) => loaded,
            Err(reason) => {
                worker::console_error!("competition failed to load: {reason}");
                return error(503, "dependency_unavailable", "competition storage unavailable");
            }
        };
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, PATH_SCORES) => loaded.write_score(req).await,
            (Method::Get, p) if p.starts_with(PATH_SCORE_OF) => loaded.read_standing(&p[PATH_SCORE_OF.len()..]),
            _ => error(404, "not_found", "unknown competition operation"),
        }
    }
}
