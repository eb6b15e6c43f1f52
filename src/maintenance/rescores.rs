//! Rescores that a moved end left pending. An administrator's `PATCH` of a started fitness competition's end marks
//! the span between the two ends pending on the row (migration `20261207160000_pending_rescore.sql`) and rescores
//! it before answering; when that fails — the database API or the object slow for a moment, the isolate gone — and
//! nobody retries the edit, the boards would keep counting by the old end until the standings became final. This
//! finishes such spans, a few competitions a run.

use worker::Env;

use crate::adapters::error::AdapterError;
use crate::http::request_id;
use crate::http::trace::TraceContext;
use crate::platform;
use crate::runtime::RequestContext;
use crate::scoring::spans;
use crate::services::Services;

/// Competitions one run rescores at most (each costs two subrequests a page of 200 members); the rest wait for the
/// next run.
pub const RESCORES_PER_RUN: u32 = 5;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Rescores {
    /// Competitions whose pending span was rescored to its end.
    pub competitions: usize,
    /// Competitions whose span was longer than one run's budget (`RESCORE_PAGES_PER_CALL`): the next run goes on
    /// where this one stopped.
    pub unfinished: usize,
    /// Members written across them.
    pub members: usize,
    /// Competitions whose rescore failed: their span stays pending for the next run.
    pub failed: usize,
}

/// Rescores the spans still pending on competitions whose standings can still move, a few in random order, each as the
/// request that left it would have (the same database function and object calls, going on where an earlier rescore
/// stopped), and clears each once done.
pub async fn finish_pending_rescores(services: &'static Services, env: &Env) -> Result<Rescores, AdapterError> {
    let due = services.database.pending_rescores(RESCORES_PER_RUN).await?;
    let shares = shares_of_run(due.len());
    let mut done = Rescores::default();
    for row in &due {
        let Some(span) = row.pending_rescore() else { continue };
        // Each competition's work is traced and audited under an id of its own, as a request's would be.
        let id = request_id::accept_or_generate(None, platform::random_bytes());
        let ctx = RequestContext {
            env,
            services,
            request_id: &id,
            traceparent: TraceContext::for_request(None, platform::random()).header(),
            now_ms: platform::now_ms(),
            user: None,
            token: None,
            own_work: true,
        };
        let budget = spans::budget(&ctx, &row.id).times(shares);
        match spans::rescore_span_within(&ctx, row, span, budget).await {
            Ok(progress) => {
                match progress.stopped_after {
                    None => done.competitions += 1,
                    Some(_) => done.unfinished += 1,
                }
                done.members += progress.written;
            }
            Err(error) => {
                worker::console_warn!("competition {}: pending rescore of {span:?} failed again: {error}", row.id);
                done.failed += 1;
            }
        }
    }
    Ok(done)
}

/// How many competitions' budgets (`RESCORE_PAGES_PER_CALL`) each of `due` competitions gets in one run: the slots no
/// other competition takes, so a lone large span goes on five times as fast while a run never reads more pages than
/// five competitions' budgets.
fn shares_of_run(due: usize) -> usize {
    (RESCORES_PER_RUN as usize / due.max(1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_shares_its_slots_and_never_reads_more_than_five_budgets() {
        let cases = [(0, 5), (1, 5), (2, 2), (3, 1), (4, 1), (5, 1)];
        for (due, shares) in cases {
            assert_eq!(shares_of_run(due), shares, "{due} due");
            assert!(due * shares_of_run(due) <= RESCORES_PER_RUN as usize, "{due} due");
        }
    }
}
