//! The Competition DO's system-of-record sink: accepted scores go to Postgres's `scores` table through the
//! `apply_score_outbox` RPC (idempotent by the object's `seq`), final standings to `final_results` through
//! `record_final_results` (idempotent by rank); at a fitness competition's start, its members' totals are computed from
//! the pages of stored days `rescore_members` returns. All as service role.

use std::rc::Rc;

use chrono::{DateTime, SecondsFormat};
use durable_objects::system_of_record::{
    DaysTotals, Delivery, MemberChange, MemberChangesRead, RecordSink, TotalsRead,
};
use standings::outbox::{DeliveryError, OutboxRow};
use standings::protocol::{FinalResult, Person};
use uuid::Uuid;
use worker::Env;

use super::error::AdapterError;
use super::postgrest::Database;
use super::rows::ScoreEntryArg;

/// Members' totals computed from their days, read per page at a competition's start and at the end of its grace
/// period: the most the database functions give a page. Pages of 200 instead of 100 cost the start's pass 84 µs a
/// member instead of 92 and half the subrequests (BENCHMARKS.md, session 46); the object writes a page in one
/// synchronous block of ≈ 10 ms. `tests/fitness_rules.rs` seeds its pages by this size.
const TOTALS_PAGE: usize = 200;

/// Member changes read per page.
const CHANGES_PAGE: usize = 500;

/// Delivers outbox rows and reads members' totals through the isolate's database adapter.
pub struct ScoreHistory {
    database: &'static Database,
}

/// The RPC arguments for a batch of one competition's rows.
pub fn entries(competition_id: Uuid, rows: &[OutboxRow]) -> Vec<ScoreEntryArg> {
    rows.iter()
        .map(|row| ScoreEntryArg {
            competition_id,
            user_id: row.user_id,
            score: row.score,
            seq: row.seq,
            updated_at: rfc3339(row.updated_ms),
        })
        .collect()
}

/// Milliseconds since the epoch as the database's RFC 3339.
fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A 4xx from the database refuses the rows themselves (sending them again cannot help); anything else may pass.
pub fn delivery_error(error: AdapterError) -> DeliveryError {
    match &error {
        AdapterError::Upstream { status, .. } if (400..500).contains(status) => {
            DeliveryError::permanent(error.to_string())
        }
        _ => DeliveryError::transient(error.to_string()),
    }
}

impl RecordSink for ScoreHistory {
    fn deliver<'a>(&'a self, competition_id: Uuid, rows: &'a [OutboxRow]) -> Delivery<'a> {
        Box::pin(async move {
            self.database.apply_score_outbox(&entries(competition_id, rows)).await.map(drop).map_err(delivery_error)
        })
    }

    fn deliver_final<'a>(&'a self, competition_id: Uuid, results: &'a [FinalResult]) -> Delivery<'a> {
        Box::pin(async move {
            self.database.record_final_results(&competition_id, results).await.map(drop).map_err(delivery_error)
        })
    }

    fn days_totals(&self, competition_id: Uuid, window: (i64, i64), after: Option<Uuid>, at_ms: i64) -> TotalsRead<'_> {
        Box::pin(async move {
            let (from, to) = (rfc3339(window.0), rfc3339(window.1));
            let page = self
                .database
                .rescore_members(&competition_id, (&from, &to), after.as_ref(), TOTALS_PAGE)
                .await
                .map_err(|e| e.to_string())?;
            if !crate::scoring::taken_by_all(&competition_id, &page.members) {
                return Err("the database does not count the competition as started yet".to_owned());
            }
            Ok(DaysTotals {
                writes: crate::scoring::page_totals(&competition_id, &page.members, at_ms),
                next: page.next,
            })
        })
    }

    fn current_totals(&self, competition_id: Uuid, after: Option<Uuid>, at_ms: i64) -> TotalsRead<'_> {
        Box::pin(async move {
            let at = rfc3339(at_ms);
            let page = self
                .database
                .member_totals(&competition_id, &at, after.as_ref(), TOTALS_PAGE)
                .await
                .map_err(|e| e.to_string())?;
            Ok(DaysTotals {
                writes: crate::scoring::page_totals(&competition_id, &page.members, at_ms),
                next: page.next,
            })
        })
    }

    fn member_changes(&self, competition_id: Uuid, done: Vec<i64>) -> MemberChangesRead<'_> {
        Box::pin(async move { self.read_member_changes(competition_id, &done).await })
    }
}

impl ScoreHistory {
    /// `RecordSink::member_changes`, here so the trait's block stays the list of what the sink does.
    async fn read_member_changes(&self, competition_id: Uuid, done: &[i64]) -> Result<Vec<MemberChange>, String> {
        let rows = self.database.member_changes(&competition_id, done, CHANGES_PAGE).await;
        let rows = rows.map_err(|e| e.to_string())?;
        Ok(rows
            .into_iter()
            .map(|row| MemberChange {
                id: row.id,
                user_id: row.user_id,
                person: row.person.map(|p| Person {
                    user_id: row.user_id,
                    display_name: p.display_name,
                    avatar_url: p.avatar_url,
                    version: p.version,
                }),
            })
            .collect())
    }
}

/// The factory the Worker installs into the Competition DO crate at start-up.
pub fn factory(env: &Env) -> Result<Rc<dyn RecordSink>, String> {
    let services = crate::services::of(env).map_err(|e| e.to_string())?;
    Ok(Rc::new(ScoreHistory { database: &services.database }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_rpc_entries_with_rfc3339_times() {
        let competition = Uuid::from_u128(1);
        let user = Uuid::from_u128(2);
        let rows = [OutboxRow { seq: 7, user_id: user, score: 42, updated_ms: 1_764_000_000_123 }];
        assert_eq!(
            entries(competition, &rows),
            [ScoreEntryArg {
                competition_id: competition,
                user_id: user,
                score: 42,
                seq: 7,
                updated_at: "2025-11-24T16:00:00.123Z".into()
            }]
        );
    }

    #[test]
    fn only_a_refusal_of_the_rows_is_permanent() {
        use super::super::error::Dependency;
        let upstream = |status| AdapterError::Upstream {
            dependency: Dependency::Postgrest,
            status,
            code: "23503".into(),
            message: "violates a foreign key".into(),
        };
        let cases = [
            (upstream(400), true),
            (upstream(409), true),
            (upstream(500), false),
            (upstream(503), false),
            (AdapterError::Timeout(Dependency::Postgrest, 5_000), false),
            (AdapterError::Unreachable(Dependency::Postgrest, "refused".into()), false),
            (AdapterError::CircuitOpen(Dependency::Postgrest), false),
        ];
        for (error, permanent) in cases {
            assert_eq!(delivery_error(error.clone()).permanent, permanent, "{error}");
        }
    }
}
