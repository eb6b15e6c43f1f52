//! The OpenAPI 3.1 document of the API (`docs/openapi.json`), built on the host from the router's table and the
//! types the handlers read and answer (utoipa's `ToSchema`). A route cannot be served without being described
//! ([`operations::describe`] matches every endpoint), and a body's schema is its Rust type's. Native builds only:
//! the Worker serves the committed file, so none of this is in the wasm.
//!
//! `cargo run -p local --bin openapi` writes the file; a unit test fails while the committed one differs.

mod operation;
mod operations;

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

use crate::router::product_routes;
pub use operation::{Access, Content, Operation};
pub use operations::describe;

/// The schemas the operations refer to, by component name.
#[derive(Default)]
pub struct Schemas(BTreeMap<String, RefOr<Schema>>);

impl Schemas {
    /// Registers `T` and every schema it refers to; returns `T`'s `$ref`.
    pub fn add<T: ToSchema>(&mut self) -> Value {
        let mut nested = Vec::new();
        T::schemas(&mut nested);
        for (name, schema) in nested {
            self.0.entry(name).or_insert(schema);
        }
        let name = T::name().into_owned();
        self.0.insert(name.clone(), T::schema());
        reference(&name)
    }

    /// `application/json` content of `T`'s schema.
    pub fn json<T: ToSchema>(&mut self) -> Content {
        Content::Json(self.add::<T>())
    }
}

/// A `$ref` to a component schema.
pub fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// Groups of operations, in the order documentation tools show them.
const TAGS: [(&str, &str); 9] = [
    ("competitions", "Competitions: create, list, read, join, edit, cancel"),
    ("leaderboard", "Scores, pages, standings and prizes"),
    ("fitness", "Fitness sync: the days a member's score is computed from"),
    ("profile", "The caller's profile, avatar, competitions and account"),
    ("reviews", "Held days and disqualification (service_role)"),
    ("live", "The live WebSocket and the live page"),
    ("health", "Liveness and readiness probes"),
    ("operations", "Metrics and operator routes"),
    ("meta", "This document"),
];

/// The response headers of `API.md` (Conventions, Rate limiting, Caching). Those marked required are on every
/// response that lists them; the end-to-end tests check that they are.
fn header_components() -> Value {
    let header = |description: &str, required: bool, kind: &str| {
        let mut header = json!({ "description": description, "schema": { "type": kind } });
        if required {
            header["required"] = Value::Bool(true);
        }
        header
    };
    json!({
        "X-Request-Id": header("The caller's request id when sane, else a fresh one", true, "string"),
        "RateLimit-Limit": header("The policy's burst", true, "integer"),
        "RateLimit-Remaining": header("Requests left in the bucket", true, "integer"),
        "RateLimit-Reset": header("Seconds until the bucket is full again", true, "integer"),
        "RateLimit-Policy": header("The policy, e.g. \"default\";q=200;w=1", true, "string"),
        "RateLimit": header("The bucket now, e.g. \"default\";r=199;t=1", true, "string"),
        "Retry-After": header("Whole seconds to wait before retrying (always on 429)", false, "integer"),
        "ETag": header("The representation's version; send it back in If-None-Match", true, "string"),
    })
}

/// The headers a response of `path` with `status` carries.
fn headers_for(path: &str, status: u16, etag: bool) -> Value {
    let mut names = vec!["X-Request-Id"];
    if path.starts_with("/api/") {
        names.extend(["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy", "RateLimit"]);
    }
    if status == 503 {
        names.push("Retry-After");
    }
    if etag && status == 200 {
        names.push("ETag");
    }
    let mut headers: Map<String, Value> = names
        .into_iter()
        .map(|name| (name.to_owned(), json!({ "$ref": format!("#/components/headers/{name}") })))
        .collect();
    if status == 429 {
        let mut retry_after = header_components()["Retry-After"].clone();
        retry_after["required"] = Value::Bool(true);
        headers.insert("Retry-After".to_owned(), retry_after);
    }
    Value::Object(headers)
}

/// The path parameters of a route template: ids (`…_id`) are UUIDs, a `date` is a calendar date (`YYYY-MM-DD`).
fn path_parameters(template: &str) -> Vec<Value> {
    template
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let schema = if name.ends_with("_id") {
                json!({"type": "string", "format": "uuid"})
            } else if name == "date" {
                json!({"type": "string", "format": "date"})
            } else {
                json!({"type": "string"})
            };
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect()
}

/// One operation as OpenAPI writes it; `error` is the error envelope's `$ref`, every error response's body.
fn render_operation(template: &str, operation: Operation, error: &Value) -> Value {
    let mut responses = Map::new();
    let mut respond = |status: u16, description: &str, content: Option<Value>| {
        let mut response = json!({ "description": description });
        if let Some(content) = content {
            response["content"] = content;
        }
        // A protocol switch has no HTTP response to carry headers.
        if status != 101 {
            response["headers"] = headers_for(template, status, operation.etag);
        }
        responses.insert(status.to_string(), response);
    };
    for (status, description, content) in operation.answers {
        respond(status, description, content.render());
    }
    for (status, description) in operation.errors {
        respond(status, description, Content::Json(error.clone()).render());
    }
    let mut parameters = path_parameters(template);
    parameters.extend(operation.parameters);
    let mut rendered = json!({
        "operationId": operation.id,
        "tags": [operation.tag],
        "summary": operation.summary,
        "responses": responses,
    });
    if !parameters.is_empty() {
        rendered["parameters"] = Value::Array(parameters);
    }
    match operation.access {
        Access::Bearer => {}
        Access::Public => rendered["security"] = json!([]),
        Access::Operator => rendered["security"] = json!([{ "metricsToken": [] }]),
    }
    if let Some(body) = operation.body.and_then(|body| body.render()) {
        rendered["requestBody"] = json!({ "required": true, "content": body });
    }
    if let Some((server, client)) = operation.frames {
        // OpenAPI has no WebSocket messages: the frames are named here for clients and tools.
        rendered["x-websocket-frames"] = json!({ "server": server, "client": client });
    }
    rendered
}

/// The whole document.
pub fn document() -> Value {
    let mut schemas = Schemas::default();
    // The error envelope is every error response's body.
    let error = schemas.add::<crate::error::Envelope>();
    let mut paths = Map::new();
    for (template, method, endpoint) in product_routes() {
        let Some(operation) = describe(endpoint, &mut schemas) else { continue };
        let item = paths.entry(template.to_owned()).or_insert_with(|| json!({}));
        item[method.to_ascii_lowercase()] = render_operation(template, operation, &error);
    }
    let schemas = serde_json::to_value(&schemas.0).unwrap_or_default();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Leaderboard edge API",
            "version": "1.0.0",
            "license": { "name": "MIT", "identifier": "MIT" },
            "description": "The HTTP/WebSocket contract of docs/API.md. Every response carries X-Request-Id and the \
                            security headers; /api responses carry RateLimit-* headers.",
        },
        "servers": [{ "url": "http://127.0.0.1:8787", "description": "wrangler dev" }],
        "tags": TAGS.iter().map(|(name, description)| json!({ "name": name, "description": description })).collect::<Vec<_>>(),
        "security": [{ "bearer": [] }],
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT (Supabase access token)" },
                "metricsToken": { "type": "http", "scheme": "bearer" },
            },
            "schemas": schemas,
            "headers": header_components(),
        },
        "paths": paths,
    })
}

/// The document as the committed file holds it.
pub fn render() -> String {
    let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_document_is_the_generated_one() {
        let committed: Value =
            serde_json::from_str(crate::routes::openapi::DOCUMENT).expect("docs/openapi.json is JSON");
        // Compared as JSON values: key order depends on serde_json's features in the build at hand.
        assert!(
            committed == document(),
            "docs/openapi.json is stale: run `cargo run -p local --bin openapi` and commit the result"
        );
    }

    #[test]
    fn text_people_read_is_documented_without_control_characters() {
        use crate::http::schema::{NO_CONTROLS, TRIMMED_TEXT};
        let document = document();
        let schemas = &document["components"]["schemas"];
        let cases = [
            ("NewCompetition", "name", TRIMMED_TEXT),
            ("CompetitionPatch", "name", TRIMMED_TEXT),
            ("ProfilePatch", "display_name", NO_CONTROLS),
            ("Disqualification", "reason", TRIMMED_TEXT),
            ("HoldDecision", "reason", TRIMMED_TEXT),
        ];
        for (schema, field, pattern) in cases {
            let documented = schemas[schema]["properties"][field]["pattern"].as_str();
            assert_eq!(documented, Some(pattern), "{schema}.{field}");
        }
    }

    #[test]
    fn every_reference_resolves_and_every_schema_is_used_or_a_frame() {
        let document = document();
        let text = document.to_string();
        let schemas = document["components"]["schemas"].as_object().expect("schemas");
        for reference in text.split("\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap_or_default();
            assert!(schemas.contains_key(name), "dangling $ref {name}");
        }
        for name in schemas.keys() {
            assert!(text.contains(&format!("\"#/components/schemas/{name}\"")), "{name} is registered but unused");
        }
    }

    #[test]
    fn path_parameters_come_from_the_template() {
        let parameters = path_parameters("/api/v1/admin/holds/{user_id}/{date}");
        assert_eq!(parameters[0]["schema"]["format"], "uuid");
        assert_eq!(
            (parameters[1]["name"].as_str(), parameters[1]["schema"]["format"].as_str()),
            (Some("date"), Some("date"))
        );
    }
}
