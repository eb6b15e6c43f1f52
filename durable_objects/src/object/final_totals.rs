//! The end of a fitness competition. A sync stores the member's days, then writes the new total to the object; when
//! that call fails (the object unreachable for a moment, a deploy's switch-over) the board keeps the older total
//! until the member syncs again, and a member whose last sync before the end was such a sync would be paid on the
//! older one. So just before the standings become final the object reads every member's total from their stored
//! days, as the competition counted them at its last moment, and takes those newer than its own (by days version).
//! Totals it has stand, and so do administrators' corrections (the system of record leaves corrected members out).

use super::*;

impl Loaded {
    /// Writes the members' totals from the system of record that are newer than the board's, dated the last moment
    /// the standings move. A failed read is logged and the standings become final without it: an outage of the
    /// system of record delays history, never the end (DESIGN.md).
    pub(super) async fn write_final_totals(&self, meta: &CompetitionMeta) {
        if !meta.fitness {
            return;
        }
        let sink = match self.record_sink() {
            Ok(sink) => sink,
            Err(reason) => {
                worker::console_error!("standings final without checking them against the stored days: {reason}");
                return;
            }
        };
        let last_moment = meta.final_ms() - 1;
        let (mut after, mut changed) = (None, false);
        loop {
            let page = match sink.sink.current_totals(meta.competition_id, after, last_moment).await {
                Ok(page) => page,
                Err(reason) => {
                    // Pages already written stay: each total carries its days version.
                    worker::console_error!("standings final without checking them against the stored days: {reason}");
                    break;
                }
            };
            for write in &page.writes {
                changed |= self.write_days_total(write);
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        if changed {
            if let Err(e) = self.schedule_outbox(OUTBOX_DELAY_MS).await {
                worker::console_error!("outbox alarm not set after the final totals: {e}");
            }
        }
    }
}
