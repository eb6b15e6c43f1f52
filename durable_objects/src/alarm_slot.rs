//! An object's one alarm, shared by everything that needs it (outbox delivery, finalizing, socket expiry): set it no
//! later than a time, remembering when it is set for so most calls need no storage read.

use std::cell::Cell;
use std::time::Duration;

use worker::{Result, State};

/// The furthest ahead an alarm is set. workerd refuses later times ("This API doesn't support dates after 2189")
/// and a competition may end in 9999; an alarm that runs before its work is due just sets the next one.
const FURTHEST_AHEAD_MS: i64 = 10 * 365 * 86_400_000;

/// When to set an alarm wanted at `at_ms`: then, or `FURTHEST_AHEAD_MS` after `now_ms` when that is sooner.
fn settable(at_ms: i64, now_ms: i64) -> i64 {
    at_ms.min(now_ms.saturating_add(FURTHEST_AHEAD_MS))
}

/// Makes sure an object's one alarm runs by `at_ms`: `alarm_at` is when it is known to be set for (`None`: unknown,
/// read it from storage), kept current here.
pub async fn ensure_alarm_by(state: &State, alarm_at: &Cell<Option<i64>>, at_ms: i64, now_ms: i64) -> Result<()> {
    let at_ms = settable(at_ms, now_ms);
    let current = match alarm_at.get() {
        Some(at) => Some(at),
        None => state.storage().get_alarm().await?,
    };
    if current.is_some_and(|at| at <= at_ms) {
        alarm_at.set(current);
        return Ok(());
    }
    let delay = (at_ms - now_ms).max(0);
    state.storage().set_alarm(Duration::from_millis(delay as u64)).await?;
    alarm_at.set(Some(at_ms));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alarm_is_set_at_most_ten_years_ahead() {
        let now = 1_795_996_800_000; // 2026-11-30T00:00:00Z
        let year_9999 = 253_402_300_799_000;
        let cases = [
            (now, now),
            (now + 60_000, now + 60_000),
            (year_9999, now + FURTHEST_AHEAD_MS),
            (i64::MAX, now + FURTHEST_AHEAD_MS),
        ];
        for (wanted, set) in cases {
            assert_eq!(settable(wanted, now), set, "wanted {wanted}");
        }
        // 2189-01-01T00:00:00Z: still refused by workerd's check, so the horizon must keep alarms well before it.
        assert!(now + FURTHEST_AHEAD_MS < 6_911_049_600_000);
    }
}
