//! The end of a competition: final standings with prizes (stored once by the object's alarm at `ends_at`), and the
//! provisional prize split shown before that. Pure Rust over the engine.

use crate::engine::prizes::{shares, TieShare};
use crate::engine::Leaderboard;
use crate::protocol::{CompetitionMeta, FinalResult, PrizeEntry};

/// Every member's final rank, score and prize (0 for unpaid places), in rank order, read off the board a chunk at a
/// time. The object's memory is the isolate's 128 MB and a board of a million members takes ≈ 100 MB of it: holding
/// every member's result at once (≈ 110 bytes each, in two lists) took such an object past its limit, and an object
/// reset in the middle of finalizing retried, and was reset, at every alarm, so it never paid anyone.
pub struct FinalStandings<'a> {
    board: &'a Leaderboard,
    /// How the paid places fall to the runs of ties from rank 1 (a few entries however large the ties).
    shares: Vec<TieShare>,
    next_rank: u64,
}

impl<'a> FinalStandings<'a> {
    /// The standings of `board` under `meta`'s pool and payout, from rank 1.
    pub fn new(board: &'a Leaderboard, meta: &CompetitionMeta) -> Self {
        let shares = shares(meta.prize_pool.max(0) as u64, &meta.payout, |rank| board.tied_from(rank));
        Self { board, shares, next_rank: 1 }
    }

    /// The next `limit` members' results (empty once every member's was read).
    pub fn next_chunk(&mut self, limit: usize) -> Vec<FinalResult> {
        let chunk: Vec<FinalResult> = self
            .board
            .page(self.next_rank, limit)
            .into_iter()
            .map(|entry| FinalResult {
                rank: entry.rank,
                user_id: entry.user_id,
                score: entry.score,
                prize: self.prize_of(entry.rank),
            })
            .collect();
        self.next_rank += chunk.len() as u64;
        chunk
    }

    /// The paid entries, in rank order (what the `finished` frame and the prizes route list): in each run of ties,
    /// everyone when the share is at least a unit each, else the earliest who get the indivisible units.
    pub fn paid(&self) -> Vec<PrizeEntry> {
        let mut paid = Vec::new();
        for share in &self.shares {
            for entry in self.board.page(share.first, share.size.min(share.sum) as usize) {
                paid.push(PrizeEntry { rank: entry.rank, user_id: entry.user_id, amount: share.amount_at(entry.rank) });
            }
        }
        paid
    }

    /// The prize at `rank`: its run's share (a search per member over a list of every paid player made a tie of
    /// 100 000 into the paid places — a `goal_days` competition's full marks — cost 10^11 steps at a million members).
    fn prize_of(&self, rank: u64) -> u64 {
        let run = self.shares.partition_point(|share| share.end() <= rank);
        self.shares.get(run).filter(|share| share.first <= rank).map_or(0, |share| share.amount_at(rank))
    }
}

/// The split if the competition ended now: the paid places and everyone tied into them.
pub fn provisional_prizes(board: &Leaderboard, meta: &CompetitionMeta) -> Vec<PrizeEntry> {
    FinalStandings::new(board, meta).paid()
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
    use crate::engine::prizes::split;
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

    /// Every member's result, read in chunks of `chunk`.
    fn final_results(board: &Leaderboard, meta: &CompetitionMeta, chunk: usize) -> Vec<FinalResult> {
        let mut standings = FinalStandings::new(board, meta);
        let mut results = Vec::new();
        loop {
            let next = standings.next_chunk(chunk);
            if next.is_empty() {
                return results;
            }
            assert!(next.len() <= chunk);
            results.extend(next);
        }
    }

    #[test]
    fn final_results_list_everyone_and_pay_the_places() {
        let results = final_results(&board(&[30, 20, 10]), &meta(1000, vec![6000, 4000]), 2);
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
        let finals: Vec<u64> = final_results(&board, &meta, 3).iter().map(|r| r.prize).collect();
        assert_eq!(finals, [500, 250, 250, 0]);
        let total: u64 = finals.iter().sum();
        assert_eq!(total, 1000, "the covered pool is paid out exactly");
    }

    #[test]
    fn an_empty_board_or_payout_pays_nobody() {
        assert!(provisional_prizes(&board(&[]), &meta(1000, vec![10_000])).is_empty());
        assert!(provisional_prizes(&board(&[3, 2]), &meta(1000, vec![])).is_empty());
        assert!(final_results(&board(&[]), &meta(1000, vec![10_000]), 5).is_empty());
    }

    /// The chunked standings against the whole list computed the plain way (every member ranked, each prize searched
    /// for): the same rows whatever the chunk, with ties into and past the paid places.
    #[test]
    fn chunked_standings_match_the_plain_computation() {
        let scores: Vec<u64> = (0..500u64).map(|i| [7, 7, 7, 5, 5, 3][(i % 6) as usize] + i % 3).collect();
        let board = board(&scores);
        let payouts = [vec![], vec![10_000], vec![5000, 3000, 2000], vec![100; 100]];
        // A pool of 7 units leaves most of a large tie unpaid: only its earliest get a unit each.
        for (pool, payout) in [1_000_003, 7, 0].into_iter().flat_map(|pool| payouts.clone().map(|p| (pool, p))) {
            let meta = meta(pool, payout);
            let ranked: Vec<_> = board.page(1, board.total() as usize);
            let prizes = split(&ranked, pool as u64, &meta.payout);
            let plain: Vec<FinalResult> = ranked
                .iter()
                .map(|e| FinalResult {
                    rank: e.rank,
                    user_id: e.user_id,
                    score: e.score,
                    prize: prizes.iter().find(|p| p.rank == e.rank).map_or(0, |p| p.amount),
                })
                .collect();
            for chunk in [1, 7, 64, 10_000] {
                assert_eq!(final_results(&board, &meta, chunk), plain, "chunk {chunk}, pool {pool}, {:?}", meta.payout);
            }
            assert_eq!(paid(&plain), FinalStandings::new(&board, &meta).paid());
        }
    }
}
