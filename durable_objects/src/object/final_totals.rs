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
        let last_moment = meta.final_ms() - 1;
        let outcome = match self.record_sink() {
            Ok(sink) => {
                let read = |after| sink.sink.current_totals(meta.competition_id, after, last_moment);
                self.write_days_totals(None, read).await.map_err(|stopped| stopped.reason)
            }
            Err(reason) => Err(reason),
        };
        if let Err(reason) = outcome {
            worker::console_error!("standings final without checking them against the stored days: {reason}");
        }
    }
}
