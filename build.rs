//! Build step of the Worker crate: the OpenAPI document it serves (`GET /openapi.json`) is compiled in without the
//! committed file's indentation. The committed `docs/openapi.json` stays pretty-printed for people and diffs; the
//! whitespace was a third of its bytes in the bundle (a unit test in `src/routes/openapi.rs` checks both are the same
//! JSON).

use std::{env, fs, path::PathBuf};

fn main() {
    let source = "docs/openapi.json";
    println!("cargo::rerun-if-changed={source}");
    let text = fs::read_to_string(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("openapi.min.json");
    fs::write(&out, minify(&text)).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}

/// `text` without the whitespace between JSON tokens (strings are copied as they are, escapes included).
fn minify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    out
}
