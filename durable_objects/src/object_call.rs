//! A call from one Durable Object to another, as the Worker calls them: an operation's JSON posted to
//! `{INTERNAL_ORIGIN}/{operation}` of the object named `name` in namespace `binding`. The competition publishes to
//! its relays this way, and a relay asks its competition.

use serde::Serialize;
use worker::{Env, Method, Request, RequestInit, Result};

use standings::protocol::INTERNAL_ORIGIN;

/// Posts `body` as `operation` to the object and returns its reply's body; a reply outside 2xx is an error that
/// carries the status and the body.
pub async fn post(env: &Env, binding: &str, name: &str, operation: &str, body: &impl Serialize) -> Result<Vec<u8>> {
    let stub = env.durable_object(binding)?.id_from_name(name)?.get_stub()?;
    let text = serde_json::to_string(body).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(text.into()));
    let call = Request::new_with_init(&format!("{INTERNAL_ORIGIN}/{operation}"), &init)?;
    let mut response = stub.fetch_with_request(call).await?;
    let status = response.status_code();
    let reply = response.bytes().await?;
    if !(200..300).contains(&status) {
        let message = format!("{name} answered {status}: {}", String::from_utf8_lossy(&reply));
        return Err(worker::Error::RustError(message));
    }
    Ok(reply)
}
