//! The replies every object builds: an operation's reply (a plain Rust value until it travels), a server frame's
//! text, and an operation's refusal as an error reply.

use serde::Serialize;
use worker::{Response, Result};

use standings::object_error::{ErrorCode, ObjectError};
use standings::protocol::ServerFrame;
use standings::requests::encode_reply;

/// An operation's reply: its status and JSON body (empty for a bare acknowledgement). It stays a Rust value until it
/// leaves: as one string by RPC ([`Reply::into_text`]) or as a `Response` to a `fetch` ([`Reply::into_response`]).
/// Built as a `Response` from the start, every RPC reply made a JS `Headers` object that nothing read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    status: u16,
    body: String,
}

impl Reply {
    /// A 200 reply with `value` as its JSON body.
    pub fn json<T: Serialize>(value: &T) -> Result<Self> {
        let body = serde_json::to_string(value).map_err(|e| worker::Error::RustError(e.to_string()))?;
        Ok(Self { status: 200, body })
    }

    /// A 200 reply with no body.
    pub fn empty() -> Result<Self> {
        Ok(Self { status: 200, body: String::new() })
    }

    /// The same reply with another status.
    pub fn with_status(self, status: u16) -> Self {
        Self { status, ..self }
    }

    /// The reply as the RPC method's string ([`encode_reply`]).
    pub fn into_text(self) -> String {
        encode_reply(self.status, &self.body)
    }

    /// The reply as a `fetch`'s `Response` (JSON when it has a body).
    pub fn into_response(self) -> Result<Response> {
        if self.body.is_empty() {
            return Ok(Response::empty()?.with_status(self.status));
        }
        let mut response = Response::ok(self.body)?.with_status(self.status);
        response.headers_mut().set("content-type", "application/json")?;
        Ok(response)
    }
}

/// The serialised text of a server frame.
pub fn to_text(frame: &ServerFrame) -> Result<String> {
    serde_json::to_string(frame).map_err(|e| worker::Error::RustError(e.to_string()))
}

/// An operation's refusal as an object's error reply (the Worker maps its code back to an API error).
pub fn error(code: ErrorCode, message: impl Into<String>) -> Result<Reply> {
    Ok(Reply::json(&ObjectError { code, message: message.into() })?.with_status(code.status()))
}

/// [`error`] as a `fetch`'s `Response`, for the paths that answer only `fetch` (a live socket's upgrade, on either
/// class).
pub fn error_response(code: ErrorCode, message: impl Into<String>) -> Result<Response> {
    error(code, message)?.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use standings::requests::decode_reply;

    #[test]
    fn a_reply_travels_by_rpc_as_its_status_and_body() {
        let reply = Reply::json(&serde_json::json!({"seq": 4})).unwrap();
        assert_eq!(reply.clone().into_text(), r#"200{"seq":4}"#);
        let refused = error(ErrorCode::Conflict, "the standings are final").unwrap().into_text();
        let (status, body) = decode_reply(&refused).unwrap();
        assert_eq!(status, ErrorCode::Conflict.status());
        let parsed: ObjectError = serde_json::from_str(body).unwrap();
        assert_eq!((parsed.code, parsed.message.as_str()), (ErrorCode::Conflict, "the standings are final"));
        assert_eq!(Reply::empty().unwrap().into_text(), "200");
    }
}
