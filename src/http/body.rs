//! JSON request bodies: content type, size limit, and the 400/413/415/422 split of `API.md`.

use serde::de::DeserializeOwned;

use super::shape_error;
use crate::error::{ApiError, FieldError};

/// Largest JSON body accepted.
pub const JSON_LIMIT: usize = 64 * 1024;

/// How much of a refused chunked body is still read (and dropped) before its 413, so that the upload can finish.
pub const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// How long a refused chunked body is drained at most before its 413: a body that never ends is answered after this.
pub const DRAIN_MS: u64 = 2_000;

/// For `#[serde(default, deserialize_with = "present")]`: a field that may be left out but is never `null` (a PATCH's
/// `{"name": null}` is a 422 naming the field, not a silent "no change"). On an `Option<Option<T>>` field it tells
/// an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Refuses a body whose declared length already exceeds `limit` (the real length is checked again after reading).
pub fn check_declared_length(content_length: Option<&str>, limit: usize) -> Result<(), ApiError> {
    match content_length.and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(len) if len > limit as u64 => Err(ApiError::PayloadTooLarge { limit }),
        _ => Ok(()),
    }
}

/// The body's length when the request declared one that frames it: a `Content-Length` without a
/// `Transfer-Encoding` (with both, the transfer coding frames the body and the length means nothing).
pub fn declared_length(content_length: Option<&str>, has_transfer_encoding: bool) -> Option<usize> {
    if has_transfer_encoding {
        return None;
    }
    content_length?.trim().parse().ok()
}

/// Counts one chunk of a body being read into `total`, or refuses the body (413) once it passes `limit` bytes.
pub fn count_within(total: &mut usize, chunk: usize, limit: usize) -> Result<(), ApiError> {
    if *total + chunk > limit {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    *total += chunk;
    Ok(())
}

/// Requires `Content-Type: application/json` (parameters such as `charset` allowed).
pub fn require_json_content_type(content_type: Option<&str>) -> Result<(), ApiError> {
    let media_type = content_type.and_then(|v| v.split(';').next()).map(|v| v.trim().to_ascii_lowercase());
    match media_type.as_deref() {
        Some("application/json") => Ok(()),
        _ => Err(ApiError::UnsupportedMediaType("Content-Type must be application/json".into())),
    }
}

/// Parses a JSON object body: malformed JSON is 400 `invalid_json`; well-formed JSON of the wrong shape (not an
/// object, wrong type, missing, unknown or repeated field) is 422 `validation_failed`.
///
/// The body is parsed straight into `T` (no `serde_json::Value` in between, which cost a map of owned strings per
/// request and kept the last of two values for a repeated key, so `{"score":5,"score":900}` was read as 900 where
/// another parser would read 5). Only a failing body is read a second time, to tell a syntax error from a shape one.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], limit: usize) -> Result<T, ApiError> {
    if bytes.len() > limit {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let invalid = |error: serde_json::Error| ApiError::InvalidJson(format!("body is not valid JSON: {error}"));
    let syntax_error = || serde_json::from_slice::<serde::de::IgnoredAny>(bytes).err().map(invalid);
    // serde's derive also accepts a struct written as an array; the contract's bodies are objects only.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(syntax_error()
            .unwrap_or_else(|| ApiError::ValidationFailed(vec![FieldError::new("body", "must be a JSON object")])));
    }
    serde_json::from_slice(bytes).map_err(|error| match error.classify() {
        // A shape error may come before a syntax error later in the body: malformed JSON is still a 400.
        serde_json::error::Category::Data => {
            syntax_error().unwrap_or_else(|| ApiError::ValidationFailed(vec![shape_error::field_error(bytes, &error)]))
        }
        _ => invalid(error),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn only_a_length_without_a_transfer_coding_frames_the_body() {
        let cases = [
            (Some("12"), false, Some(12)),
            (Some(" 0 "), false, Some(0)),
            (Some("12"), true, None),
            (None, false, None),
            (Some("-1"), false, None),
            (Some("1e3"), false, None),
        ];
        for (length, chunked, expected) in cases {
            assert_eq!(declared_length(length, chunked), expected, "{length:?} {chunked}");
        }
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Shape {
        score: i64,
    }

    #[test]
    fn bodies_are_classified_per_the_contract() {
        let cases: &[(&str, Option<u16>)] = &[
            (r#"{"score": 5}"#, None),
            (r#"{"score": 5"#, Some(400)),
            ("", Some(400)),
            ("not json", Some(400)),
            (r#"{"score": "5"}"#, Some(422)),
            (r#"{"score": 1.5}"#, Some(422)),
            (r#"{}"#, Some(422)),
            (r#"{"score": 5, "extra": 1}"#, Some(422)),
            (r#"[1]"#, Some(422)),
            ("  [1", Some(400)),
            ("5", Some(422)),
            (r#" {"score": 5} "#, None),
            (r#"{"score": 5} x"#, Some(400)),
            // A repeated key is ambiguous (parsers differ on which value wins): refused, not read as the last one.
            (r#"{"score": 5, "score": 900}"#, Some(422)),
            // The shape error comes first, but the body is not JSON at all.
            (r#"{"score": "5", "#, Some(400)),
        ];
        for (body, status) in cases {
            let got = parse_json::<Shape>(body.as_bytes(), JSON_LIMIT).err().map(|e| e.status());
            assert_eq!(got, *status, "{body}");
        }
    }

    #[test]
    fn size_limits_hold_for_declared_and_actual_length() {
        assert_eq!(check_declared_length(Some("65537"), JSON_LIMIT).unwrap_err().status(), 413);
        assert!(check_declared_length(Some("65536"), JSON_LIMIT).is_ok());
        assert!(check_declared_length(None, JSON_LIMIT).is_ok());
        let big = format!(r#"{{"score": 1, "pad": "{}"}}"#, "x".repeat(JSON_LIMIT));
        assert_eq!(parse_json::<Shape>(big.as_bytes(), JSON_LIMIT).unwrap_err().status(), 413);
    }

    #[test]
    fn a_streamed_body_is_refused_as_soon_as_it_passes_the_limit() {
        let mut total = 0;
        assert!(count_within(&mut total, 40, 64).is_ok());
        assert!(count_within(&mut total, 24, 64).is_ok());
        assert_eq!(count_within(&mut total, 1, 64).unwrap_err().status(), 413);
        // The refused chunk was not counted.
        assert_eq!(total, 64);
    }

    #[test]
    fn content_type_must_be_json() {
        assert!(require_json_content_type(Some("application/json")).is_ok());
        assert!(require_json_content_type(Some("Application/JSON; charset=utf-8")).is_ok());
        for bad in [None, Some("text/plain"), Some("application/jsonx"), Some("")] {
            assert_eq!(require_json_content_type(bad).unwrap_err().status(), 415, "{bad:?}");
        }
    }
}
