//! The update frames kept for `resume`, and the relay objects that receive them.

use serde::Deserialize;
use worker::SqlStorageValue;

use standings::live::KeptFrame;

use super::{Bind, ScoreStore, StoreError};

/// How many update frames are kept for `resume` (the contract promises at least 1 000).
pub const RESUME_WINDOW: u64 = 1_024;

/// How often (in frames) kept frames beyond [`RESUME_WINDOW`] are deleted.
const TRIM_EVERY: u64 = 64;

#[derive(Debug, Deserialize)]
struct FrameRow {
    seq: i64,
    frame: String,
}

impl ScoreStore {
    /// Keeps an update frame for `resume`, dropping those that fell out of the window.
    pub fn keep_update(&self, seq: u64, frame: &str) -> Result<(), StoreError> {
        self.run(
            "INSERT OR REPLACE INTO updates (seq, frame) VALUES (?1, ?2)",
            &[Bind::Int(seq as i64), Bind::Text(frame)],
        )?;
        // Frames older than the window leave in batches (one statement per TRIM_EVERY frames, not per frame); the
        // window is a floor, so a few more kept frames only let more resumes replay.
        if seq >= RESUME_WINDOW && seq >= self.trimmed_at.get() + TRIM_EVERY {
            self.trimmed_at.set(seq);
            self.run("DELETE FROM updates WHERE seq <= ?1", &[Bind::Int((seq - RESUME_WINDOW) as i64)])?;
        }
        Ok(())
    }

    /// Update frames after `since`, in order, with the sequence of the oldest frame still kept.
    pub fn updates_since(&self, since: u64) -> Result<(Option<u64>, Vec<KeptFrame>), StoreError> {
        let rows: Vec<FrameRow> = self
            .sql
            .exec(
                "SELECT seq, frame FROM updates WHERE seq > ?1 ORDER BY seq",
                // Stored sequences are signed: a `since` past i64::MAX selects nothing rather than wrapping to all.
                vec![SqlStorageValue::from(i64::try_from(since).unwrap_or(i64::MAX))],
            )?
            .to_array()?;
        #[derive(Deserialize)]
        struct Oldest {
            seq: Option<i64>,
        }
        let oldest: Oldest = self.sql.exec("SELECT MIN(seq) AS seq FROM updates", None)?.one()?;
        Ok((oldest.seq.map(|s| s as u64), rows.into_iter().map(|r| (r.seq as u64, r.frame)).collect()))
    }

    /// The highest sequence of a kept frame (0 without any): a rebuilt board continues above it.
    pub fn last_kept_seq(&self) -> Result<u64, StoreError> {
        #[derive(Deserialize)]
        struct Max {
            seq: Option<i64>,
        }
        let max: Max = self.sql.exec("SELECT MAX(seq) AS seq FROM updates", None)?.one()?;
        Ok(max.seq.unwrap_or(0).max(0) as u64)
    }

    /// The relay objects that serve some of this competition's sockets (by object name).
    pub fn relays(&self) -> Result<Vec<String>, StoreError> {
        #[derive(Deserialize)]
        struct RelayRow {
            name: String,
        }
        let rows: Vec<RelayRow> = self.sql.exec("SELECT name FROM relays ORDER BY name", None)?.to_array()?;
        Ok(rows.into_iter().map(|r| r.name).collect())
    }

    /// Records a relay (once).
    pub fn add_relay(&self, name: &str) -> Result<(), StoreError> {
        self.run("INSERT INTO relays (name) VALUES (?1) ON CONFLICT (name) DO NOTHING", &[Bind::Text(name)])?;
        Ok(())
    }

    /// Forgets a relay that left (it is stored again when it joins again).
    pub fn remove_relay(&self, name: &str) -> Result<(), StoreError> {
        self.run("DELETE FROM relays WHERE name = ?1", &[Bind::Text(name)])?;
        Ok(())
    }
}
