//! Statements that return no rows (inserts, updates, deletes), run in one call into JavaScript with their bindings
//! as one JSON text.
//!
//! workers-rs's `SqlStorage::exec` builds a JS array in wasm: one call to create it, one per binding to convert the
//! value (and, for a number, another to check it is a safe integer) and one per binding to push it. A score write's
//! three statements with ten bindings made about thirty crossings that way, the most of any step of a write
//! (`scripts/count-crossings`); here they make three. Queries that read rows still use `exec` and its cursor.

use serde::Serialize;
use wasm_bindgen::prelude::*;
use worker::SqlStorage;

#[wasm_bindgen(inline_js = "export function run_statement(sql, query, bindings) {
  sql.exec(query, ...JSON.parse(bindings));
}")]
extern "C" {
    #[wasm_bindgen(catch, js_name = run_statement)]
    fn run_statement_js(sql: &JsValue, query: &str, bindings: &str) -> Result<(), JsValue>;
}

/// A value bound to a statement's `?` placeholder.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(untagged)]
pub enum Bind<'a> {
    /// An integer; stored values stay within 2^53 - 1 (scores, sequences, milliseconds), exact as JS numbers.
    Int(i64),
    /// A text.
    Text(&'a str),
    /// SQL NULL.
    Null,
}

/// The bindings as the JSON array the JavaScript side spreads into `exec`. Integers and strings always serialise;
/// were one ever refused, the statement must fail rather than run with placeholders SQLite would bind as NULL.
fn bindings_json(binds: &[Bind<'_>]) -> Result<String, worker::Error> {
    serde_json::to_string(binds).map_err(|e| worker::Error::RustError(format!("statement bindings: {e}")))
}

/// Runs `query` with `binds` for its placeholders, in order.
pub fn run(sql: &SqlStorage, query: &str, binds: &[Bind<'_>]) -> Result<(), worker::Error> {
    run_statement_js(sql.as_ref(), query, &bindings_json(binds)?).map_err(worker::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_cross_as_a_json_array_of_numbers_and_strings() {
        let cases: &[(&[Bind<'_>], &str)] = &[
            (&[], "[]"),
            (&[Bind::Int(7), Bind::Text("u-1")], r#"[7,"u-1"]"#),
            (&[Bind::Int(-1), Bind::Int(9_007_199_254_740_991)], "[-1,9007199254740991]"),
            (&[Bind::Text("a"), Bind::Null], r#"["a",null]"#),
            (&[Bind::Text("quote \" and \\ and\nline")], r#"["quote \" and \\ and\nline"]"#),
            (&[Bind::Text(r#"{"type":"update","seq":3}"#)], r#"["{\"type\":\"update\",\"seq\":3}"]"#),
        ];
        for (binds, json) in cases {
            assert_eq!(bindings_json(binds).expect("bindings serialise"), *json);
        }
    }
}
