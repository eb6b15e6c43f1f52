//! `GET /rest/v1/{table}`: one filtered, ordered, paged SELECT, with the exact count when `Prefer` asks for it.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::negotiation::{check_profile, json_response, preferences, wants_single, window};
use super::{array_and_count, render, run, Gateway, Result, Statement};
use crate::postgrest::error::GatewayError;
use crate::postgrest::query::Query;
use crate::postgrest::sql::{order_clause, qualified, select_list, where_clause};

/// `GET /rest/v1/{table}`.
pub(super) async fn read(
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
