//! An object's one alarm, shared by everything that needs it (outbox delivery, finalizing, socket expiry): set it no
//! later than a time, remembering when it is set for so most calls need no storage read.

use std::cell::Cell;
use std::time::Duration;

use worker::{Result, State};

/// Makes sure an object's one alarm runs by `at_ms`: `alarm_at` is when it is known to be set for (`None`: unknown,
/// read it from storage), kept current here.
pub async fn ensure_alarm_by(state: &State, alarm_at: &Cell<Option<i64>>, at_ms: i64, now_ms: i64) -> Result<()> {
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
