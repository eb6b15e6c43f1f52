//! Operations only builds with the `test-routes` feature have: seeding members, storing a corrupt row, forced
//! finalization, a stall before every operation.

use super::*;
use standings::score::Score;

impl Loaded {
    /// Waits as long as `TestStall` asked, before an operation or a live upgrade starts.
    pub(super) async fn stall(&self) {
        let ms = self.stall_ms.get();
        if ms > 0 {
            worker::Delay::from(std::time::Duration::from_millis(ms)).await;
        }
    }

    /// Adds `n` synthetic members (test routes only), all at `tied` when it is given.
    pub(super) fn seed(&self, members: u64, tied: Option<u64>) -> Result<Reply> {
        let n = members.min(1_000_000);
        let mut board = self.board.borrow_mut();
        let base = board.total() as u128;
        let first_seq = board.next_seq();
        let rows: Vec<(Uuid, Score, u64)> = (0..n)
            .map(|i| {
                let id = uuid::Builder::from_random_bytes(
                    ((base + u128::from(i) + 1) * 0x9E37_79B9_7F4A_7C15).to_le_bytes(),
                );
                // Below 100 000: always a score.
                let score = tied.unwrap_or((i * 7919) % 100_000);
                (id.into_uuid(), Score::new(score).unwrap_or(Score::ZERO), first_seq + i)
            })
            .collect();
        if let Err(e) = self.store.save_many(&rows, crate::clock::now_ms()) {
            return storage_failure(&e);
        }
        for (user, score, seq) in rows {
            if let Err(e) = board.leaderboard_mut().restore(user, score, seq) {
                return error(ErrorCode::BadRequest, e.to_string());
            }
        }
        drop(board);
        self.stats()
    }

    /// `TestAbort` (test routes only): the runtime's `abort()`, which discards this instance as an eviction does
    /// (its wrapper is left to the garbage collector); the next call wakes a new instance.
    pub(super) fn test_abort(&self) -> Result<Reply> {
        let state: &wasm_bindgen::JsValue = self.state.as_raw().as_ref();
        let abort = worker::js_sys::Reflect::get(state, &"abort".into())
            .ok()
            .and_then(|abort| wasm_bindgen::JsCast::dyn_into::<worker::js_sys::Function>(abort).ok());
        match abort {
            Some(abort) => {
                // It throws to end this call; the instance is gone either way.
                let _ = abort.call1(state, &"test abort".into());
                error(ErrorCode::Internal, "the instance was aborted")
            }
            None => error(ErrorCode::Internal, "the runtime has no abort()"),
        }
    }

    /// `TestCorrupt` (test routes only): stores a member row that cannot be loaded, then reloads the board from
    /// storage as a wake would.
    pub(super) fn test_corrupt(&self, key: &str) -> Result<Reply> {
        let reloaded = self.store.insert_raw_member(key, 1, 1).and_then(|()| self.store.load());
        match reloaded {
            Ok((board, corrupt)) => {
                self.board.borrow_mut().replace_leaderboard(board);
                *self.corrupt_rows.borrow_mut() = corrupt;
                self.stats()
            }
            Err(e) => storage_failure(&e),
        }
    }

    /// `TestFinalize` (test routes only): finalizes now, or stores `fail_after` rows and fails the way a crash
    /// half-way through the alarm would.
    pub(super) fn test_finalize(&self, fail_after: Option<usize>) -> Result<Reply> {
        let (known, first_rows) = {
            let board = self.board.borrow();
            let first = fail_after.and_then(|n| Some(board.final_standings()?.next_chunk(n)));
            (board.meta().is_some(), first)
        };
        match (known, first_rows) {
            (false, _) => return error(ErrorCode::CompetitionUnknown, "the object has not been told its competition"),
            (true, Some(rows)) => {
                if let Err(e) = self.store.insert_final_rows(&rows) {
                    return storage_failure(&e);
                }
                return error(ErrorCode::Internal, format!("simulated failure after {} final rows", rows.len()));
            }
            (true, None) => self.finalize()?,
        }
        self.stats()
    }
}
