//! Which field a JSON shape error is about: serde names the problem (`invalid type: string "5", expected i64`) and
//! where it stopped reading, not the field, so the app would otherwise see every such 422 on the field `body`.
//!
//! Only the failure path runs this: the body has already failed to parse into its type, and a second pass over its
//! bytes up to the error's position finds the path of the value (or key) being read there. serde_path_to_error would
//! find the same path while parsing, but wraps the deserializer, so every body type's parser would be compiled
//! twice into the Worker; a scan of the few bytes of a refused body costs nothing on the accepted path.
//!
//! One limit: serde reads an internally tagged enum (`#[serde(tag = ...)]`) into a buffer first and reports its errors
//! where the enclosing object ends, so they name the enclosing object. The one such body field, a competition's
//! `scoring`, is read and reported by its route (`routes/competitions/model/create.rs`).

use crate::error::FieldError;

/// The field error for a body that is valid JSON but not of the expected shape: `field` is its JSON path
/// (`score`, `scoring.cap`, `samples[3].date`), or `body` when the error is about the whole body.
pub fn field_error(bytes: &[u8], error: &serde_json::Error) -> FieldError {
    let full = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    let message = full.strip_suffix(&position).unwrap_or(&full).to_owned();
    let mut path = path_at(bytes, offset_of(bytes, error.line(), error.column()));
    // A missing, unknown or repeated field is reported where its object was being read; its name is in the message.
    if let Some(name) = named_field(&message) {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(name);
    }
    if path.is_empty() {
        path.push_str("body");
    }
    FieldError::new(path, message)
}

/// The field a missing-, unknown- or duplicate-field message names.
fn named_field(message: &str) -> Option<&str> {
    ["missing field `", "unknown field `", "duplicate field `"].iter().find_map(|prefix| {
        let rest = message.strip_prefix(prefix)?;
        rest.split('`').next()
    })
}

/// The byte offset of serde_json's 1-based line and 0-based byte column (the bytes consumed before the error).
fn offset_of(bytes: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match bytes[start..].iter().position(|&b| b == b'\n') {
            Some(newline) => start += newline + 1,
            None => break,
        }
    }
    (start + column).min(bytes.len())
}

/// One open container while scanning.
enum Frame {
    /// An object: the key last read, and whether its value is being read (after the `:`).
    Object { key: Option<String>, in_value: bool },
    /// An array and the index of the element being read.
    Array { index: usize },
}

/// The JSON path of what is being read at `end`: the keys of objects whose values enclose it and the indices of
/// arrays. A key just read (before its `:`) is not part of the path.
fn path_at(bytes: &[u8], end: usize) -> String {
    let bytes = &bytes[..end.min(bytes.len())];
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => stack.push(Frame::Object { key: None, in_value: false }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array { index }) => *index += 1,
                Some(Frame::Object { key, in_value }) => {
                    *key = None;
                    *in_value = false;
                }
                None => {}
            },
            b':' => {
                if let Some(Frame::Object { in_value, .. }) = stack.last_mut() {
                    *in_value = true;
                }
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    // An escape takes the next byte with it, so an escaped quote does not end the string.
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if let Some(Frame::Object { key, in_value: false }) = stack.last_mut() {
                    let raw = &bytes[start..(i + 1).min(bytes.len())];
                    *key = serde_json::from_slice::<String>(raw).ok();
                }
            }
            _ => {}
        }
        i += 1;
    }
    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object { key: Some(key), in_value: true } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Array { index } => path.push_str(&format!("[{index}]")),
            Frame::Object { .. } => {}
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        score: i64,
        #[serde(default)]
        scoring: Option<Scoring>,
        #[serde(default)]
        samples: Vec<Sample>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Scoring {
        mode: Mode,
        cap: i64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Mode {
        DailyCapped,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        date: String,
        #[serde(default)]
        steps: Option<i64>,
    }

    #[test]
    fn each_shape_error_names_its_field() {
        let cases = [
            (r#"{"score": "5"}"#, "score", "invalid type: string \"5\", expected i64"),
            (r#"{"score": 1.5}"#, "score", "invalid type: floating point `1.5`, expected i64"),
            (r#"{"score": null}"#, "score", "invalid type: null, expected i64"),
            ("{\n  \"score\": 5,\n  \"samples\": {}\n}", "samples", "invalid type: map, expected a sequence"),
            (r#"{}"#, "score", "missing field `score`"),
            (r#"{"score": 5, "extra": [1, {"a": 2}]}"#, "extra", ""),
            (r#"{"score": 5, "score": 6}"#, "score", "duplicate field `score`"),
            (r#"{"score": 5, "scoring": {"mode": "daily_capped"}}"#, "scoring.cap", "missing field `cap`"),
            (r#"{"score": 5, "scoring": {"mode": "daily_capped", "cap": "x"}}"#, "scoring.cap", ""),
            (r#"{"score": 5, "scoring": {"mode": "weekly"}}"#, "scoring.mode", ""),
            (r#"{"score": 5, "samples": [{"date": "d"}, {"date": 3}]}"#, "samples[1].date", ""),
            (r#"{"score": 5, "samples": [{"date": "d\"]}"}, {"date": "e", "steps": true}]}"#, "samples[1].steps", ""),
            (r#"{"score": 5, "samples": [{"date": "d", "floors": 2}]}"#, "samples[0].floors", ""),
            (r#"{"sc\u006fre": "5"}"#, "score", ""),
        ];
        for (body, field, message) in cases {
            let error = serde_json::from_slice::<Body>(body.as_bytes()).expect_err(body);
            let got = field_error(body.as_bytes(), &error);
            assert_eq!(got.field, field, "{body}: {error}");
            if !message.is_empty() {
                assert_eq!(got.message, message, "{body}");
            }
            assert!(!got.message.contains(" at line "), "{}", got.message);
        }
    }

    #[test]
    fn an_error_about_the_whole_body_names_the_body() {
        let error = serde_json::from_slice::<Vec<i64>>(b"{}").expect_err("a map is not a list");
        assert_eq!(field_error(b"{}", &error).field, "body");
    }
}
