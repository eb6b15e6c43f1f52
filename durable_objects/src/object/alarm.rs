//! The object's one alarm: the members' totals at a fitness competition's start, delivering the outbox and the final
//! standings to Postgres, finalizing at the end of the grace period, and closing sockets whose tokens expired.

use super::*;

/// How long a board read, a snapshot or a score write waits for the start's totals or the final check due before it
/// (`settle_within`): the database API's default budget for one call (`POSTGREST_TIMEOUT_MS`), so a competition whose
/// pass is one page of members waits for it as every operation does.
pub(super) const SETTLE_WAIT_MS: i64 = 5_000;

/// Members' final results read off the board and stored at a time (≈ 40 bytes each in memory).
const FINAL_CHUNK: usize = 10_000;

/// How soon such an operation looks again when the settling it spawned has not started yet.
const SETTLE_POLL_MS: u64 = 20;

impl Loaded {
    /// Makes sure the alarm that drains the outbox will run within `delay_ms`.
    pub(super) async fn schedule_outbox(&self, delay_ms: u64) -> Result<()> {
        let now = now_ms();
        crate::alarm_slot::ensure_alarm_by(&self.state, &self.alarm_at, now + delay_ms as i64, now).await
    }

    /// Makes sure the object's one alarm runs no later than `at_ms` (an earlier alarm already set is kept: every
    /// run works out everything that is due and sets the next).
    pub(super) async fn ensure_alarm_by(&self, at_ms: i64) -> Result<()> {
        crate::alarm_slot::ensure_alarm_by(&self.state, &self.alarm_at, at_ms, now_ms()).await
    }

    /// One alarm run: finalize the competition when it has ended, deliver outbox and final rows, and set the next
    /// alarm for whatever is still due. Alarms may run twice; every step is idempotent.
    pub(super) async fn run_alarm(&self) -> Result<()> {
        self.alarm_at.set(None);
        let now = now_ms();
        // First, as it needs no database: the steps below may wait on it for seconds.
        let expiry = self.close_expired_sockets(now);
        let mut due = {
            // After an operation's settling, if one is in flight (it may have done what is due here).
            let _running = self.settling.start().await;
            self.settle_start_and_end(now).await?
        };
        let (next_drain, delivered) = self.drain_outbox().await;
        if let Some(delay) = next_drain {
            due.push(now + delay as i64);
        }
        // With each delivery (at most one a second while scores move), or when a read of the board asked for it.
        if self.changes_wanted.replace(false) || delivered {
            if let Err(reason) = self.apply_member_changes(now).await {
                worker::console_warn!("member changes unread, reading them with the next delivery or read: {reason}");
            }
        }
        if let Some(delay) = self.deliver_final().await {
            due.push(now + delay as i64);
        }
        due.extend(expiry);
        if let Some(at) = due.into_iter().min() {
            self.ensure_alarm_by(at).await?;
        }
        Ok(())
    }

    /// What is due at `now` of the start and the end: the members' totals at a fitness competition's start, and once
    /// the grace period is over the totals checked against the stored days, the member changes and the final
    /// standings. The times when more of it will be due.
    async fn settle_start_and_end(&self, now: i64) -> Result<Vec<i64>> {
        let mut due: Vec<i64> = Vec::new();
        // Before finalizing: an alarm that wakes after the grace period still pays on the days stored before the start.
        due.extend(self.write_start_totals(now).await);
        let (final_ms, is_final) = {
            let board = self.board.borrow();
            (board.meta().map(CompetitionMeta::final_ms), board.is_final())
        };
        if let (Some(final_ms), false) = (final_ms, is_final) {
            if now < final_ms {
                due.push(final_ms);
            } else {
                let meta = self.board.borrow().meta().cloned();
                if let Some(meta) = meta {
                    self.write_final_totals(&meta).await;
                }
                // The standings become final on time even when the database cannot say who left: an outage of the
                // system of record delays history, never the end (DESIGN.md). A deletion read after that keeps
                // the member's rank and amount under `deleted player`, as `DELETE /api/v1/me` does after the end.
                if let Err(reason) = self.apply_member_changes(now).await {
                    worker::console_error!("standings final without the latest member changes: {reason}");
                }
                self.finalize()?;
            }
        }
        Ok(due)
    }

    /// Before an operation, what its time has brought: at a fitness competition's start the members' totals from
    /// their stored days, and once the grace period is over the final standings — even before the alarm (which may
    /// run late, and reads the database first) has done it. So a board read at the start shows what members walked
    /// before it (it waits at most `SETTLE_WAIT_MS`, through [`Self::settle_within`]); a client that sees the
    /// competition `finished` reads `final: true`; and an edit, a cancel, a disqualification or a deletion that
    /// arrives after the end meets final standings (409, or `deleted player` kept in place) as it would a moment
    /// later. The alarm's own steps, in its order; then the alarm is woken to
    /// deliver what they stored. One operation settles while those arriving meanwhile wait for it and look again
    /// (a busy competition's start must not cost a database read per request in flight).
    pub(super) async fn settle_if_due(&self) -> Result<()> {
        if !self.due_to_settle(now_ms()) {
            return Ok(());
        }
        let _running = self.settling.start().await;
        // Whoever settled before this turn may have done it all.
        let now = now_ms();
        if !self.due_to_settle(now) {
            return Ok(());
        }
        self.settle_start_and_end(now).await?;
        self.ensure_alarm_by(now).await
    }

    /// Like [`Self::settle_if_due`], for the operations that wait for the settling at most `wait_ms`: the settling
    /// runs on its own (started here when nobody has started it), so no such operation carries a pass that grows
    /// with the members, and each goes on with the board as it is once the settling is done or `wait_ms` have passed.
    pub(super) async fn settle_within(self: &Rc<Self>, wait_ms: i64) {
        let started = now_ms();
        loop {
            let now = now_ms();
            let left = wait_ms - (now - started);
            if !self.due_to_settle(now) || left <= 0 {
                return;
            }
            if !self.settling.is_busy() && !self.settle_spawned.replace(true) {
                let this = Rc::clone(self);
                wasm_bindgen_futures::spawn_local(async move {
                    // `settle_if_due` takes the settling at once when it is free: no operation runs in between.
                    this.settle_spawned.set(false);
                    if let Err(e) = this.settle_if_due().await {
                        worker::console_error!("start totals or final standings not settled (the alarm retries): {e}");
                    }
                });
            }
            if self.settling.is_busy() {
                // Woken when the run in flight ends: one timer and one wake per waiting operation, however long.
                let timeout = worker::Delay::from(std::time::Duration::from_millis(left as u64));
                futures_util::future::select(std::pin::pin!(self.settling.idle()), timeout).await;
            } else {
                // The settling spawned has not taken its turn yet.
                worker::Delay::from(std::time::Duration::from_millis(SETTLE_POLL_MS)).await;
            }
        }
    }

    /// Whether the start's totals or the final standings are due at `now` and not yet done.
    fn due_to_settle(&self, now: i64) -> bool {
        self.start_totals_at.get().is_some_and(|at| now >= at) || {
            let board = self.board.borrow();
            !board.is_final() && board.meta().is_some_and(|meta| now >= meta.final_ms())
        }
    }

    /// Stores every member's final rank, score and prize (once), and tells the subscribers. The results go to
    /// storage [`FINAL_CHUNK`] at a time, never all in memory at once (`finish::FinalStandings`).
    pub(super) fn finalize(&self) -> Result<()> {
        let (prizes, seq) = {
            let board = self.board.borrow();
            let Some(mut standings) = board.final_standings() else { return Ok(()) };
            let seq = board.last_seq().unwrap_or(0);
            let stored = loop {
                let chunk = standings.next_chunk(FINAL_CHUNK);
                if chunk.is_empty() {
                    break self.store.mark_finalized(seq);
                }
                if let Err(e) = self.store.insert_final_rows(&chunk) {
                    break Err(e);
                }
            };
            if let Err(e) = stored {
                worker::console_error!("final standings not stored, retrying at the next alarm: {e}");
                return Ok(());
            }
            (standings.paid(), seq)
        };
        self.board.borrow_mut().mark_final();
        let frame = ServerFrame::Finished { seq, prizes };
        self.announce_finished(seq, to_text(&frame)?);
        Ok(())
    }

    /// Writes the next batch of final results to the system of record; the delay before the next attempt, if any.
    pub(super) async fn deliver_final(&self) -> Option<u64> {
        if !self.board.borrow().is_final() {
            return None;
        }
        let after = self.store.final_delivered().ok()?;
        let batch = match self.store.final_results(after, Some(outbox::BATCH), false) {
            Ok(batch) if batch.is_empty() => return None,
            Ok(batch) => batch,
            Err(e) => {
                worker::console_error!("final results unreadable: {e}");
                return Some(outbox::BACKOFF_MAX_MS);
            }
        };
        let delivered = match self.record_sink() {
            Ok(sink) => sink.sink.deliver_final(sink.competition_id, &batch).await,
            Err(reason) => Err(DeliveryError::transient(reason)),
        };
        match delivered {
            Ok(()) => {
                let last = batch.last().map_or(after, |r| r.rank);
                if let Err(e) = self.store.set_final_delivered(last) {
                    worker::console_error!("final delivery mark not stored: {e}");
                }
                (batch.len() == outbox::BATCH).then_some(0)
            }
            Err(error) => {
                worker::console_warn!("final results delivery failed, retrying in 30 s: {error}");
                Some(30_000)
            }
        }
    }

    /// The system-of-record sink for this competition.
    pub(super) fn record_sink(&self) -> std::result::Result<CompetitionSink, String> {
        let competition_id =
            self.board.borrow().meta().map(|m| m.competition_id).ok_or("the competition is not known yet")?;
        Ok(CompetitionSink { competition_id, sink: worker_link::record_sink(&self.env)? })
    }

    /// Delivers one outbox batch; the delay before the next run, if one is needed, and whether rows were delivered.
    /// Draining is idempotent.
    pub(super) async fn drain_outbox(&self) -> (Option<u64>, bool) {
        let drained = match self.record_sink() {
            Ok(sink) => outbox::drain(&self.store, &sink).await,
            Err(reason) => outbox::drain(&self.store, &Undeliverable(reason)).await,
        };
        // The last batch of a backlog only: the member changes are read once for it.
        let delivered = matches!(drained, Ok(Drained::Delivered { more: false, .. }));
        let next = match drained {
            Ok(Drained::Empty) => None,
            Ok(Drained::Delivered { more: true, .. }) => Some(0),
            // Rows accepted while the batch was in flight wait for the next run.
            Ok(Drained::Delivered { more: false, .. }) => {
                self.store.outbox_len().ok().filter(|&n| n > 0).map(|_| OUTBOX_DELAY_MS)
            }
            Ok(Drained::Failed { retry_in_ms, error }) => {
                worker::console_warn!("outbox delivery failed, retrying in {retry_in_ms} ms: {error}");
                Some(retry_in_ms)
            }
            Ok(Drained::Narrowed { to, error }) => {
                worker::console_warn!(
                    "outbox batch refused for good, looking for the refused row ({to} rows): {error}"
                );
                Some(0)
            }
            Ok(Drained::DeadLettered { seq, error }) => {
                worker::console_error!("outbox row {seq} refused for good, set aside as a dead letter: {error}");
                worker_link::add_metric(ObjectMetric::OutboxDeadLetters, 1.0);
                Some(0)
            }
            Err(e) => {
                worker::console_error!("outbox storage failure: {e}");
                Some(outbox::BACKOFF_MAX_MS)
            }
        };
        (next, delivered)
    }
}
