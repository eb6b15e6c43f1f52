//! What happened to members' accounts in the system of record, however it happened. The Worker tells each object of
//! the changes it makes (`Forget` for `DELETE /api/v1/me`, `SetPerson` for a rename or a new avatar), but an account
//! deleted in Supabase itself (the dashboard, the Auth admin API), a rename written straight through the database API
//! (a user's one direct write), or an object the Worker could not reach, would leave the board showing an old name —
//! or a deleted member who is paid at the end. The system of record numbers every such change per competition
//! (`member_changes`); the object reads its competition's after the last one it applied and applies each: the name
//! and avatar as they are now (`SetPerson`'s rule: the newest version wins, an update frame), or, for a deleted
//! account, what `Forget` does (off a board that still moves; `deleted player`, rank and amount kept, on final
//! standings).
//!
//! It reads them after each outbox delivery (at most once a second while scores move), when its board is read and
//! the last check is older than [`CHECK_EVERY_MS`] (through the alarm, so a read never waits for the database; final
//! standings included), and before its standings become final.

use super::*;

/// How stale the object's view of its members' accounts may get while its board is read.
pub(super) const CHECK_EVERY_MS: i64 = 5_000;

impl Loaded {
    /// Applies every change the system of record lists. Each read names the changes the last one brought and this
    /// object applied, which the system of record then deletes; what it lists is whatever is left, so a change whose
    /// transaction committed after a later-numbered one was read is applied at the next read, not skipped (a cursor
    /// on the numbers passed it). Applying a change again is harmless, so a lost acknowledgement costs nothing.
    /// `Err` with the reason when the list could not be read or a change not applied (what was applied before stays
    /// applied).
    pub(super) async fn apply_member_changes(&self, now: i64) -> std::result::Result<(), String> {
        self.changes_checked_at.set(now);
        let sink = self.record_sink()?;
        let mut done = self.store.member_changes_done().map_err(|e| e.to_string())?;
        loop {
            let page = sink.sink.member_changes(sink.competition_id, done.clone()).await?;
            if let Some(again) = page.iter().find(|change| done.contains(&change.id)) {
                return Err(format!("member change {} listed again after it was applied", again.id));
            }
            let applied: Vec<i64> = page.iter().map(|change| change.id).collect();
            for change in page {
                let outcome = match change.person {
                    Some(person) => self.apply_person(person),
                    None => self.forget_member(change.user_id),
                };
                if outcome.is_err() {
                    return Err(format!("change {} of member {} not applied (storage)", change.id, change.user_id));
                }
            }
            // The ones named before are deleted there now; these are the ones to name next time.
            if !(applied.is_empty() && done.is_empty()) {
                self.store.set_member_changes_done(&applied).map_err(|e| e.to_string())?;
            }
            if applied.is_empty() {
                return Ok(());
            }
            done = applied;
        }
    }

    /// After a read of the board: asks the alarm to read the member changes when the last check is older than
    /// [`CHECK_EVERY_MS`] and none is asked for yet (never for an object not told its competition: a read of an
    /// unknown id has nobody to check, and sets no alarm). Final standings are checked too: an account deleted in
    /// Supabase after the end must show as `deleted player` there, and no delivery after the end reads them.
    pub(super) async fn check_member_changes_after_read(&self) {
        let now = now_ms();
        let due = {
            let board = self.board.borrow();
            board.meta().is_some()
                && !self.changes_wanted.get()
                && now - self.changes_checked_at.get() >= CHECK_EVERY_MS
        };
        if !due {
            return;
        }
        self.changes_wanted.set(true);
        if let Err(e) = self.ensure_alarm_by(now).await {
            self.changes_wanted.set(false);
            worker::console_warn!("member changes not checked after a read: {e}");
        }
    }
}
