//! The fitness-sync body and its per-sample validation: a bad sample is rejected alone (with its index and the
//! reason), the others are stored (`API.md`, fitness sync; caps from `DESIGN.md`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::raw_sample::RawSample;
use crate::adapters::rows::FitnessDayArg;
use crate::error::{ApiError, FieldError};
use crate::fitness_rules::rescore::DayHold;
use crate::fitness_rules::HoldStatus;
use crate::time;
use standings::rules::Metric;

/// Most samples one request may carry.
pub const MAX_SAMPLES: usize = 400;
/// Sources the app reports from (`manual`: typed in by hand in the app).
pub const SOURCES: [&str; 6] = ["healthkit", "health_connect", "google_fit", "garmin", "fitbit", "manual"];
/// The reason a sample dated after the caller's local today is rejected with.
pub const FUTURE_DATE: &str = "future_date";
/// How far back a sample's date may be (three years, in days): far enough for an app's first sync of its history and
/// any competition that runs, while bounding what one account can store (every date back to year 1, from six sources,
/// was ≈ 4.4 million rows at 12 000 a minute).
pub const MAX_AGE_DAYS: i64 = 3 * 365 + 1;
/// The reason a sample dated more than [`MAX_AGE_DAYS`] before today is rejected with.
pub const TOO_OLD: &str = "too_old";

/// Body of `POST /api/v1/fitness/sync`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FitnessSync, examples(json!({"source": "healthkit", "time_zone": "Europe/Lisbon", "samples": [
    {"date": "2026-11-30", "steps": 10412, "active_minutes": 48},
    {"date": "2026-12-01", "steps": 3120}]})))]
pub struct SyncBody {
    /// Where the samples come from.
    #[schema(value_type = Source)]
    pub source: String,
    /// The caller's IANA zone: updates the profile's, and judges this request's dates.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64)]
    pub time_zone: Option<String>,
    /// Checked one by one, so one malformed sample does not sink the rest.
    #[schema(value_type = Vec<Sample>, max_items = 400)]
    pub samples: Vec<RawSample>,
}

/// The sources the app reports from (`manual`: typed in by hand in the app); the same list as [`SOURCES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(description = "Where fitness samples come from (`manual`: typed in by hand in the app)")]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Healthkit,
    HealthConnect,
    GoogleFit,
    Garmin,
    Fitbit,
    Manual,
}

/// One day of one source, as a sample of the sync body. Each sample is checked on its own: a bad one (a field
/// named twice included) is listed in the reply's `rejected` with its index and reason, and the others are stored.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    /// The user's local day, YYYY-MM-DD.
    #[schema(format = Date)]
    pub date: String,
    /// Typed in by hand (counts only where a competition allows manual days).
    #[serde(default)]
    pub user_entered: Option<bool>,
    /// Steps that day.
    #[schema(minimum = 0)]
    pub steps: Option<i64>,
    /// Active minutes that day.
    #[schema(minimum = 0)]
    pub active_minutes: Option<i64>,
    /// Metres that day.
    #[schema(minimum = 0)]
    pub distance_m: Option<i64>,
    /// Active kilocalories that day.
    #[schema(minimum = 0)]
    pub calories: Option<i64>,
}

/// A sample that was not stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Rejection {
    /// Its position in `samples`.
    pub index: usize,
    /// Why.
    pub reason: String,
}

/// A stored sample above the review threshold of a metric: held for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Held {
    /// Its position in `samples`.
    pub index: usize,
    /// Which of its values is held.
    #[schema(value_type = Metric)]
    pub metric: &'static str,
    /// That value.
    pub value: i64,
}

/// Reply of `POST /api/v1/fitness/sync`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = FitnessSyncReply, examples(json!({"accepted": 2, "rejected": [], "held": [], "competitions": [
    {"competition_id": "5a1d3f0e-8c2b-4f6a-9d7e-3b2a1c0d9e8f", "score": 13532, "rank": 4, "display_rank": 4}]})))]
pub struct SyncReply {
    /// Samples stored.
    pub accepted: usize,
    /// Samples not stored, by index.
    pub rejected: Vec<Rejection>,
    /// Stored values held for review (they count once approved).
    pub held: Vec<Held>,
    /// The caller's standing in every running competition the sync rescored.
    pub competitions: Vec<crate::scoring::Rescored>,
}

/// What a sync will store, and what it refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSync {
    pub source: String,
    pub time_zone: Option<String>,
    pub days: Vec<FitnessDayArg>,
    pub rejected: Vec<Rejection>,
}

impl ValidSync {
    /// The held samples among those stored (`future` lists the indexes the database did not store), leaving out
    /// those of a day already decided (`holds`, as the database has them after this sync): a sample sent again
    /// unchanged keeps its decision, so it counts in full (approved) or not at all (rejected), not as the threshold.
    pub fn held(&self, future: &[usize], holds: &[DayHold]) -> Vec<Held> {
        let decided = |day: &str| holds.iter().any(|h| h.day == day && h.status != HoldStatus::Pending);
        let mut held = Vec::new();
        for day in self.days.iter().filter(|d| !future.contains(&d.index) && !decided(&d.day)) {
            // Which metrics are held was decided once, per sample, when it was validated.
            for (metric, value) in day.values().filter(|(metric, _)| day.held_metrics.contains(&metric.name())) {
                held.push(Held { index: day.index, metric: metric.name(), value });
            }
        }
        held
    }
}

impl SyncBody {
    /// Validates the request (422 for a bad source or too many samples) and each sample; `today` is the current
    /// UTC day (days since the epoch) — a date after tomorrow is in the future wherever the user is.
    pub fn validate(self, today: i64) -> Result<ValidSync, ApiError> {
        let mut problems = Vec::new();
        if !SOURCES.contains(&self.source.as_str()) {
            problems.push(FieldError::new("source", format!("must be one of {}", SOURCES.join(", "))));
        }
        if let Some(zone) = &self.time_zone {
            if !crate::fitness_rules::clock::is_known_zone(zone) {
                problems.push(FieldError::new("time_zone", "must be an IANA time zone name (e.g. America/Chicago)"));
            }
        }
        if self.samples.len() > MAX_SAMPLES {
            problems.push(FieldError::new("samples", format!("at most {MAX_SAMPLES} samples per request")));
        }
        if !problems.is_empty() {
            return Err(ApiError::ValidationFailed(problems));
        }
        let mut days: Vec<(usize, FitnessDayArg)> = Vec::new();
        let mut rejected = Vec::new();
        for (index, sample) in self.samples.iter().enumerate() {
            match sample_day(index, sample, today, self.source == "manual") {
                Ok(day) => {
                    // Re-sending a day replaces it; within one request the later sample wins.
                    if let Some(earlier) = days.iter().position(|(_, d)| d.day == day.day) {
                        let (earlier_index, _) = days.remove(earlier);
                        rejected.push(Rejection {
                            index: earlier_index,
                            reason: "superseded by a later sample for the same date".to_owned(),
                        });
                    }
                    days.push((index, day));
                }
                Err(reason) => rejected.push(Rejection { index, reason }),
            }
        }
        rejected.sort_by_key(|r| r.index);
        Ok(ValidSync {
            source: self.source,
            time_zone: self.time_zone,
            days: days.into_iter().map(|(_, d)| d).collect(),
            rejected,
        })
    }
}

fn sample_day(index: usize, sample: &RawSample, today: i64, manual_source: bool) -> Result<FitnessDayArg, String> {
    let object = sample.0.as_ref().map_err(Clone::clone)?;
    if let Some(unknown) = object.keys().find(|k| *k != "date" && *k != "user_entered" && Metric::parse(k).is_none()) {
        return Err(format!("unknown field {unknown}"));
    }
    let date = object.get("date").and_then(Value::as_str).ok_or("date is required (YYYY-MM-DD)")?;
    let day = time::parse_day(date).ok_or_else(|| format!("bad date {date:?} (YYYY-MM-DD)"))?;
    // No clock on Earth has reached the day after tomorrow (UTC); the database judges the rest by the user's zone.
    if day > today + 1 {
        return Err(FUTURE_DATE.to_owned());
    }
    if day < today - MAX_AGE_DAYS {
        return Err(TOO_OLD.to_owned());
    }
    let user_entered = match object.get("user_entered") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => return Err("user_entered must be true or false".to_owned()),
    };
    let mut values = [None; 4];
    for (slot, metric) in values.iter_mut().zip(Metric::ALL) {
        let Some(value) = object.get(metric.name()) else { continue };
        let number = value.as_i64().filter(|_| value.is_i64() || value.is_u64()).ok_or_else(|| {
            if value.as_f64().is_some_and(|v| v < 0.0) {
                format!("{} is negative", metric.name())
            } else {
                format!("{} must be a whole number", metric.name())
            }
        })?;
        if number < 0 {
            return Err(format!("{} is negative", metric.name()));
        }
        if number > metric.daily_cap() {
            return Err(format!("{} above the daily cap of {}", metric.name(), metric.daily_cap()));
        }
        *slot = Some(number);
    }
    let [steps, active_minutes, distance_m, calories] = values;
    // A typed-in value counts at most the manual cap, which is below the review threshold (the cap applies first,
    // API.md's clarifications): it never holds its day. Holding it put a review in the queue that could only matter
    // by its rejection, which zeroed the day's recorded values from the other sources.
    let typed_in = manual_source || user_entered;
    let held_metrics = Metric::ALL
        .into_iter()
        .zip(values)
        .filter(|(metric, value)| value.is_some_and(|v| metric.countable(v, typed_in) > metric.review_threshold()))
        .map(|(metric, _)| metric.name())
        .collect();
    Ok(FitnessDayArg {
        index,
        day: date.to_owned(),
        steps,
        active_minutes,
        distance_m,
        calories,
        user_entered,
        held_metrics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_documented_sources_are_the_accepted_ones() {
        let documented: Vec<String> = [
            Source::Healthkit,
            Source::HealthConnect,
            Source::GoogleFit,
            Source::Garmin,
            Source::Fitbit,
            Source::Manual,
        ]
        .iter()
        .map(|source| serde_json::to_value(source).expect("json").as_str().unwrap_or_default().to_owned())
        .collect();
        assert_eq!(documented, SOURCES);
    }

    const TODAY: i64 = 20_781; // 2026-11-24

    fn sync(samples: Value) -> ValidSync {
        SyncBody {
            source: "healthkit".into(),
            time_zone: None,
            samples: serde_json::from_value(samples).expect("an array of samples"),
        }
        .validate(TODAY)
        .expect("valid request")
    }

    #[test]
    fn each_bad_sample_is_rejected_alone_with_its_reason() {
        let cases = [
            (json!({"date": "2026-11-24", "steps": 100}), None),
            (json!({"date": "2026-11-25", "steps": 100}), None),
            (json!({"date": "2026-11-26", "steps": 1}), Some("future_date")),
            (json!({"date": "2023-11-24", "steps": 1}), None),
            (json!({"date": "2023-11-23", "steps": 1}), Some("too_old")),
            (json!({"date": "0001-01-01", "steps": 1}), Some("too_old")),
            (json!({"date": "2026-11-20", "steps": 1, "user_entered": true}), None),
            (json!({"date": "2026-11-20", "steps": 1, "user_entered": "yes"}), Some("user_entered")),
            (json!({"date": "2026-02-30", "steps": 1}), Some("bad date")),
            (json!({"steps": 1}), Some("date is required")),
            (json!({"date": "2026-11-20", "steps": -1}), Some("negative")),
            (json!({"date": "2026-11-20", "steps": 1.5}), Some("whole number")),
            (json!({"date": "2026-11-20", "steps": "9"}), Some("whole number")),
            (json!({"date": "2026-11-20", "steps": 100_001}), Some("daily cap")),
            (json!({"date": "2026-11-20", "active_minutes": 1_441}), Some("daily cap")),
            (json!({"date": "2026-11-20", "distance_m": 200_001}), Some("daily cap")),
            (json!({"date": "2026-11-20", "calories": 20_001}), Some("daily cap")),
            (json!({"date": "2026-11-20", "sleep": 8}), Some("unknown field")),
            (json!("2026-11-20"), Some("JSON object")),
        ];
        for (sample, reason) in cases {
            let result = sync(json!([sample.clone()]));
            match reason {
                None => assert_eq!((result.days.len(), result.rejected.len()), (1, 0), "{sample}"),
                Some(reason) => {
                    assert!(result.days.is_empty(), "{sample}");
                    assert!(result.rejected[0].reason.contains(reason), "{sample}: {:?}", result.rejected);
                }
            }
        }
    }

    #[test]
    fn the_others_are_kept_and_a_repeated_date_keeps_the_last() {
        let result = sync(json!([
            {"date": "2026-11-20", "steps": 1},
            {"date": "2026-11-21", "steps": -5},
            {"date": "2026-11-20", "steps": 2, "calories": 300},
        ]));
        assert_eq!(
            result.days,
            [FitnessDayArg {
                index: 2,
                day: "2026-11-20".into(),
                steps: Some(2),
                active_minutes: None,
                distance_m: None,
                calories: Some(300),
                user_entered: false,
                held_metrics: vec![],
            }]
        );
        let indexes: Vec<usize> = result.rejected.iter().map(|r| r.index).collect();
        assert_eq!(indexes, [0, 1]);
    }

    #[test]
    fn samples_above_a_review_threshold_are_held_unless_the_database_did_not_store_them() {
        let result = sync(json!([
            {"date": "2026-11-20", "steps": 60_000, "calories": 8_001},
            {"date": "2026-11-21", "steps": 60_001, "user_entered": true},
            {"date": "2026-11-22", "active_minutes": 601, "distance_m": 60_001},
            {"date": "2026-11-23", "steps": 100_000},
        ]));
        // Typed in: capped at 20 000 before the threshold applies, so never held.
        assert!(result.days[1].held_metrics.is_empty());
        assert!(result.days[1].user_entered);
        let held: Vec<(usize, &str, i64)> =
            result.held(&[3], &[]).iter().map(|h| (h.index, h.metric, h.value)).collect();
        assert_eq!(held, [(0, "calories", 8_001), (2, "active_minutes", 601), (2, "distance_m", 60_001)]);
        let body = json!({"source": "manual", "samples": [{"date": "2026-11-20", "steps": 90_000, "calories": 9_000}]});
        let typed = serde_json::from_value::<SyncBody>(body).expect("body").validate(TODAY).expect("valid");
        assert!(typed.days[0].held_metrics.is_empty(), "{typed:?}");
    }

    #[test]
    fn a_sample_of_a_decided_day_is_not_held_again() {
        let result = sync(json!([
            {"date": "2026-11-20", "steps": 70_000},
            {"date": "2026-11-21", "steps": 70_000},
            {"date": "2026-11-22", "steps": 70_000},
        ]));
        let hold = |day: &str, status| DayHold { day: day.into(), status };
        let holds = [
            hold("2026-11-20", HoldStatus::Approved),
            hold("2026-11-21", HoldStatus::Rejected),
            hold("2026-11-22", HoldStatus::Pending),
        ];
        let held: Vec<usize> = result.held(&[], &holds).iter().map(|h| h.index).collect();
        assert_eq!(held, [2], "only the day still waiting for a decision");
    }

    #[test]
    fn a_time_zone_must_be_a_known_iana_name() {
        let with_zone = |zone: &str| {
            SyncBody { source: "healthkit".into(), time_zone: Some(zone.into()), samples: vec![] }.validate(TODAY)
        };
        assert!(with_zone("America/Chicago").is_ok());
        assert_eq!(with_zone("America/Atlantis").err().map(|e| e.status()), Some(422));
    }

    #[test]
    fn the_request_itself_needs_a_known_source_and_at_most_400_samples() {
        let bad_source = SyncBody { source: "pedometer".into(), time_zone: None, samples: vec![] }.validate(TODAY);
        assert_eq!(bad_source.err().map(|e| e.status()), Some(422));
        let too_many = SyncBody {
            source: "manual".into(),
            time_zone: None,
            samples: vec![RawSample(Ok(Default::default())); 401],
        }
        .validate(TODAY);
        assert_eq!(too_many.err().map(|e| e.status()), Some(422));
        assert!(SyncBody {
            source: "manual".into(),
            time_zone: None,
            samples: vec![RawSample(Ok(Default::default())); 400]
        }
        .validate(TODAY)
        .is_ok());
    }
}
