//! Statements that return no rows (inserts, updates, deletes), run in one call into JavaScript with their bindings
//! as one JSON text, and their query text sent across only once per instance.
//!
//! workers-rs's `SqlStorage::exec` builds a JS array in wasm: one call to create it, one per binding to convert the
//! value (and, for a number, another to check it is a safe integer) and one per binding to push it. A score write's
//! three statements with ten bindings made about thirty crossings that way, the most of any step of a write
//! (`scripts/count-crossings`); here they make three. Queries that read rows still use `exec` and its cursor.
//!
//! A query's text is decoded into a JavaScript string the first time the instance runs it and kept on that side
//! under a number; later runs send the number. Sending a score write's three texts (about 600 characters) every time
//! cost 23–24 µs of the isolate's CPU per write, measured in paired rounds (BENCHMARKS.md, session 26).

use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

use serde::Serialize;
use wasm_bindgen::prelude::*;
use worker::SqlStorage;

#[wasm_bindgen(inline_js = "const kept = [];
export function keep_statement(id, query) {
  kept[id] = query;
}
export function run_kept_statement(sql, id, bindings) {
  sql.exec(kept[id], ...JSON.parse(bindings));
}")]
extern "C" {
    #[wasm_bindgen(js_name = keep_statement)]
    fn keep_statement_js(id: u32, query: &str);
    #[wasm_bindgen(catch, js_name = run_kept_statement)]
    fn run_kept_statement_js(sql: &JsValue, id: u32, bindings: &str) -> Result<(), JsValue>;
}

thread_local! {
    // A new wasm instance (after a panic) starts empty and numbers its queries from 0 again, re-sending each text
    // before its first run, so what the JavaScript side kept for the old instance is overwritten, never misread.
    static KEPT: RefCell<KeptQueries> = RefCell::new(KeptQueries::default());
}

/// The numbers under which query texts were sent to the JavaScript side, by the text's address: the queries are
/// `'static` literals, so an address names one text for the instance's life.
#[derive(Default)]
struct KeptQueries {
    ids: HashMap<(usize, usize), u32>,
}

impl KeptQueries {
    /// The number of `query`, and whether it is new (its text must be sent before it is run).
    fn id(&mut self, query: &'static str) -> (u32, bool) {
        let next = self.ids.len() as u32;
        match self.ids.entry((query.as_ptr() as usize, query.len())) {
            Entry::Occupied(known) => (*known.get(), false),
            Entry::Vacant(slot) => (*slot.insert(next), true),
        }
    }
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
pub fn run(sql: &SqlStorage, query: &'static str, binds: &[Bind<'_>]) -> Result<(), worker::Error> {
    let bindings = bindings_json(binds)?;
    let (id, new) = KEPT.with(|kept| kept.borrow_mut().id(query));
    if new {
        keep_statement_js(id, query);
    }
    run_kept_statement_js(sql.as_ref(), id, &bindings).map_err(worker::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_numbered_once_and_each_text_gets_its_own_number() {
        const FIRST: &str = "INSERT INTO t (a) VALUES (?1)";
        const SECOND: &str = "DELETE FROM t WHERE a = ?1";
        let mut kept = KeptQueries::default();
        assert_eq!(kept.id(FIRST), (0, true), "new: its text is sent");
        assert_eq!(kept.id(SECOND), (1, true));
        assert_eq!(kept.id(FIRST), (0, false), "known: only its number crosses");
        assert_eq!(kept.id(SECOND), (1, false));
        // A text that starts another (same address, shorter) is another query.
        assert_eq!(kept.id(&FIRST[..6]), (2, true));
    }

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
