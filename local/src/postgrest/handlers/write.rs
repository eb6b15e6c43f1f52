//! `POST`, `PATCH` and `DELETE /rest/v1/{table}`: inserts and upserts from a JSON body, filtered updates and deletes,
//! each answering with the rows as `Prefer: return=` asks.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::negotiation::{check_profile, empty_response, json_response, preferences, wants_single};
use super::{array_and_count, render, run, Gateway, Result, Statement};
use crate::postgrest::error::GatewayError;
use crate::postgrest::prefer::{Preferences, Resolution, Return};
use crate::postgrest::query::{column_name, Query};
use crate::postgrest::sql::{ident, qualified, select_list, where_clause};

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

/// `POST /rest/v1/{table}`: insert, or upsert with `Prefer: resolution=`.
pub(super) async fn insert(
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

/// `PATCH /rest/v1/{table}`: one object's columns set on the filtered rows.
pub(super) async fn update(
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

/// `DELETE /rest/v1/{table}`: the filtered rows.
pub(super) async fn delete(
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

#[cfg(test)]
mod tests {
    use super::*;

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
