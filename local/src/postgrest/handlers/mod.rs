//! The HTTP side: `/rest/v1/{table}` (GET/HEAD, POST, PATCH, DELETE) and `POST /rest/v1/rpc/{function}`, each run
//! in one transaction as the caller's role. This file holds the gateway, its routes and that transaction; the
//! handlers live by verb (`read`, `write`, `rpc`), the request headers and reply shapes they share in `negotiation`.

mod negotiation;
mod read;
mod rpc;
mod write;

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use serde_json::Value;
use tokio_postgres::{NoTls, Row};

use super::auth::{identify, Identity};
use super::error::GatewayError;
use super::sql::ident;
use axum::extract::State;
use axum::http::HeaderMap;
use read::read;
use rpc::{call_function, call_function_with_get};
use write::{delete, insert, update};

type Result<T> = std::result::Result<T, GatewayError>;

/// Shared state: the connection pool (connected as `authenticator`) and the JWT secret.
pub struct Gateway {
    pool: Pool,
    secret: Vec<u8>,
    anon_role: String,
    jwks_file: Option<std::path::PathBuf>,
    api_keys: super::auth::ApiKeys,
    /// Test knob (`POST /__delay`): replies to requests whose path and query contain a rule's text wait its
    /// milliseconds after the request ran, as a slow database answer that has already been read (or, with
    /// `before`, before it runs, as a database that has not done it yet).
    delays: std::sync::Mutex<Vec<DelayRule>>,
}

impl Gateway {
    /// Connects lazily to `database_url`; the first request opens the first connection.
    pub fn new(database_url: &str, secret: &[u8], anon_role: &str) -> std::result::Result<Self, SetupError> {
        let config: tokio_postgres::Config = database_url.parse()?;
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager).max_size(16).build()?;
        Ok(Self {
            pool,
            secret: secret.to_vec(),
            anon_role: anon_role.to_owned(),
            jwks_file: None,
            api_keys: Default::default(),
            delays: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Also trusts the ES256/RS256 public keys of this JWKS file (read on every asymmetric token), and serves it at
    /// `/auth/v1/.well-known/jwks.json` as Supabase Auth publishes its keys.
    pub fn with_jwks_file(mut self, path: std::path::PathBuf) -> Self {
        self.jwks_file = Some(path);
        self
    }

    /// Accepts Supabase's newer non-JWT API keys: `secret` as `service_role`, `publishable` as the anonymous role.
    pub fn with_api_keys(mut self, api_keys: super::auth::ApiKeys) -> Self {
        self.api_keys = api_keys;
        self
    }

    async fn client(&self) -> Result<Object> {
        self.pool.get().await.map_err(|e| GatewayError::unavailable(format!("Database client error: {e}")))
    }
}

/// `GET /auth/v1/.well-known/jwks.json`: the JWKS file (an empty set when there is none).
async fn signing_keys(State(gateway): State<Arc<Gateway>>) -> Response {
    let document = gateway
        .jwks_file
        .as_deref()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .unwrap_or_else(|| r#"{"keys":[]}"#.to_owned());
    let headers = [("content-type", "application/json"), ("cache-control", "public, max-age=600")];
    (headers, document).into_response()
}

/// A bad database URL or pool setting.
pub type SetupError = Box<dyn std::error::Error + Send + Sync>;

/// The routes, served under `/rest/v1` as on Supabase.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/rest/v1/rpc/{function}", post(call_function).get(call_function_with_get))
        .route("/rest/v1/{table}", get(read).post(insert).patch(update).delete(delete))
        .route("/auth/v1/.well-known/jwks.json", get(signing_keys))
        .route("/__delay", post(set_delay).get(delay_rules))
        .fallback(|| async {
            GatewayError::unsupported("paths other than /rest/v1/{table} and /rest/v1/rpc/{function}")
        })
        .layer(axum::middleware::from_fn_with_state(gateway.clone(), delay_reply))
        .with_state(gateway)
}

/// `GET /__delay` with a `service_role` token: the delay knob's rules still in force.
async fn delay_rules(State(gateway): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    if let Err(refused) = knob_caller(&gateway, &headers) {
        return refused.into_response();
    }
    let delays = gateway.delays.lock().unwrap_or_else(|e| e.into_inner());
    let rules: Vec<Value> = delays
        .iter()
        .map(|rule| {
            serde_json::json!({"contains": rule.contains, "ms": rule.ms, "times": rule.left, "before": rule.before})
        })
        .collect();
    axum::Json(serde_json::json!({ "rules": rules })).into_response()
}

/// Refuses a caller of the delay knob without a `service_role` token.
fn knob_caller(gateway: &Gateway, headers: &HeaderMap) -> Result<()> {
    let identity =
        identify(headers, &gateway.secret, gateway.jwks_file.as_deref(), &gateway.anon_role, &gateway.api_keys)?;
    match identity.role.as_str() {
        "service_role" => Ok(()),
        _ => Err(GatewayError::jwt("PGRST301", "the delay knob takes a service_role token")),
    }
}

/// One rule of the delay knob.
struct DelayRule {
    /// Texts that a request's path, query and body all contain.
    contains: Vec<String>,
    /// How long its reply waits.
    ms: u64,
    /// How many more requests it delays (`None`: all).
    left: Option<u64>,
    /// Whether the request waits before it runs (else its reply waits after).
    before: bool,
}

impl DelayRule {
    fn matches(&self, request: &str) -> bool {
        self.contains.iter().all(|text| request.contains(text.as_str()))
    }
}

/// `POST /__delay` with `{"contains": ["text", …], "ms": N, "times"?: K, "before"?: bool}` and a `service_role` token
/// (local only, not a PostgREST route): from now on the reply to a request whose path, query and body contain every
/// text waits N ms after the request ran (with `"before": true` the request itself waits N ms before it runs) — for
/// the next K such requests, or all of them without `times` (0 ms removes the rule with those texts). The tests of a
/// reader whose database answer arrives after someone else's write use it, and those of a write the database has not
/// made yet; a rule naming one test's id slows nobody else.
async fn set_delay(State(gateway): State<Arc<Gateway>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if let Err(refused) = knob_caller(&gateway, &headers) {
        return refused.into_response();
    }
    let rule: Value = match serde_json::from_slice(&body) {
        Ok(rule) => rule,
        Err(error) => return GatewayError::bad_body(error.to_string()).into_response(),
    };
    let contains: Option<Vec<String>> = rule.get("contains").and_then(Value::as_array).map(|texts| {
        texts.iter().filter_map(Value::as_str).filter(|text| !text.is_empty()).map(str::to_owned).collect()
    });
    let (Some(contains), Some(ms)) =
        (contains.filter(|texts| !texts.is_empty()), rule.get("ms").and_then(Value::as_u64))
    else {
        return GatewayError::bad_body("{\"contains\": [non-empty text, …], \"ms\": number} expected").into_response();
    };
    let left = rule.get("times").and_then(Value::as_u64);
    let before = rule.get("before").and_then(Value::as_bool).unwrap_or(false);
    let mut delays = gateway.delays.lock().unwrap_or_else(|e| e.into_inner());
    delays.retain(|rule| rule.contains != contains);
    if ms > 0 && left != Some(0) {
        delays.push(DelayRule { contains: contains.clone(), ms, left, before });
    }
    axum::Json(serde_json::json!({"contains": contains, "ms": ms, "times": left, "before": before})).into_response()
}

/// Waits the longest `before` delay whose rule matches the request's path, query and body, runs it, then waits the
/// longest other such delay. A rule's count goes down when its wait begins: a test that sees a rule gone knows its
/// request is being held (`before`) or that the request's statements were run.
async fn delay_reply(
    State(gateway): State<Arc<Gateway>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // The knob's own requests are never delayed: a rule's texts are in the body that sets it, so the request that
    // set a rule while another was in force matched it, took its count (a `times: 1` rule was gone before the
    // request it was meant for) and waited its delay.
    if request.uri().path() == "/__delay" || gateway.delays.lock().unwrap_or_else(|e| e.into_inner()).is_empty() {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(error) => return GatewayError::bad_body(error.to_string()).into_response(),
    };
    let target = format!(
        "{} {}",
        parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or_default(),
        String::from_utf8_lossy(&body)
    );
    // On a task of its own: a client that gives up (the Worker's budget) does not stop a held request from running
    // when its wait is over, as a database does not drop a statement its client stopped waiting for. Before, the
    // dropped connection cancelled the wait, and whether the statement ran at all depended on how soon the server
    // noticed.
    let held = tokio::spawn(async move {
        if let Some(ms) = take_delay(&gateway, &target, true) {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        let response = next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(body))).await;
        if let Some(ms) = take_delay(&gateway, &target, false) {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        response
    });
    held.await
        .unwrap_or_else(|error| (axum::http::StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response())
}

/// The longest delay of the rules (waiting `before` the request runs, or not) that match `target`, each of them
/// counted down.
fn take_delay(gateway: &Gateway, target: &str, before: bool) -> Option<u64> {
    let mut delays = gateway.delays.lock().unwrap_or_else(|e| e.into_inner());
    let mut wait = None;
    for rule in delays.iter_mut().filter(|rule| rule.before == before && rule.matches(target)) {
        wait = wait.max(Some(rule.ms));
        rule.left = rule.left.map(|left| left.saturating_sub(1));
    }
    delays.retain(|rule| rule.left != Some(0));
    wait
}

/// One SQL statement with its optional JSON text parameter (`$1::text::json`).
struct Statement {
    sql: String,
    body: Option<String>,
}

/// The request's headers as PostgREST hands them to SQL in `request.headers`: one JSON object, lower-case names,
/// the last value of a repeated header (the audit trail reads `x-actor-id` and `x-request-id` from it).
fn headers_setting(headers: &HeaderMap) -> String {
    let object: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned().into())))
        .collect();
    serde_json::Value::Object(object).to_string()
}

/// Runs `statements` in one transaction as `identity`, returning each statement's rows.
async fn transact(
    client: &mut Object,
    identity: &Identity,
    headers: &str,
    read_only: bool,
    statements: &[Statement],
) -> std::result::Result<Vec<Vec<Row>>, tokio_postgres::Error> {
    let tx = client.build_transaction().read_only(read_only).start().await?;
    tx.batch_execute(&format!("SET LOCAL ROLE {}", ident(&identity.role))).await?;
    tx.execute(
        "SELECT set_config('request.jwt.claims', $1, true), set_config('request.headers', $2, true)",
        &[&identity.claims, &headers],
    )
    .await?;
    let mut results = Vec::with_capacity(statements.len());
    for statement in statements {
        let rows = match &statement.body {
            Some(body) => tx.query(&statement.sql, &[body]).await?,
            None => tx.query(&statement.sql, &[]).await?,
        };
        results.push(rows);
    }
    tx.commit().await?;
    Ok(results)
}

/// Authenticates, checks the schema headers, and runs the statements; database errors are mapped here once.
async fn run(
    gateway: &Gateway,
    headers: &HeaderMap,
    read_only: bool,
    statements: &[Statement],
) -> Result<Vec<Vec<Row>>> {
    let identity =
        identify(headers, &gateway.secret, gateway.jwks_file.as_deref(), &gateway.anon_role, &gateway.api_keys)?;
    let mut client = gateway.client().await?;
    transact(&mut client, &identity, &headers_setting(headers), read_only, statements)
        .await
        .map_err(|e| GatewayError::from_postgres(&e, identity.anonymous(&gateway.anon_role)))
}

/// The JSON array text and row count that every read and write statement selects.
pub(super) fn array_and_count(rows: &[Row]) -> Result<(String, i64)> {
    let row = rows.first().ok_or_else(|| GatewayError::unavailable("statement returned no rows"))?;
    Ok((row.get(0), row.get(1)))
}

/// The body for a result array: the array itself, or its only element when one object was asked for.
pub(super) fn render(array: String, rows: i64, single: bool) -> Result<String> {
    if !single {
        return Ok(array);
    }
    if rows != 1 {
        return Err(GatewayError::not_single(rows.max(0) as usize));
    }
    let mut value: Value = serde_json::from_str(&array).map_err(|e| GatewayError::unavailable(e.to_string()))?;
    Ok(value.get_mut(0).map(Value::take).unwrap_or(Value::Null).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_object_rendering_needs_exactly_one_row() {
        assert_eq!(render("[{\"a\":1}]".into(), 1, true).expect("one"), "{\"a\":1}");
        assert_eq!(render("[]".into(), 0, true).expect_err("none").status().as_u16(), 406);
        assert_eq!(render("[1,2]".into(), 2, false).expect("array"), "[1,2]");
    }
}
