//! What the Worker tells an object to change: a score, the competition's settings, its roster and the people on
//! it, and the administrator's orders (settings, disqualification, repair).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::score::Score;

/// Sets a user's absolute cumulative score.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ScoreWrite {
    /// The competition (the object's name).
    pub competition_id: Uuid,
    /// Whose score.
    pub user_id: Uuid,
    /// The new absolute score, `0..=2^53-1`.
    pub score: Score,
    /// When the Worker accepted the request, milliseconds since the epoch; orders equal scores.
    pub at_ms: i64,
    /// For a total computed from the member's stored fitness days: the member's days version from the database.
    /// The object drops a write whose version is not newer than the last it applied (concurrent syncs can arrive
    /// out of order) and bounds the total by the days any local clock has counted. `None` for a posted score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_version: Option<i64>,
    /// An administrator's correction: accepted in a fitness competition too, where members cannot post scores.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub correction: bool,
}

/// What the object needs to know about its competition (`SetMeta`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CompetitionMeta {
    /// The competition (the object's name).
    pub competition_id: Uuid,
    /// `steps`, `active_minutes`, `distance_m` or `calories`.
    pub metric: String,
    /// Start, milliseconds since the epoch.
    pub starts_ms: i64,
    /// End (exclusive), milliseconds since the epoch.
    pub ends_ms: i64,
    /// Prize pool in minor units.
    pub prize_pool: i64,
    /// Basis points per place.
    pub payout: Vec<u32>,
    /// Scores come from the members' fitness days (members cannot post them); `false`: members post their own.
    #[serde(default)]
    pub fitness: bool,
    /// After `ends_ms` the competition is finalizing this long: synced days still move the board, then the
    /// standings become final.
    #[serde(default)]
    pub grace_ms: i64,
    /// The row's `settings_version` in the system of record: it grows with every update of the competition's
    /// settings, in commit order. 0: not versioned (a Worker from before versions), never refused.
    #[serde(default)]
    pub version: i64,
}

impl CompetitionMeta {
    /// When the standings become final: the end of the grace period.
    pub fn final_ms(&self) -> i64 {
        self.ends_ms.saturating_add(self.grace_ms.max(0))
    }

    /// When the members' totals computed from their stored days are due, if ever, for an object told these
    /// settings at `now`: at the start of a fitness competition, or at once when the object hears of a running one
    /// for the `first` time (it holds no score yet, so the totals cannot undo one). After the grace period, never.
    pub fn start_totals_due(&self, first: bool, now: i64) -> Option<i64> {
        if !self.fitness {
            None
        } else if now < self.starts_ms {
            Some(self.starts_ms)
        } else if first && now < self.final_ms() {
            Some(now)
        } else {
            None
        }
    }

    /// Whether the settings keep the schema's rules: a metric this code knows and an end after the start.
    pub fn is_sound(&self) -> bool {
        crate::rules::Metric::parse(&self.metric).is_some() && self.ends_ms > self.starts_ms
    }

    /// Whether these settings may replace `held` (the ones the object has): not when they are older. The Worker's
    /// calls travel concurrently, so a join's settings read before an administrator's edit can arrive after it.
    pub fn supersedes(&self, held: Option<&CompetitionMeta>) -> bool {
        match held {
            Some(held) if self.version != 0 => self.version >= held.version,
            _ => true,
        }
    }
}

/// A user who joined (`AddMember`), with their profile when the Worker has it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RosterAdd {
    /// The member.
    pub user_id: Uuid,
    /// Their profile's name and avatar at the time of joining.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<Person>,
}

/// A member who deleted their account (`Forget`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Forget {
    /// The member.
    pub user_id: Uuid,
}

/// What the board shows of a member: their current name and avatar (`SetPerson`, and with a join).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// The member.
    pub user_id: Uuid,
    /// Their display name.
    pub display_name: String,
    /// Their avatar, `None` until uploaded.
    pub avatar_url: Option<String>,
    /// How many times the name or the avatar changed (the profile's `person_version`): a change the database made
    /// earlier can reach an object later, and the object keeps the newest. 0 from a sender that does not count.
    #[serde(default)]
    pub version: i64,
}

/// `ChangeSettings`: the competition's new settings, and the competition as the API shows it (for the frame).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// What the object checks writes against and pays prizes by.
    pub meta: CompetitionMeta,
    /// The competition as subscribers see it in the `changed` frame.
    pub competition: serde_json::Value,
}

/// Reply to [`Settings`] and to `Cancel`: the update sequence after the change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Announced {
    /// The frame's sequence (or a later one's).
    pub seq: u64,
}

/// `Disqualify`: a member leaves the board for good and may post no more scores.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Disqualify {
    /// The member.
    pub user_id: Uuid,
    /// Why (1..200 characters, checked by the Worker).
    pub reason: String,
}

/// Reply to [`Disqualify`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Disqualified {
    /// The competition's update sequence after the removal (its `removed` frame's, or a later one's).
    pub seq: u64,
    /// Members left on the board.
    pub total: u64,
}

/// `Repair`: drop a stored member row that cannot be loaded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(description = "The corrupt stored member row to drop, by the key the competition's stats report")]
#[serde(deny_unknown_fields)]
pub struct Repair {
    /// The corrupt row's key, as the stats report it.
    pub key: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(fitness: bool) -> CompetitionMeta {
        CompetitionMeta {
            competition_id: Uuid::nil(),
            metric: "steps".to_owned(),
            starts_ms: 1_000,
            ends_ms: 5_000,
            prize_pool: 0,
            payout: Vec::new(),
            fitness,
            grace_ms: 2_000,
            version: 0,
        }
    }

    #[test]
    fn older_settings_never_replace_newer_ones() {
        let at = |version: i64| CompetitionMeta { version, ..meta(false) };
        // (incoming version, held version or none, replaces)
        let cases = [
            (5, None, true),
            (5, Some(4), true),
            (5, Some(5), true),
            (4, Some(5), false),
            (1, Some(9), false),
            // Unversioned settings (a Worker from before versions) are taken, as they always were.
            (0, Some(9), true),
            (3, Some(0), true),
        ];
        for (incoming, held, replaces) in cases {
            let held = held.map(at);
            assert_eq!(at(incoming).supersedes(held.as_ref()), replaces, "{incoming} over {held:?}");
        }
    }

    #[test]
    fn start_totals_are_due_at_the_start_or_at_once_for_an_object_that_hears_of_a_running_competition_first() {
        let cases = [
            // (fitness, first, now, due)
            (true, false, 500, Some(1_000)),
            (true, true, 500, Some(1_000)),
            (true, false, 1_000, None),
            (true, true, 1_000, Some(1_000)),
            (true, true, 6_999, Some(6_999)),
            (true, true, 7_000, None),
            (true, false, 7_000, None),
            (false, true, 500, None),
            (false, true, 2_000, None),
        ];
        for (fitness, first, now, due) in cases {
            assert_eq!(meta(fitness).start_totals_due(first, now), due, "fitness {fitness} first {first} at {now}");
        }
    }
}
