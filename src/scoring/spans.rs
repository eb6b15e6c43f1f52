//! Rescoring the members of a span a competition's moved end left (`competitions.rescore_from`/`rescore_to`): a page
//! of members at a time, at most `RESCORE_PAGES_PER_CALL` pages an invocation, going on where an earlier rescore of
//! the same span stopped (`rescore_after`) and recording how far it got.

use uuid::Uuid;

use super::{page_totals, write_batch};
use crate::adapters::rows::CompetitionRow;
use crate::error::ApiError;
use crate::runtime::RequestContext;

/// Members rescored per database call (and written per object call) after a competition's end moved: the most the
/// database function gives a page (200) and the object takes a batch, so a moved end makes as few subrequests as it
/// can.
const RESCORE_PAGE: usize = standings::requests::MAX_BATCH_WRITES;

/// How much of a span one invocation rescores: a page of members costs a database call and an object call, and an
/// invocation may make only so many subrequests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RescoreBudget {
    /// Pages read at most (at least 1).
    pub pages: usize,
    /// Members a page.
    pub page_size: usize,
}

impl RescoreBudget {
    /// This budget `shares` times over (the cron trigger gives a competition the shares of the slots of its run that
    /// no other competition takes).
    pub fn times(self, shares: usize) -> RescoreBudget {
        RescoreBudget { pages: self.pages.saturating_mul(shares.max(1)), ..self }
    }
}

/// How far a rescore of a span got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RescoreProgress {
    /// Members whose total was written.
    pub written: usize,
    /// The last member read when the budget ran out before the span's last page; `None` when the span is done.
    pub stopped_after: Option<Uuid>,
}

/// Rescores, a page at a time, the members of the fitness competition with a stored day that an end moved between
/// `from` and `to` (RFC 3339) may count differently, from the first member after `after` (in user-id order) on, and
/// writes the new totals to its object, one call per page, until the span or `budget` runs out. Run after Postgres
/// holds the new end: each member's days version is raised as the page is read, so a sync that computed a total with
/// the old end cannot overwrite this one.
async fn rescore_members(
    ctx: &RequestContext<'_>,
    competition_id: &Uuid,
    (from, to): (&str, &str),
    after: Option<Uuid>,
    budget: RescoreBudget,
) -> Result<RescoreProgress, ApiError> {
    let database = &ctx.database();
    let read = |after: Option<Uuid>| async move {
        database.rescore_members(competition_id, (from, to), after.as_ref(), budget.page_size).await
    };
    let (mut page, mut written, mut pages) = (read(after).await?, 0, 1);
    loop {
        let writes = page_totals(competition_id, &page.members, ctx.now_ms);
        let next = match page.next.take() {
            Some(next) if pages < budget.pages => next,
            stopped_after => {
                let written = written + write_batch(ctx, competition_id, writes).await?;
                return Ok(RescoreProgress { written, stopped_after });
            }
        };
        // The next page is read while this one is written: the database and the object work at the same time. A
        // failed write leaves the page read ahead with raised versions and old totals, as a failed write leaves its
        // own page: each member's next sync writes theirs (and the span stays pending for the next rescore).
        let (ahead, wrote) =
            futures_util::future::join(read(Some(next)), write_batch(ctx, competition_id, writes)).await;
        written += wrote?;
        page = ahead?;
        pages += 1;
    }
}

/// Rescores the members of `span` (see [`rescore_members`]) of the competition `row` holds (as read before the
/// rescore), going on where an earlier rescore of the same pending span stopped, and records how far it got: a span
/// done is cleared from the row, one the budget stopped keeps where to go on from. A span left pending (the recording
/// failed, or another move of the end changed the settings meanwhile) is rescored again by the next `PATCH`, the
/// operator's rescore route or the cron trigger: rescoring a member twice writes the same total.
pub async fn rescore_span(
    ctx: &RequestContext<'_>,
    row: &CompetitionRow,
    span: (&str, &str),
) -> Result<RescoreProgress, ApiError> {
    rescore_span_within(ctx, row, span, budget(ctx, &row.id)).await
}

/// [`rescore_span`] within `budget` instead of the configured one.
pub async fn rescore_span_within(
    ctx: &RequestContext<'_>,
    row: &CompetitionRow,
    span: (&str, &str),
    budget: RescoreBudget,
) -> Result<RescoreProgress, ApiError> {
    let pending = row.pending_rescore();
    let after = if pending.is_some_and(|pending| same_span(pending, span)) { row.rescore_after } else { None };
    let progress = rescore_members(ctx, &row.id, span, after, budget).await?;
    if pending.is_none() && progress.stopped_after.is_none() {
        return Ok(progress);
    }
    let recorded =
        ctx.database().rescore_progress(&row.id, span, row.settings_version, progress.stopped_after.as_ref()).await;
    match (recorded, progress.stopped_after) {
        (Ok(_), None) => {}
        (Ok(recorded), Some(last)) => worker::console_log!(
            "competition {}: rescore of {span:?} stopped after {} members (last {last}){}",
            row.id,
            progress.written,
            if recorded { "; the next one goes on from there" } else { "; not recorded: the row changed meanwhile" }
        ),
        (Err(error), None) => {
            worker::console_warn!("competition {}: rescore of {span:?} done but still marked pending: {error}", row.id)
        }
        // Unrecorded, the rest of the span would be left to nobody (an operator's rescore of the whole window has
        // no pending span behind it): the caller hears of it.
        (Err(error), Some(_)) => return Err(error.into()),
    }
    Ok(progress)
}

/// The budget of a rescore of `competition_id` in this invocation (`RESCORE_PAGES_PER_CALL`; test builds may set one
/// per competition).
pub fn budget(ctx: &RequestContext<'_>, competition_id: &Uuid) -> RescoreBudget {
    #[cfg(feature = "test-routes")]
    if let Some(budget) = test_budget::get(competition_id) {
        return budget;
    }
    let _ = competition_id;
    RescoreBudget { pages: ctx.services.config.rescore_pages_per_call as usize, page_size: RESCORE_PAGE }
}

/// Test builds only: a competition's rescore budget, set by `POST /__test/competitions/{id}/rescore_budget` (a span
/// longer than the configured budget would need thousands of members).
#[cfg(feature = "test-routes")]
pub mod test_budget {
    use super::RescoreBudget;
    use std::cell::RefCell;
    use std::collections::HashMap;
    use uuid::Uuid;

    thread_local! {
        static BUDGETS: RefCell<HashMap<Uuid, RescoreBudget>> = RefCell::new(HashMap::new());
    }

    /// From now on this isolate rescores `competition_id` within `budget` (`None`: the configured one again).
    pub fn set(competition_id: Uuid, budget: Option<RescoreBudget>) {
        BUDGETS.with(|budgets| match budget {
            Some(budget) => budgets.borrow_mut().insert(competition_id, budget),
            None => budgets.borrow_mut().remove(&competition_id),
        });
    }

    /// The budget set for `competition_id`, if any.
    pub fn get(competition_id: &Uuid) -> Option<RescoreBudget> {
        BUDGETS.with(|budgets| budgets.borrow().get(competition_id).copied())
    }
}

/// Whether two spans (RFC 3339 texts) are the same instants (an unreadable span is nobody's).
fn same_span(a: (&str, &str), b: (&str, &str)) -> bool {
    let instants = |(from, to): (&str, &str)| Some((crate::time::parse_ms(from)?, crate::time::parse_ms(to)?));
    let a = instants(a);
    a.is_some() && a == instants(b)
}

/// The wider of a span and the one pending on the competition, if any (RFC 3339 texts compared as instants).
pub fn with_pending<'a>(span: (&'a str, &'a str), pending: Option<(&'a str, &'a str)>) -> (&'a str, &'a str) {
    let Some((from, to)) = pending else { return span };
    let at = |text: &str| crate::time::parse_ms(text).unwrap_or_default();
    let from = if at(from) < at(span.0) { from } else { span.0 };
    let to = if at(to) > at(span.1) { to } else { span.1 };
    (from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_span_widens_the_window_by_instant_not_by_text() {
        let window = ("2026-11-01T00:00:00+00:00", "2026-11-08T00:00:00+00:00");
        let cases = [
            (None, window, "nothing pending"),
            (Some(("2026-11-05T00:00:00+00:00", "2026-11-07T00:00:00+00:00")), window, "inside the window"),
            (
                Some(("2026-11-07T00:00:00+00:00", "2026-11-10T12:00:00+00:00")),
                ("2026-11-01T00:00:00+00:00", "2026-11-10T12:00:00+00:00"),
                "an end moved earlier leaves days after the new end",
            ),
            (
                Some(("2026-11-01T01:00:00+02:00", "2026-11-08T01:00:00+02:00")),
                ("2026-11-01T01:00:00+02:00", window.1),
                "instants, not texts: 23:00 UTC the day before the window's start, and before its end",
            ),
        ];
        for (pending, expected, what) in cases {
            assert_eq!(with_pending(window, pending), expected, "{what}");
        }
    }

    #[test]
    fn a_cursor_holds_for_the_same_span_by_instant() {
        let span = ("2026-11-07T00:00:00+00:00", "2026-11-10T12:00:00+00:00");
        let cases = [
            (span, true, "the same texts"),
            (("2026-11-07T01:00:00+01:00", "2026-11-10T12:00:00Z"), true, "the same instants, written otherwise"),
            (("2026-11-07T00:00:00+00:00", "2026-11-10T12:00:01+00:00"), false, "a later end"),
            (("2026-11-06T23:59:59+00:00", span.1), false, "an earlier start"),
            (("soon", "later"), false, "unreadable"),
            ((span.0, "later"), false, "an unreadable end"),
        ];
        for (other, same, what) in cases {
            assert_eq!(same_span(span, other), same, "{what}");
            assert_eq!(same_span(other, span), same, "{what}, the other way round");
        }
        let unreadable_end = (span.0, "later");
        assert!(!same_span(unreadable_end, unreadable_end), "a span with an unreadable end is not the pending one");
    }
}
