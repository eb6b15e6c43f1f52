//! `GET /openapi.json`: the OpenAPI 3.1 description of the API (`docs/openapi.json`, generated on the host by
//! `crate::openapi_doc`), compiled into the Worker. A unit test fails while the committed file is stale.

use crate::http::reply::Reply;

/// The document, as committed.
pub const DOCUMENT: &str = include_str!("../../docs/openapi.json");

/// `GET /openapi.json`
pub fn document() -> Reply {
    Reply::json_text(200, DOCUMENT.to_owned())
}
