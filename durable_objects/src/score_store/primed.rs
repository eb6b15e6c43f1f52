//! What the board's rules ask storage about each member of a page of writes (roster, disqualification, days version)
//! and the name its frame carries, read for the whole page in one query before the page is written.
//!
//! A totals pass (the start, the end) or a moved end's batch writes a page of up to a few hundred members at once,
//! most of them new to the board: each asked storage whether they are disqualified, whether they are on the roster,
//! which days version was applied and what they are called, four reads through the runtime a member (one query a
//! page instead: the start's pass 162 → 152 µs a member, BENCHMARKS.md, session 46). The facts are kept only while
//! that page is written (a synchronous block, so nothing else runs meanwhile), and every write of one of them through
//! the store drops the member's entry, so a read after it asks SQLite again.

use std::collections::HashMap;

use serde::Deserialize;
use uuid::Uuid;

use super::{Bind, ScoreStore, StoreError, NAMES_KEPT};

/// One member's facts as the page's query read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Facts {
    /// On the roster.
    pub(super) member: bool,
    /// Disqualified.
    pub(super) disqualified: bool,
    /// The days version of the last fitness total applied (`None` before the first).
    pub(super) day_version: Option<i64>,
}

/// The facts of the page being written, by member.
#[derive(Debug, Default)]
pub(super) struct PrimedFacts {
    facts: HashMap<Uuid, Facts>,
}

impl PrimedFacts {
    /// The facts of `user`, when the page read them and nothing changed them since.
    pub(super) fn get(&self, user: &Uuid) -> Option<Facts> {
        self.facts.get(user).copied()
    }

    fn fill(&mut self, rows: impl IntoIterator<Item = (Uuid, Facts)>) {
        self.facts.extend(rows);
    }

    fn remove(&mut self, user: &Uuid) {
        self.facts.remove(user);
    }

    fn clear(&mut self) {
        self.facts.clear();
    }
}

/// A row of [`FACTS_SQL`]: `[user_id, member, disqualified, day_version, display_name]`.
type FactsRow = (String, i64, i64, Option<i64>, Option<String>);

/// Every fact of the users in `?1` (a JSON array of ids), as one JSON text: one crossing for the page, where rows
/// through the runtime's cursor cost a crossing and a JavaScript object each.
const FACTS_SQL: &str = "SELECT json_group_array(json_array(j.value, \
       EXISTS (SELECT 1 FROM roster r WHERE r.user_id = j.value), \
       EXISTS (SELECT 1 FROM disqualified d WHERE d.user_id = j.value), \
       (SELECT v.version FROM day_versions v WHERE v.user_id = j.value), \
       (SELECT p.display_name FROM people p WHERE p.user_id = j.value))) AS facts \
     FROM json_each(?1) j";

#[derive(Debug, Deserialize)]
struct FactsText {
    facts: String,
}

/// Parses [`FACTS_SQL`]'s text into each member's facts and name (`None`: never told).
fn parse_facts(text: &str) -> Result<Vec<(Uuid, Facts, Option<String>)>, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt { user: "page facts".into(), reason };
    let rows: Vec<FactsRow> = serde_json::from_slice(text.as_bytes()).map_err(|e| corrupt(e.to_string()))?;
    rows.into_iter()
        .map(|(user, member, disqualified, day_version, name)| {
            let user = Uuid::try_parse(&user).map_err(|e| corrupt(format!("{user}: {e}")))?;
            Ok((user, Facts { member: member != 0, disqualified: disqualified != 0, day_version }, name))
        })
        .collect()
}

impl ScoreStore {
    /// Runs `write_page` with the facts of `users` read in one query beforehand (their names too, for the frames).
    /// When that read fails, the page is written all the same, each member's facts read one by one as without it.
    pub fn with_page_facts<R>(&self, users: &[Uuid], write_page: impl FnOnce() -> R) -> R {
        if let Err(e) = self.prime(users) {
            worker::console_warn!("a page's member facts not read at once, reading them one by one: {e}");
        }
        let written = write_page();
        self.primed.borrow_mut().clear();
        written
    }

    fn prime(&self, users: &[Uuid]) -> Result<(), StoreError> {
        if users.is_empty() {
            return Ok(());
        }
        let ids = serde_json::to_string(&users.iter().map(Uuid::to_string).collect::<Vec<_>>())
            .map_err(|e| StoreError::Corrupt { user: "page facts".into(), reason: e.to_string() })?;
        let text: FactsText = self.sql.exec(FACTS_SQL, vec![ids.into()])?.one()?;
        let rows = parse_facts(&text.facts)?;
        let mut names = self.names.borrow_mut();
        if names.len() + rows.len() > NAMES_KEPT {
            names.clear();
        }
        let mut primed = self.primed.borrow_mut();
        primed.fill(rows.into_iter().map(|(user, facts, name)| {
            names.insert(user, name);
            (user, facts)
        }));
        Ok(())
    }

    /// The page's facts of `user`, if it read them.
    pub(super) fn primed_facts(&self, user: &Uuid) -> Option<Facts> {
        self.primed.borrow().get(user)
    }

    /// Forgets the page's facts of `user`: a write is about to change them.
    pub(super) fn unprime(&self, user: &Uuid) {
        self.primed.borrow_mut().remove(user);
    }

    /// Runs a statement about `user` that changes their facts, forgetting the page's copy first.
    pub(super) fn run_for(&self, user: &Uuid, query: &'static str, binds: &[Bind<'_>]) -> Result<(), StoreError> {
        self.unprime(user);
        self.run(query, binds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pages_text_becomes_each_members_facts_and_name() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let text = format!(r#"[["{a}",1,0,7,"Ann"],["{b}",0,1,null,null]]"#);
        let rows = parse_facts(&text).expect("parses");
        assert_eq!(
            rows,
            vec![
                (a, Facts { member: true, disqualified: false, day_version: Some(7) }, Some("Ann".to_owned())),
                (b, Facts { member: false, disqualified: true, day_version: None }, None),
            ]
        );
        assert_eq!(parse_facts("[]").expect("an empty page").len(), 0);
    }

    #[test]
    fn a_text_that_is_not_the_querys_is_corrupt() {
        for text in [r#"[["not-a-uuid",1,0,null,null]]"#, r#"[["x"]]"#, "{}", ""] {
            assert!(matches!(parse_facts(text), Err(StoreError::Corrupt { .. })), "{text}");
        }
    }

    #[test]
    fn facts_are_kept_until_a_write_drops_them_or_the_page_ends() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let facts = Facts { member: true, disqualified: false, day_version: Some(3) };
        let mut primed = PrimedFacts::default();
        primed.fill([(a, facts), (b, facts)]);
        assert_eq!(primed.get(&a), Some(facts));
        primed.remove(&a);
        assert_eq!(primed.get(&a), None, "a write dropped them: the next read asks storage");
        assert_eq!(primed.get(&b), Some(facts));
        primed.clear();
        assert_eq!(primed.get(&b), None, "the page ended");
    }
}
