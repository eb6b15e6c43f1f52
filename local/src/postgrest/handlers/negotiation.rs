//! What every handler reads from the request's headers (schema profile, one object or an array, `Prefer`, the
//! `Range` window) and the two reply shapes they answer with.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::Result;
use crate::postgrest::error::GatewayError;
use crate::postgrest::prefer::Preferences;
use crate::postgrest::query::Query;

/// Refuses a schema other than `public` in `Accept-Profile` / `Content-Profile`.
pub(super) fn check_profile(headers: &HeaderMap) -> Result<()> {
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
pub(super) fn wants_single(headers: &HeaderMap) -> Result<bool> {
    let accept = headers.get("accept").and_then(|v| v.to_str().ok()).unwrap_or("*/*");
    if accept.contains("application/vnd.pgrst.object") {
        Ok(true)
    } else if accept.contains("application/json") || accept.contains("*/*") || accept.trim().is_empty() {
        Ok(false)
    } else {
        Err(GatewayError::unsupported(format!("Accept: {accept}")))
    }
}

/// The `Prefer` headers, parsed.
pub(super) fn preferences(headers: &HeaderMap) -> Result<Preferences> {
    Preferences::parse(headers.get_all("prefer").iter().filter_map(|v| v.to_str().ok()))
}

/// `Range: a-b` / `Range: a-` (with `Range-Unit: items`), as the Rust `postgrest` crate sends for `.limit()`.
pub(super) fn header_range(headers: &HeaderMap) -> Result<Option<(u64, Option<u64>)>> {
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
pub(super) fn window(query: &Query, headers: &HeaderMap) -> Result<(u64, Option<u64>)> {
    let (range_start, range_end) = header_range(headers)?.unwrap_or((0, None));
    let offset = range_start + query.offset.unwrap_or(0);
    let range_limit = range_end.map(|end| (end + 1).saturating_sub(offset));
    let limit = match (range_limit, query.limit) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok((offset, limit))
}

/// A JSON reply, with `Content-Range` when there is one.
pub(super) fn json_response(status: StatusCode, body: String, content_range: Option<String>) -> Response {
    with_range((status, [("content-type", "application/json; charset=utf-8")], body).into_response(), content_range)
}

/// A reply without a body, with `Content-Range` when there is one.
pub(super) fn empty_response(status: StatusCode, content_range: Option<String>) -> Response {
    with_range(status.into_response(), content_range)
}

fn with_range(mut response: Response, content_range: Option<String>) -> Response {
    if let Some(range) = content_range.and_then(|r| HeaderValue::from_str(&r).ok()) {
        response.headers_mut().insert("content-range", range);
    }
    response
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
}
