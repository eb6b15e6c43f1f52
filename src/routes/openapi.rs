//! `GET /openapi.json`: the OpenAPI 3.1 description of the API (`docs/openapi.json`, written by `docs/openapi.py`),
//! compiled into the Worker. A router test keeps it listing exactly the routes served.

use crate::http::reply::Reply;

/// The document, as committed.
pub const DOCUMENT: &str = include_str!("../../docs/openapi.json");

/// `GET /openapi.json`
pub fn document() -> Reply {
    Reply::json_text(200, DOCUMENT.to_owned())
}
