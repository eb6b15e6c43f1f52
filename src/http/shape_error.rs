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

    #[cfg(not(target_arch = "wasm32"))]
    mod property {
        use super::super::field_error;
        use proptest::prelude::*;
        use serde::Deserialize;
        use serde_json::{json, Value};

        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Root {
            a: i64,
            b: String,
            list: Vec<Item>,
            inner: Inner,
        }

        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Item {
            x: i64,
            tags: Vec<String>,
        }

        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Inner {
            flag: bool,
            deep: Deep,
        }

        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Deep {
            n: u32,
        }

        /// Texts with the characters a scanner could trip on: quotes, backslashes, brackets, commas, colons,
        /// newlines (escaped in JSON) and multi-byte ones.
        fn text() -> impl Strategy<Value = String> {
            "[a-z\"\\ {}\\[\\],:\n\u{e9}\u{1F600}]{0,6}"
        }

        fn valid_root() -> impl Strategy<Value = Value> {
            let item =
                (any::<i64>(), prop::collection::vec(text(), 0..3)).prop_map(|(x, tags)| json!({"x": x, "tags": tags}));
            (any::<i64>(), text(), prop::collection::vec(item, 0..4), any::<bool>(), any::<u32>()).prop_map(
                |(a, b, list, flag, n)| json!({"a": a, "b": b, "list": list, "inner": {"flag": flag, "deep": {"n": n}}}),
            )
        }

        /// Every value below the root with its JSON path.
        fn nodes(value: &Value, path: &str, out: &mut Vec<(String, Value)>) {
            let join = |key: &str| if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
            match value {
                Value::Object(map) => {
                    for (key, child) in map {
                        out.push((join(key), child.clone()));
                        nodes(child, &join(key), out);
                    }
                }
                Value::Array(items) => {
                    for (i, child) in items.iter().enumerate() {
                        let at = format!("{path}[{i}]");
                        out.push((at.clone(), child.clone()));
                        nodes(child, &at, out);
                    }
                }
                _ => {}
            }
        }

        /// The value at `path` (as [`nodes`] writes it), for changing it in place.
        fn at<'a>(root: &'a mut Value, path: &str) -> &'a mut Value {
            let mut here = root;
            for part in path.split('.') {
                let (key, indices) = part.split_once('[').map_or((part, ""), |(k, rest)| (k, rest));
                here = &mut here[key];
                for index in indices.split('[').filter(|i| !i.is_empty()) {
                    here = &mut here[index.trim_end_matches(']').parse::<usize>().expect("index")];
                }
            }
            here
        }

        fn kind(value: &Value) -> u8 {
            match value {
                Value::Null => 0,
                Value::Bool(_) => 1,
                Value::Number(_) => 2,
                Value::String(_) => 3,
                Value::Array(_) => 4,
                Value::Object(_) => 5,
            }
        }

        proptest! {
            #[test]
            fn a_wrong_value_anywhere_is_reported_on_its_path(
                root in valid_root(), pick in any::<prop::sample::Index>(), other in any::<prop::sample::Index>(),
                pretty in any::<bool>(),
            ) {
                let mut all = Vec::new();
                nodes(&root, "", &mut all);
                let (path, current) = &all[pick.index(all.len())];
                let wrong: Vec<Value> = [json!("oops"), json!(true), json!(1.5), json!([]), json!({}), json!(null)]
                    .into_iter()
                    .filter(|v| kind(v) != kind(current))
                    .collect();
                let mut body = root.clone();
                *at(&mut body, path) = wrong[other.index(wrong.len())].clone();
                let text = if pretty { serde_json::to_string_pretty(&body) } else { serde_json::to_string(&body) }
                    .expect("serialises");
                let error = serde_json::from_str::<Root>(&text).expect_err("a value of the wrong type");
                prop_assert_eq!(&field_error(text.as_bytes(), &error).field, path, "{} in {}", error, text);
            }

            #[test]
            fn a_missing_or_unknown_field_is_reported_on_its_path(
                root in valid_root(), pick in any::<prop::sample::Index>(), remove in any::<bool>(),
                name in "[a-z]{1,8}", pretty in any::<bool>(),
            ) {
                let mut objects = vec![(String::new(), root.clone())];
                nodes(&root, "", &mut objects);
                objects.retain(|(_, value)| value.is_object());
                let (path, object) = &objects[pick.index(objects.len())];
                let mut body = root.clone();
                let target = if path.is_empty() { &mut body } else { at(&mut body, path) };
                let key = if remove {
                    let key = object.as_object().and_then(|o| o.keys().next().cloned()).expect("a field");
                    target.as_object_mut().expect("object").remove(&key);
                    key
                } else {
                    let key = format!("zz_{name}");
                    target[key.as_str()] = json!(1);
                    key
                };
                let text = if pretty { serde_json::to_string_pretty(&body) } else { serde_json::to_string(&body) }
                    .expect("serialises");
                let error = serde_json::from_str::<Root>(&text).expect_err("a missing or unknown field");
                let expected = if path.is_empty() { key } else { format!("{path}.{key}") };
                prop_assert_eq!(field_error(text.as_bytes(), &error).field, expected, "{} in {}", error, text);
            }
        }
    }

    #[test]
    fn an_error_about_the_whole_body_names_the_body() {
        let error = serde_json::from_slice::<Vec<i64>>(b"{}").expect_err("a map is not a list");
        assert_eq!(field_error(b"{}", &error).field, "body");
    }
}
