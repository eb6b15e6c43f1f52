//! The Upstash Redis adapter: a thin client of Upstash's REST protocol on `worker::Fetch` (the card's
//! `upstash-redis-rs` does not build on stable Rust and lacks pipelines, EVAL and sorted sets). `POST /` with a JSON
//! command array, `POST /pipeline` for multi-command work, Bearer token; every call under the Redis breaker and a
//! time budget.

use std::rc::Rc;

use serde_json::Value;

use super::error::{AdapterError, Dependency};
use super::guard::Breakers;

const DEP: Dependency = Dependency::Redis;

/// The Upstash client of one isolate (or of one request, with its trace context; see [`Upstash::traced`]).
#[derive(Debug, Clone)]
pub struct Upstash {
    url: String,
    token: String,
    budget_ms: u64,
    traceparent: Option<String>,
    breakers: Rc<Breakers>,
    insist: bool,
}

/// One command's outcome inside a pipeline: its result, or Redis's error text.
pub type Outcome = Result<Value, String>;

/// Decodes the reply to `POST /`: `{"result": …}` or `{"error": "…"}`.
pub fn decode_single(status: u16, body: &str) -> Result<Value, AdapterError> {
    let value: Value = serde_json::from_slice(body.as_bytes()).map_err(|e| AdapterError::Decode(DEP, e.to_string()))?;
    match outcome(&value) {
        Some(Ok(result)) if status < 300 => Ok(result),
        Some(Err(message)) => Err(AdapterError::Upstream { dependency: DEP, status, code: code_of(&message), message }),
        _ => Err(AdapterError::Upstream {
            dependency: DEP,
            status,
            code: String::new(),
            message: body.chars().take(200).collect(),
        }),
    }
}

/// Decodes the reply to `POST /pipeline`: one outcome per command, in order.
pub fn decode_pipeline(status: u16, body: &str, expected: usize) -> Result<Vec<Outcome>, AdapterError> {
    if status >= 300 {
        return decode_single(status, body).map(|_| Vec::new());
    }
    let value: Value = serde_json::from_slice(body.as_bytes()).map_err(|e| AdapterError::Decode(DEP, e.to_string()))?;
    let items = value.as_array().ok_or_else(|| AdapterError::Decode(DEP, "pipeline reply is not an array".into()))?;
    if items.len() != expected {
        return Err(AdapterError::Decode(DEP, format!("{} replies for {expected} commands", items.len())));
    }
    items
        .iter()
        .map(|item| outcome(item).ok_or_else(|| AdapterError::Decode(DEP, format!("bad item {item}"))))
        .collect()
}

fn outcome(value: &Value) -> Option<Outcome> {
    if let Some(error) = value.get("error") {
        return Some(Err(error.as_str().unwrap_or_default().to_owned()));
    }
    value.get("result").map(|result| Ok(result.clone()))
}

/// Redis's error code: the first word (`NOSCRIPT`, `ERR`, `WRONGTYPE`).
fn code_of(message: &str) -> String {
    message.split_whitespace().next().unwrap_or_default().to_owned()
}

impl Upstash {
    /// A client for the REST endpoint `url` with `token`.
    pub fn new(url: &str, token: &str, budget_ms: u64, breakers: Rc<Breakers>) -> Self {
        let url = url.trim_end_matches('/').to_owned();
        Self { url, token: token.to_owned(), budget_ms, traceparent: None, breakers, insist: false }
    }

    /// This client with `traceparent` on every request it sends.
    pub fn traced(&self, traceparent: &str) -> Self {
        Self { traceparent: Some(traceparent.to_owned()), ..self.clone() }
    }

    /// This client for writes that must not be skipped because the breaker is open (see [`Breakers::insisted`]):
    /// finishing what an earlier, successful command started, or dropping a copy an edit made stale.
    pub fn insistent(&self) -> Self {
        Self { insist: true, ..self.clone() }
    }

    async fn post(&self, path: &str, body: String) -> Result<(u16, String), AdapterError> {
        let headers = worker::Headers::new();
        let set = |name: &str, value: &str| {
            headers.set(name, value).map_err(|e| AdapterError::Unreachable(DEP, e.to_string()))
        };
        set("Authorization", &format!("Bearer {}", self.token))?;
        set("Content-Type", "application/json")?;
        if let Some(traceparent) = &self.traceparent {
            set("traceparent", traceparent)?;
        }
        let body = worker::wasm_bindgen::JsValue::from_str(&body);
        let request = crate::subrequest::request("POST", &format!("{}{path}", self.url), &headers, Some(&body))
            .map_err(|e| AdapterError::Unreachable(DEP, e.to_string()))?;
        let answer =
            crate::subrequest::send(&request).await.map_err(|e| AdapterError::Unreachable(DEP, e.to_string()))?;
        let text = String::from_utf8(answer.body).map_err(|e| AdapterError::Decode(DEP, e.to_string()))?;
        Ok((answer.status, text))
    }

    /// Runs one command, e.g. `["INCR", "k"]` (named operations in `redis_ops` are the product's only callers).
    pub(super) async fn command(&self, args: &[&str]) -> Result<Value, AdapterError> {
        self.command_within(self.budget_ms, args).await
    }

    /// Runs one command under a tighter time budget than the adapter's default (the rate limiter's 250 ms).
    pub(super) async fn command_within(&self, budget_ms: u64, args: &[&str]) -> Result<Value, AdapterError> {
        let body = serde_json::to_string(args).map_err(|e| AdapterError::Decode(DEP, e.to_string()))?;
        self.under_breaker(budget_ms, async {
            let (status, text) = self.post("/", body).await?;
            decode_single(status, &text)
        })
        .await
    }

    /// Runs `call` under the Redis breaker: skipped while it is open, unless this client is [`Upstash::insistent`].
    async fn under_breaker<T>(
        &self,
        budget_ms: u64,
        call: impl std::future::Future<Output = Result<T, AdapterError>>,
    ) -> Result<T, AdapterError> {
        if self.insist {
            self.breakers.insisted(DEP, budget_ms, call).await
        } else {
            self.breakers.guarded(DEP, budget_ms, call).await
        }
    }

    /// Runs several commands in one round trip (not atomic); each has its own outcome.
    pub async fn pipeline(&self, commands: &[Vec<String>]) -> Result<Vec<Outcome>, AdapterError> {
        let body = serde_json::to_string(commands).map_err(|e| AdapterError::Decode(DEP, e.to_string()))?;
        self.under_breaker(self.budget_ms, async {
            let (status, text) = self.post("/pipeline", body).await?;
            decode_pipeline(status, &text, commands.len())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn single_replies_decode_per_the_protocol() {
        assert_eq!(decode_single(200, r#"{"result":"OK"}"#), Ok(json!("OK")));
        assert_eq!(decode_single(200, r#"{"result":null}"#), Ok(Value::Null));
        let noscript =
            decode_single(400, r#"{"error":"NOSCRIPT No matching script. Please use EVAL."}"#).expect_err("x");
        assert_eq!(noscript.upstream_code(), Some("NOSCRIPT"));
        assert!(!noscript.counts_against_breaker(), "a command error is Redis working");
        let unauthorized = decode_single(401, r#"{"error":"Unauthorized"}"#).expect_err("401");
        assert_eq!(unauthorized.upstream_code(), Some("Unauthorized"));
        let down = decode_single(503, r#"{"error":"redis unavailable: refused"}"#).expect_err("503");
        assert!(down.counts_against_breaker());
        assert!(matches!(decode_single(200, "<html>"), Err(AdapterError::Decode(..))));
    }

    #[test]
    fn pipelines_keep_one_outcome_per_command() {
        let body = r#"[{"result":"OK"},{"error":"ERR value is not an integer or out of range"},{"result":3}]"#;
        let outcomes = decode_pipeline(200, body, 3).expect("decoded");
        assert_eq!(outcomes[0], Ok(json!("OK")));
        assert!(outcomes[1].as_ref().is_err_and(|e| e.starts_with("ERR")));
        assert_eq!(outcomes[2], Ok(json!(3)));
        assert!(decode_pipeline(200, body, 2).is_err(), "a count mismatch is a decode error");
        assert!(decode_pipeline(503, r#"{"error":"redis unavailable"}"#, 1).is_err());
    }
}
