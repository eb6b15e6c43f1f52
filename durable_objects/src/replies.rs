//! The replies every object builds: a server frame's text, and an operation's refusal as an error reply.

use worker::{Response, Result};

use standings::object_error::{ErrorCode, ObjectError};
use standings::protocol::ServerFrame;

/// The serialised text of a server frame.
pub fn to_text(frame: &ServerFrame) -> Result<String> {
    serde_json::to_string(frame).map_err(|e| worker::Error::RustError(e.to_string()))
}

/// An operation's refusal as an object's error reply (the Worker maps its code back to an API error).
pub fn error(code: ErrorCode, message: impl Into<String>) -> Result<Response> {
    Ok(Response::from_json(&ObjectError { code, message: message.into() })?.with_status(code.status()))
}
