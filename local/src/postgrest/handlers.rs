//! The HTTP side: `/rest/v1/{table}` (GET/HEAD, POST, PATCH, DELETE) and `POST /rest/v1/rpc/{function}`, each run
//! in one transaction as the caller's role.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use serde_json::Value;
use tokio_postgres::{NoTls, Row};

use super::auth::{identify, Identity};
use super::error::GatewayError;
use super::prefer::{Preferences, Resolution, Return};
use super::query::{column_name, Query};
use super::sql::{ident, order_clause, qualified, select_list, where_clause};

type Result<T> = std::result::Result<T, GatewayError>;

/// Shared state: the connection pool (connected as `authenticator`) and the JWT secret.
pub struct Gateway {
    pool: Pool,
    secret: Vec<u8>,
    anon_role: String,
    jwks_file: Option<std::path::PathBuf>,
    api_keys: super::auth::ApiKeys,
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
        .fallback(|| async {
            GatewayError::unsupported("paths other than /rest/v1/{table} and /rest/v1/rpc/{function}")
        })
        .with_state(gateway)
}

/// One SQL statement with its optional JSON text parameter (`$1::text::json`).
struct Statement {
    sql: String,
    body: Option<String>,
}

/// Runs `statements` in one transaction as `identity`, returning each statement's rows.
async fn transact(
    client: &mut Object,
    identity: &Identity,
    read_only: bool,
    statements: &[Statement],
) -> std::result::Result<Vec<Vec<Row>>, tokio_postgres::Error> {
    let tx = client.build_transaction().read_only(read_only).start().await?;
    tx.batch_execute(&format!("SET LOCAL ROLE {}", ident(&identity.role))).await?;
    tx.execute("SELECT set_config('request.jwt.claims', $1, true)", &[&identity.claims]).await?;
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
    transact(&mut client, &identity, read_only, statements)
        .await
        .map_err(|e| GatewayError::from_postgres(&e, identity.anonymous(&gateway.anon_role)))
}

fn check_profile(headers: &HeaderMap) -> Result<()> {
    for name in ["accept-profile", "content-profile"] {
        if let Some(schema) = headers.get(name).and_then(|v| v.to_str().ok()) {
            if schema != "public" {
                return Err(GatewayError::schema(schema));
            }
        }
    }
    Ok(())
}

/// Whether the caller asked for one object (`Accept: application/vnd.pgrst.object+json`) rather than an array.
fn wants_single(headers: &HeaderMap) -> Result<bool> {
    let accept = headers.get("accept").and_then(|v| v.to_str().ok()).unwrap_or("*/*");
    if accept.contains("application/vnd.pgrst.object") {
        Ok(true)
    } else if accept.contains("application/json") || accept.contains("*/*") || accept.trim().is_empty() {
        Ok(false)
    } else {
        Err(GatewayError::unsupported(format!("Accept: {accept}")))
    }
}

fn preferences(headers: &HeaderMap) -> Result<Preferences> {
    Preferences::parse(headers.get_all("prefer").iter().filter_map(|v| v.to_str().ok()))
}

/// `Range: a-b` / `Range: a-` (with `Range-Unit: items`), as the Rust `postgrest` crate sends for `.limit()`.
fn header_range(headers: &HeaderMap) -> Result<Option<(u64, Option<u64>)>> {
    let Some(range) = headers.get("range").and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let unit = headers.get("range-unit").and_then(|v| v.to_str().ok()).unwrap_or("items");
    if unit != "items" {
        return Err(GatewayError::unsupported(format!("Range-Unit: {unit}")));
    }
    let bad = || GatewayError::range(format!("invalid Range header {range:?}"));
    let (start, end) = range.trim().split_once('-').ok_or_else(bad)?;
    let start: u64 = start.parse().map_err(|_| bad())?;
    let end: Option<u64> = if end.is_empty() { None } else { Some(end.parse().map_err(|_| bad())?) };
    if end.is_some_and(|end| end < start) {
        return Err(bad());
    }
    Ok(Some((start, end)))
}

/// Offset and limit from the `Range` header and the `limit`/`offset` parameters together (the parameters apply
/// inside the header's window, as in PostgREST).
fn window(query: &Query, headers: &HeaderMap) -> Result<(u64, Option<u64>)> {
    let (range_start, range_end) = header_range(headers)?.unwrap_or((0, None));
    let offset = range_start + query.offset.unwrap_or(0);
    let range_limit = range_end.map(|end| (end + 1).saturating_sub(offset));
    let limit = match (range_limit, query.limit) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok((offset, limit))
}

fn json_response(status: StatusCode, body: String, content_range: Option<String>) -> Response {
    let mut response = (status, [("content-type", "application/json; charset=utf-8")], body).into_response();
    if let Some(range) = content_range.and_then(|r| HeaderValue::from_str(&r).ok()) {
        response.headers_mut().insert("content-range", range);
    }
    response
}

fn empty_response(status: StatusCode, content_range: Option<String>) -> Response {
    let mut response = status.into_response();
    if let Some(range) = content_range.and_then(|r| HeaderValue::from_str(&r).ok()) {
        response.headers_mut().insert("content-range", range);
    }
    response
}

/// The JSON array text and row count that every read and write statement selects.
fn array_and_count(rows: &[Row]) -> Result<(String, i64)> {
    let row = rows.first().ok_or_else(|| GatewayError::unavailable("statement returned no rows"))?;
    Ok((row.get(0), row.get(1)))
}

/// The body for a result array: the array itself, or its only element when one object was asked for.
fn render(array: String, rows: i64, single: bool) -> Result<String> {
    if !single {
        return Ok(array);
    }
    if rows != 1 {
        return Err(GatewayError::not_single(rows.max(0) as usize));
    }
    let mut value: Value = serde_json::from_str(&array).map_err(|e| GatewayError::unavailable(e.to_string()))?;
    Ok(value.get_mut(0).map(Value::take).unwrap_or(Value::Null).to_string())
}

async fn read(
    State(gateway): State<Arc<Gateway>>,
    Path(table): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    check_profile(&headers)?;
    let query = Query::parse(raw.as_deref().unwrap_or(""))?;
    let prefs = preferences(&headers)?;
    let single = wants_single(&headers)?;
    let (offset, limit) = window(&query, &headers)?;
    let table = qualified(&table)?;
    let filter = where_clause(&query.filters, "")?;
    let limit_sql = limit.map(|l| format!(" LIMIT {l}")).unwrap_or_default();
    let mut statements = vec![Statement {
        sql: format!(
            "SELECT coalesce(json_agg(_t), '[]')::text, count(*) FROM (SELECT {} FROM {table}{filter}{}{limit_sql} \
             OFFSET {offset}) _t",
            select_list(&query.select),
            order_clause(&query.order),
        ),
        body: None,
    }];
    if prefs.count_exact {
        statements.push(Statement { sql: format!("SELECT count(*) FROM {table}{filter}"), body: None });
    }
    let results = run(&gateway, &headers, true, &statements).await?;
    let (array, rows) = array_and_count(&results[0])?;
    let total: Option<i64> = results.get(1).and_then(|rows| rows.first()).map(|row| row.get(0));
    let offset = offset as i64;
    if let Some(total) = total {
        if rows == 0 && offset > 0 && offset >= total && total > 0 {
            return Err(GatewayError::range(format!("offset {offset} is beyond the {total} rows")));
        }
    }
    let total_text = total.map_or("*".to_owned(), |t| t.to_string());
    let range =
        if rows == 0 { format!("*/{total_text}") } else { format!("{offset}-{}/{total_text}", offset + rows - 1) };
    let partial = total.is_some_and(|total| offset > 0 || offset + rows < total);
    let status = if partial { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
    Ok(json_response(status, render(array, rows, single)?, Some(range)))
}

/// The JSON body as a list of objects, and the columns to write (`columns=` or the keys, which must all match).
fn objects_and_columns(body: &[u8], query: &Query) -> Result<(String, Vec<String>, usize)> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| GatewayError::bad_body(format!("Empty or invalid json: {e}")))?;
    let objects = match value {
        Value::Object(_) => vec![value],
        Value::Array(items) => items,
        _ => return Err(GatewayError::bad_body("the body must be a JSON object or an array of objects")),
    };
    let mut keys: Option<Vec<String>> = None;
    for object in &objects {
        let Value::Object(map) = object else {
            return Err(GatewayError::bad_body("every element of the body must be a JSON object"));
        };
        let mut these: Vec<String> = map.keys().cloned().collect();
        these.sort();
        match &keys {
            None => keys = Some(these),
            Some(first) if query.columns.is_none() && *first != these => {
                return Err(GatewayError::bad_body("All object keys must match"))
            }
            Some(_) => {}
        }
    }
    let columns = match &query.columns {
        Some(columns) => columns.clone(),
        None => keys.unwrap_or_default().iter().map(|k| column_name(k)).collect::<Result<Vec<_>>>()?,
    };
    let count = objects.len();
    Ok((Value::Array(objects).to_string(), columns, count))
}

/// The key an upsert conflicts on: `on_conflict=` or the table's primary key.
async fn conflict_target(gateway: &Gateway, table: &str, query: &Query) -> Result<Vec<String>> {
    if let Some(columns) = &query.on_conflict {
        return Ok(columns.clone());
    }
    let client = gateway.client().await?;
    let rows = client
        .query(
            "SELECT a.attname::text FROM pg_index i \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
             WHERE i.indrelid = $1::text::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
            &[&table],
        )
        .await
        .map_err(|e| GatewayError::from_postgres(&e, false))?;
    if rows.is_empty() {
        return Err(GatewayError::unsupported("upsert on a table without a primary key and no on_conflict"));
    }
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

async fn insert(
    State(gateway): State<Arc<Gateway>>,
    Path(table): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let Write { query, prefs, single, table } = Write::parse("INSERT", &table, raw.as_deref(), &headers)?;
    let (objects, columns, count) = objects_and_columns(&body, &query)?;
    if count == 0 {
        let body = if prefs.return_ == Return::Representation { Some("[]".to_owned()) } else { None };
        return Ok(match body {
            Some(body) => json_response(StatusCode::CREATED, body, Some("*/*".into())),
            None => empty_response(StatusCode::CREATED, Some("*/*".into())),
        });
    }
    if columns.is_empty() {
        return Err(GatewayError::unsupported("inserting objects without keys"));
    }
    let column_list = columns.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
    let on_conflict = match prefs.resolution {
        Resolution::Error => String::new(),
        resolution => {
            let target = conflict_target(&gateway, &table, &query).await?;
            let target = target.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
            if resolution == Resolution::IgnoreDuplicates {
                format!(" ON CONFLICT ({target}) DO NOTHING")
            } else {
                let set = columns.iter().map(|c| format!("{0} = EXCLUDED.{0}", ident(c))).collect::<Vec<_>>();
                format!(" ON CONFLICT ({target}) DO UPDATE SET {}", set.join(", "))
            }
        }
    };
    let sql = format!(
        "WITH _w AS (INSERT INTO {table} ({column_list}) SELECT {column_list} FROM \
         json_populate_recordset(NULL::{table}, $1::text::json){on_conflict} RETURNING {}) \
         SELECT coalesce(json_agg(_w), '[]')::text, count(*) FROM _w",
        select_list(&query.select)
    );
    let results = run(&gateway, &headers, false, &[Statement { sql, body: Some(objects) }]).await?;
    let (array, rows) = array_and_count(&results[0])?;
    Ok(match prefs.return_ {
        Return::Representation => json_response(StatusCode::CREATED, render(array, rows, single)?, Some("*/*".into())),
        Return::Minimal => empty_response(StatusCode::CREATED, Some("*/*".into())),
    })
}

/// What every write request (POST, PATCH, DELETE) is parsed into before its SQL is built.
struct Write {
    query: Query,
    prefs: Preferences,
    single: bool,
    table: String,
}

impl Write {
    /// Parses and checks a write. Writes take filters but not paging or ordering in this subset, and UPDATE and
    /// DELETE need a filter: Supabase loads `pg-safeupdate`, which refuses them without a WHERE clause.
    fn parse(verb: &str, table: &str, raw: Option<&str>, headers: &HeaderMap) -> Result<Self> {
        check_profile(headers)?;
        let query = Query::parse(raw.unwrap_or(""))?;
        if query.limit.is_some() || query.offset.is_some() || !query.order.is_empty() {
            return Err(GatewayError::unsupported(format!("limit/offset/order on {verb}")));
        }
        if verb != "INSERT" && query.filters.is_empty() {
            return Err(GatewayError::parse(format!("{verb} requires a WHERE clause")));
        }
        Ok(Self { prefs: preferences(headers)?, single: wants_single(headers)?, table: qualified(table)?, query })
    }
}

async fn update(
    State(gateway): State<Arc<Gateway>>,
    Path(table): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let Write { query, prefs, single, table } = Write::parse("UPDATE", &table, raw.as_deref(), &headers)?;
    let Value::Object(map) = serde_json::from_slice::<Value>(&body)
        .map_err(|e| GatewayError::bad_body(format!("Empty or invalid json: {e}")))?
    else {
        return Err(GatewayError::bad_body("PATCH takes one JSON object"));
    };
    if map.is_empty() {
        return Err(GatewayError::bad_body("PATCH needs at least one column"));
    }
    let columns = map.keys().map(|k| column_name(k)).collect::<Result<Vec<_>>>()?;
    let set = columns.iter().map(|c| format!("{0} = _b.{0}", ident(c))).collect::<Vec<_>>().join(", ");
    let returning = if query.select.is_empty() {
        format!("{table}.*")
    } else {
        query.select.iter().map(|c| format!("{table}.{}", ident(c))).collect::<Vec<_>>().join(", ")
    };
    let sql = format!(
        "WITH _w AS (UPDATE {table} SET {set} FROM json_populate_record(NULL::{table}, $1::text::json) _b{} \
         RETURNING {returning}) SELECT coalesce(json_agg(_w), '[]')::text, count(*) FROM _w",
        where_clause(&query.filters, &format!("{table}."))?
    );
    let results =
        run(&gateway, &headers, false, &[Statement { sql, body: Some(Value::Object(map).to_string()) }]).await?;
    let (array, rows) = array_and_count(&results[0])?;
    write_reply(prefs, array, rows, single)
}

async fn delete(
    State(gateway): State<Arc<Gateway>>,
    Path(table): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let Write { query, prefs, single, table } = Write::parse("DELETE", &table, raw.as_deref(), &headers)?;
    let sql = format!(
        "WITH _w AS (DELETE FROM {table}{} RETURNING {}) SELECT coalesce(json_agg(_w), '[]')::text, count(*) FROM _w",
        where_clause(&query.filters, "")?,
        select_list(&query.select)
    );
    let results = run(&gateway, &headers, false, &[Statement { sql, body: None }]).await?;
    let (array, rows) = array_and_count(&results[0])?;
    write_reply(prefs, array, rows, single)
}

/// PATCH and DELETE answer 200 with the rows, or 204 for `return=minimal`.
fn write_reply(prefs: Preferences, array: String, rows: i64, single: bool) -> Result<Response> {
    let range = if rows == 0 { "*/*".to_owned() } else { format!("0-{}/*", rows - 1) };
    Ok(match prefs.return_ {
        Return::Representation => json_response(StatusCode::OK, render(array, rows, single)?, Some(range)),
        Return::Minimal => empty_response(StatusCode::NO_CONTENT, Some(range)),
    })
}

/// What `pg_proc` says about one overload of a function.
struct Signature {
    returns_set: bool,
    returns_void: bool,
    /// Input arguments in order: name, SQL type, and whether it has a default.
    arguments: Vec<(String, String, bool)>,
}

async fn signatures(gateway: &Gateway, function: &str) -> Result<Vec<Signature>> {
    let client = gateway.client().await?;
    let rows = client
        .query(
            "SELECT p.proretset, t.typname::text, p.pronargs::int, p.pronargdefaults::int, \
                    coalesce(p.proargnames, '{}')::text[], coalesce(p.proargmodes::text[], '{}'), \
                    (SELECT coalesce(array_agg(format_type(x, NULL) ORDER BY o), '{}') \
                       FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(x, o)) \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_type t ON t.oid = p.prorettype \
             WHERE n.nspname = 'public' AND p.proname = $1",
            &[&function],
        )
        .await
        .map_err(|e| GatewayError::from_postgres(&e, false))?;
    Ok(rows
        .iter()
        .map(|row| {
            let nargs: i32 = row.get(2);
            let ndefaults: i32 = row.get(3);
            let names: Vec<String> = row.get(4);
            let modes: Vec<String> = row.get(5);
            let types: Vec<String> = row.get(6);
            let input_names: Vec<String> = if modes.is_empty() {
                names.into_iter().take(nargs as usize).collect()
            } else {
                names
                    .into_iter()
                    .zip(modes)
                    .filter(|(_, m)| matches!(m.as_str(), "i" | "b" | "v"))
                    .map(|(n, _)| n)
                    .collect()
            };
            let required = (nargs - ndefaults).max(0) as usize;
            let arguments = input_names
                .into_iter()
                .zip(types)
                .enumerate()
                .map(|(i, (name, ty))| (name, ty, i >= required))
                .collect();
            let returns: String = row.get(1);
            Signature { returns_set: row.get(0), returns_void: returns == "void", arguments }
        })
        .collect())
}

async fn call_function_with_get() -> GatewayError {
    GatewayError::unsupported("GET /rpc (call functions with POST)")
}

async fn call_function(
    State(gateway): State<Arc<Gateway>>,
    Path(function): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    check_profile(&headers)?;
    let query = Query::parse(raw.as_deref().unwrap_or(""))?;
    if query != Query::default() {
        return Err(GatewayError::unsupported("query parameters on /rpc"));
    }
    let single = wants_single(&headers)?;
    let function_name = column_name(&function)?;
    let arguments: serde_json::Map<String, Value> = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Map::new()
    } else {
        match serde_json::from_slice(&body) {
            Ok(Value::Object(map)) => map,
            _ => return Err(GatewayError::bad_body("RPC arguments must be one JSON object")),
        }
    };
    let mut given: Vec<&String> = arguments.keys().collect();
    given.sort();
    let signature = signatures(&gateway, &function_name)
        .await?
        .into_iter()
        .find(|s| {
            given.iter().all(|k| s.arguments.iter().any(|(name, _, _)| name == *k))
                && s.arguments.iter().all(|(name, _, optional)| *optional || arguments.contains_key(name))
        })
        .ok_or_else(|| {
            GatewayError::no_function(&format!(
                "{function_name}({})",
                given.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })?;
    let passed: Vec<&(String, String, bool)> =
        signature.arguments.iter().filter(|(name, _, _)| arguments.contains_key(name)).collect();
    let target = qualified(&function_name)?;
    let source = if passed.is_empty() {
        format!("{target}() _r")
    } else {
        let record = passed.iter().map(|(n, t, _)| format!("{} {t}", ident(n))).collect::<Vec<_>>().join(", ");
        let call = passed.iter().map(|(n, _, _)| format!("{0} := _a.{0}", ident(n))).collect::<Vec<_>>().join(", ");
        format!("json_to_record($1::text::json) AS _a({record}), LATERAL {target}({call}) _r")
    };
    let projection = if signature.returns_set {
        "coalesce(json_agg(_r), '[]')::text, count(*)"
    } else if signature.returns_void {
        "NULL::text, count(*)"
    } else {
        "coalesce(to_json(_r), 'null'::json)::text, 1::bigint"
    };
    let statement = Statement {
        sql: format!("SELECT {projection} FROM {source}"),
        body: (!passed.is_empty()).then(|| Value::Object(arguments.clone()).to_string()),
    };
    let results = run(&gateway, &headers, false, &[statement]).await?;
    if signature.returns_void {
        return Ok(empty_response(StatusCode::NO_CONTENT, None));
    }
    let row = results[0].first().ok_or_else(|| GatewayError::unavailable("function returned no row"))?;
    let (value, rows): (Option<String>, i64) = (row.get(0), row.get(1));
    let value = value.unwrap_or_else(|| "null".to_owned());
    let body = if signature.returns_set { render(value, rows, single)? } else { value };
    Ok(json_response(StatusCode::OK, body, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn paging_combines_range_header_and_parameters() {
        type Case<'a> = (&'a str, &'a [(&'static str, &'static str)], (u64, Option<u64>));
        let cases: [Case; 5] = [
            ("", &[], (0, None)),
            ("limit=5&offset=10", &[], (10, Some(5))),
            ("", &[("range", "0-4"), ("range-unit", "items")], (0, Some(5))),
            ("", &[("range", "20-")], (20, None)),
            ("limit=2", &[("range", "10-19")], (10, Some(2))),
        ];
        for (raw, pairs, expected) in cases {
            let query = Query::parse(raw).expect("parse");
            assert_eq!(window(&query, &headers(pairs)).expect("window"), expected, "{raw} {pairs:?}");
        }
        assert!(window(&Query::default(), &headers(&[("range", "5-1")])).is_err());
        assert!(window(&Query::default(), &headers(&[("range", "0-1"), ("range-unit", "bytes")])).is_err());
    }

    #[test]
    fn single_object_rendering_needs_exactly_one_row() {
        assert_eq!(render("[{\"a\":1}]".into(), 1, true).expect("one"), "{\"a\":1}");
        assert_eq!(render("[]".into(), 0, true).expect_err("none").status().as_u16(), 406);
        assert_eq!(render("[1,2]".into(), 2, false).expect("array"), "[1,2]");
    }

    #[test]
    fn bodies_need_matching_keys_unless_columns_are_named() {
        let query = Query::default();
        let (_, columns, count) = objects_and_columns(br#"[{"a":1,"b":2},{"b":3,"a":4}]"#, &query).expect("ok");
        assert_eq!((columns, count), (vec!["a".to_owned(), "b".to_owned()], 2));
        assert!(objects_and_columns(br#"[{"a":1},{"b":2}]"#, &query).is_err());
        assert!(objects_and_columns(b"42", &query).is_err());
        let named = Query::parse("columns=a").expect("parse");
        assert!(objects_and_columns(br#"[{"a":1},{"a":2,"b":2}]"#, &named).is_ok());
    }
}
