//! Every JSON answer the end-to-end tests receive from the shared Worker is checked against `docs/openapi.json`, so
//! the document cannot drift from what the Worker answers: the path is matched to its template, a success status must
//! be documented for the operation and its body must match that response's schema; an error body must match the
//! documented schema of its status, or the error envelope when the status is not listed for the route.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::{json, Value};

struct Document {
    doc: Value,
    routes: matchit::Router<String>,
    validators: Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
}

fn document() -> &'static Document {
    static DOCUMENT: OnceLock<Document> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let path = crate::repo_root().join("docs/openapi.json");
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("docs/openapi.json"))
            .expect("docs/openapi.json is JSON");
        let mut routes = matchit::Router::new();
        for template in doc["paths"].as_object().expect("paths").keys() {
            routes.insert(template.clone(), template.clone()).expect("a template matchit takes");
        }
        Document { doc, routes, validators: Mutex::new(HashMap::new()) }
    })
}

fn validator(schema: &Value) -> std::sync::Arc<jsonschema::Validator> {
    let document = document();
    let key = schema.to_string();
    let mut cache = document.validators.lock().unwrap_or_else(|e| e.into_inner());
    std::sync::Arc::clone(cache.entry(key).or_insert_with(|| {
        // The response schema with the document's components beside it, so its `#/components/...` refs resolve.
        let mut root = json!({"components": document.doc["components"]});
        for (k, v) in schema.as_object().into_iter().flatten() {
            root[k] = v.clone();
        }
        std::sync::Arc::new(jsonschema::validator_for(&root).expect("the document's schemas compile"))
    }))
}

/// Checks one answer (`headers`: lower-cased names); `Err` says how it departs from the document.
pub fn check(
    method: &str,
    path: &str,
    status: u16,
    content_type: Option<&str>,
    headers: &[(String, String)],
    body: &Value,
) -> Result<(), String> {
    let is_json = content_type.is_some_and(|t| t.starts_with("application/json"));
    let document = document();
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let Ok(found) = document.routes.at(path) else {
        // Not a documented route: only error envelopes may come back (404 for unknown paths).
        return if status >= 400 && is_json { check_body("#/components/schemas/Error", status, body) } else { Ok(()) };
    };
    let template = found.value.clone();
    let operation = &document.doc["paths"][&template][method.to_ascii_lowercase()];
    if operation.is_null() {
        return if status >= 400 && is_json { check_body("#/components/schemas/Error", status, body) } else { Ok(()) };
    }
    let response = &operation["responses"][status.to_string()];
    if response.is_null() {
        if status < 400 && status != 304 && status != 101 {
            return Err(format!("{method} {template}: status {status} is not documented"));
        }
        return if is_json { check_body("#/components/schemas/Error", status, body) } else { Ok(()) };
    }
    for (name, header) in response["headers"].as_object().into_iter().flatten() {
        let header = match header["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/headers/")) {
            Some(component) => &document.doc["components"]["headers"][component],
            None => header,
        };
        let present = headers.iter().any(|(have, _)| have.eq_ignore_ascii_case(name));
        if header["required"] == json!(true) && !present {
            return Err(format!("{method} {template} {status}: the documented header {name} is missing"));
        }
    }
    if !is_json {
        return Ok(());
    }
    let schema = &response["content"]["application/json"]["schema"];
    if schema.is_null() {
        return Err(format!("{method} {template} {status}: a JSON body where the document has none"));
    }
    match validator(schema).iter_errors(body).next() {
        None => Ok(()),
        Some(error) => {
            Err(format!("{method} {template} {status}: {error} at {} (body {})", error.instance_path(), truncate(body)))
        }
    }
}

fn check_body(pointer: &str, status: u16, body: &Value) -> Result<(), String> {
    match validator(&json!({"$ref": pointer})).iter_errors(body).next() {
        None => Ok(()),
        Some(error) => Err(format!("{status} body is not the error envelope: {error} (body {})", truncate(body))),
    }
}

fn truncate(body: &Value) -> String {
    let text = body.to_string();
    if text.len() > 400 {
        format!("{}…", &text[..text.char_indices().take_while(|(i, _)| *i < 400).count()])
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_held_to_the_document() {
        let competition = json!({"competitions": [{"id": "00000000-0000-4000-8000-00000000d3e0", "name": "x"}]});
        assert!(
            check("GET", "/api/v1/competitions", 200, Some("application/json"), &[], &competition).is_err(),
            "fields missing"
        );
        let envelope = json!({"error": {"code": "not_found", "message": "no", "request_id": "r"}});
        assert!(check("GET", "/api/v1/nothing", 404, Some("application/json"), &[], &envelope).is_ok());
        assert!(check("GET", "/api/v1/nothing", 404, Some("application/json"), &[], &json!({"oops": 1})).is_err());
        assert!(
            check("GET", "/api/v1/competitions", 201, Some("application/json"), &[], &json!({})).is_err(),
            "undocumented"
        );
        let page = json!({"competitions": []});
        let without = check("GET", "/api/v1/competitions", 200, Some("application/json"), &[], &page);
        assert!(without.is_err_and(|e| e.contains("is missing")), "a documented required header is missing");
        let all: Vec<(String, String)> = [
            "x-request-id",
            "ratelimit-limit",
            "ratelimit-remaining",
            "ratelimit-reset",
            "ratelimit-policy",
            "ratelimit",
        ]
        .iter()
        .map(|name| (name.to_string(), "1".to_owned()))
        .collect();
        assert_eq!(check("GET", "/api/v1/competitions", 200, Some("application/json"), &all, &page), Ok(()));
    }
}
