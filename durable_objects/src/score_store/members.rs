//! The scored members: one row each with the score and the sequence of the change that set it, from which the
//! board is rebuilt when the object wakes.

use worker::SqlStorageValue;

use serde::Deserialize;
use standings::engine::Leaderboard;
use standings::score::Score;
use standings::stored_rows::{restore_chunk, CorruptRow};
use uuid::Uuid;

use super::{Bind, ScoreStore, StoreError};

/// One chunk of members as [`MEMBER_CHUNK_SQL`] returns it.
#[derive(Debug, Deserialize)]
struct MemberChunk {
    /// The last rowid of the chunk (`None` when it is empty).
    last: Option<i64>,
    /// `user_id,score,seq` per member, joined by `;`.
    rows: Option<String>,
}

/// Members after rowid `?1`, at most `?2` of them, joined by SQLite into one text. A rebuild then crosses from
/// JavaScript into Rust once per chunk instead of once per row (each crossing built a JS object and deserialised it:
/// ≈ 2.6 µs a row, most of a rebuild). Keyset paging on the rowid keeps each chunk O(chunk size).
const MEMBER_CHUNK_SQL: &str = "SELECT max(rowid) AS last, group_concat(user_id || ',' || score || ',' || seq, ';') \
     AS rows FROM (SELECT rowid, user_id, score, seq FROM members WHERE rowid > ?1 ORDER BY rowid LIMIT ?2)";
/// Members per chunk: about 300 KB of text, small beside the board itself.
const MEMBER_CHUNK_ROWS: i64 = 5_000;

impl ScoreStore {
    /// Rebuilds the in-memory board from every stored row, into a board sized for them first
    /// (`Leaderboard::with_capacity`: grown a member at a time, a million took 180 MB of wasm memory, sized 104).
    pub fn load(&self) -> Result<(Leaderboard, Vec<CorruptRow>), StoreError> {
        let members = self.count("SELECT COUNT(*) AS n FROM members", Vec::new())?;
        let mut board = Leaderboard::with_capacity(usize::try_from(members).unwrap_or(0));
        let mut corrupt = Vec::new();
        let mut after = 0i64;
        loop {
            let args = vec![SqlStorageValue::from(after), SqlStorageValue::from(MEMBER_CHUNK_ROWS)];
            let chunk: MemberChunk = self.sql.exec(MEMBER_CHUNK_SQL, args)?.one()?;
            let (Some(last), Some(rows)) = (chunk.last, chunk.rows) else { return Ok((board, corrupt)) };
            corrupt.extend(restore_chunk(&mut board, &rows).1);
            after = last;
        }
    }

    /// Drops a member row by its stored key (the repair of a corrupt row); whether one was there.
    pub fn drop_member(&self, key: &str) -> Result<bool, StoreError> {
        let before = self.count("SELECT COUNT(*) AS n FROM members WHERE user_id = ?1", vec![key.to_owned().into()])?;
        self.run("DELETE FROM members WHERE user_id = ?1", &[Bind::Text(key)])?;
        Ok(before > 0)
    }

    /// Stores a member row exactly as given, sound or not (test routes: how a corrupt row is made).
    #[cfg(feature = "test-routes")]
    pub fn insert_raw_member(&self, key: &str, score: i64, seq: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT OR REPLACE INTO members (user_id, score, seq, updated_ms) VALUES (?1, ?2, ?3, 0)",
            vec![key.to_owned().into(), SqlStorageValue::from(score), SqlStorageValue::from(seq)],
        )?;
        Ok(())
    }

    /// Stores a member's score and the sequence of the change that set it, and queues the change for the system of
    /// record. Both statements run in the same synchronous block, which the runtime commits atomically.
    ///
    /// A member has at most one waiting outbox row: a newer change replaces it (its `seq` too, so it sorts behind every
    /// row already waiting). The system of record keeps only each member's latest score (`apply_score_outbox` applies
    /// a user's highest `seq`), so the older change had nothing left to deliver. A busy member no longer queues a row
    /// per write: 50 members writing 2 500 times a second left 2 500 rows a second to read, send and delete (five
    /// full batches, each a pause of the object that every write queued behind), now at most 50. A batch in flight
    /// is unharmed: acknowledging it deletes rows up to its last `seq`, and a replaced row's new `seq` is above that.
    pub fn save(&self, user: &Uuid, score: Score, seq: u64, updated_ms: i64) -> Result<(), StoreError> {
        // Scores are at most 2^53 - 1 and sequences at most 2^43 - 1: exact as JS numbers, in i64 range.
        let (user, score, seq) = (user.to_string(), i64::from(score), seq as i64);
        self.run(
            "INSERT INTO outbox (seq, user_id, score, updated_ms) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (user_id) DO UPDATE SET seq = excluded.seq, score = excluded.score, \
             updated_ms = excluded.updated_ms",
            &[Bind::Int(seq), Bind::Text(&user), Bind::Int(score), Bind::Int(updated_ms)],
        )?;
        self.run(
            "INSERT INTO members (user_id, score, seq, updated_ms) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (user_id) DO UPDATE SET score = excluded.score, seq = excluded.seq, \
             updated_ms = excluded.updated_ms",
            &[Bind::Text(&user), Bind::Int(score), Bind::Int(seq), Bind::Int(updated_ms)],
        )
    }

    /// Stores many members at once (test seeding): multi-row inserts within SQLite's 100-parameter limit.
    pub fn save_many(&self, rows: &[(Uuid, Score, u64)], updated_ms: i64) -> Result<(), StoreError> {
        const ROWS_PER_STATEMENT: usize = 25; // 4 parameters each
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let placeholders = vec!["(?, ?, ?, ?)"; chunk.len()].join(", ");
            let mut values = Vec::with_capacity(chunk.len() * 4);
            for (user, score, seq) in chunk {
                values.push(user.to_string().into());
                values.push(SqlStorageValue::from(i64::from(*score)));
                values.push(SqlStorageValue::from(*seq as i64));
                values.push(SqlStorageValue::from(updated_ms));
            }
            self.sql.exec(
                &format!(
                    "INSERT INTO members (user_id, score, seq, updated_ms) VALUES {placeholders} \
                     ON CONFLICT (user_id) DO UPDATE SET score = excluded.score, seq = excluded.seq"
                ),
                values,
            )?;
        }
        Ok(())
    }
}
