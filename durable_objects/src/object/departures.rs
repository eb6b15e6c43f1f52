//! Accounts deleted round the Worker. `DELETE /api/v1/me` tells each object to forget the user (`Forget`), but an
//! account deleted in Supabase itself (the dashboard, the Auth admin API), or an object that deletion could not reach,
//! would keep the member on the board and pay them at the end. The system of record numbers every deleted account's
//! memberships (`account_departures`); the object reads its competition's after the last one it applied — after each
//! outbox delivery, and before its standings become final — and forgets those members as `Forget` does: off a board
//! that still moves, under `deleted player` (rank and amount kept) on final standings.

use super::*;

impl Loaded {
    /// Forgets every member the system of record lists as deleted since the last departure applied. `Err` with the
    /// reason when the list could not be read or a member not forgotten (what was applied before stays applied).
    pub(super) async fn apply_departures(&self) -> std::result::Result<(), String> {
        let sink = self.record_sink()?;
        let mut after = self.store.departures_applied().map_err(|e| e.to_string())?;
        loop {
            let page = sink.sink.departures(sink.competition_id, after).await?;
            let Some(last) = page.last().map(|d| d.id) else { return Ok(()) };
            if last <= after {
                return Err(format!("departures listed again after {after}"));
            }
            for departure in &page {
                if self.forget_member(departure.user_id).is_err() {
                    return Err(format!("deleted account {} not forgotten (storage)", departure.user_id));
                }
            }
            self.store.set_departures_applied(last).map_err(|e| e.to_string())?;
            after = last;
        }
    }
}
