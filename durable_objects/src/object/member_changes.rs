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
    /// Applies every change the system of record lists since the last one applied. `Err` with the reason when the
    /// list could not be read or a change not applied (what was applied before stays applied).
    pub(super) async fn apply_member_changes(&self, now: i64) -> std::result::Result<(), String> {
        self.changes_checked_at.set(now);
        let sink = self.record_sink()?;
        let mut after = self.store.member_changes_applied().map_err(|e| e.to_string())?;
        loop {
            let page = sink.sink.member_changes(sink.competition_id, after).await?;
            let Some(last) = page.last().map(|change| change.id) else { return Ok(()) };
            if last <= after {
                return Err(format!("member changes listed again after {after}"));
            }
            for change in page {
                let applied = match change.person {
                    Some(person) => self.apply_person(person),
                    None => self.forget_member(change.user_id),
                };
                if applied.is_err() {
                    return Err(format!("change {} of member {} not applied (storage)", change.id, change.user_id));
                }
            }
            self.store.set_member_changes_applied(last).map_err(|e| e.to_string())?;
            after = last;
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
