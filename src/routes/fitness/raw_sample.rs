//! One sample of a fitness-sync body as it was sent: its fields, or why it is refused on its own. A sample that is
//! not an object, or that names a field twice, is rejected alone with its index like any other bad sample; the rest
//! of the request still counts.

use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A sample's fields, or the reason it is rejected before its fields are read.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSample(pub Result<Map<String, Value>, String>);

const NOT_AN_OBJECT: &str = "a sample must be a JSON object";

impl<'de> Deserialize<'de> for RawSample {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SampleVisitor)
    }
}

struct SampleVisitor;

fn not_an_object<E>() -> Result<RawSample, E> {
    Ok(RawSample(Err(NOT_AN_OBJECT.to_owned())))
}

impl<'de> Visitor<'de> for SampleVisitor {
    type Value = RawSample;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a sample")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawSample, A::Error> {
        let mut fields = Map::new();
        let mut repeated = None;
        while let Some(key) = map.next_key::<String>()? {
            // A repeated field is ambiguous (parsers differ on which value wins), so the sample is refused rather
            // than read as its last value.
            if fields.contains_key(&key) {
                map.next_value::<IgnoredAny>()?;
                repeated.get_or_insert(key);
            } else {
                let value = map.next_value::<Value>()?;
                fields.insert(key, value);
            }
        }
        Ok(RawSample(match repeated {
            Some(key) => Err(format!("{key} appears more than once")),
            None => Ok(fields),
        }))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawSample, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        not_an_object()
    }

    fn visit_bool<E>(self, _: bool) -> Result<RawSample, E> {
        not_an_object()
    }

    fn visit_i64<E>(self, _: i64) -> Result<RawSample, E> {
        not_an_object()
    }

    fn visit_u64<E>(self, _: u64) -> Result<RawSample, E> {
        not_an_object()
    }

    fn visit_f64<E>(self, _: f64) -> Result<RawSample, E> {
        not_an_object()
    }

    fn visit_str<E>(self, _: &str) -> Result<RawSample, E> {
        not_an_object()
    }

    fn visit_unit<E>(self) -> Result<RawSample, E> {
        not_an_object()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_read_as_objects_and_refused_alone_when_they_are_not_one() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            (r#"{"date": "2026-11-24", "steps": 5}"#, Ok(r#"{"date": "2026-11-24", "steps": 5}"#)),
            (r#"{}"#, Ok("{}")),
            (r#"{"steps": 5, "date": "2026-11-24", "steps": 90000}"#, Err("steps appears more than once")),
            ("5", Err(NOT_AN_OBJECT)),
            ("-5", Err(NOT_AN_OBJECT)),
            ("1.5", Err(NOT_AN_OBJECT)),
            (r#""day""#, Err(NOT_AN_OBJECT)),
            ("null", Err(NOT_AN_OBJECT)),
            ("true", Err(NOT_AN_OBJECT)),
            (r#"[{"steps": 1}, 2]"#, Err(NOT_AN_OBJECT)),
        ];
        for (text, expected) in cases {
            let got: RawSample = serde_json::from_str(text).expect("well-formed JSON is always a sample");
            let expected = match expected {
                Ok(fields) => Ok(serde_json::from_str::<Map<String, Value>>(fields).expect("fixture")),
                Err(reason) => Err((*reason).to_owned()),
            };
            assert_eq!(got.0, expected, "{text}");
        }
    }

    #[test]
    fn a_bad_sample_leaves_its_neighbours_readable() {
        let samples: Vec<RawSample> =
            serde_json::from_str(r#"[{"steps": 1, "steps": 2}, 7, {"steps": 3}]"#).expect("array of samples");
        assert!(samples[0].0.is_err() && samples[1].0.is_err());
        assert_eq!(samples[2].0.as_ref().ok().and_then(|f| f.get("steps")), Some(&Value::from(3)));
    }
}
