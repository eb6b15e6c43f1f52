//! The database API adapter: the card's `postgrest` crate (it works inside workerd, `docs/TOOLCHAIN.md`) with
//! the caller's JWT forwarded so row-level security applies, or the service key where a route acts on its own
//! authority. Every call runs under the PostgREST breaker and a time budget.
//!
//! This file holds the client and its exchange; the queries are grouped by what they touch: `people`,
//! `competitions`, `fitness`, `scores` and `audit`.

pub mod audit;
mod competitions;
mod fitness;
mod people;
mod scores;

use std::rc::Rc;

use postgrest::{Builder, Postgrest};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::{AdapterError, Dependency};
use super::guard::Breakers;

const DEP: Dependency = Dependency::Postgrest;

/// Who a call runs as.
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    /// An end user: their access token, so Postgres applies their row-level security.
    User(&'a str),
    /// The Worker itself, with the service-role key (bypasses RLS; only where a route needs it).
    Service,
}

/// The PostgREST client of one isolate (or of one request, with its trace context; see [`Database::traced`]).
#[derive(Clone)]
pub struct Database {
    /// Users' and anonymous requests: the public (anon or publishable) key as `apikey`.
    client: Postgrest,
    /// The Worker's own requests: the service key as `apikey`.
    service_client: Postgrest,
    /// `Some(jwt)` for a legacy `service_role` JWT, also sent as the bearer token; `None` for an `sb_secret_…` key,
    /// which is not a JWT and goes in `apikey` only.
    service_bearer: Option<String>,
    budget_ms: u64,
    breakers: Rc<Breakers>,
}

/// Whether `key` is one of Supabase's newer API keys (`sb_secret_…`, `sb_publishable_…`) rather than a JWT.
pub fn is_api_key_style(key: &str) -> bool {
    key.starts_with("sb_")
}

/// PostgREST's error body.
#[derive(Debug, serde::Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Turns a status and body into the decoded value or an upstream error.
pub fn decode<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, AdapterError> {
    serde_json::from_slice(success_body(status, body)?.as_bytes()).map_err(|e| AdapterError::Decode(DEP, e.to_string()))
}

/// The body of a 2xx reply (`null` for an empty one); any other status as the error PostgREST described. Not
/// generic, so the error path is not copied into every row type's decoder.
fn success_body(status: u16, body: &str) -> Result<&str, AdapterError> {
    if (200..300).contains(&status) {
        return Ok(if body.trim().is_empty() { "null" } else { body });
    }
    let parsed: Option<ErrorBody> = serde_json::from_slice(body.as_bytes()).ok();
    Err(AdapterError::Upstream {
        dependency: DEP,
        status,
        code: parsed.as_ref().and_then(|e| e.code.clone()).unwrap_or_default(),
        message: parsed.and_then(|e| e.message).unwrap_or_else(|| format!("HTTP {status}")),
    })
}

/// Sends a built request and reads the reply whole. In the Worker through the runtime's `fetch`
/// (`crate::subrequest`), not reqwest's wasm client: that one converts every reply header through
/// `JSON.stringify`, `serde_json` and `http`'s header parser, parses the reply's URL and sets up an `AbortController`
/// per call, all unused here (the guard's budget bounds the call) — code in the bundle and time on every query.
#[cfg(target_arch = "wasm32")]
async fn send(builder: Builder) -> Result<(u16, String), AdapterError> {
    use worker::js_sys::Uint8Array;
    use worker::Headers;
    let unreachable = |e: &dyn std::fmt::Display| AdapterError::Unreachable(DEP, e.to_string());
    let built = builder.build().build().map_err(|e| unreachable(&e))?;
    let headers = Headers::new();
    for (name, value) in built.headers() {
        let value = value.to_str().map_err(|e| unreachable(&e))?;
        headers.append(name.as_str(), value).map_err(|e| unreachable(&e))?;
    }
    // The builder gives every request a body, empty for reads; `fetch` refuses a GET with one.
    let body = built.body().and_then(|body| body.as_bytes()).filter(|body| !body.is_empty());
    let body = body.map(|bytes| worker::wasm_bindgen::JsValue::from(Uint8Array::from(bytes)));
    let request = crate::subrequest::request(built.method().as_str(), built.url().as_str(), &headers, body.as_ref())
        .map_err(|e| unreachable(&e))?;
    let answer = crate::subrequest::send(&request).await.map_err(|e| unreachable(&e))?;
    let body = String::from_utf8(answer.body).map_err(|e| AdapterError::Decode(DEP, e.to_string()))?;
    Ok((answer.status, body))
}

/// Sends a built request with reqwest's own client (host builds: the adapter's conformance test against the local
/// PostgREST gateway).
#[cfg(not(target_arch = "wasm32"))]
async fn send(builder: Builder) -> Result<(u16, String), AdapterError> {
    let response = builder.execute().await.map_err(|e| AdapterError::Unreachable(DEP, e.to_string()))?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(|e| AdapterError::Unreachable(DEP, e.to_string()))?;
    Ok((status, body))
}

impl Database {
    /// A client for `{supabase_url}/rest/v1`. `anon_key` (a legacy anon JWT or an `sb_publishable_…` key) goes as
    /// `apikey` with users' requests, as Supabase's gateway requires; `service_key` (a legacy `service_role` JWT or an
    /// `sb_secret_…` key) as `apikey` with the Worker's own, and as the bearer token too when it is a JWT.
    pub fn new(supabase_url: &str, anon_key: &str, service_key: &str, budget_ms: u64, breakers: Rc<Breakers>) -> Self {
        let base = format!("{}/rest/v1", supabase_url.trim_end_matches('/'));
        Self {
            client: Postgrest::new(base.clone()).insert_header("apikey", anon_key),
            service_client: Postgrest::new(base).insert_header("apikey", service_key),
            service_bearer: (!is_api_key_style(service_key)).then(|| service_key.to_owned()),
            budget_ms,
            breakers,
        }
    }

    /// This client with `traceparent` on every request it sends (a cheap clone of the isolate's client).
    pub fn traced(&self, traceparent: &str) -> Self {
        Self {
            client: self.client.clone().insert_header("traceparent", traceparent),
            service_client: self.service_client.clone().insert_header("traceparent", traceparent),
            ..self.clone()
        }
    }

    /// This client sending, with the Worker's own requests, the request id and the person acting (`None` for a
    /// service key naming nobody): the database's audit trail of administrators' decisions records both
    /// (`supabase/migrations/20261204090000_admin_audit.sql`, read from PostgREST's `request.headers`).
    pub fn on_behalf_of(mut self, request_id: &str, actor: Option<&Uuid>) -> Self {
        self.service_client = self.service_client.insert_header("X-Request-Id", request_id);
        if let Some(actor) = actor {
            self.service_client = self.service_client.insert_header("X-Actor-Id", actor.to_string());
        }
        self
    }

    fn client_of(&self, caller: Caller<'_>) -> &Postgrest {
        match caller {
            Caller::User(_) => &self.client,
            Caller::Service => &self.service_client,
        }
    }

    fn as_caller(&self, builder: Builder, caller: Caller<'_>) -> Builder {
        match (caller, &self.service_bearer) {
            (Caller::User(token), _) => builder.auth(token),
            (Caller::Service, Some(jwt)) => builder.auth(jwt),
            (Caller::Service, None) => builder,
        }
    }

    fn table(&self, table: &str, caller: Caller<'_>) -> Builder {
        self.as_caller(self.client_of(caller).from(table), caller)
    }

    fn rpc(&self, function: &str, args: serde_json::Value, caller: Caller<'_>) -> Builder {
        self.as_caller(self.client_of(caller).rpc(function, args.to_string()), caller)
    }

    /// Sends a request under the breaker and budget, decodes the reply, and times it as `operation` (whatever the
    /// outcome, so slow failures show too; calls an open breaker refuses are not queries and are not timed).
    async fn run<T: DeserializeOwned>(&self, operation: &str, builder: Builder) -> Result<T, AdapterError> {
        // Only the decoding is generic: the guarded, timed and measured exchange is one function for every row type
        // (a copy of it per type was 3–6 KB of the bundle each).
        let mut decoded = None;
        self.exchange(operation, builder, &mut |status, body| {
            decoded = Some(decode::<T>(status, body)?);
            Ok(())
        })
        .await?;
        decoded.ok_or_else(|| AdapterError::Decode(DEP, "no reply".to_owned()))
    }

    /// Runs `builder` under the database's breaker and budget, hands the reply to `decode` inside them (so a reply
    /// that does not decode counts against the breaker) and records the query's duration.
    async fn exchange(
        &self,
        operation: &str,
        builder: Builder,
        decode: &mut dyn FnMut(u16, &str) -> Result<(), AdapterError>,
    ) -> Result<(), AdapterError> {
        let started = super::guard::clock_ms();
        let outcome = self
            .breakers
            .guarded(DEP, self.budget_ms, async move {
                let (status, body) = send(builder).await?;
                decode(status, &body)
            })
            .await;
        if !matches!(outcome, Err(AdapterError::CircuitOpen(_))) {
            let seconds = super::guard::clock_ms().saturating_sub(started) as f64 / 1000.0;
            let buckets = crate::metrics::series::DURATION_BUCKETS;
            crate::metrics::observe(
                crate::metrics::Family::DbQueryDurationSeconds,
                &[("operation", operation)],
                seconds,
                buckets,
            );
        }
        outcome
    }

    /// A cheap request as the anonymous role (health checks): one column of at most one row.
    pub async fn ping(&self) -> Result<(), AdapterError> {
        let rows: Vec<serde_json::Value> =
            self.run("ping", self.client.from("competitions").select("id").limit(1)).await?;
        drop(rows);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_decode_or_become_upstream_errors() {
        assert_eq!(decode::<i64>(200, "3"), Ok(3));
        assert_eq!(decode::<Option<i64>>(204, ""), Ok(None));
        let error = decode::<i64>(409, r#"{"code":"PT409","message":"competition has finished","details":null}"#);
        assert_eq!(
            error,
            Err(AdapterError::Upstream {
                dependency: DEP,
                status: 409,
                code: "PT409".into(),
                message: "competition has finished".into()
            })
        );
        let opaque = decode::<i64>(502, "<html>bad gateway</html>").expect_err("502");
        assert_eq!(opaque.upstream_code(), Some(""));
        assert!(opaque.counts_against_breaker());
        assert!(matches!(decode::<i64>(200, "{"), Err(AdapterError::Decode(..))));
    }
}
