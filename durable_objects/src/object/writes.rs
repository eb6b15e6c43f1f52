//! Requests that change the competition: score writes, settings, roster, names, cancellation, disqualification,
//! deleted accounts and repairs. Each stores first, then changes the board and announces the change.

use super::*;

impl Loaded {
    /// `ChangeSettings`: an administrator's edit of a competition that is not final: stored, the alarm moved to the
    /// new end (an alarm set for an older end finds nothing due and sets the right one), and a `changed` frame.
    pub(super) async fn change_settings(&self, settings: Settings) -> Result<Reply> {
        if self.board.borrow().is_final() {
            return error(ErrorCode::Conflict, "the standings are final");
        }
        let meta = settings.meta;
        if !meta.is_sound() {
            return error(ErrorCode::BadRequest, "competition settings break the schema's rules");
        }
        if !meta.supersedes(self.board.borrow().meta()) {
            // A later edit reached the object first: these settings are already replaced, and so is their frame.
            return Reply::json(&Announced { seq: self.board.borrow().last_seq().unwrap_or(0) });
        }
        let seq = {
            if let Err(e) = self.store.save_meta(&meta) {
                return storage_failure(&e);
            }
            match self.board.borrow_mut().leaderboard_mut().take_seq() {
                Ok(seq) => seq,
                Err(e) => return error(ErrorCode::Internal, e.to_string()),
            }
        };
        let final_ms = meta.final_ms();
        self.plan_start_totals(&meta, false).await?;
        self.board.borrow_mut().set_meta(meta);
        self.publish(seq, &ServerFrame::Changed { seq, competition: settings.competition })?;
        self.ensure_alarm_by(final_ms).await?;
        Reply::json(&Announced { seq })
    }

    /// `Cancel`: the competition is called off: final at once with no results (writes refused, prizes final
    /// and empty) and a `finished` frame without prizes. Idempotent; 409 when it already ended by itself
    /// (`standings::finish::cancel_outcome`).
    pub(super) fn cancel(&self) -> Result<Reply> {
        let finalized = self.board.borrow().is_final();
        // What the object stored matters only for standings already final.
        let stored = if finalized {
            self.store.cancelled().and_then(|cancelled| Ok((cancelled, self.store.final_count()?)))
        } else {
            Ok((false, 0))
        };
        let (cancelled, results) = match stored {
            Ok(stored) => stored,
            Err(e) => return storage_failure(&e),
        };
        let final_ms = self.board.borrow().meta().map_or(i64::MIN, CompetitionMeta::final_ms);
        let seq = self.board.borrow().last_seq().unwrap_or(0);
        match finish::cancel_outcome(finalized, cancelled, results, now_ms(), final_ms) {
            CancelOutcome::AlreadyFinal => return error(ErrorCode::Conflict, "the standings are final"),
            CancelOutcome::AlreadyCancelled => return Reply::json(&Announced { seq }),
            CancelOutcome::Cancel => {}
        }
        if let Err(e) = self.store.save_cancelled(seq) {
            return storage_failure(&e);
        }
        self.board.borrow_mut().mark_final();
        self.announce_finished(seq, to_text(&ServerFrame::Finished { seq, prizes: Vec::new() })?);
        Reply::json(&Announced { seq })
    }

    /// `Disqualify`: the member leaves the board at once (everyone behind moves up), stays off it across
    /// restarts, and may post no more scores; subscribers get a `removed` frame. Idempotent; 409 once final.
    pub(super) fn disqualify(&self, order: Disqualify) -> Result<Reply> {
        if self.board.borrow().is_final() {
            return error(ErrorCode::Conflict, "the standings are final");
        }
        // Stored first: a failed write changes nothing.
        if let Err(e) = self.store.disqualify(&order.user_id, &order.reason) {
            return storage_failure(&e);
        }
        if let Err(response) = self.take_off_board(order.user_id) {
            return response;
        }
        let board = self.board.borrow();
        Reply::json(&Disqualified { seq: board.last_seq().unwrap_or(0), total: board.total() })
    }

    /// Removes a member whose removal is stored from the in-memory board (everyone behind moves up) and announces it
    /// with a `removed` frame; nothing when they had no score.
    pub(super) fn take_off_board(&self, user: Uuid) -> std::result::Result<(), Result<Reply>> {
        let removed = self.board.borrow_mut().take_off(user);
        let (seq, total) = match removed {
            Ok(Some(removed)) => removed,
            Ok(None) => return Ok(()),
            Err(e) => return Err(error(ErrorCode::Internal, e.describe().1)),
        };
        self.publish(seq, &ServerFrame::Removed { seq, user_id: user, total }).map_err(Err)
    }

    /// `Forget`: a member deleted their account. A board that still moves drops them at once (a `removed`
    /// frame; everyone behind moves up); final standings keep their rank and amount under `deleted player`.
    pub(super) fn forget(&self, order: Forget) -> Result<Reply> {
        if let Err(response) = self.forget_member(order.user_id) {
            return response;
        }
        Reply::json(&Announced { seq: self.board.borrow().last_seq().unwrap_or(0) })
    }

    /// What `Forget` does, for it and for the deleted accounts the system of record lists (`object::member_changes`).
    pub(super) fn forget_member(&self, user: Uuid) -> std::result::Result<(), Result<Reply>> {
        let moving = !self.board.borrow().is_final();
        // Stored first: a failed write changes nothing.
        if let Err(e) = self.store.forget(&user, moving) {
            return Err(storage_failure(&e));
        }
        if moving {
            self.take_off_board(user)?;
        }
        Ok(())
    }

    /// `Repair`: drops a stored member row the board could not load.
    pub(super) fn repair(&self, repair: Repair) -> Result<Reply> {
        if !self.corrupt_rows.borrow().iter().any(|row| row.key == repair.key) {
            // Sound members leave a board only through the product's own rules, never through a repair.
            return error(ErrorCode::NotFound, "no corrupt stored row has this key");
        }
        if let Err(e) = self.store.drop_member(&repair.key) {
            return storage_failure(&e);
        }
        self.corrupt_rows.borrow_mut().retain(|row| row.key != repair.key);
        self.stats()
    }

    /// `WriteScore`: admitted by the board's rules, stored, then announced.
    pub(super) async fn write_score(&self, write: ScoreWrite) -> Result<Reply> {
        match self.apply_write(&write)? {
            Ok((reply, changed)) => {
                if changed {
                    self.schedule_outbox(OUTBOX_DELAY_MS).await?;
                }
                Reply::json(&reply)
            }
            Err(refused) => error(refused.code, refused.message),
        }
    }

    /// `WriteScores`: each write as `WriteScore` does it, in order, with one outbox schedule for the batch (a page
    /// of members rescored after the competition's end moved: one call instead of one per member).
    pub(super) async fn write_scores(&self, writes: Vec<ScoreWrite>) -> Result<Reply> {
        if writes.len() > MAX_BATCH_WRITES {
            return error(ErrorCode::BadRequest, format!("at most {MAX_BATCH_WRITES} writes a batch"));
        }
        let (applied, sent) = self.fanout.in_one_pass(|| {
            let mut outcomes = Vec::with_capacity(writes.len());
            let mut changed = false;
            for write in &writes {
                outcomes.push(match self.apply_write(write)? {
                    Ok((reply, moved)) => {
                        changed |= moved;
                        WriteOutcome::Written(reply)
                    }
                    Err(refused) => WriteOutcome::Refused(refused),
                });
            }
            Ok::<_, worker::Error>((outcomes, changed))
        });
        self.frames_sent(sent);
        let (outcomes, changed) = applied?;
        if changed {
            self.schedule_outbox(OUTBOX_DELAY_MS).await?;
        }
        Reply::json(&outcomes)
    }

    /// One write admitted by the board's rules, stored, then announced: the writer's standing and whether the board
    /// changed, or why it was refused.
    pub(super) fn apply_write(
        &self,
        write: &ScoreWrite,
    ) -> Result<std::result::Result<(ScoreWriteReply, bool), ObjectError>> {
        let written = self.board.borrow_mut().write(&self.store, write);
        let Written { change, stored, display_rank } = match written {
            Ok(written) => written,
            Err(WriteError::Refused(refusal)) => {
                let (code, message) = refusal.describe();
                return Ok(Err(ObjectError { code, message }));
            }
            Err(WriteError::Storage(e)) => return Ok(Err(storage_refusal(&e))),
        };
        if change.changed {
            let frame = ServerFrame::Update(UpdateFrame {
                seq: change.seq,
                user_id: write.user_id,
                display_name: self.display_name_of(write.user_id),
                score: write.score,
                rank: change.rank,
                display_rank,
                previous_rank: change.previous_rank,
                total: change.total,
            });
            self.publish(change.seq, &frame)?;
        }
        let reply = ScoreWriteReply {
            competition_id: write.competition_id,
            user_id: write.user_id,
            score: stored,
            rank: change.rank,
            display_rank,
            previous_rank: change.previous_rank,
            total: change.total,
            seq: self.board.borrow().last_seq().unwrap_or(0),
        };
        Ok(Ok((reply, change.changed)))
    }

    /// `SetMeta`: stores the competition's settings.
    pub(super) async fn set_meta(&self, meta: CompetitionMeta) -> Result<Reply> {
        if !meta.is_sound() {
            return error(ErrorCode::BadRequest, "competition settings break the schema's rules");
        }
        if !meta.supersedes(self.board.borrow().meta()) {
            // Read before an edit the object already has (a join's read racing an administrator's PATCH).
            return Reply::empty();
        }
        if let Err(e) = self.store.save_meta(&meta) {
            return storage_failure(&e);
        }
        let first = self.board.borrow().meta().is_none();
        let final_ms = meta.final_ms();
        self.plan_start_totals(&meta, first).await?;
        self.board.borrow_mut().set_meta(meta);
        if !self.board.borrow().is_final() {
            // The alarm at the end of the grace period (ends_at for client competitions) stores the final standings.
            self.ensure_alarm_by(final_ms).await?;
        }
        Reply::empty()
    }

    /// `AddMember`: a user joined (with their name and avatar when the Worker sends them). A join again of a member
    /// already on the board may bring a newer name than the board shows (a rename made round the Worker): it is
    /// applied as `SetPerson` applies one, with an `update` frame, so cached pages (held by the board's sequence) and
    /// sockets show it. Stored without a frame, it stayed off both until the board next changed, and the rename's
    /// own announcement then found nothing new.
    pub(super) fn add_member(&self, member: RosterAdd) -> Result<Reply> {
        if let Err(e) = self.store.add_member(&member.user_id) {
            return storage_failure(&e);
        }
        match member.person.filter(|p| p.user_id == member.user_id).map(|p| self.apply_person(p)) {
            Some(Err(response)) => response,
            _ => Reply::empty(),
        }
    }

    /// `SetPerson`: a member's new name or avatar. A member on a board that still moves gets an `update` frame
    /// with the new name (score and rank unchanged), whose `seq` the Worker versions cached pages by; the reply is the
    /// competition's sequence after it.
    pub(super) fn set_person(&self, person: Person) -> Result<Reply> {
        if let Err(response) = self.apply_person(person) {
            return response;
        }
        Reply::json(&Announced { seq: self.board.borrow().last_seq().unwrap_or(0) })
    }

    /// What `SetPerson` does, for it and for the renames the system of record lists (`object::member_changes`).
    pub(super) fn apply_person(&self, person: Person) -> std::result::Result<(), Result<Reply>> {
        let saved = match self.store.save_person(&person) {
            Ok(saved) => saved,
            Err(e) => return Err(storage_failure(&e)),
        };
        // An older change than the one shown (or a deleted member) changes nothing, and sends no frame.
        let moving = saved && !self.board.borrow().is_final();
        let standing = if moving { self.board.borrow().standing(person.user_id) } else { None };
        if let Some(entry) = standing {
            let (seq, display_rank, total) = {
                let mut board = self.board.borrow_mut();
                match board.leaderboard_mut().take_seq() {
                    Ok(seq) => (seq, board.display_rank(entry.score), board.total()),
                    Err(e) => return Err(error(ErrorCode::Internal, e.to_string())),
                }
            };
            let frame = ServerFrame::Update(UpdateFrame {
                seq,
                user_id: person.user_id,
                display_name: person.display_name,
                score: entry.score,
                rank: entry.rank,
                display_rank,
                previous_rank: Some(entry.rank),
                total,
            });
            self.publish(seq, &frame).map_err(Err)?;
        }
        Ok(())
    }

    /// A member's current display name (the contract's default when the object was never told it).
    pub(super) fn display_name_of(&self, user: Uuid) -> String {
        match self.store.display_name(&user) {
            Ok(name) => name,
            Err(e) => {
                worker::console_error!("name unavailable for an update frame: {e}");
                None
            }
        }
        .unwrap_or_else(|| protocol::default_display_name(&user))
    }

    /// `RetryOutbox`: the dead letters go back into the outbox and the alarm delivers them.
    pub(super) async fn retry_dead_letters(&self) -> Result<Reply> {
        let moved = match self.store.retry_dead_letters() {
            Ok(moved) => moved,
            Err(e) => return storage_failure(&e),
        };
        if moved > 0 {
            worker_link::add_metric(ObjectMetric::OutboxDeadLetters, -(moved as f64));
            if let Err(e) = self.store.set_failures(0) {
                return storage_failure(&e);
            }
            self.schedule_outbox(0).await?;
        }
        Reply::json(&OutboxRetried { retried: moved })
    }
}
