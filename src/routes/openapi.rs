//! `GET /openapi.json`: the OpenAPI 3.1 description of the API (`docs/openapi.json`, generated on the host by
//! `crate::openapi_doc`), compiled into the Worker. A unit test fails while the committed file is stale.

use crate::http::reply::Reply;

/// The document, as committed but without the indentation (`build.rs`).
pub const DOCUMENT: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.min.json"));

/// `GET /openapi.json`
pub fn document() -> Reply {
    Reply::json_text(200, DOCUMENT.to_owned())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::DOCUMENT;

    #[test]
    fn the_served_document_is_the_committed_one_without_its_whitespace() {
        let committed =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json")).expect("read");
        let served: serde_json::Value = serde_json::from_str(DOCUMENT).expect("the served document is JSON");
        assert_eq!(served, serde_json::from_str::<serde_json::Value>(&committed).expect("committed JSON"));
        assert!(!DOCUMENT.contains('\n') && DOCUMENT.len() < committed.len() * 3 / 4, "indentation left in");
        // Whitespace inside strings is content, not indentation.
        assert!(DOCUMENT.contains("\"description\":\"") && DOCUMENT.contains(' '));
    }
}
