//! The start of a fitness competition. Phones sync whether or not a competition is running, and a sync rescores only
//! the competitions that have started, so the days members stored before the start (today's steps, or a local day
//! that overlaps the window) would reach the board only with their next sync. The object knew its competition
//! before the start (a member joined), so its alarm at the start writes every member's total from their stored days.
//! An object that first hears of its competition after the start (every earlier join failed to reach it) writes them
//! at once: it holds no score yet, so nothing it writes can undo an earlier one.

use super::*;
use crate::read_ahead::ReadAhead;
use crate::system_of_record::TotalsRead;

/// How long after a failed read of the members' totals the start's alarm tries again.
const START_RETRY_MS: i64 = 10_000;

/// Why a totals pass stopped, and where the page it could not read starts (the `after` to read it again with).
pub(super) struct TotalsStopped {
    pub(super) reason: String,
    pub(super) at: Option<Uuid>,
}

impl Loaded {
    /// For a fitness competition that has not started yet: remembers that its members' totals are due at the start
    /// and sets the alarm for it. Told its competition for the `first` time after the start, before the end of its
    /// grace period, the object has no score yet and writes the totals now. An object that knew its competition
    /// leaves a running one to the syncs and joins (which score stored days themselves), so a deploy never rescores
    /// running competitions on its own (that would undo administrators' corrections).
    pub(super) async fn plan_start_totals(&self, meta: &CompetitionMeta, first: bool) -> Result<()> {
        let now = now_ms();
        let due_at = match meta.start_totals_due(first, now) {
            Some(at) => at,
            None => return Ok(()),
        };
        self.store.set_start_totals_due(true).map_err(storage_error)?;
        self.start_totals_at.set(Some(due_at));
        self.ensure_alarm_by(due_at).await
    }

    /// At the alarm: when the competition has started and its members' totals are due, writes each member's total
    /// computed from their stored days (a page of members at a time, from the system of record). The time this
    /// should run again, if any: the start when it is still ahead, or a retry after a failed read.
    pub(super) async fn write_start_totals(&self, now: i64) -> Option<i64> {
        let again = self.write_start_totals_once(now).await;
        // Operations retry no sooner than the alarm does (a database outage at the start must not cost each of them
        // a failed read).
        if self.start_totals_at.get().is_some() {
            self.start_totals_at.set(again);
        }
        again
    }

    async fn write_start_totals_once(&self, now: i64) -> Option<i64> {
        // The settings in memory first: a client competition's alarm (every outbox delivery) reads no flag.
        let meta = {
            let board = self.board.borrow();
            // Final (cancelled, or finalized already): the board no longer moves. An alarm that wakes after the grace
            // period writes the totals first and finalizes after (`run_alarm`), so the prizes pay on them.
            board.meta().filter(|meta| meta.fitness && !board.is_final()).cloned()
        }?;
        match self.store.start_totals_due() {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                worker::console_error!("start totals flag unreadable: {e}");
                return Some(now + START_RETRY_MS);
            }
        }
        if now < meta.starts_ms {
            return Some(meta.starts_ms);
        }
        let sink = match self.record_sink() {
            Ok(sink) => sink,
            Err(reason) => {
                worker::console_warn!("start totals not written yet, retrying: {reason}");
                return Some(now + START_RETRY_MS);
            }
        };
        let window = (meta.starts_ms, now);
        let from = self.start_totals_from.get();
        let outcome =
            self.write_days_totals(from, |after| sink.sink.days_totals(meta.competition_id, window, after, now)).await;
        if let Err(stopped) = outcome {
            // Pages already written stay (each total carries its days version); the retry goes on from the page that
            // failed. A member before it who syncs or joins meanwhile writes their own total.
            worker::console_warn!("start totals not written yet, retrying in {START_RETRY_MS} ms: {}", stopped.reason);
            self.start_totals_from.set(stopped.at);
            return Some(now + START_RETRY_MS);
        }
        self.start_totals_from.set(None);
        if let Err(e) = self.store.set_start_totals_due(false) {
            worker::console_error!("start totals written but not marked done (the next alarm writes them again): {e}");
        }
        None
    }

    /// Writes the members' totals from their stored days, page after page as `read_page` reads them (given where
    /// the page starts), from the page after `from` (`None`: the first), and sets the outbox alarm when the board
    /// changed. Stops at the first failed read, with its reason and where that page starts; pages already written
    /// stay (each total carries its days version).
    pub(super) async fn write_days_totals<'a>(
        &self,
        from: Option<Uuid>,
        read_page: impl Fn(Option<Uuid>) -> TotalsRead<'a>,
    ) -> std::result::Result<(), TotalsStopped> {
        let (mut after, mut changed) = (from, false);
        let mut reading = ReadAhead::start(read_page(after)).await;
        let outcome = loop {
            let page = match reading.finish().await {
                Ok(page) => page,
                Err(reason) => break Err(TotalsStopped { reason, at: after }),
            };
            // The next page's read goes out before this one is written: the database works while the object does.
            let ahead = match page.next {
                Some(next) => Some((next, ReadAhead::start(read_page(Some(next))).await)),
                None => None,
            };
            let (page_changed, sent) = self
                .fanout
                .in_one_pass(|| page.writes.iter().fold(false, |any, write| self.write_days_total(write) | any));
            changed |= page_changed;
            self.frames_sent(sent);
            match ahead {
                Some((next, read)) => (after, reading) = (Some(next), read),
                None => break Ok(()),
            }
        };
        if changed {
            if let Err(e) = self.schedule_outbox(OUTBOX_DELAY_MS).await {
                worker::console_error!("outbox alarm not set after totals from the stored days: {e}");
            }
        }
        outcome
    }

    /// One member's total from their stored days (at the start, or the end); whether the board changed. A member
    /// whose days count nothing yet joins the board with their first counted sync, as after a join. The system of
    /// record lists them as a member, so one the object never heard of (their join did not reach it) is put on the
    /// roster first.
    pub(super) fn write_days_total(&self, write: &ScoreWrite) -> bool {
        if u64::from(write.score) == 0 && self.board.borrow().standing(write.user_id).is_none() {
            return false;
        }
        let mut attempt = self.apply_write(write);
        if let Ok(Err(refused)) = &attempt {
            if refused.code == ErrorCode::NotAMember {
                attempt = match self.store.add_member(&write.user_id) {
                    Ok(()) => self.apply_write(write),
                    Err(e) => Ok(Err(storage_refusal(&e))),
                };
            }
        }
        match attempt {
            Ok(Ok((_, changed))) => changed,
            // Disqualified since, for instance: the board's rules decide, as for any write.
            Ok(Err(refused)) => {
                worker::console_warn!(
                    "total from the stored days of {} not written: {}",
                    write.user_id,
                    refused.message
                );
                false
            }
            Err(e) => {
                worker::console_error!("total from the stored days of {} not announced: {e}", write.user_id);
                false
            }
        }
    }
}
