//! A call from one Durable Object to another, as the Worker calls them: an operation's JSON sent by RPC (`order`) to
//! the object named `name` in namespace `binding`, or posted to `{INTERNAL_ORIGIN}/{operation}` when the object's
//! code predates RPC. The competition publishes to its relays this way, and a relay asks its competition.

use serde::Serialize;
use worker::{Env, Result};

/// Posts `body` as `operation` to the object and returns its reply's body; a reply outside 2xx, or none within
/// `within_ms` (`ObjectConfig::call_within_ms`), is an error (the former carries the status and the body). The call
/// may still complete in the other object after the wait is given up: every operation sent this way is one a repeat
/// does not harm (a batch of frames, a question, a join).
pub async fn post(
    env: &Env,
    binding: &str,
    name: &str,
    operation: &str,
    body: &impl Serialize,
    within_ms: u32,
) -> Result<Vec<u8>> {
    let failed = |e: crate::subrequest::Failure| worker::Error::RustError(format!("{name}: {e}"));
    let stub = crate::subrequest::stub(env, binding, name).map_err(failed)?;
    let text = serde_json::to_string(body).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let answer = stub.send_order(operation, &text, within_ms).await.map_err(failed)?;
    let (status, reply) = (answer.status, answer.body);
    if !(200..300).contains(&status) {
        let message = format!("{name} answered {status}: {}", String::from_utf8_lossy(&reply));
        return Err(worker::Error::RustError(message));
    }
    Ok(reply)
}
