//! The end of a competition: final standings with prizes (stored once by the object's alarm at `ends_at`), and the
//! provisional prize split shown before that. Pure Rust over the engine.

use crate::engine::prizes::split;
use crate::engine::Leaderboard;
use crate::protocol::{CompetitionMeta, FinalResult, PrizeEntry};

/// Every member's final rank, score and prize (0 for unpaid places), in rank order.
pub fn final_results(board: &Leaderboard, meta: &CompetitionMeta) -> Vec<FinalResult> {
    let ranked: Vec<_> = board.iter_ranked().collect();
    let prizes = split(&ranked, meta.prize_pool.max(0) as u64, &meta.payout);
    ranked
        .iter()
        .map(|entry| FinalResult {
            rank: entry.rank,
            user_id: entry.user_id,
            score: entry.score,
            prize: prizes.iter().find(|p| p.rank == entry.rank).map_or(0, |p| p.amount),
        })
        .collect()
}

/// The split if the competition ended now: the paid places and everyone tied into them.
pub fn provisional_prizes(board: &Leaderboard, meta: &CompetitionMeta) -> Vec<PrizeEntry> {
    let ranked = board.top_through_ties(meta.payout.len());
    split(&ranked, meta.prize_pool.max(0) as u64, &meta.payout)
        .into_iter()
        .filter(|p| p.amount > 0)
        .map(|p| PrizeEntry { rank: p.rank, user_id: p.user_id, amount: p.amount })
        .collect()
}

/// The paid entries of final results.
pub fn paid(results: &[FinalResult]) -> Vec<PrizeEntry> {
    results
        .iter()
        .filter(|r| r.prize > 0)
        .map(|r| PrizeEntry { rank: r.rank, user_id: r.user_id, amount: r.prize })
        .collect()
}

/// What an administrator's cancel does to a competition's standings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// Not final yet: final now, with no results and no prizes.
    Cancel,
    /// Cancelled before: nothing changes (a retried cancel answers as the first did).
    AlreadyCancelled,
    /// Final because the competition ended: its results stand (409).
    AlreadyFinal,
}

/// Decides a cancel from what the object stored: whether the standings are `finalized`, whether a cancel was
/// recorded (`cancelled`), how many final `results` there are, and `now` against `final_ms`, when the standings
/// become final by themselves. Objects that cancelled before the record existed are told by their empty standings
/// made final before their time; an empty competition that simply ended stays ended.
pub fn cancel_outcome(finalized: bool, cancelled: bool, results: u64, now: i64, final_ms: i64) -> CancelOutcome {
    if !finalized {
        CancelOutcome::Cancel
    } else if cancelled || (results == 0 && now < final_ms) {
        CancelOutcome::AlreadyCancelled
    } else {
        CancelOutcome::AlreadyFinal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn a_cancel_ends_what_runs_repeats_quietly_and_leaves_what_ended() {
        use CancelOutcome::*;
        // (finalized, cancelled, results, now, final_ms) -> outcome
        let cases = [
            ((false, false, 0, 5, 10), Cancel),
            ((false, false, 0, 50, 10), Cancel), // due but not final: only when settling them failed (`settle_if_due`)
            ((true, true, 0, 5, 10), AlreadyCancelled),
            ((true, true, 0, 50, 10), AlreadyCancelled),
            ((true, false, 0, 5, 10), AlreadyCancelled), // cancelled before the record existed
            ((true, false, 0, 50, 10), AlreadyFinal),    // an empty competition that ended
            ((true, false, 3, 50, 10), AlreadyFinal),
            ((true, false, 3, 5, 10), AlreadyFinal),
        ];
        for ((finalized, cancelled, results, now, final_ms), expected) in cases {
            assert_eq!(
                cancel_outcome(finalized, cancelled, results, now, final_ms),
                expected,
                "{finalized} {cancelled} {results} {now} {final_ms}"
            );
        }
    }

    fn meta(pool: i64, payout: Vec<u32>) -> CompetitionMeta {
        CompetitionMeta {
            competition_id: Uuid::nil(),
            metric: "steps".into(),
            starts_ms: 0,
            ends_ms: 1,
            prize_pool: pool,
            payout,
            fitness: false,
            grace_ms: 0,
            version: 0,
        }
    }

    fn board(scores: &[u64]) -> Leaderboard {
        let mut board = Leaderboard::new();
        for (i, score) in scores.iter().enumerate() {
            board
                .set_score(Uuid::from_u128(i as u128 + 1), crate::score::Score::new(*score).expect("a score"))
                .expect("set");
        }
        board
    }

    #[test]
    fn final_results_list_everyone_and_pay_the_places() {
        let results = final_results(&board(&[30, 20, 10]), &meta(1000, vec![6000, 4000]));
        let view: Vec<(u64, u64, u64)> = results.iter().map(|r| (r.rank, r.score.get(), r.prize)).collect();
        assert_eq!(view, [(1, 30, 600), (2, 20, 400), (3, 10, 0)]);
        assert_eq!(paid(&results).len(), 2);
    }

    #[test]
    fn ties_share_the_places_they_occupy_before_and_after_the_end() {
        let board = board(&[30, 20, 20, 5]);
        let meta = meta(1000, vec![5000, 3000, 2000]);
        let provisional: Vec<(u64, u64)> =
            provisional_prizes(&board, &meta).iter().map(|p| (p.rank, p.amount)).collect();
        assert_eq!(provisional, [(1, 500), (2, 250), (3, 250)]);
        let finals: Vec<u64> = final_results(&board, &meta).iter().map(|r| r.prize).collect();
        assert_eq!(finals, [500, 250, 250, 0]);
        let total: u64 = finals.iter().sum();
        assert_eq!(total, 1000, "the covered pool is paid out exactly");
    }

    #[test]
    fn an_empty_board_or_payout_pays_nobody() {
        assert!(provisional_prizes(&board(&[]), &meta(1000, vec![10_000])).is_empty());
        assert!(provisional_prizes(&board(&[3, 2]), &meta(1000, vec![])).is_empty());
        assert!(final_results(&board(&[]), &meta(1000, vec![10_000])).is_empty());
    }
}
