//! The Worker's and the relays' way in: the RPC method `order` ([`crate::rpc_order`]), one operation's JSON in and
//! its reply as one string out. The live upgrade, which carries headers, still uses `fetch`.

use std::future::Future;
use std::rc::Rc;

use worker::Result;

use super::Competition;
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
