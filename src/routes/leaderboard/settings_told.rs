//! Telling a competition's object its settings once per isolate, from the row a route has just read.
//!
//! An object hears of its competition from joins, scores and edits. One that never did (nobody joined, or every
//! join's call to it failed) set no alarm: its sockets waited for an end no alarm was set for, and its board never
//! got the members' totals at a fitness competition's start, however often it was read. So every route that looks
//! the competition up (`require_competition`: boards, standings, prizes, scores, the live route, the administrators'
//! routes) tells its object once. The object keeps settings newer than these (`supersedes`), so telling it again,
//! or from a row an isolate cached before an edit, is harmless; once per competition and isolate an hour keeps the
//! call off every later request's path. A failure leaves the request served as before.

use std::cell::RefCell;

use uuid::Uuid;

use crate::adapters::rows::CompetitionRow;
use crate::isolate_cache::TtlCache;
use crate::runtime::RequestContext;

thread_local! {
    /// Competitions whose object this isolate has told its settings (an hour, then once more).
    static TOLD: RefCell<TtlCache<Uuid, ()>> = RefCell::new(TtlCache::new(60 * 60 * 1_000, 10_000));
}

/// Tells the competition's object its settings as `row` holds them, unless this isolate did within the hour.
pub async fn tell_settings_once(ctx: &RequestContext<'_>, row: &CompetitionRow) {
    if TOLD.with(|told| told.borrow().get(&row.id, ctx.now_ms)).is_some() {
        return;
    }
    let told = match ctx.competition(&row.id) {
        Ok(client) => crate::scoring::tell_settings(&client, row).await,
        Err(error) => Err(error),
    };
    match told {
        Ok(()) => TOLD.with(|told| told.borrow_mut().put(row.id, (), ctx.now_ms)),
        Err(error) => worker::console_warn!("competition {} not told its settings: {error}", row.id),
    }
}
