//! The object's tables, created on first use.

pub(super) const SCHEMA: &str = "
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
CREATE TABLE IF NOT EXISTS forgotten (
    user_id  TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS member_changes_done (
    id  INTEGER PRIMARY KEY
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

/// The `meta` key that says [`PEOPLE_VERSION`] has run in this object.
pub(super) const PEOPLE_VERSION_DONE: &str = "people_version";

/// The version of each stored person (`Person::version`), for objects whose `people` table predates it (and, once,
/// for new objects: `SCHEMA` keeps the table's first form so that both take this one path).
pub(super) const PEOPLE_VERSION: &str = "ALTER TABLE people ADD COLUMN version INTEGER NOT NULL DEFAULT 0;";

/// The `meta` key that says [`OUTBOX_ONE_ROW_PER_MEMBER`] has run in this object.
pub(super) const OUTBOX_ONE_ROW_PER_MEMBER_DONE: &str = "outbox_by_user";

/// One waiting outbox row per member (`ScoreStore::save` replaces it): an outbox from before keeps each member's
/// newest row, and a unique index keeps it so. Run once per object (`ScoreStore::open` asks `meta` first), not on every
/// wake, where the pass would read the whole outbox for nothing once the index is there.
pub(super) const OUTBOX_ONE_ROW_PER_MEMBER: &str = "
DELETE FROM outbox WHERE seq NOT IN (SELECT MAX(seq) FROM outbox GROUP BY user_id);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_by_user ON outbox (user_id);
";
