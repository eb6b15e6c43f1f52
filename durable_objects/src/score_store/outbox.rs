//! The outbox: every stored change waits here until the system of record has it; rows it refuses for good are
//! set aside as dead letters for an operator.

use serde::Deserialize;
use uuid::Uuid;
use worker::SqlStorageValue;

use standings::outbox::{DeadLetter, OutboxRow, OutboxStore};

use super::{Bind, ScoreStore, StoreError};

#[derive(Debug)]
struct StoredOutboxRow {
    seq: i64,
    user_id: String,
    score: i64,
    updated_ms: i64,
}

impl ScoreStore {
    /// Rows waiting for the system of record.
    pub fn outbox_len(&self) -> Result<u64, StoreError> {
        self.count("SELECT COUNT(*) AS n FROM outbox", Vec::new())
    }

    /// The rows set aside after the system of record refused them for good, oldest first (at most `limit`).
    pub fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        Ok(self
            .sql
            .exec(
                "SELECT seq, user_id, score, updated_ms, error, failed_ms FROM dead_letters ORDER BY seq LIMIT ?1",
                vec![SqlStorageValue::from(limit as i64)],
            )?
            .to_array()?)
    }

    /// How many rows are set aside.
    pub fn dead_letter_count(&self) -> Result<u64, StoreError> {
        self.count("SELECT COUNT(*) AS n FROM dead_letters", Vec::new())
    }

    /// Puts every dead letter back into the outbox (an administrator fixed the cause); how many. A member whose newer
    /// change is already waiting keeps that one: the system of record would not apply the older score over it.
    pub fn retry_dead_letters(&self) -> Result<u64, StoreError> {
        let moved = self.dead_letter_count()?;
        self.run(
            "INSERT OR IGNORE INTO outbox (seq, user_id, score, updated_ms) \
             SELECT seq, user_id, score, updated_ms FROM dead_letters",
            &[],
        )?;
        self.run("DELETE FROM dead_letters", &[])?;
        Ok(moved)
    }

    /// Moves an outbox row, as stored, to the dead letters with why (one synchronous block: both or neither).
    fn set_aside(&self, row: &StoredOutboxRow, error: &str) -> Result<(), StoreError> {
        self.run(
            "INSERT OR REPLACE INTO dead_letters (seq, user_id, score, updated_ms, error, failed_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &[
                Bind::Int(row.seq),
                Bind::Text(&row.user_id),
                Bind::Int(row.score),
                Bind::Int(row.updated_ms),
                Bind::Text(error),
                Bind::Int(crate::clock::now_ms()),
            ],
        )?;
        self.run("DELETE FROM outbox WHERE seq = ?1", &[Bind::Int(row.seq)])
    }
}

impl OutboxStore for ScoreStore {
    type Error = StoreError;

    fn pending(&self, limit: usize) -> Result<Vec<OutboxRow>, StoreError> {
        // One JSON text for the whole batch (see MEMBER_CHUNK_SQL): a full batch read row by row cost ~500 crossings
        // into Rust, a pause every outbox run that every write queued behind.
        #[derive(Deserialize)]
        struct Batch {
            rows: String,
        }
        let batch: Batch = self
            .sql
            .exec(
                "SELECT json_group_array(json_array(seq, user_id, score, updated_ms)) AS rows FROM \
                 (SELECT seq, user_id, score, updated_ms FROM outbox ORDER BY seq LIMIT ?1)",
                vec![SqlStorageValue::from(limit as i64)],
            )?
            .one()?;
        let rows: Vec<(i64, serde_json::Value, i64, i64)> = serde_json::from_slice(batch.rows.as_bytes())
            .map_err(|e| StoreError::Corrupt { user: "outbox".into(), reason: e.to_string() })?;
        let mut sound = Vec::with_capacity(rows.len());
        for (seq, user_id, score, updated_ms) in rows {
            let user_id = match user_id {
                serde_json::Value::String(text) => text,
                other => other.to_string(),
            };
            let row = StoredOutboxRow { seq, user_id, score, updated_ms };
            match Uuid::try_parse(&row.user_id) {
                Ok(user_id) => sound.push(OutboxRow {
                    seq: row.seq as u64,
                    user_id,
                    score: row.score as u64,
                    updated_ms: row.updated_ms,
                }),
                // A row no delivery can carry must not block the rows behind it: set aside at once.
                Err(_) => self.set_aside(&row, "corrupt: outbox user id is not a UUID")?,
            }
        }
        Ok(sound)
    }

    fn acknowledge(&self, upto: u64) -> Result<(), StoreError> {
        self.run("DELETE FROM outbox WHERE seq <= ?1", &[Bind::Int(upto as i64)])
    }

    fn failures(&self) -> Result<u32, StoreError> {
        Ok(self.meta_value("outbox_failures")?.unwrap_or(0) as u32)
    }

    fn set_failures(&self, failures: u32) -> Result<(), StoreError> {
        self.set_meta_value("outbox_failures", i64::from(failures))
    }

    fn batch_limit(&self) -> Result<usize, StoreError> {
        Ok(self.meta_value("outbox_batch_limit")?.map_or(standings::outbox::BATCH, |v| v.max(1) as usize))
    }

    fn set_batch_limit(&self, limit: usize) -> Result<(), StoreError> {
        self.set_meta_value("outbox_batch_limit", limit as i64)
    }

    fn dead_letter(&self, row: &OutboxRow, error: &str) -> Result<(), StoreError> {
        let stored = StoredOutboxRow {
            seq: row.seq as i64,
            user_id: row.user_id.to_string(),
            score: row.score as i64,
            updated_ms: row.updated_ms,
        };
        self.set_aside(&stored, error)
    }
}
