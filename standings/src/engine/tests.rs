//! Engine tests: table-driven ranking rules, the edge cases where leaderboards break, and a property test
//! against a naive model (a Vec sorted on every query).

use proptest::prelude::*;
use uuid::Uuid;

use super::*;

fn pts(n: u64) -> Score {
    Score::new(n).expect("a score")
}

fn user(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn ranks(board: &Leaderboard) -> Vec<(u128, u64)> {
    board.iter_ranked().map(|e| (e.user_id.as_u128(), e.score.get())).collect()
}

#[test]
fn ranking_rules_table() {
    struct Case {
        name: &'static str,
        writes: &'static [(u128, u64)],
        expected: &'static [(u128, u64)],
    }
    let cases = [
        Case { name: "empty", writes: &[], expected: &[] },
        Case { name: "one player", writes: &[(1, 5)], expected: &[(1, 5)] },
        Case { name: "higher first", writes: &[(1, 5), (2, 9), (3, 7)], expected: &[(2, 9), (3, 7), (1, 5)] },
        Case {
            name: "ties: who reached first",
            writes: &[(3, 5), (1, 5), (2, 5)],
            expected: &[(3, 5), (1, 5), (2, 5)],
        },
        Case {
            name: "reaching a tied score later ranks behind",
            writes: &[(1, 5), (2, 3), (2, 5)],
            expected: &[(1, 5), (2, 5)],
        },
        Case {
            name: "re-sending the same score keeps the place",
            writes: &[(1, 5), (2, 5), (1, 5), (1, 5)],
            expected: &[(1, 5), (2, 5)],
        },
        Case { name: "score can go down", writes: &[(1, 9), (2, 5), (1, 1)], expected: &[(2, 5), (1, 1)] },
        Case { name: "score 0 counts", writes: &[(1, 0), (2, 0)], expected: &[(1, 0), (2, 0)] },
        Case { name: "largest score", writes: &[(1, MAX_SCORE), (2, 0)], expected: &[(1, MAX_SCORE), (2, 0)] },
    ];
    for case in cases {
        let mut board = Leaderboard::new();
        for &(id, score) in case.writes {
            board.set_score(user(id), pts(score)).expect("valid");
        }
        assert_eq!(ranks(&board), case.expected, "{}", case.name);
        for (i, &(id, score)) in case.expected.iter().enumerate() {
            assert_eq!(
                board.standing(user(id)),
                Some(Entry { rank: i as u64 + 1, user_id: user(id), score: pts(score) })
            );
        }
    }
}

#[test]
fn display_ranks_share_places_among_ties() {
    let mut board = Leaderboard::new();
    for (id, score) in [(1, 50), (2, 40), (3, 40), (4, 30), (5, 40), (6, 10)] {
        board.set_score(user(id), pts(score)).expect("valid");
    }
    let page = board.page(1, 10);
    assert_eq!(page.iter().map(|e| e.rank).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6], "rank stays unique");
    assert_eq!(board.display_ranks(&page), [1, 2, 2, 2, 5, 6], "standard competition ranking");
    // A page starting inside a tie still shares its place.
    assert_eq!(board.display_ranks(&board.page(3, 3)), [2, 2, 5]);
    assert_eq!(board.display_rank(pts(40)), 2);
    assert_eq!(board.display_rank(pts(45)), 2, "a score nobody has: where it would stand");
    assert_eq!(board.display_rank(pts(0)), 7);
}

#[test]
fn set_score_reports_previous_rank_total_and_change() {
    let mut board = Leaderboard::new();
    let first = board.set_score(user(1), pts(10)).expect("ok");
    assert_eq!((first.rank, first.previous_rank, first.total, first.changed), (1, None, 1, true));
    board.set_score(user(2), pts(20)).expect("ok");
    let same = board.set_score(user(1), pts(10)).expect("ok");
    assert_eq!((same.rank, same.previous_rank, same.changed), (2, Some(2), false));
    let up = board.set_score(user(1), pts(30)).expect("ok");
    assert_eq!((up.rank, up.previous_rank, up.total, up.changed), (1, Some(2), 2, true));
}

#[test]
fn out_of_range_values_are_refused_without_change() {
    let mut board = Leaderboard::new();
    board.set_score(user(1), pts(1)).expect("ok");
    assert!(Score::new(MAX_SCORE + 1).is_err(), "a score above 2^53 - 1 cannot be made, so never reaches the engine");
    assert_eq!(board.restore(user(2), pts(1), MAX_SEQ + 1), Err(EngineError::BadSequence(MAX_SEQ + 1)));
    assert_eq!(ranks(&board), vec![(1, 1)]);
}

#[test]
fn removing_the_leader_promotes_everyone() {
    let mut board = Leaderboard::new();
    for (id, score) in [(1, 30), (2, 20), (3, 10)] {
        board.set_score(user(id), pts(score)).expect("ok");
    }
    assert!(board.remove(user(1)));
    assert!(!board.remove(user(1)));
    assert_eq!(ranks(&board), vec![(2, 20), (3, 10)]);
    assert_eq!(board.standing(user(3)).map(|e| e.rank), Some(2));
    // The freed slot is reused without confusing the old member with the new one.
    board.set_score(user(4), pts(25)).expect("ok");
    assert_eq!(ranks(&board), vec![(4, 25), (2, 20), (3, 10)]);
    assert_eq!(board.standing(user(1)), None);
    assert_eq!(board.score_of(user(1)), None);
}

#[test]
fn around_me_windows_at_the_edges_and_with_ties() {
    let mut board = Leaderboard::new();
    // Ranks 1..=6: u1 50, u2 40, u3 40, u4 40, u5 10, u6 0.
    for (id, score) in [(1, 50), (2, 40), (3, 40), (4, 40), (5, 10), (6, 0)] {
        board.set_score(user(id), pts(score)).expect("ok");
    }
    fn window_of(board: &Leaderboard, id: u128, radius: u64) -> Vec<(u64, u128)> {
        board.around(user(id), radius).expect("on board").iter().map(|e| (e.rank, e.user_id.as_u128())).collect()
    }
    let window = |id: u128, radius: u64| window_of(&board, id, radius);
    assert_eq!(window(1, 2), vec![(1, 1), (2, 2), (3, 3)], "rank 1 sees itself first");
    assert_eq!(window(2, 2), vec![(1, 1), (2, 2), (3, 3), (4, 4)], "rank 2 still sees rank 1");
    assert_eq!(window(6, 2), vec![(4, 4), (5, 5), (6, 6)], "last rank");
    assert_eq!(window(3, 1), vec![(2, 2), (3, 3), (4, 4)], "inside a tie group");
    assert_eq!(window(3, 0), vec![(3, 3)]);
    assert_eq!(window(3, 100).len(), 6);
    assert_eq!(board.around(user(99), 2), None);
    // Identical re-sends change nothing.
    for _ in 0..3 {
        board.set_score(user(3), pts(40)).expect("ok");
    }
    assert_eq!(window_of(&board, 3, 1), vec![(2, 2), (3, 3), (4, 4)]);
}

#[test]
fn pages_and_cursors() {
    let mut board = Leaderboard::new();
    for id in 1..=250u128 {
        board.set_score(user(id), pts(1000 - id as u64)).expect("ok");
    }
    let first = board.page(1, 100);
    assert_eq!((first.len(), first[0].rank, first[99].rank), (100, 1, 100));
    let cursor = board.cursor_after(&first[99]).expect("cursor");
    let decoded = Cursor::decode(&cursor.encode()).expect("round trip");
    assert_eq!(decoded, cursor);
    let second = board.page_after(decoded, 100);
    assert_eq!(second[0].rank, 101);
    assert_eq!(second[0].user_id, user(101));
    // A row moving above the cursor does not make the next page skip or repeat anyone below it.
    board.set_score(user(150), pts(5000)).expect("ok");
    let after_move = board.page_after(decoded, 200);
    assert_eq!(after_move[0].user_id, user(101));
    assert_eq!(after_move.len(), 149);
    assert!(after_move.iter().all(|e| e.user_id != user(150)));
    assert_eq!(board.page(251, 10), vec![]);
    assert_eq!(board.at_rank(0), None);
    assert_eq!(board.at_rank(1).map(|e| e.user_id), Some(user(150)));
    for bad in ["", "1.2", "x.1.1", "1.1.1.1", "20000000000000.0.0"] {
        assert_eq!(Cursor::decode(bad), None, "{bad}");
    }
}

#[test]
fn restore_rebuilds_the_same_order() {
    let mut board = Leaderboard::new();
    for (id, score) in [(1, 5), (2, 5), (3, 9), (1, 7), (4, 7)] {
        board.set_score(user(id), pts(score)).expect("ok");
    }
    let mut rebuilt = Leaderboard::new();
    // Persisted rows come back in any order.
    let mut rows: Vec<(Uuid, u64, u64)> = board
        .iter_ranked()
        .map(|e| {
            let cursor = board.cursor_after(&e).expect("member");
            (e.user_id, e.score.get(), cursor.seq)
        })
        .collect();
    rows.reverse();
    for (id, score, seq) in rows {
        rebuilt.restore(id, pts(score), seq).expect("ok");
    }
    assert_eq!(ranks(&rebuilt), ranks(&board));
    assert_eq!(rebuilt.next_seq(), board.next_seq());
}

/// The naive model: members with score and reach sequence, sorted on every query.
#[derive(Default)]
struct Model {
    members: Vec<(u128, u64, u64)>,
    seq: u64,
}

impl Model {
    fn set(&mut self, id: u128, score: u64) {
        match self.members.iter_mut().find(|m| m.0 == id) {
            Some(m) if m.1 == score => {}
            Some(m) => {
                *m = (id, score, self.seq);
                self.seq += 1;
            }
            None => {
                self.members.push((id, score, self.seq));
                self.seq += 1;
            }
        }
    }

    fn remove(&mut self, id: u128) -> bool {
        let before = self.members.len();
        self.members.retain(|m| m.0 != id);
        before != self.members.len()
    }

    fn sorted(&self) -> Vec<(u128, u64)> {
        let mut sorted = self.members.clone();
        sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)).then(a.0.cmp(&b.0)));
        sorted.into_iter().map(|m| (m.0, m.1)).collect()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Set(u128, u64),
    Remove(u128),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u128..60, prop_oneof![0u64..20, Just(MAX_SCORE), any::<u64>().prop_map(|s| s % (MAX_SCORE + 1))])
            .prop_map(|(id, score)| Op::Set(id, score)),
        1 => (0u128..60).prop_map(Op::Remove),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn every_query_matches_the_naive_model(ops in prop::collection::vec(op(), 0..300), radius in 0u64..6) {
        let mut board = Leaderboard::new();
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Set(id, score) => {
                    let before = model.sorted().iter().position(|m| m.0 == id).map(|p| p as u64 + 1);
                    model.set(id, score);
                    let after = model.sorted().iter().position(|m| m.0 == id).map(|p| p as u64 + 1);
                    let change = board.set_score(user(id), pts(score)).expect("in range");
                    prop_assert_eq!(change.previous_rank, before);
                    prop_assert_eq!(Some(change.rank), after);
                    prop_assert_eq!(change.total, model.members.len() as u64);
                }
                Op::Remove(id) => prop_assert_eq!(board.remove(user(id)), model.remove(id)),
            }
        }
        let expected = model.sorted();
        prop_assert_eq!(ranks(&board), expected.clone());
        prop_assert_eq!(board.total(), expected.len() as u64);
        for (i, &(id, score)) in expected.iter().enumerate() {
            let rank = i as u64 + 1;
            prop_assert_eq!(board.standing(user(id)), Some(Entry { rank, user_id: user(id), score: pts(score) }));
            prop_assert_eq!(board.score_of(user(id)), Some(pts(score)));
            prop_assert_eq!(board.at_rank(rank).map(|e| e.user_id), Some(user(id)));
            let lo = i.saturating_sub(radius as usize);
            let hi = (i + radius as usize).min(expected.len() - 1);
            let window: Vec<u128> = board.around(user(id), radius).expect("member").iter().map(|e| e.user_id.as_u128()).collect();
            let model_window: Vec<u128> = expected[lo..=hi].iter().map(|m| m.0).collect();
            prop_assert_eq!(window, model_window);
        }
        for start in [1u64, 2, 5, 17] {
            let page: Vec<u128> = board.page(start, 7).iter().map(|e| e.user_id.as_u128()).collect();
            let model_page: Vec<u128> = expected.iter().skip(start as usize - 1).take(7).map(|m| m.0).collect();
            prop_assert_eq!(page, model_page);
        }
        // Display ranks ("1224"): 1 + the members with a strictly higher score, for single scores and for pages.
        let naive_display = |score: u64| expected.iter().filter(|m| m.1 > score).count() as u64 + 1;
        for &(_, score) in &expected {
            prop_assert_eq!(board.display_rank(pts(score)), naive_display(score));
        }
        for probe in [0u64, 1, 10, 19, MAX_SCORE] {
            prop_assert_eq!(board.display_rank(pts(probe)), naive_display(probe));
        }
        for start in [1u64, 3, 8] {
            let page = board.page(start, 9);
            let display: Vec<u64> = page.iter().map(|e| naive_display(e.score.get())).collect();
            prop_assert_eq!(board.display_ranks(&page), display);
        }
        // The rest of a run of ties from each rank, and nothing past the last member.
        for (i, &(_, score)) in expected.iter().enumerate() {
            let naive = expected[i..].iter().take_while(|m| m.1 == score).count() as u64;
            prop_assert_eq!(board.tied_from(i as u64 + 1), Some(naive));
        }
        prop_assert_eq!(board.tied_from(expected.len() as u64 + 1), None);
        prop_assert_eq!(board.tied_from(0), None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    /// Enough members that the tree has inner nodes, splits and merges; the final state is compared in full.
    #[test]
    fn a_multi_level_board_matches_the_naive_model(
        ops in prop::collection::vec(
            prop_oneof![9 => (0u128..1500, 0u64..400).prop_map(|(i, s)| Op::Set(i, s)), 1 => (0u128..1500).prop_map(Op::Remove)],
            2000..4000,
        )
    ) {
        let mut board = Leaderboard::new();
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Set(id, score) => {
                    model.set(id, score);
                    board.set_score(user(id), pts(score)).expect("in range");
                }
                Op::Remove(id) => prop_assert_eq!(board.remove(user(id)), model.remove(id)),
            }
        }
        let expected = model.sorted();
        prop_assert_eq!(ranks(&board), expected.clone());
        for (i, &(id, _)) in expected.iter().enumerate().step_by(7) {
            prop_assert_eq!(board.standing(user(id)).map(|e| e.rank), Some(i as u64 + 1));
        }
    }
}

#[test]
fn a_run_of_ties_is_counted_from_any_of_its_ranks() {
    let mut board = Leaderboard::new();
    for (id, score) in (1..=6).zip([50, 40, 30, 30, 30, 0]) {
        board.set_score(user(id), pts(score)).expect("set");
    }
    // (rank, members from it on with its score): places 3-5 tie on 30; the last scores 0, the lowest score there is.
    let cases = [(1, Some(1)), (3, Some(3)), (4, Some(2)), (5, Some(1)), (6, Some(1)), (7, None), (0, None)];
    for (rank, run) in cases {
        assert_eq!(board.tied_from(rank), run, "rank {rank}");
    }
}

#[test]
fn memory_per_member_stays_within_budget() {
    // The budget is 64 bytes of ordering structures per member; a 128 MB object must hold 1M members.
    let n = 100_000u128;
    let mut board = Leaderboard::new();
    for i in 0..n {
        board
            .set_score(
                user(i.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)),
                pts((i * 7919 % 100_000) as u64),
            )
            .expect("in range");
    }
    let overhead = board.overhead_bytes() as f64 / n as f64;
    let total = board.heap_bytes() as f64 / n as f64;
    assert!(overhead <= 64.0, "{overhead:.1} bytes/member of overhead");
    assert!(total <= 96.0, "{total:.1} bytes/member in all");
}

#[test]
fn a_board_sized_for_its_members_restores_them_without_growing() {
    for n in [0usize, 1, 6, 7, 1_000, 49_152] {
        let mut sized = Leaderboard::with_capacity(n);
        let mut grown = Leaderboard::new();
        let before = (sized.ids.capacity(), sized.index.heap_bytes());
        for i in 0..n as u128 {
            let (id, score) = (user(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)), pts((i * 7919 % 1_000) as u64));
            sized.restore(id, score, i as u64 + 1).expect("restore");
            grown.restore(id, score, i as u64 + 1).expect("restore");
        }
        assert_eq!((sized.ids.capacity(), sized.index.heap_bytes()), before, "{n} members: no reallocation");
        assert_eq!(ranks(&sized), ranks(&grown), "{n} members: the same board");
    }
}
