//! A competition's board with its rules: who may write which score when, how a write changes the standings, and
//! the end of the competition. The object keeps one `Board` and gives it a [`Ledger`] (its SQLite) for the facts
//! that live in storage; every decision here returns a domain result or a [`Refusal`], so the rules that decide
//! money are tested natively (below) instead of through the runtime.

use std::ops::Deref;

use uuid::Uuid;

use crate::engine::{Leaderboard, ScoreChange};
use crate::finish;
use crate::object_error::ErrorCode;
use crate::protocol::{CompetitionMeta, ScoreWrite};
use crate::rules::{self, Metric, ScoreOrigin};
use crate::score::Score;

/// What the board needs from storage to admit and apply a write. Writes are stored before the board changes, so a
/// failed store changes nothing.
pub trait Ledger {
    /// A storage failure.
    type Error: std::fmt::Display;
    /// Whether `user` joined the competition.
    fn is_member(&self, user: &Uuid) -> Result<bool, Self::Error>;
    /// Whether `user` was disqualified.
    fn is_disqualified(&self, user: &Uuid) -> Result<bool, Self::Error>;
    /// The days version of the last fitness total applied for `user`.
    fn day_version(&self, user: &Uuid) -> Result<Option<i64>, Self::Error>;
    /// Remembers the days version of the fitness total being applied.
    fn set_day_version(&self, user: &Uuid, version: i64) -> Result<(), Self::Error>;
    /// Stores a member's new score at `seq` (and queues it for the system of record).
    fn save(&self, user: &Uuid, score: Score, seq: u64, at_ms: i64) -> Result<(), Self::Error>;
}

/// Why a write was refused, in the terms the Worker maps onto the API's errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The object has not been told its competition (the Worker introduces it and retries).
    CompetitionUnknown,
    /// The write names a competition other than this object's.
    OtherCompetition,
    /// The standings are final.
    Final,
    /// The stored settings name a metric this code does not know.
    MetricUnknown(String),
    /// A member posted a number where scores come from synced fitness days.
    ComputedFromDays,
    /// Outside the scoring window or above what the metric allows so far.
    Rule { code: ErrorCode, message: String },
    /// A disqualified member.
    Disqualified,
    /// Not on the roster (the Worker checks Postgres and introduces a member who joined meanwhile).
    NotAMember,
    /// The engine refused the change (its sequence space is spent).
    Engine(String),
}

impl Refusal {
    /// The object's answer: error code (which decides the status) and message.
    pub fn describe(&self) -> (ErrorCode, String) {
        match self {
            Refusal::CompetitionUnknown => {
                (ErrorCode::CompetitionUnknown, "the object has not been told its competition".to_owned())
            }
            Refusal::OtherCompetition => (ErrorCode::BadRequest, "the write names another competition".to_owned()),
            Refusal::Final => (ErrorCode::Conflict, "the competition has finished".to_owned()),
            Refusal::MetricUnknown(metric) => (ErrorCode::Internal, format!("stored metric {metric:?} is unknown")),
            Refusal::ComputedFromDays => (
                ErrorCode::Forbidden,
                "scores of this competition are computed from synced fitness days (POST /api/v1/fitness/sync)"
                    .to_owned(),
            ),
            Refusal::Rule { code, message } => (*code, message.clone()),
            Refusal::Disqualified => {
                (ErrorCode::Forbidden, "the member was disqualified from this competition".to_owned())
            }
            Refusal::NotAMember => (
                ErrorCode::NotAMember,
                "the player has not joined this competition (join it before posting scores)".to_owned(),
            ),
            Refusal::Engine(reason) => (ErrorCode::BadRequest, reason.clone()),
        }
    }
}

/// A write that did not happen: refused by the rules, or storage failed (nothing changed either way).
#[derive(Debug, PartialEq, Eq)]
pub enum WriteError<E> {
    /// The rules refused it.
    Refused(Refusal),
    /// Storage failed.
    Storage(E),
}

impl<E> From<Refusal> for WriteError<E> {
    fn from(refusal: Refusal) -> Self {
        WriteError::Refused(refusal)
    }
}

/// An accepted write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// How the board changed (`changed: false` for an equal score or a fitness total overtaken by a newer sync).
    pub change: ScoreChange,
    /// The member's score now: the written one, or a newer one when this write was overtaken.
    pub stored: Score,
    /// The member's rank as shown (ties share the best rank).
    pub display_rank: u64,
}

/// A competition's board: its standings, its settings once told, and whether the standings are final.
#[derive(Debug, Default)]
pub struct Board {
    leaderboard: Leaderboard,
    meta: Option<CompetitionMeta>,
    finalized: bool,
}

// Reads go straight to the standings; every change goes through the board's rules or `leaderboard_mut`.
impl Deref for Board {
    type Target = Leaderboard;
    fn deref(&self) -> &Leaderboard {
        &self.leaderboard
    }
}

impl Board {
    /// A board restored from storage.
    pub fn new(leaderboard: Leaderboard, meta: Option<CompetitionMeta>, finalized: bool) -> Self {
        Self { leaderboard, meta, finalized }
    }

    /// The standings, for changes outside the write rules (seeding, announcing a rename, a repaired reload).
    pub fn leaderboard_mut(&mut self) -> &mut Leaderboard {
        &mut self.leaderboard
    }

    /// Replaces the standings (a reload from storage).
    pub fn replace_leaderboard(&mut self, leaderboard: Leaderboard) {
        self.leaderboard = leaderboard;
    }

    /// The competition's settings, once told.
    pub fn meta(&self) -> Option<&CompetitionMeta> {
        self.meta.as_ref()
    }

    /// Takes the competition's (new) settings.
    pub fn set_meta(&mut self, meta: CompetitionMeta) {
        self.meta = Some(meta);
    }

    /// Whether the standings are final (finished or cancelled).
    pub fn is_final(&self) -> bool {
        self.finalized
    }

    /// Marks the standings final (after they were stored).
    pub fn mark_final(&mut self) {
        self.finalized = true;
    }

    /// Whether `write` may be applied: the board knows its competition, the standings still move, the score is
    /// plausible for the metric and the window (its range is its type's), and the writer is on the roster and not
    /// disqualified.
    pub fn admit<L: Ledger>(&self, ledger: &L, write: &ScoreWrite) -> Result<Score, WriteError<L::Error>> {
        let meta = self.meta.as_ref().ok_or(Refusal::CompetitionUnknown)?;
        if meta.competition_id != write.competition_id {
            return Err(Refusal::OtherCompetition.into());
        }
        if self.finalized {
            return Err(Refusal::Final.into());
        }
        let metric = Metric::parse(&meta.metric).ok_or_else(|| Refusal::MetricUnknown(meta.metric.clone()))?;
        let origin = if write.days_version.is_some() { ScoreOrigin::FitnessDays } else { ScoreOrigin::Posted };
        if meta.fitness && origin == ScoreOrigin::Posted && !write.correction {
            return Err(Refusal::ComputedFromDays.into());
        }
        let window = (meta.starts_ms, meta.ends_ms, meta.final_ms());
        rules::check_score(metric, window, write.score, write.at_ms, origin).map_err(|refusal| {
            let (code, message) = refusal.describe(metric);
            Refusal::Rule { code, message }
        })?;
        // Everyone with a score joined before writing it; only a first write needs the roster (and a disqualified
        // member, no longer on the board, always takes this path).
        if self.leaderboard.score_of(write.user_id).is_none() {
            if ledger.is_disqualified(&write.user_id).map_err(WriteError::Storage)? {
                return Err(Refusal::Disqualified.into());
            }
            if !ledger.is_member(&write.user_id).map_err(WriteError::Storage)? {
                return Err(Refusal::NotAMember.into());
            }
        }
        Ok(write.score)
    }

    /// Admits and applies `write`: stored first, then the standings change. A fitness total from an older sync than
    /// one already applied changes nothing (concurrent syncs never move a score backwards).
    pub fn write<L: Ledger>(&mut self, ledger: &L, write: &ScoreWrite) -> Result<Written, WriteError<L::Error>> {
        let score = self.admit(ledger, write)?;
        if let Some(version) = write.days_version {
            match ledger.day_version(&write.user_id).map_err(WriteError::Storage)? {
                Some(applied) if applied >= version => return Ok(self.unchanged(&write.user_id, score)),
                _ => ledger.set_day_version(&write.user_id, version).map_err(WriteError::Storage)?,
            }
        }
        if self.leaderboard.score_of(write.user_id) != Some(score) {
            // Durable first: the engine takes the sequence it announces, so the stored row orders as the board does.
            let seq = self.leaderboard.next_seq();
            ledger.save(&write.user_id, score, seq, write.at_ms).map_err(WriteError::Storage)?;
        }
        let change = self.leaderboard.set_score(write.user_id, score).map_err(|e| Refusal::Engine(e.to_string()))?;
        let stored = self.leaderboard.score_of(write.user_id).unwrap_or(score);
        Ok(Written { change, stored, display_rank: self.leaderboard.display_rank(stored) })
    }

    /// The member's standing as a write that changed nothing.
    fn unchanged(&self, user: &Uuid, written: Score) -> Written {
        let board = &self.leaderboard;
        let seq = board.last_seq().unwrap_or(0);
        let (rank, previous_rank, stored) = match board.standing(*user) {
            Some(entry) => (entry.rank, Some(entry.rank), entry.score),
            None => (0, None, written),
        };
        let change = ScoreChange { rank, previous_rank, total: board.total(), changed: false, seq };
        let display_rank = if previous_rank.is_some() { board.display_rank(stored) } else { 0 };
        Written { change, stored, display_rank }
    }

    /// Takes `user` off the standings (disqualified or deleted; everyone behind moves up): the sequence of the
    /// removal and the members left, or `None` when they had no score.
    pub fn take_off(&mut self, user: Uuid) -> Result<Option<(u64, u64)>, Refusal> {
        if self.leaderboard.score_of(user).is_none() {
            return Ok(None);
        }
        self.leaderboard.remove(user);
        let seq = self.leaderboard.take_seq().map_err(|e| Refusal::Engine(e.to_string()))?;
        Ok(Some((seq, self.leaderboard.total())))
    }

    /// Every member's final rank, score and prize, a chunk at a time, while the standings are not final yet (`None`
    /// without settings or once final). The caller stores them, then calls [`Board::mark_final`].
    pub fn final_standings(&self) -> Option<finish::FinalStandings<'_>> {
        let meta = self.meta.as_ref().filter(|_| !self.finalized)?;
        Some(finish::FinalStandings::new(&self.leaderboard, meta))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::{HashMap, HashSet};

    use super::*;

    const DAY_MS: i64 = 86_400_000;
    const START: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    /// Storage as sets and maps, with a switch that makes every call fail.
    #[derive(Default)]
    struct MemoryLedger {
        members: HashSet<Uuid>,
        disqualified: HashSet<Uuid>,
        versions: RefCell<HashMap<Uuid, i64>>,
        saved: RefCell<Vec<(Uuid, Score, u64)>>,
        broken: bool,
    }

    impl Ledger for MemoryLedger {
        type Error = String;
        fn is_member(&self, user: &Uuid) -> Result<bool, String> {
            self.check().map(|()| self.members.contains(user))
        }
        fn is_disqualified(&self, user: &Uuid) -> Result<bool, String> {
            self.check().map(|()| self.disqualified.contains(user))
        }
        fn day_version(&self, user: &Uuid) -> Result<Option<i64>, String> {
            self.check().map(|()| self.versions.borrow().get(user).copied())
        }
        fn set_day_version(&self, user: &Uuid, version: i64) -> Result<(), String> {
            self.check().map(|()| {
                self.versions.borrow_mut().insert(*user, version);
            })
        }
        fn save(&self, user: &Uuid, score: Score, seq: u64, _at_ms: i64) -> Result<(), String> {
            self.check().map(|()| self.saved.borrow_mut().push((*user, score, seq)))
        }
    }

    impl MemoryLedger {
        fn check(&self) -> Result<(), String> {
            if self.broken {
                Err("disk on fire".to_owned())
            } else {
                Ok(())
            }
        }
    }

    fn competition() -> Uuid {
        Uuid::from_u128(0xc0)
    }

    fn user(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn meta(fitness: bool) -> CompetitionMeta {
        serde_json::from_value(serde_json::json!({
            "competition_id": competition(),
            "metric": "steps",
            "starts_ms": START,
            "ends_ms": START + 7 * DAY_MS,
            "prize_pool": 1000,
            "payout": [6000, 4000],
            "fitness": fitness,
            "grace_ms": DAY_MS,
        }))
        .expect("meta")
    }

    fn pts(n: u64) -> Score {
        Score::new(n).expect("a score")
    }

    fn write(user_id: Uuid, score: u64, at_ms: i64) -> ScoreWrite {
        let score = pts(score);
        ScoreWrite { competition_id: competition(), user_id, score, at_ms, days_version: None, correction: false }
    }

    fn ledger_with(members: &[u128]) -> MemoryLedger {
        MemoryLedger { members: members.iter().map(|n| user(*n)).collect(), ..MemoryLedger::default() }
    }

    fn refused(board: &mut Board, ledger: &MemoryLedger, w: &ScoreWrite) -> Refusal {
        match board.write(ledger, w) {
            Err(WriteError::Refused(refusal)) => refusal,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn the_rules_that_refuse_a_posted_score() {
        let noon = START + DAY_MS / 2;
        let mut other = write(user(1), 10, noon);
        other.competition_id = Uuid::from_u128(0xbad);
        let cases: Vec<(&str, ScoreWrite, Refusal)> = vec![
            ("another competition", other, Refusal::OtherCompetition),
            ("not a member", write(user(2), 10, noon), Refusal::NotAMember),
            ("disqualified", write(user(3), 10, noon), Refusal::Disqualified),
        ];
        for (name, w, expected) in cases {
            let mut board = Board::new(Leaderboard::new(), Some(meta(false)), false);
            let mut ledger = ledger_with(&[1, 3]);
            ledger.disqualified.insert(user(3));
            assert_eq!(refused(&mut board, &ledger, &w), expected, "{name}");
            assert!(ledger.saved.borrow().is_empty(), "{name}: a refused write stores nothing");
            assert_eq!(board.total(), 0, "{name}");
        }
    }

    #[test]
    fn the_window_and_plausibility_come_from_the_rules() {
        let ledger = ledger_with(&[1]);
        let cases = [
            ("before the start", write(user(1), 10, START - 1), 409),
            ("after the grace period", write(user(1), 10, START + 8 * DAY_MS), 409),
            ("more than a day's cap on day one", write(user(1), 10_000_000, START + 1), 422),
        ];
        for (name, w, status) in cases {
            let mut board = Board::new(Leaderboard::new(), Some(meta(false)), false);
            match refused(&mut board, &ledger, &w) {
                Refusal::Rule { code, .. } => assert_eq!(code.status(), status, "{name}"),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_board_without_settings_or_with_final_standings_takes_nothing() {
        let ledger = ledger_with(&[1]);
        let w = write(user(1), 10, START + 1);
        let mut unknown = Board::default();
        assert_eq!(refused(&mut unknown, &ledger, &w), Refusal::CompetitionUnknown);
        let mut done = Board::new(Leaderboard::new(), Some(meta(false)), true);
        assert_eq!(refused(&mut done, &ledger, &w), Refusal::Final);
        assert_eq!(Refusal::CompetitionUnknown.describe().0, ErrorCode::CompetitionUnknown);
        assert_eq!(Refusal::NotAMember.describe().0.status(), 403);
    }

    #[test]
    fn members_post_nothing_in_a_fitness_competition_but_corrections_and_synced_totals_count() {
        let ledger = ledger_with(&[1]);
        let mut board = Board::new(Leaderboard::new(), Some(meta(true)), false);
        let posted = write(user(1), 10, START + 1);
        assert_eq!(refused(&mut board, &ledger, &posted), Refusal::ComputedFromDays);
        let correction = ScoreWrite { correction: true, ..posted.clone() };
        assert_eq!(board.write(&ledger, &correction).map(|w| w.stored), Ok(pts(10)));
        let synced = ScoreWrite { score: pts(20), days_version: Some(1), ..posted };
        assert_eq!(board.write(&ledger, &synced).map(|w| w.stored), Ok(pts(20)));
    }

    #[test]
    fn an_older_sync_never_moves_a_score_backwards() {
        let ledger = ledger_with(&[1]);
        let mut board = Board::new(Leaderboard::new(), Some(meta(true)), false);
        let at = START + DAY_MS;
        let newer = ScoreWrite { days_version: Some(5), ..write(user(1), 300, at) };
        let older = ScoreWrite { days_version: Some(4), ..write(user(1), 100, at) };
        assert!(board.write(&ledger, &newer).expect("newer").change.changed);
        let late = board.write(&ledger, &older).expect("older is answered, not refused");
        assert_eq!((late.change.changed, late.stored, late.display_rank), (false, pts(300), 1));
        assert_eq!(board.score_of(user(1)), Some(pts(300)));
        assert_eq!(ledger.saved.borrow().len(), 1, "the older total is not stored");
    }

    #[test]
    fn a_write_is_stored_before_the_board_moves_and_a_failed_store_changes_nothing() {
        let mut ledger = ledger_with(&[1, 2]);
        let mut board = Board::new(Leaderboard::new(), Some(meta(false)), false);
        let first = board.write(&ledger, &write(user(1), 50, START + 1)).expect("first");
        assert_eq!((first.change.rank, first.stored, first.change.seq), (1, pts(50), 1));
        assert_eq!(ledger.saved.borrow().as_slice(), &[(user(1), pts(50), 1)]);
        ledger.broken = true;
        assert_eq!(
            board.write(&ledger, &write(user(1), 70, START + 2)),
            Err(WriteError::Storage("disk on fire".to_owned()))
        );
        assert_eq!(board.score_of(user(1)), Some(pts(50)));
        ledger.broken = false;
        let same = board.write(&ledger, &write(user(1), 50, START + 3)).expect("same score");
        assert!(!same.change.changed);
        assert_eq!(ledger.saved.borrow().len(), 1, "an equal score is not stored again");
        let tie = board.write(&ledger, &write(user(2), 50, START + 4)).expect("tie");
        assert_eq!((tie.change.rank, tie.display_rank), (2, 1), "ties share the shown rank");
    }

    #[test]
    fn removal_moves_everyone_behind_up_and_final_results_are_computed_once() {
        let ledger = ledger_with(&[1, 2, 3]);
        let mut board = Board::new(Leaderboard::new(), Some(meta(false)), false);
        for (n, score) in [(1, 30), (2, 20), (3, 10)] {
            board.write(&ledger, &write(user(n), score, START + 1)).expect("write");
        }
        assert_eq!(board.take_off(user(9)), Ok(None));
        assert_eq!(board.take_off(user(1)), Ok(Some((4, 2))));
        assert_eq!(board.standing(user(3)).map(|e| e.rank), Some(2));
        let results = board.final_standings().expect("results").next_chunk(10);
        let paid: Vec<(u64, u64)> = results.iter().map(|r| (r.rank, r.prize)).collect();
        assert_eq!(paid, vec![(1, 600), (2, 400)]);
        board.mark_final();
        assert!(board.final_standings().is_none());
        assert_eq!(refused(&mut board, &ledger, &write(user(2), 99, START + 2)), Refusal::Final);
    }
}
