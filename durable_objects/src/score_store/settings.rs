//! The competition's settings as the Worker last told them, and the object's own counters kept beside them.

use serde::Deserialize;
use uuid::Uuid;

use standings::protocol::CompetitionMeta;

use super::{Bind, ScoreStore, StoreError};

/// `meta` keys of the competition's rules that came after the `competition` table's columns.
const META_FITNESS: &str = "fitness_scores";
const META_GRACE_MS: &str = "grace_ms";
/// `meta` key of the stored settings' version (`CompetitionMeta::version`).
const META_SETTINGS_VERSION: &str = "settings_version";
/// `meta` key: 1 while the members' totals from their stored days are still to be written at the start.
const META_START_TOTALS_DUE: &str = "start_totals_due";

#[derive(Debug, Deserialize)]
struct MetaRow {
    competition_id: String,
    metric: String,
    starts_ms: i64,
    ends_ms: i64,
    prize_pool: i64,
    payout: String,
}

impl ScoreStore {
    /// The competition this object serves, once the Worker has told it (an object cannot read its own name).
    pub fn meta(&self) -> Result<Option<CompetitionMeta>, StoreError> {
        let rows: Vec<MetaRow> = self
            .sql
            .exec(
                "SELECT competition_id, metric, starts_ms, ends_ms, prize_pool, payout FROM competition WHERE id = 1",
                None,
            )?
            .to_array()?;
        let Some(row) = rows.into_iter().next() else { return Ok(None) };
        let corrupt = |reason: &str| StoreError::Corrupt { user: "competition".into(), reason: reason.to_owned() };
        Ok(Some(CompetitionMeta {
            competition_id: Uuid::try_parse(&row.competition_id).map_err(|_| corrupt("id is not a UUID"))?,
            metric: row.metric,
            starts_ms: row.starts_ms,
            ends_ms: row.ends_ms,
            prize_pool: row.prize_pool,
            payout: serde_json::from_slice(row.payout.as_bytes()).map_err(|_| corrupt("payout is not a JSON list"))?,
            // Kept beside the row (added after it): absent for competitions stored before, which were client ones.
            fitness: self.meta_value(META_FITNESS)?.unwrap_or(0) != 0,
            grace_ms: self.meta_value(META_GRACE_MS)?.unwrap_or(0),
            version: self.meta_value(META_SETTINGS_VERSION)?.unwrap_or(0),
        }))
    }

    /// Records the competition's settings (newest wins).
    pub fn save_meta(&self, meta: &CompetitionMeta) -> Result<(), StoreError> {
        let payout = serde_json::to_string(&meta.payout).unwrap_or_else(|_| "[]".to_owned());
        self.run(
            "INSERT INTO competition (id, competition_id, metric, starts_ms, ends_ms, prize_pool, payout) \
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET competition_id = excluded.competition_id, \
             metric = excluded.metric, starts_ms = excluded.starts_ms, ends_ms = excluded.ends_ms, \
             prize_pool = excluded.prize_pool, payout = excluded.payout",
            &[
                Bind::Text(&meta.competition_id.to_string()),
                Bind::Text(&meta.metric),
                Bind::Int(meta.starts_ms),
                Bind::Int(meta.ends_ms),
                Bind::Int(meta.prize_pool),
                Bind::Text(&payout),
            ],
        )?;
        self.set_meta_value(META_FITNESS, i64::from(meta.fitness))?;
        self.set_meta_value(META_GRACE_MS, meta.grace_ms)?;
        self.set_meta_value(META_SETTINGS_VERSION, meta.version)?;
        Ok(())
    }

    /// Whether the members' totals from the days they stored before the start are still to be written.
    pub fn start_totals_due(&self) -> Result<bool, StoreError> {
        Ok(self.meta_value(META_START_TOTALS_DUE)?.unwrap_or(0) != 0)
    }

    /// Records whether the start's totals are still to be written.
    pub fn set_start_totals_due(&self, due: bool) -> Result<(), StoreError> {
        self.set_meta_value(META_START_TOTALS_DUE, i64::from(due))
    }

    /// The open-socket count this object last reported to the metrics.
    pub fn reported_sockets(&self) -> Result<u64, StoreError> {
        Ok(self.meta_value("reported_sockets")?.unwrap_or(0).max(0) as u64)
    }

    /// Records the open-socket count just reported.
    pub fn set_reported_sockets(&self, count: u64) -> Result<(), StoreError> {
        self.set_meta_value("reported_sockets", count as i64)
    }
}
