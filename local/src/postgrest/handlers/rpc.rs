//! `POST /rest/v1/rpc/{function}`: the overload whose arguments match the body's keys, called with them.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::negotiation::{check_profile, empty_response, json_response, wants_single};
use super::{render, run, Gateway, Result, Statement};
use crate::postgrest::error::GatewayError;
use crate::postgrest::query::{column_name, Query};
use crate::postgrest::sql::{ident, qualified};

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

/// `GET /rest/v1/rpc/{function}`: not in this subset.
pub(super) async fn call_function_with_get() -> GatewayError {
    GatewayError::unsupported("GET /rpc (call functions with POST)")
}

/// `POST /rest/v1/rpc/{function}`.
pub(super) async fn call_function(
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
