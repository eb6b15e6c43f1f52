//! Requests that read the board: pages, a member's standing and neighbours, prizes, the live snapshot, and the
//! operator's stats and outbox report.

use super::*;

impl Loaded {
    pub(super) fn stats(&self) -> Result<Reply> {
        Reply::json(&ObjectStats {
            members: self.board.borrow().total(),
            rebuild_ms: self.rebuild_ms,
            rebuilt_members: self.rebuilt_members,
            outbox_pending: self.store.outbox_len().map_err(storage_error)?,
            outbox_failures: self.store.failures().map_err(storage_error)?,
            finalized: self.board.borrow().is_final(),
            final_results: self.store.final_count().map_err(storage_error)?,
            dead_letters: self.store.dead_letter_count().map_err(storage_error)?,
            corrupt_rows: self.corrupt_rows.borrow().clone(),
            relays: self.relays.names(),
            start_totals_due: self.store.start_totals_due().map_err(storage_error)?,
            memory_bytes: wasm_memory_bytes(),
            boards_in_memory: instances::boards_held(),
        })
    }

    /// `GET /outbox`: the outbox's state and the rows set aside.
    pub(super) fn outbox_report(&self) -> Result<Reply> {
        Reply::json(&OutboxReport {
            pending: self.store.outbox_len().map_err(storage_error)?,
            failures: self.store.failures().map_err(storage_error)?,
            dead_letters: self.store.dead_letters(500).map_err(storage_error)?,
        })
    }

    /// The names and avatars the object knows for the members of `entries` (one query; a storage failure shows the
    /// defaults rather than failing the read).
    pub(super) fn people_of(&self, entries: &[Entry]) -> HashMap<Uuid, Person> {
        let users: Vec<Uuid> = entries.iter().map(|e| e.user_id).collect();
        self.store.people(&users).unwrap_or_else(|e| {
            worker::console_error!("names unavailable for a board read: {e}");
            HashMap::new()
        })
    }

    /// `GET /prizes`: final amounts once the competition has ended, the split of the current board before.
    pub(super) fn prizes(&self) -> Result<Reply> {
        let board = self.board.borrow();
        let Some(meta) = board.meta() else {
            return error(ErrorCode::CompetitionUnknown, "the object has not been told its competition");
        };
        let (is_final, prizes) = if board.is_final() {
            match self.final_prizes() {
                Ok(prizes) => (true, prizes),
                Err(e) => return storage_failure(&e),
            }
        } else {
            (false, finish::provisional_prizes(&board, meta))
        };
        Reply::json(&Prizes { prize_pool: meta.prize_pool, r#final: is_final, prizes })
    }

    /// The paid places of the stored final standings (none for cancelled ones), every one of them: members tied on a
    /// paid place share it, so a board of tied scores (`goal_days` counts days) can pay tens of thousands of members.
    /// Before, the first 10 000 were listed and the rest left out of the prizes route.
    pub(super) fn final_prizes(&self) -> std::result::Result<Vec<standings::protocol::PrizeEntry>, StoreError> {
        Ok(finish::paid(&self.store.final_results(0, None, true)?))
    }

    pub(super) fn snapshot(&self, user: Option<Uuid>) -> ServerFrame {
        let board = self.board.borrow();
        let top = board.page(1, SNAPSHOT_TOP);
        ServerFrame::Snapshot {
            seq: board.last_seq().unwrap_or(0),
            total: board.total(),
            entries: board_entries(&board, &top, &self.people_of(&top)).iter().map(PublicEntry::from).collect(),
            me: user.and_then(|u| board.standing(u)).map(|e| standing_of(&board, &e)),
        }
    }

    /// `Standing`: a member's rank and score.
    pub(super) fn read_standing(&self, user_id: Uuid) -> Result<Reply> {
        let board = self.board.borrow();
        match board.standing(user_id) {
            Some(entry) => Reply::json(&standing_of(&board, &entry)),
            None => error(ErrorCode::NotFound, "no score for this user"),
        }
    }

    /// `Page`: `limit` rows after `cursor`, unless the asker holds the page of the current sequence.
    pub(super) fn read_page(&self, limit: usize, cursor: Option<&str>, unless_seq: Option<u64>) -> Result<Reply> {
        let limit = limit.clamp(1, MAX_PAGE_LIMIT);
        let board = self.board.borrow();
        let seq = board.last_seq().unwrap_or(0);
        // Final standings take no new sequence when a member is renamed or deletes their account (no frame is sent
        // after `finished`), so a page held at the final sequence may show an old name: it is always sent again.
        if unless_seq == Some(seq) && !board.is_final() {
            return Reply::json(&PageAt { seq, page: None });
        }
        let entries = match cursor {
            Some(text) => match Cursor::decode(text) {
                Some(cursor) => board.page_after(cursor, limit),
                None => return error(ErrorCode::BadRequest, "malformed cursor"),
            },
            None => board.page(1, limit),
        };
        let next_cursor = match entries.last() {
            Some(last) if last.rank < board.total() => board.cursor_after(last).map(|c| c.encode()),
            _ => None,
        };
        let entries = board_entries(&board, &entries, &self.people_of(&entries));
        Reply::json(&PageAt { seq, page: Some(Page { total: board.total(), entries, next_cursor }) })
    }

    /// `Around`: a member's window of the board.
    pub(super) fn read_around(&self, user_id: Uuid, radius: u64) -> Result<Reply> {
        let radius = radius.min(MAX_AROUND);
        let board = self.board.borrow();
        let (Some(me), Some(window)) = (board.standing(user_id), board.around(user_id, radius)) else {
            return error(ErrorCode::NotFound, "no score for this user");
        };
        Reply::json(&Around {
            rank: me.rank,
            display_rank: board.display_rank(me.score),
            score: me.score,
            total: board.total(),
            percentile: percentile(me.rank, board.total()),
            entries: board_entries(&board, &window, &self.people_of(&window)),
        })
    }
}

/// Bytes of this instance's wasm memory (0 off wasm).
fn wasm_memory_bytes() -> u64 {
    #[cfg(target_arch = "wasm32")]
    return core::arch::wasm32::memory_size(0) as u64 * 65_536;
    #[cfg(not(target_arch = "wasm32"))]
    0
}
