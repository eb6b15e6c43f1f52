//! One operation of the OpenAPI document as the catalogue (`operations.rs`) builds it: who may call it, its bodies,
//! answers and errors, and the errors every operation of a kind shares.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// A Supabase access token (the document's default).
    Bearer,
    /// The operator's `METRICS_TOKEN`.
    Operator,
}

/// A request or response body.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// JSON of a component schema (its `$ref`).
    Json(Value),
    /// Text of each media type.
    Text(&'static [&'static str]),
    /// Bytes of each media type.
    Binary(&'static [&'static str]),
    /// No body.
    Empty,
}

impl Content {
    /// The `content` object, `None` without a body.
    pub fn render(&self) -> Option<Value> {
        let each = |types: &[&str], schema: Value| {
            Some(Value::Object(types.iter().map(|t| ((*t).to_owned(), json!({ "schema": schema.clone() }))).collect()))
        };
        match self {
            Content::Json(schema) => each(&["application/json"], schema.clone()),
            Content::Text(types) => each(types, json!({ "type": "string" })),
            Content::Binary(types) => each(types, json!({ "type": "string", "format": "binary" })),
            Content::Empty => None,
        }
    }
}

/// One operation of the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// `operationId`: generated clients name their methods by it.
    pub id: &'static str,
    /// The group generated clients and documentation put it in.
    pub tag: &'static str,
    /// One line for humans.
    pub summary: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Query and header parameters (path parameters come from the template).
    pub parameters: Vec<Value>,
    /// The body it reads.
    pub body: Option<Content>,
    /// Its successful answers: status, description, body.
    pub answers: Vec<(u16, &'static str, Content)>,
    /// Every error status it can answer, with why.
    pub errors: BTreeMap<u16, &'static str>,
    /// Whether its 200 carries an `ETag` and a matching `If-None-Match` gets 304.
    pub etag: bool,
    /// The live socket's frames (server, client), on the upgrade route only.
    pub frames: Option<(Value, Value)>,
}

/// Errors of every operation.
const ALWAYS: [(u16, &str); 1] = [(500, "Internal error (the envelope still carries the request id)")];
/// Errors of every `/api` operation: the rate limiter runs first, and every route needs a dependency.
const API: [(u16, &str); 2] = [(429, "Rate limited (see Retry-After)"), (503, "A dependency is unavailable")];
/// Errors of an operation that needs a token.
const TOKEN: [(u16, &str); 1] = [(401, "Missing, invalid or expired token")];
/// Errors of an operation that reads a JSON body (`read_json`).
const JSON_BODY: [(u16, &str); 4] = [
    (400, "The body is not JSON"),
    (413, "Body over 64 KiB"),
    (415, "Content-Type is not application/json"),
    (422, "Validation failed (details name each field)"),
];
/// Errors of an operation with a UUID in its path.
const ID: (u16, &str) = (400, "An id in the path is not a UUID");
/// Errors of an operation only `service_role` may call.
const ADMIN: (u16, &str) = (403, "Not service_role");

impl Operation {
    /// An operation with the errors every operation answers (and a token's, when it needs one).
    pub(super) fn new(id: &'static str, tag: &'static str, summary: &'static str, access: Access) -> Self {
        let mut operation = Self {
            id,
            tag,
            summary,
            access,
            parameters: Vec::new(),
            body: None,
            answers: Vec::new(),
            errors: BTreeMap::new(),
            etag: false,
            frames: None,
        };
        operation.errors.extend(ALWAYS);
        if access == Access::Bearer {
            operation.errors.extend(TOKEN);
        }
        operation
    }

    /// An `/api` operation: rate limited, and answering 503 when a dependency cannot.
    pub(super) fn api(id: &'static str, tag: &'static str, summary: &'static str, access: Access) -> Self {
        let mut operation = Self::new(id, tag, summary, access);
        operation.errors.extend(API);
        operation
    }

    /// Adds a successful answer.
    pub(super) fn answer(mut self, status: u16, description: &'static str, content: Content) -> Self {
        self.answers.push((status, description, content));
        self
    }

    /// Adds the 200 answer.
    pub(super) fn ok(self, content: Content) -> Self {
        self.answer(200, "OK", content)
    }

    /// Adds an error status it can answer, with why.
    pub(super) fn error(mut self, status: u16, why: &'static str) -> Self {
        self.errors.insert(status, why);
        self
    }

    /// Reads a JSON body (and may answer its errors).
    pub(super) fn json_body(mut self, content: Content) -> Self {
        self.body = Some(content);
        self.errors.extend(JSON_BODY);
        self
    }

    /// The avatar upload's body: the image's bytes, its type told by its magic bytes (any of these headers works).
    pub(super) fn image_body(mut self) -> Self {
        self.body = Some(Content::Binary(&["application/octet-stream", "image/png", "image/jpeg", "image/webp"]));
        self
    }

    /// Has a UUID in its path.
    pub(super) fn id_in_path(self) -> Self {
        self.error(ID.0, ID.1)
    }

    /// Only `service_role` may call it.
    pub(super) fn admin(self) -> Self {
        self.error(ADMIN.0, ADMIN.1)
    }

    /// Reads an optional query parameter, answering 422 when it is out of range.
    pub(super) fn query(mut self, name: &str, schema: Value) -> Self {
        self.parameters.push(json!({ "name": name, "in": "query", "required": false, "schema": schema }));
        self.error(422, "A query parameter is out of range")
    }

    /// Honours `Idempotency-Key`.
    pub(super) fn idempotent(mut self) -> Self {
        self.parameters.push(json!({
            "name": "Idempotency-Key", "in": "header", "required": false,
            "description": "Retries with the same key and body get the first answer (24 h)",
            "schema": { "type": "string", "pattern": "^[A-Za-z0-9._:-]{1,255}$" },
        }));
        self.error(409, "The same Idempotency-Key is in flight").error(422, "Idempotency-Key reused with another body")
    }

    /// Answers an `ETag` and 304 to a matching `If-None-Match`.
    pub(super) fn versioned(mut self) -> Self {
        self.etag = true;
        self.parameters.push(
            json!({ "name": "If-None-Match", "in": "header", "required": false, "schema": { "type": "string" } }),
        );
        self.answer(304, "Not modified (matches If-None-Match)", Content::Empty)
    }
}
