//! The Worker's and the relays' way in: the RPC method `order` ([`crate::rpc_order`]), one operation's JSON in and
//! its reply as one string out, and which operation waits for what before it runs. The live upgrade, which carries
//! headers, still uses `fetch`.

use std::future::Future;
use std::rc::Rc;

use worker::Result;

use super::{alarm, Competition, Loaded};
use crate::replies::{error, Reply};
use crate::rpc_order::export_order;
use standings::object_error::ErrorCode;
use standings::requests::ObjectRequest;

export_order!(Competition);

impl Competition {
    /// Runs one operation's JSON, whichever way it came (RPC, or a `fetch` from a caller whose code predates RPC).
    /// The future holds its own handle on the loaded object, so an operation that waits can finish after the call
    /// that started it returned.
    pub(super) fn order_future(&self, order: Vec<u8>) -> impl Future<Output = Result<Reply>> + 'static {
        let loaded = self.loaded.as_ref().map(Rc::clone).map_err(String::clone);
        async move {
            let loaded = match loaded {
                Ok(loaded) => loaded,
                Err(reason) => return super::unloaded(&reason),
            };
            match ObjectRequest::parse(&order) {
                Ok(request) => loaded.handle(request).await,
                Err(e) => error(ErrorCode::BadRequest, format!("unknown or malformed operation: {e}")),
            }
        }
    }
}

impl Loaded {
    /// Runs one operation the Worker asked for.
    async fn handle(self: &Rc<Self>, request: ObjectRequest) -> Result<Reply> {
        // Every operation but the one that sets the stall waits it out first.
        #[cfg(feature = "test-routes")]
        if !matches!(request, ObjectRequest::TestStall { .. }) {
            self.stall().await;
        }
        let board_read = matches!(
            request,
            ObjectRequest::Page { .. } | ObjectRequest::Standing { .. } | ObjectRequest::Around { .. }
        );
        // The operations every member sends wait for the start's totals or the final check at most a while: their
        // pass reads and writes the members one by one (seconds for tens of thousands). Score writes need not wait
        // at all for correctness (a total carries its days version, a write after the end is refused by its time),
        // reads show the board as it is then, and a join's settings and roster entry or a new name do not depend on
        // the pass. Prizes and the administrators' operations, and a deleted account's departure (which keeps its
        // place on final standings), wait for the whole pass, so that they meet final standings once those are due.
        let many_send = board_read
            || matches!(
                request,
                ObjectRequest::WriteScore(_)
                    | ObjectRequest::WriteScores(_)
                    | ObjectRequest::Snapshot { .. }
                    | ObjectRequest::SetMeta(_)
                    | ObjectRequest::AddMember(_)
                    | ObjectRequest::SetPerson(_)
            );
        if many_send {
            // Settings the object holds already change nothing (a Worker's isolate telling it once, from the row a
            // read has just looked up: `settings_told.rs`): answered at once, not after a pass in flight.
            let known_settings =
                matches!(&request, ObjectRequest::SetMeta(meta) if self.board.borrow().meta() == Some(meta));
            if !known_settings {
                self.settle_within(alarm::SETTLE_WAIT_MS).await;
            }
        } else if let Err(e) = self.settle_if_due().await {
            worker::console_error!(
                "standings due to become final not settled before an operation (the alarm retries): {e}"
            );
        }
        let reply = match request {
            ObjectRequest::WriteScore(write) => self.write_score(write).await,
            ObjectRequest::WriteScores(writes) => self.write_scores(writes).await,
            ObjectRequest::SetMeta(meta) => self.set_meta(meta).await,
            ObjectRequest::AddMember(member) => self.add_member(member),
            ObjectRequest::SetPerson(person) => self.set_person(person),
            ObjectRequest::Forget(order) => self.forget(order),
            ObjectRequest::ChangeSettings(settings) => self.change_settings(settings).await,
            ObjectRequest::Cancel => self.cancel(),
            ObjectRequest::Disqualify(order) => self.disqualify(order),
            ObjectRequest::Repair(repair) => self.repair(repair),
            ObjectRequest::RetryOutbox => self.retry_dead_letters().await,
            ObjectRequest::Prizes => self.prizes(),
            ObjectRequest::Page { limit, cursor, unless_seq } => self.read_page(limit, cursor.as_deref(), unless_seq),
            ObjectRequest::Standing { user_id } => self.read_standing(user_id),
            ObjectRequest::Around { user_id, radius } => self.read_around(user_id, radius),
            ObjectRequest::RelayJoin { name, epoch } => self.relay_join(name, epoch),
            ObjectRequest::Snapshot { user_id } => self.relay_snapshot(user_id),
            ObjectRequest::Frames { since, through } => self.relay_frames(since, through),
            ObjectRequest::Stats => self.stats(),
            ObjectRequest::Outbox => self.outbox_report(),
            #[cfg(feature = "test-routes")]
            ObjectRequest::TestSeed { members, score } => self.seed(members, score),
            #[cfg(feature = "test-routes")]
            ObjectRequest::TestCorrupt { key } => self.test_corrupt(&key),
            #[cfg(feature = "test-routes")]
            ObjectRequest::TestFinalize { fail_after } => self.test_finalize(fail_after),
            #[cfg(feature = "test-routes")]
            ObjectRequest::TestAlarm => {
                self.run_alarm().await?;
                self.stats()
            }
            #[cfg(feature = "test-routes")]
            ObjectRequest::TestAbort => self.test_abort(),
            #[cfg(feature = "test-routes")]
            ObjectRequest::TestStall { ms } => {
                self.stall_ms.set(ms);
                self.stats()
            }
        };
        if board_read {
            self.check_member_changes_after_read().await;
        }
        reply
    }
}
