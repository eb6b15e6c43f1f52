//! The object's SQLite storage: one row per user with the score and when it was reached.
//!
//! Every accepted write is stored here before the request is answered (the runtime's output gate holds the reply
//! until the write is durable), and everything the object knows can be rebuilt from this table after an eviction.
//! Ranks are computed with an indexed count for now; the in-memory order-statistic engine replaces that.

use serde::Deserialize;
use uuid::Uuid;
use worker::{SqlStorage, SqlStorageValue};

use crate::protocol::Standing;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS scores (
    user_id     TEXT PRIMARY KEY,
    score       INTEGER NOT NULL CHECK (score >= 0),
    reached_ms  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS scores_order ON scores (score DESC, reached_ms ASC, user_id ASC);
";

/// A user's stored row.
#[derive(Debug, Clone, Deserialize)]
struct Row {
    score: i64,
    reached_ms: i64,
}

#[derive(Debug, Deserialize)]
struct Count {
    n: i64,
}

/// Scores of one competition in the object's SQLite database.
pub struct ScoreStore {
    sql: SqlStorage,
}

impl ScoreStore {
    /// Opens the store, creating the schema on first use.
    pub fn open(sql: SqlStorage) -> worker::Result<Self> {
        sql.exec(SCHEMA, None)?;
        Ok(Self { sql })
    }

    fn row(&self, user_id: &Uuid) -> worker::Result<Option<Row>> {
        let rows: Vec<Row> = self
            .sql
            .exec("SELECT score, reached_ms FROM scores WHERE user_id = ?", vec![user_id.to_string().into()])?
            .to_array()?;
        Ok(rows.into_iter().next())
    }

    /// Rank of a stored row: one more than the rows ordered before it (score desc, reached asc, user id asc).
    fn rank_of(&self, user_id: &Uuid, row: &Row) -> worker::Result<u64> {
        let ahead: Count = self
            .sql
            .exec(
                "SELECT COUNT(*) AS n FROM scores WHERE score > ?1 \
                 OR (score = ?1 AND (reached_ms < ?2 OR (reached_ms = ?2 AND user_id < ?3)))",
                vec![
                    SqlStorageValue::from(row.score),
                    SqlStorageValue::from(row.reached_ms),
                    user_id.to_string().into(),
                ],
            )?
            .one()?;
        Ok(ahead.n as u64 + 1)
    }

    /// Number of ranked users.
    pub fn total(&self) -> worker::Result<u64> {
        let count: Count = self.sql.exec("SELECT COUNT(*) AS n FROM scores", None)?.one()?;
        Ok(count.n as u64)
    }

    /// A user's standing, if they have a score.
    pub fn standing(&self, user_id: &Uuid) -> worker::Result<Option<Standing>> {
        match self.row(user_id)? {
            Some(row) => Ok(Some(Standing { rank: self.rank_of(user_id, &row)?, score: row.score })),
            None => Ok(None),
        }
    }

    /// Stores a user's absolute score. An unchanged score keeps its original `reached_ms`, so re-sending a score
    /// never moves a user behind others who reached it later. Returns the rank before the write.
    pub fn set_score(&self, user_id: &Uuid, score: i64, at_ms: i64) -> worker::Result<Option<u64>> {
        let previous_rank = match self.row(user_id)? {
            Some(row) => Some(self.rank_of(user_id, &row)?),
            None => None,
        };
        self.sql.exec(
            "INSERT INTO scores (user_id, score, reached_ms) VALUES (?1, ?2, ?3) \
             ON CONFLICT (user_id) DO UPDATE SET \
               reached_ms = CASE WHEN scores.score = excluded.score THEN scores.reached_ms ELSE excluded.reached_ms END, \
               score = excluded.score",
            vec![user_id.to_string().into(), SqlStorageValue::from(score), SqlStorageValue::from(at_ms)],
        )?;
        Ok(previous_rank)
    }
}
