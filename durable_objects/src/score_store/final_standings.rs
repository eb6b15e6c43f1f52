//! The final standings: stored once when the competition ends, then delivered to the system of record in rank
//! order.

use serde::Deserialize;
use uuid::Uuid;
use worker::SqlStorageValue;

use standings::protocol::FinalResult;
use standings::score::Score;

use super::{Bind, ScoreStore, StoreError};

/// `meta` key of the cancel record.
const META_CANCELLED: &str = "cancelled";

#[derive(Debug, Deserialize)]
struct FinalRow {
    rank: i64,
    user_id: String,
    score: i64,
    prize: i64,
}

impl ScoreStore {
    /// Marks the competition finalized at update `seq`, once every final row is stored ([`Self::insert_final_rows`]).
    pub fn mark_finalized(&self, seq: u64) -> Result<(), StoreError> {
        self.set_meta_value("finalized_seq", seq as i64)
    }

    /// Marks the competition cancelled and its (empty) standings final, the record first: a cancel that fails
    /// half-way leaves standings that are not final, and the retried cancel runs again.
    pub fn save_cancelled(&self, seq: u64) -> Result<(), StoreError> {
        self.set_meta_value(META_CANCELLED, 1)?;
        self.mark_finalized(seq)
    }

    /// Whether a cancel was recorded (objects that cancelled before this record existed have none).
    pub fn cancelled(&self) -> Result<bool, StoreError> {
        Ok(self.meta_value(META_CANCELLED)?.unwrap_or(0) != 0)
    }

    /// Inserts final rows without marking the competition finalized (also how a half-way failure is simulated). Rows
    /// are keyed by rank and a repeated run inserts nothing new, so a run that failed half-way and is retried still
    /// leaves exactly one set.
    pub fn insert_final_rows(&self, results: &[FinalResult]) -> Result<(), StoreError> {
        for result in results {
            self.run(
                "INSERT INTO final_results (rank, user_id, score, prize) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (rank) DO NOTHING",
                &[
                    Bind::Int(result.rank as i64),
                    Bind::Text(&result.user_id.to_string()),
                    Bind::Int(i64::from(result.score)),
                    Bind::Int(result.prize as i64),
                ],
            )?;
        }
        Ok(())
    }

    /// Final result rows stored.
    pub fn final_count(&self) -> Result<u64, StoreError> {
        self.count("SELECT COUNT(*) AS n FROM final_results", Vec::new())
    }

    /// The update sequence the competition was finalized at, once it has been.
    pub fn finalized(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.meta_value("finalized_seq")?.map(|v| v as u64))
    }

    /// Final results after rank `after`, in rank order, at most `limit` of them (every one for `None`); `paid_only`
    /// keeps prizes above zero.
    pub fn final_results(
        &self,
        after: u64,
        limit: Option<usize>,
        paid_only: bool,
    ) -> Result<Vec<FinalResult>, StoreError> {
        // SQLite reads a negative LIMIT as none.
        let limit = limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let sql = if paid_only {
            "SELECT rank, user_id, score, prize FROM final_results WHERE rank > ?1 AND prize > 0 ORDER BY rank LIMIT ?2"
        } else {
            "SELECT rank, user_id, score, prize FROM final_results WHERE rank > ?1 ORDER BY rank LIMIT ?2"
        };
        let rows: Vec<FinalRow> =
            self.sql.exec(sql, vec![SqlStorageValue::from(after as i64), SqlStorageValue::from(limit)])?.to_array()?;
        rows.into_iter()
            .map(|row| {
                let user_id = Uuid::try_parse(&row.user_id)
                    .map_err(|_| StoreError::Corrupt { user: row.user_id.clone(), reason: "not a UUID".into() })?;
                let score = Score::try_from(row.score)
                    .map_err(|e| StoreError::Corrupt { user: row.user_id.clone(), reason: e.to_string() })?;
                Ok(FinalResult { rank: row.rank as u64, user_id, score, prize: row.prize as u64 })
            })
            .collect()
    }

    /// The last rank already written to the system of record.
    pub fn final_delivered(&self) -> Result<u64, StoreError> {
        Ok(self.meta_value("final_delivered")?.unwrap_or(0) as u64)
    }

    /// Records that final results up to `rank` reached the system of record.
    pub fn set_final_delivered(&self, rank: u64) -> Result<(), StoreError> {
        self.set_meta_value("final_delivered", rank as i64)
    }
}
