//! The prize split of `API.md`: place amounts by basis points with largest-remainder rounding, tie groups sharing
//! the sum of the places they occupy, indivisible units to the earliest tied players.

#[cfg(test)]
use uuid::Uuid;

#[cfg(test)]
use super::Entry;

/// Basis points in a whole.
pub const BPS_WHOLE: u64 = 10_000;

/// One paid player (of [`split`]).
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prize {
    /// Their rank.
    pub rank: u64,
    /// Who.
    pub user_id: Uuid,
    /// Amount in minor units.
    pub amount: u64,
}

/// The part of the pool the payout covers: `floor(pool × sum(payout) / 10000)`.
pub fn covered_pool(pool: u64, payout: &[u32]) -> u64 {
    let bps: u128 = payout.iter().map(|&b| u128::from(b)).sum();
    (u128::from(pool) * bps / u128::from(BPS_WHOLE)) as u64
}

/// What each place pays, before ties: `floor(pool × bps / 10000)`, then the units still missing to reach the
/// covered pool one each to the places with the largest remainders (earlier place first on equal remainders).
pub fn place_amounts(pool: u64, payout: &[u32]) -> Vec<u64> {
    let exact: Vec<u128> = payout.iter().map(|&b| u128::from(pool) * u128::from(b)).collect();
    let mut amounts: Vec<u64> = exact.iter().map(|e| (e / u128::from(BPS_WHOLE)) as u64).collect();
    let missing = covered_pool(pool, payout) - amounts.iter().sum::<u64>();
    let mut by_remainder: Vec<usize> = (0..payout.len()).collect();
    // Stable sort: equal remainders keep place order, so the earlier place wins.
    by_remainder.sort_by_key(|&i| std::cmp::Reverse(exact[i] % u128::from(BPS_WHOLE)));
    for &place in by_remainder.iter().take(missing as usize) {
        amounts[place] += 1;
    }
    amounts
}

/// A run of players tied on score, ranks `first ..= first + size − 1`, and the sum of the paid places they occupy,
/// which they share equally (indivisible units to the earliest of them, one each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TieShare {
    /// Rank of the run's first player.
    pub first: u64,
    /// Players in the run (at least 1).
    pub size: u64,
    /// Sum of the place amounts the run occupies.
    pub sum: u64,
}

impl TieShare {
    /// The amount of the run's player at `rank` (one of its ranks).
    pub fn amount_at(&self, rank: u64) -> u64 {
        self.sum / self.size + u64::from(rank - self.first < self.sum % self.size)
    }

    /// Ranks past the run.
    pub fn end(&self) -> u64 {
        self.first + self.size
    }
}

/// How the paid places fall to runs of tied players, from rank 1: `run_from(rank)` is the number of players from
/// `rank` on that share its player's score (`None` past the last player); it is asked only while paid places are
/// left. Only the runs are kept, never a list of the players, so a tie of a million into the paid places costs a few
/// bytes here.
pub fn shares(pool: u64, payout: &[u32], mut run_from: impl FnMut(u64) -> Option<u64>) -> Vec<TieShare> {
    let amounts = place_amounts(pool, payout);
    let mut shares = Vec::new();
    let mut first = 1u64;
    while first <= amounts.len() as u64 {
        let Some(size) = run_from(first).filter(|&size| size > 0) else { break };
        let occupied = (first - 1) as usize..(first - 1 + size).min(amounts.len() as u64) as usize;
        shares.push(TieShare { first, size, sum: amounts[occupied].iter().sum() });
        first += size;
    }
    shares
}

/// Prizes for a board given in rank order, one row per paid player: the plain form of [`shares`] that the tests
/// check the rules and the standings against. Players tied on score share equally the sum of the places they occupy;
/// players beyond the paid places (and not tied into them) get nothing and are not listed.
#[cfg(test)]
pub(crate) fn split(ranked: &[Entry], pool: u64, payout: &[u32]) -> Vec<Prize> {
    let run_from = |rank: u64| {
        let from = ranked.get(usize::try_from(rank - 1).ok()?..)?;
        let score = from.first()?.score;
        Some(from.iter().take_while(|e| e.score == score).count() as u64)
    };
    shares(pool, payout, run_from)
        .iter()
        .flat_map(|share| {
            ranked[(share.first - 1) as usize..(share.end() - 1) as usize].iter().map(|entry| Prize {
                rank: entry.rank,
                user_id: entry.user_id,
                amount: share.amount_at(entry.rank),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(scores: &[u64]) -> Vec<Entry> {
        scores
            .iter()
            .enumerate()
            .map(|(i, &score)| Entry {
                rank: i as u64 + 1,
                user_id: Uuid::from_u128(i as u128 + 1),
                score: crate::score::Score::new(score).expect("a score"),
            })
            .collect()
    }

    fn amounts(prizes: &[Prize]) -> Vec<u64> {
        prizes.iter().map(|p| p.amount).collect()
    }

    #[test]
    fn prize_table() {
        struct Case {
            name: &'static str,
            pool: u64,
            payout: &'static [u32],
            scores: &'static [u64],
            expected: &'static [u64],
        }
        let cases = [
            Case {
                name: "even split",
                pool: 10_000,
                payout: &[5000, 3000, 2000],
                scores: &[30, 20, 10],
                expected: &[5000, 3000, 2000],
            },
            Case {
                name: "fewer players than places",
                pool: 10_000,
                payout: &[5000, 3000, 2000],
                scores: &[30],
                expected: &[5000],
            },
            Case { name: "empty board", pool: 10_000, payout: &[5000, 3000, 2000], scores: &[], expected: &[] },
            Case {
                name: "more players than places",
                pool: 100,
                payout: &[6000, 4000],
                scores: &[9, 8, 7, 6],
                expected: &[60, 40],
            },
            // 100 × 3333 / 10000 = 33.33 each; covered = floor(100 × 9999 / 10000) = 99; no unit missing.
            Case {
                name: "thirds",
                pool: 100,
                payout: &[3333, 3333, 3333],
                scores: &[3, 2, 1],
                expected: &[33, 33, 33],
            },
            // 10 × 3334 = 3.334, 10 × 3333 = 3.333 twice: base 3,3,3 = 9, covered floor(10 × 1) = 10: one unit to the
            // largest remainder (place 1).
            Case {
                name: "largest remainder",
                pool: 10,
                payout: &[3333, 3334, 3333],
                scores: &[3, 2, 1],
                expected: &[3, 4, 3],
            },
            // Equal remainders: earlier place gets the unit. 7 × 5000 = 3.5 twice, covered 7.
            Case {
                name: "remainder tie goes to earlier place",
                pool: 7,
                payout: &[5000, 5000],
                scores: &[2, 1],
                expected: &[4, 3],
            },
            // Places 1 and 2 tied: they share 5000 + 3000 = 8000 equally.
            Case {
                name: "tie for first",
                pool: 10_000,
                payout: &[5000, 3000, 2000],
                scores: &[9, 9, 1],
                expected: &[4000, 4000, 2000],
            },
            // Tie spanning the last paid place and an unpaid one: share place 3's amount.
            Case {
                name: "tie across the paid edge",
                pool: 10_000,
                payout: &[5000, 3000, 2000],
                scores: &[9, 8, 7, 7],
                expected: &[5000, 3000, 1000, 1000],
            },
            // Indivisible: 3 tied share 10 → 4, 3, 3 (earliest tied gets the unit).
            Case { name: "indivisible tie", pool: 10, payout: &[10000], scores: &[5, 5, 5], expected: &[4, 3, 3] },
            Case {
                name: "all tied",
                pool: 1000,
                payout: &[5000, 3000, 2000],
                scores: &[1, 1, 1, 1],
                expected: &[250, 250, 250, 250],
            },
            Case { name: "zero pool", pool: 0, payout: &[5000, 5000], scores: &[2, 1], expected: &[0, 0] },
            Case { name: "no payout", pool: 1000, payout: &[], scores: &[2, 1], expected: &[] },
            Case { name: "partial coverage", pool: 999, payout: &[2500], scores: &[1, 0], expected: &[249] },
        ];
        for case in cases {
            let prizes = split(&board(case.scores), case.pool, case.payout);
            assert_eq!(amounts(&prizes), case.expected, "{}", case.name);
        }
    }

    #[test]
    fn the_sum_equals_the_covered_pool_whenever_every_paid_place_has_a_player() {
        let pools = [0, 1, 7, 99, 10_001, 123_456_789, (1 << 53) - 1];
        let payouts: [&[u32]; 5] =
            [&[10000], &[5000, 3000, 2000], &[3333, 3333, 3333], &[1, 2, 3, 4, 5], &[7001, 2999]];
        for pool in pools {
            for payout in payouts {
                let scores: Vec<u64> = (0..payout.len() as u64 + 2).rev().collect();
                let total: u64 = amounts(&split(&board(&scores), pool, payout)).iter().sum();
                assert_eq!(total, covered_pool(pool, payout), "pool {pool} payout {payout:?}");
                let tied = vec![5; payout.len() + 1];
                let total: u64 = amounts(&split(&board(&tied), pool, payout)).iter().sum();
                assert_eq!(total, covered_pool(pool, payout), "all tied: pool {pool} payout {payout:?}");
            }
        }
    }
}
