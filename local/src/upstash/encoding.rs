//! Upstash's JSON encoding of Redis replies: `{"result": …}` / `{"error": "…"}`, strings as JSON strings (or base64
//! when the caller sends `Upstash-Encoding: base64`), integers as numbers, nil as null, arrays as arrays.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use redis::Value as Reply;
use serde_json::{json, Value};

/// How strings in replies are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringEncoding {
    Plain,
    Base64,
}

/// One command's outcome as Upstash writes it.
pub fn outcome(reply: &Reply, encoding: StringEncoding) -> Value {
    match reply {
        Reply::ServerError(error) => json!({ "error": error_text(error.code(), error.details()) }),
        other => json!({ "result": value(other, encoding) }),
    }
}

/// `CODE detail`, as Redis and Upstash print errors.
pub fn error_text(code: &str, detail: Option<&str>) -> String {
    match detail {
        Some(detail) => format!("{code} {detail}"),
        None => code.to_owned(),
    }
}

fn string(bytes: &[u8], encoding: StringEncoding) -> Value {
    match encoding {
        StringEncoding::Base64 => Value::String(STANDARD.encode(bytes)),
        StringEncoding::Plain => Value::String(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// A reply value (nested arrays included) as JSON.
pub fn value(reply: &Reply, encoding: StringEncoding) -> Value {
    match reply {
        Reply::Nil => Value::Null,
        Reply::Int(n) => json!(n),
        Reply::BulkString(bytes) => string(bytes, encoding),
        Reply::SimpleString(text) => string(text.as_bytes(), encoding),
        Reply::Okay => string(b"OK", encoding),
        Reply::Array(items) | Reply::Set(items) => Value::Array(items.iter().map(|v| value(v, encoding)).collect()),
        Reply::Map(pairs) => {
            Value::Array(pairs.iter().flat_map(|(k, v)| [value(k, encoding), value(v, encoding)]).collect())
        }
        Reply::Double(d) => string(d.to_string().as_bytes(), encoding),
        Reply::Boolean(b) => json!(i64::from(*b)),
        Reply::VerbatimString { text, .. } => string(text.as_bytes(), encoding),
        Reply::BigNumber(n) => string(format!("{n:?}").as_bytes(), encoding),
        Reply::Attribute { data, .. } => value(data, encoding),
        Reply::Push { data, .. } => Value::Array(data.iter().map(|v| value(v, encoding)).collect()),
        Reply::ServerError(error) => Value::String(error_text(error.code(), error.details())),
        // RESP3-only shapes a RESP2 connection never produces.
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_encode_like_upstash() {
        let cases = [
            (Reply::Nil, StringEncoding::Plain, json!({"result": null})),
            (Reply::Int(7), StringEncoding::Base64, json!({"result": 7})),
            (Reply::Okay, StringEncoding::Plain, json!({"result": "OK"})),
            (Reply::Okay, StringEncoding::Base64, json!({"result": "T0s="})),
            (Reply::BulkString(b"v".to_vec()), StringEncoding::Plain, json!({"result": "v"})),
            (Reply::BulkString(b"v".to_vec()), StringEncoding::Base64, json!({"result": "dg=="})),
            (
                Reply::Array(vec![Reply::BulkString(b"a".to_vec()), Reply::Nil, Reply::Int(1)]),
                StringEncoding::Plain,
                json!({"result": ["a", null, 1]}),
            ),
        ];
        for (reply, encoding, expected) in cases {
            assert_eq!(outcome(&reply, encoding), expected, "{reply:?}");
        }
    }
}
