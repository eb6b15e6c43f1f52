//! The fitness-sync body and its per-sample validation: a bad sample is rejected alone (with its index and the
//! reason), the others are stored (`API.md`, fitness sync; caps from `DESIGN.md`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::adapters::rows::FitnessDayArg;
use crate::error::{ApiError, FieldError};
use crate::time;
use durable_objects::rules::Metric;

/// Most samples one request may carry.
pub const MAX_SAMPLES: usize = 400;
/// Sources the app reports from.
pub const SOURCES: [&str; 3] = ["healthkit", "google_fit", "manual"];

/// Body of `POST /api/v1/fitness/sync`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncBody {
    pub source: String,
    /// Checked one by one, so one malformed sample does not sink the rest.
    pub samples: Vec<Value>,
}

/// A sample that was not stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub index: usize,
    pub reason: String,
}

/// What a sync will store, and what it refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSync {
    pub source: String,
    pub days: Vec<FitnessDayArg>,
    pub rejected: Vec<Rejection>,
}

impl SyncBody {
    /// Validates the request (422 for a bad source or too many samples) and each sample; `today` is the current
    /// UTC day (days since the epoch) — a date after tomorrow is in the future wherever the user is.
    pub fn validate(self, today: i64) -> Result<ValidSync, ApiError> {
        let mut problems = Vec::new();
        if !SOURCES.contains(&self.source.as_str()) {
            problems.push(FieldError::new("source", "must be healthkit, google_fit or manual"));
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
            match sample_day(sample, today) {
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
        Ok(ValidSync { source: self.source, days: days.into_iter().map(|(_, d)| d).collect(), rejected })
    }
}

fn sample_day(sample: &Value, today: i64) -> Result<FitnessDayArg, String> {
    let object = sample.as_object().ok_or("a sample must be a JSON object")?;
    if let Some(unknown) = object.keys().find(|k| *k != "date" && Metric::parse(k).is_none()) {
        return Err(format!("unknown field {unknown}"));
    }
    let date = object.get("date").and_then(Value::as_str).ok_or("date is required (YYYY-MM-DD)")?;
    let day = time::parse_day(date).ok_or_else(|| format!("bad date {date:?} (YYYY-MM-DD)"))?;
    if day > today + 1 {
        return Err(format!("date {date} is in the future"));
    }
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
    Ok(FitnessDayArg { day: date.to_owned(), steps, active_minutes, distance_m, calories })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TODAY: i64 = 20_781; // 2026-11-24

    fn sync(samples: Value) -> ValidSync {
        SyncBody { source: "healthkit".into(), samples: samples.as_array().cloned().unwrap_or_default() }
            .validate(TODAY)
            .expect("valid request")
    }

    #[test]
    fn each_bad_sample_is_rejected_alone_with_its_reason() {
        let cases = [
            (json!({"date": "2026-11-24", "steps": 100}), None),
            (json!({"date": "2026-11-25", "steps": 100}), None),
            (json!({"date": "2026-11-26", "steps": 1}), Some("in the future")),
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
                day: "2026-11-20".into(),
                steps: Some(2),
                active_minutes: None,
                distance_m: None,
                calories: Some(300)
            }]
        );
        let indexes: Vec<usize> = result.rejected.iter().map(|r| r.index).collect();
        assert_eq!(indexes, [0, 1]);
    }

    #[test]
    fn the_request_itself_needs_a_known_source_and_at_most_400_samples() {
        let bad_source = SyncBody { source: "fitbit".into(), samples: vec![] }.validate(TODAY);
        assert_eq!(bad_source.err().map(|e| e.status()), Some(422));
        let too_many = SyncBody { source: "manual".into(), samples: vec![json!({}); 401] }.validate(TODAY);
        assert_eq!(too_many.err().map(|e| e.status()), Some(422));
        assert!(SyncBody { source: "manual".into(), samples: vec![json!({}); 400] }.validate(TODAY).is_ok());
    }
}
