//! The object's SQLite storage: one row per member with the score and the update sequence at which it was reached.
//!
//! Every accepted change is stored here before the request is answered (the runtime's output gate holds the reply
//! until the write is durable), and the in-memory engine is rebuilt from this table when the object wakes.

use std::collections::HashMap;

use serde::Deserialize;
use uuid::Uuid;
use worker::{SqlStorage, SqlStorageValue};

use standings::board::Ledger;
use standings::engine::{EngineError, Leaderboard};
use standings::live::KeptFrame;
use standings::outbox::{DeadLetter, OutboxRow, OutboxStore};
use standings::protocol::{CompetitionMeta, FinalResult, Person};
use standings::score::Score;
use standings::stored_rows::{restore_chunk, CorruptRow};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS members (
    user_id     TEXT PRIMARY KEY,
    score       INTEGER NOT NULL CHECK (score >= 0),
    seq         INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS updates (
    seq    INTEGER PRIMARY KEY,
    frame  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq         INTEGER PRIMARY KEY,
    user_id     TEXT NOT NULL,
    score       INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key    TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS competition (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    competition_id  TEXT NOT NULL,
    metric          TEXT NOT NULL,
    starts_ms       INTEGER NOT NULL,
    ends_ms         INTEGER NOT NULL,
    prize_pool      INTEGER NOT NULL,
    payout          TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS roster (
    user_id  TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq         INTEGER PRIMARY KEY,
    user_id     TEXT NOT NULL,
    score       INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    error       TEXT NOT NULL,
    failed_ms   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS disqualified (
    user_id  TEXT PRIMARY KEY,
    reason   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS day_versions (
    user_id  TEXT PRIMARY KEY,
    version  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS people (
    user_id       TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    avatar_url    TEXT
);
CREATE TABLE IF NOT EXISTS relays (
    name  TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS final_results (
    rank     INTEGER PRIMARY KEY,
    user_id  TEXT NOT NULL,
    score    INTEGER NOT NULL,
    prize    INTEGER NOT NULL
);
";

/// `meta` keys of the competition's rules that came after the `competition` table's columns.
const META_FITNESS: &str = "fitness_scores";
const META_GRACE_MS: &str = "grace_ms";

/// How many update frames are kept for `resume` (the contract promises at least 1 000).
pub const RESUME_WINDOW: u64 = 1_024;

/// How often (in frames) kept frames beyond [`RESUME_WINDOW`] are deleted.
const TRIM_EVERY: u64 = 64;

#[derive(Debug)]
struct StoredOutboxRow {
    seq: i64,
    user_id: String,
    score: i64,
    updated_ms: i64,
}

#[derive(Debug, Deserialize)]
struct PersonRow {
    user_id: String,
    display_name: String,
    avatar_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MetaRow {
    competition_id: String,
    metric: String,
    starts_ms: i64,
    ends_ms: i64,
    prize_pool: i64,
    payout: String,
}

#[derive(Debug, Deserialize)]
struct FinalRow {
    rank: i64,
    user_id: String,
    score: i64,
    prize: i64,
}

#[derive(Debug, Deserialize)]
struct RosterRow {
    #[allow(dead_code)] // selected so the row exists; its presence is the answer
    user_id: String,
}

#[derive(Debug, Deserialize)]
struct Value {
    value: i64,
}

#[derive(Debug, Deserialize)]
struct FrameRow {
    seq: i64,
    frame: String,
}

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
        sql.exec(SCHEMA, None)?;
        Ok(Self { sql, names: Default::default(), trimmed_at: Default::default() })
    }

    /// Rebuilds the in-memory board from every stored row.
    pub fn load(&self) -> Result<(Leaderboard, Vec<CorruptRow>), StoreError> {
        let mut board = Leaderboard::new();
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
        self.sql.exec("DELETE FROM members WHERE user_id = ?1", vec![key.to_owned().into()])?;
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

    /// The `n` of a `SELECT COUNT(*) AS n …` query.
    fn count(&self, query: &str, args: Vec<SqlStorageValue>) -> Result<u64, StoreError> {
        #[derive(Deserialize)]
        struct Count {
            n: i64,
        }
        let count: Count = self.sql.exec(query, args)?.one()?;
        Ok(count.n as u64)
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

    /// Puts every dead letter back into the outbox (an administrator fixed the cause); how many.
    pub fn retry_dead_letters(&self) -> Result<u64, StoreError> {
        let moved = self.dead_letter_count()?;
        self.sql.exec(
            "INSERT OR IGNORE INTO outbox (seq, user_id, score, updated_ms) \
             SELECT seq, user_id, score, updated_ms FROM dead_letters",
            None,
        )?;
        self.sql.exec("DELETE FROM dead_letters", None)?;
        Ok(moved)
    }

    /// Stores a member's score and the sequence of the change that set it, and queues the change for the system of
    /// record. Both statements run in the same synchronous block, which the runtime commits atomically.
    pub fn save(&self, user: &Uuid, score: Score, seq: u64, updated_ms: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO outbox (seq, user_id, score, updated_ms) VALUES (?1, ?2, ?3, ?4)",
            vec![
                SqlStorageValue::from(seq as i64),
                user.to_string().into(),
                SqlStorageValue::from(i64::from(score)),
                SqlStorageValue::from(updated_ms),
            ],
        )?;
        // Scores are at most 2^53 - 1 and sequences at most 2^43 - 1: exact as JS numbers, in i64 range.
        self.sql.exec(
            "INSERT INTO members (user_id, score, seq, updated_ms) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (user_id) DO UPDATE SET score = excluded.score, seq = excluded.seq, \
             updated_ms = excluded.updated_ms",
            vec![
                user.to_string().into(),
                SqlStorageValue::from(i64::from(score)),
                SqlStorageValue::from(seq as i64),
                SqlStorageValue::from(updated_ms),
            ],
        )?;
        Ok(())
    }

    /// The competition this object serves, once the Worker has told it (an object cannot read its own name).
    pub fn meta(&self) -> Result<Option<CompetitionMeta>, StoreError> {
        let rows: Vec<MetaRow> = self
            .sql
            .exec(
                "SELECT competition_id, metric, starts_ms, ends_ms, prize_pool, payout FROM competition WHERE id = 1",
                None,
            )?
            .to_array()?;
        let Some(row) = rows.into_iter().next() else { return Ok(None) };
        let corrupt = |reason: &str| StoreError::Corrupt { user: "competition".into(), reason: reason.to_owned() };
        Ok(Some(CompetitionMeta {
            competition_id: Uuid::try_parse(&row.competition_id).map_err(|_| corrupt("id is not a UUID"))?,
            metric: row.metric,
            starts_ms: row.starts_ms,
            ends_ms: row.ends_ms,
            prize_pool: row.prize_pool,
            payout: serde_json::from_str(&row.payout).map_err(|_| corrupt("payout is not a JSON list"))?,
            // Kept beside the row (added after it): absent for competitions stored before, which were client ones.
            fitness: self.meta_value(META_FITNESS)?.unwrap_or(0) != 0,
            grace_ms: self.meta_value(META_GRACE_MS)?.unwrap_or(0),
        }))
    }

    /// Records the competition's settings (newest wins).
    pub fn save_meta(&self, meta: &CompetitionMeta) -> Result<(), StoreError> {
        let payout = serde_json::to_string(&meta.payout).unwrap_or_else(|_| "[]".to_owned());
        self.sql.exec(
            "INSERT INTO competition (id, competition_id, metric, starts_ms, ends_ms, prize_pool, payout) \
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET competition_id = excluded.competition_id, \
             metric = excluded.metric, starts_ms = excluded.starts_ms, ends_ms = excluded.ends_ms, \
             prize_pool = excluded.prize_pool, payout = excluded.payout",
            vec![
                meta.competition_id.to_string().into(),
                meta.metric.clone().into(),
                SqlStorageValue::from(meta.starts_ms),
                SqlStorageValue::from(meta.ends_ms),
                SqlStorageValue::from(meta.prize_pool),
                payout.into(),
            ],
        )?;
        self.set_meta_value(META_FITNESS, i64::from(meta.fitness))?;
        self.set_meta_value(META_GRACE_MS, meta.grace_ms)?;
        Ok(())
    }

    /// Stores the final standings and marks the competition finalized. Rows are keyed by rank and a repeated run
    /// inserts nothing new, so a run that failed half-way and is retried still leaves exactly one set.
    pub fn save_final(&self, results: &[FinalResult], seq: u64) -> Result<(), StoreError> {
        self.insert_final_rows(results)?;
        self.set_meta_value("finalized_seq", seq as i64)
    }

    /// Inserts final rows without marking the competition finalized (also how a half-way failure is simulated).
    pub fn insert_final_rows(&self, results: &[FinalResult]) -> Result<(), StoreError> {
        for result in results {
            self.sql.exec(
                "INSERT INTO final_results (rank, user_id, score, prize) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (rank) DO NOTHING",
                vec![
                    SqlStorageValue::from(result.rank as i64),
                    result.user_id.to_string().into(),
                    SqlStorageValue::from(i64::from(result.score)),
                    SqlStorageValue::from(result.prize as i64),
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

    /// Up to `limit` final results after rank `after`, in rank order (`paid_only` keeps prizes above zero).
    pub fn final_results(&self, after: u64, limit: usize, paid_only: bool) -> Result<Vec<FinalResult>, StoreError> {
        let sql = if paid_only {
            "SELECT rank, user_id, score, prize FROM final_results WHERE rank > ?1 AND prize > 0 ORDER BY rank LIMIT ?2"
        } else {
            "SELECT rank, user_id, score, prize FROM final_results WHERE rank > ?1 ORDER BY rank LIMIT ?2"
        };
        let rows: Vec<FinalRow> = self
            .sql
            .exec(sql, vec![SqlStorageValue::from(after as i64), SqlStorageValue::from(limit as i64)])?
            .to_array()?;
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

    /// The open-socket count this object last reported to the metrics.
    pub fn reported_sockets(&self) -> Result<u64, StoreError> {
        Ok(self.meta_value("reported_sockets")?.unwrap_or(0).max(0) as u64)
    }

    /// Records the open-socket count just reported.
    pub fn set_reported_sockets(&self, count: u64) -> Result<(), StoreError> {
        self.set_meta_value("reported_sockets", count as i64)
    }

    fn meta_value(&self, key: &str) -> Result<Option<i64>, StoreError> {
        let rows: Vec<Value> =
            self.sql.exec("SELECT value FROM meta WHERE key = ?1", vec![key.to_owned().into()])?.to_array()?;
        Ok(rows.first().map(|v| v.value))
    }

    fn set_meta_value(&self, key: &str, value: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            vec![key.to_owned().into(), SqlStorageValue::from(value)],
        )?;
        Ok(())
    }

    /// Adds a member to the roster (idempotent).
    pub fn add_member(&self, user: &Uuid) -> Result<(), StoreError> {
        self.sql
            .exec("INSERT INTO roster (user_id) VALUES (?1) ON CONFLICT DO NOTHING", vec![user.to_string().into()])?;
        Ok(())
    }

    /// Records a member's current name and avatar (newest wins).
    pub fn save_person(&self, person: &Person) -> Result<(), StoreError> {
        let avatar = person.avatar_url.clone().map_or(SqlStorageValue::Null, SqlStorageValue::from);
        self.sql.exec(
            "INSERT INTO people (user_id, display_name, avatar_url) VALUES (?1, ?2, ?3) ON CONFLICT (user_id) DO \
             UPDATE SET display_name = excluded.display_name, avatar_url = excluded.avatar_url",
            vec![person.user_id.to_string().into(), person.display_name.clone().into(), avatar],
        )?;
        self.names.borrow_mut().insert(person.user_id, Some(person.display_name.clone()));
        Ok(())
    }

    /// The display name the object was told for `user` (`None`: never told), from memory after the first read.
    pub fn display_name(&self, user: &Uuid) -> Result<Option<String>, StoreError> {
        if let Some(known) = self.names.borrow().get(user) {
            return Ok(known.clone());
        }
        let name = self.people(&[*user])?.remove(user).map(|person| person.display_name);
        let mut names = self.names.borrow_mut();
        if names.len() >= NAMES_KEPT {
            names.clear();
        }
        names.insert(*user, name.clone());
        Ok(name)
    }

    /// The names and avatars the object was told for `users`, in one query (members never told are absent).
    pub fn people(&self, users: &[Uuid]) -> Result<HashMap<Uuid, Person>, StoreError> {
        if users.is_empty() {
            return Ok(HashMap::new());
        }
        let ids = serde_json::to_string(&users.iter().map(Uuid::to_string).collect::<Vec<_>>())
            .map_err(|e| StoreError::Corrupt { user: "people".into(), reason: e.to_string() })?;
        let rows: Vec<PersonRow> = self
            .sql
            .exec(
                "SELECT user_id, display_name, avatar_url FROM people WHERE user_id IN (SELECT value FROM json_each(?1))",
                vec![ids.into()],
            )?
            .to_array()?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let user_id = Uuid::try_parse(&row.user_id).ok()?;
                Some((user_id, Person { user_id, display_name: row.display_name, avatar_url: row.avatar_url }))
            })
            .collect())
    }

    /// The days version of the last fitness total applied for `user` (`None` before the first).
    pub fn day_version(&self, user: &Uuid) -> Result<Option<i64>, StoreError> {
        let rows: Vec<Value> = self
            .sql
            .exec("SELECT version AS value FROM day_versions WHERE user_id = ?1", vec![user.to_string().into()])?
            .to_array()?;
        Ok(rows.first().map(|row| row.value))
    }

    /// Remembers the days version of the fitness total just applied for `user`.
    pub fn set_day_version(&self, user: &Uuid, version: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO day_versions (user_id, version) VALUES (?1, ?2) \
             ON CONFLICT (user_id) DO UPDATE SET version = excluded.version",
            vec![user.to_string().into(), SqlStorageValue::from(version)],
        )?;
        Ok(())
    }

    /// Records `user` as disqualified and drops their member row (one synchronous block: both or neither).
    pub fn disqualify(&self, user: &Uuid, reason: &str) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO disqualified (user_id, reason) VALUES (?1, ?2) ON CONFLICT (user_id) DO NOTHING",
            vec![user.to_string().into(), reason.to_owned().into()],
        )?;
        self.sql.exec("DELETE FROM members WHERE user_id = ?1", vec![user.to_string().into()])?;
        Ok(())
    }

    /// Forgets a deleted account: off the roster, their day versions gone, shown as `deleted player` without an
    /// avatar wherever the board still lists them, and — when the board still moves (`off_board`) — their member
    /// row deleted. One synchronous block: all or nothing.
    pub fn forget(&self, user: &Uuid, off_board: bool) -> Result<(), StoreError> {
        let id = user.to_string();
        self.sql.exec("DELETE FROM roster WHERE user_id = ?1", vec![id.clone().into()])?;
        self.sql.exec("DELETE FROM day_versions WHERE user_id = ?1", vec![id.clone().into()])?;
        if off_board {
            self.sql.exec("DELETE FROM members WHERE user_id = ?1", vec![id.into()])?;
        }
        self.save_person(&Person {
            user_id: *user,
            display_name: standings::protocol::DELETED_PLAYER.to_owned(),
            avatar_url: None,
        })
    }

    /// Whether `user` was disqualified.
    pub fn is_disqualified(&self, user: &Uuid) -> Result<bool, StoreError> {
        Ok(self.count("SELECT COUNT(*) AS n FROM disqualified WHERE user_id = ?1", vec![user.to_string().into()])? > 0)
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

    /// Moves an outbox row, as stored, to the dead letters with why (one synchronous block: both or neither).
    fn set_aside(&self, row: &StoredOutboxRow, error: &str) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT OR REPLACE INTO dead_letters (seq, user_id, score, updated_ms, error, failed_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            vec![
                SqlStorageValue::from(row.seq),
                row.user_id.clone().into(),
                SqlStorageValue::from(row.score),
                SqlStorageValue::from(row.updated_ms),
                error.to_owned().into(),
                SqlStorageValue::from(worker::Date::now().as_millis() as i64),
            ],
        )?;
        self.sql.exec("DELETE FROM outbox WHERE seq = ?1", vec![SqlStorageValue::from(row.seq)])?;
        Ok(())
    }

    /// Whether the roster holds `user`.
    pub fn is_member(&self, user: &Uuid) -> Result<bool, StoreError> {
        let rows: Vec<RosterRow> = self
            .sql
            .exec("SELECT user_id FROM roster WHERE user_id = ?1", vec![user.to_string().into()])?
            .to_array()?;
        Ok(!rows.is_empty())
    }

    /// Keeps an update frame for `resume`, dropping those that fell out of the window.
    pub fn keep_update(&self, seq: u64, frame: &str) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT OR REPLACE INTO updates (seq, frame) VALUES (?1, ?2)",
            vec![SqlStorageValue::from(seq as i64), frame.into()],
        )?;
        // Frames older than the window leave in batches (one statement per TRIM_EVERY frames, not per frame); the
        // window is a floor, so a few more kept frames only let more resumes replay.
        if seq >= RESUME_WINDOW && seq >= self.trimmed_at.get() + TRIM_EVERY {
            self.trimmed_at.set(seq);
            self.sql.exec(
                "DELETE FROM updates WHERE seq <= ?1",
                vec![SqlStorageValue::from((seq - RESUME_WINDOW) as i64)],
            )?;
        }
        Ok(())
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
        self.sql.exec(
            "INSERT INTO relays (name) VALUES (?1) ON CONFLICT (name) DO NOTHING",
            vec![name.to_owned().into()],
        )?;
        Ok(())
    }

    /// Forgets a relay that left (it is stored again when it joins again).
    pub fn remove_relay(&self, name: &str) -> Result<(), StoreError> {
        self.sql.exec("DELETE FROM relays WHERE name = ?1", vec![name.to_owned().into()])?;
        Ok(())
    }

    /// Update frames after `since`, in order, with the sequence of the oldest frame still kept.
    pub fn updates_since(&self, since: u64) -> Result<(Option<u64>, Vec<KeptFrame>), StoreError> {
        let rows: Vec<FrameRow> = self
            .sql
            .exec(
                "SELECT seq, frame FROM updates WHERE seq > ?1 ORDER BY seq",
                vec![SqlStorageValue::from(since as i64)],
            )?
            .to_array()?;
        #[derive(Deserialize)]
        struct Oldest {
            seq: Option<i64>,
        }
        let oldest: Oldest = self.sql.exec("SELECT MIN(seq) AS seq FROM updates", None)?.one()?;
        Ok((oldest.seq.map(|s| s as u64), rows.into_iter().map(|r| (r.seq as u64, r.frame)).collect()))
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

impl ScoreStore {
    /// Rows waiting for the system of record.
    pub fn outbox_len(&self) -> Result<u64, StoreError> {
        self.count("SELECT COUNT(*) AS n FROM outbox", Vec::new())
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
        let rows: Vec<(i64, serde_json::Value, i64, i64)> = serde_json::from_str(&batch.rows)
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
        self.sql.exec("DELETE FROM outbox WHERE seq <= ?1", vec![SqlStorageValue::from(upto as i64)])?;
        Ok(())
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
