//! The object's SQLite storage: one row per member with the score and the update sequence at which it was reached.
//!
//! Every accepted change is stored here before the request is answered (the runtime's output gate holds the reply
//! until the write is durable), and the in-memory engine is rebuilt from this table when the object wakes.
//!
//! One file per kind of record: `members` (scores), `roster` (who may post and what they are called), `settings`,
//! `final_standings`, `outbox` (changes on their way to the system of record) and `frames` (kept for `resume`).

mod final_standings;
mod frames;
mod members;
mod outbox;
mod roster;
mod schema;
mod settings;
mod statement;

use std::collections::HashMap;

use serde::Deserialize;
use uuid::Uuid;
use worker::{SqlStorage, SqlStorageValue};

use statement::Bind;

use standings::board::Ledger;
use standings::engine::EngineError;
use standings::score::Score;

pub use frames::RESUME_WINDOW;

/// A row of one integer named `value` (the `meta` table, day versions).
#[derive(Debug, Deserialize)]
struct Value {
    value: i64,
}

/// Why the stored board could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite (or the runtime around it) failed.
    #[error("storage: {0}")]
    Storage(#[from] worker::Error),
    /// A stored row is not something this code ever writes.
    #[error("corrupt row for {user}: {reason}")]
    Corrupt { user: String, reason: String },
    /// The engine refused a stored value.
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
}

/// Members of one competition in the object's SQLite database.
pub struct ScoreStore {
    sql: SqlStorage,
    /// Display names already read (`None`: never told), so a member's every score write does not query `people`
    /// for the update frame. Every name change goes through [`ScoreStore::save_person`], which keeps it current.
    names: std::cell::RefCell<HashMap<Uuid, Option<String>>>,
    /// The sequence of the frame whose keeping last deleted frames beyond the resume window.
    trimmed_at: std::cell::Cell<u64>,
}

/// How many names [`ScoreStore::display_name`] keeps before it starts over (a bound on the object's memory; the
/// writers of a busy minute fit many times over).
const NAMES_KEPT: usize = 20_000;

impl ScoreStore {
    /// Opens the store, creating the schema on first use.
    pub fn open(sql: SqlStorage) -> Result<Self, StoreError> {
        sql.exec(schema::SCHEMA, None)?;
        let store = Self { sql, names: Default::default(), trimmed_at: Default::default() };
        if store.meta_value(schema::OUTBOX_ONE_ROW_PER_MEMBER_DONE)?.is_none() {
            store.sql.exec(schema::OUTBOX_ONE_ROW_PER_MEMBER, None)?;
            store.set_meta_value(schema::OUTBOX_ONE_ROW_PER_MEMBER_DONE, 1)?;
        }
        if store.meta_value(schema::PEOPLE_VERSION_DONE)?.is_none() {
            store.sql.exec(schema::PEOPLE_VERSION, None)?;
            store.set_meta_value(schema::PEOPLE_VERSION_DONE, 1)?;
        }
        Ok(store)
    }

    /// The `n` of a `SELECT COUNT(*) AS n …` query.
    fn count(&self, query: &str, args: Vec<SqlStorageValue>) -> Result<u64, StoreError> {
        #[derive(Deserialize)]
        struct Count {
            n: i64,
        }
        let count: Count = self.sql.exec(query, args)?.one()?;
        Ok(count.n as u64)
    }

    /// One of the object's own counters in `meta` (`None`: never set).
    fn meta_value(&self, key: &str) -> Result<Option<i64>, StoreError> {
        let rows: Vec<Value> =
            self.sql.exec("SELECT value FROM meta WHERE key = ?1", vec![key.to_owned().into()])?.to_array()?;
        Ok(rows.first().map(|v| v.value))
    }

    /// Sets one of the object's own counters in `meta`.
    fn set_meta_value(&self, key: &str, value: i64) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[Bind::Text(key), Bind::Int(value)],
        )
    }

    /// Runs a statement that returns no rows ([`statement`]: one crossing into JavaScript, whatever its bindings, and
    /// its text sent across once).
    fn run(&self, query: &'static str, binds: &[Bind<'_>]) -> Result<(), StoreError> {
        Ok(statement::run(&self.sql, query, binds)?)
    }
}

// The board's rules ask storage for these facts (standings::board); the inherent methods answer.
impl Ledger for ScoreStore {
    type Error = StoreError;

    fn is_member(&self, user: &Uuid) -> Result<bool, StoreError> {
        ScoreStore::is_member(self, user)
    }

    fn is_disqualified(&self, user: &Uuid) -> Result<bool, StoreError> {
        ScoreStore::is_disqualified(self, user)
    }

    fn day_version(&self, user: &Uuid) -> Result<Option<i64>, StoreError> {
        ScoreStore::day_version(self, user)
    }

    fn set_day_version(&self, user: &Uuid, version: i64) -> Result<(), StoreError> {
        ScoreStore::set_day_version(self, user, version)
    }

    fn save(&self, user: &Uuid, score: Score, seq: u64, at_ms: i64) -> Result<(), StoreError> {
        ScoreStore::save(self, user, score, seq, at_ms)
    }
}
