//! What a handler answers, before the pipeline adds request id and security headers.

use serde::Serialize;

/// Content type of every JSON response (`API.md`).
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// A handler's successful answer, independent of the runtime's response type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Headers specific to this reply (content type included).
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// A JSON reply; `value` is a plain data type, so serialisation cannot fail in practice.
    pub fn json(status: u16, value: &impl Serialize) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        Self { status, body, headers: vec![("Content-Type".into(), JSON_CONTENT_TYPE.into())] }
    }

    /// A JSON reply from text that already is JSON (a cached body).
    pub fn json_text(status: u16, text: String) -> Self {
        Self::typed(status, JSON_CONTENT_TYPE, text.into_bytes())
    }

    /// A reply of any content type (metrics text, the live page and its assets).
    pub fn typed(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Self { status, body, headers: vec![("Content-Type".into(), content_type.into())] }
    }
}
