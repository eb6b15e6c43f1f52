//! Profile shapes and the display-name rule of `API.md` (1..40 code points, none of Unicode category Cc).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::adapters::rows::ProfileRow;
use crate::error::{ApiError, FieldError};
use crate::http::body::present;

/// Body of `PATCH /api/v1/me`: any of the fields a user may change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ProfilePatch)]
pub struct PatchBody {
    /// 1 to 40 characters, no control characters.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = display_name)]
    pub display_name: Option<String>,
    /// IANA zone of the user's own days.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, min_length = 1, max_length = 64)]
    pub time_zone: Option<String>,
}

fn display_name() -> utoipa::openapi::schema::Object {
    crate::http::schema::text_as_written(40, "1 to 40 characters, no control characters.")
}

impl PatchBody {
    /// The validated changes, as the profile row's columns (every problem at once; an empty body is 422).
    pub fn validate(self) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
        let mut problems = Vec::new();
        let mut changes = serde_json::Map::new();
        if let Some(name) = self.display_name {
            let count = name.chars().count();
            if !(1..=40).contains(&count) {
                problems.push(FieldError::new("display_name", "must be 1 to 40 characters"));
            } else if name.chars().any(char::is_control) {
                problems.push(FieldError::new("display_name", "must not contain control characters"));
            }
            changes.insert("display_name".into(), name.into());
        }
        if let Some(zone) = self.time_zone {
            if !crate::fitness_rules::clock::is_known_zone(&zone) {
                problems.push(FieldError::new("time_zone", "must be an IANA time zone name (e.g. America/Chicago)"));
            }
            changes.insert("time_zone".into(), zone.into());
        }
        if changes.is_empty() {
            problems.push(FieldError::new("display_name", "give display_name and/or time_zone"));
        }
        if problems.is_empty() {
            Ok(changes)
        } else {
            Err(ApiError::ValidationFailed(problems))
        }
    }
}

/// A profile as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(examples(json!({"user_id": "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f", "display_name": "Ana", "avatar_url": null,
    "time_zone": "Europe/Lisbon"})))]
pub struct Profile {
    /// The user.
    pub user_id: Uuid,
    /// The name boards show.
    pub display_name: String,
    /// Their avatar, `null` until uploaded.
    pub avatar_url: Option<String>,
    /// IANA zone of the user's own days (`UTC` until set).
    pub time_zone: String,
}

impl From<ProfileRow> for Profile {
    fn from(row: ProfileRow) -> Self {
        Self {
            user_id: row.user_id,
            display_name: row.display_name,
            avatar_url: row.avatar_url,
            time_zone: row.time_zone,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_follow_the_contract() {
        let cases = [
            ("Ana", true),
            ("a", true),
            (&"é".repeat(40), true),
            ("🏃‍♀️ runner", true),
            ("", false),
            (&"x".repeat(41), false),
            ("tab\there", false),
            ("line\nbreak", false),
            ("nul\0", false),
            ("del\u{7f}", false),
        ];
        for (name, ok) in cases {
            let result = PatchBody { display_name: Some(name.to_owned()), time_zone: None }.validate();
            assert_eq!(result.is_ok(), ok, "{name:?}");
        }
    }

    #[test]
    fn a_time_zone_is_a_known_zone_and_an_edit_changes_something() {
        let zone = |z: &str| PatchBody { display_name: None, time_zone: Some(z.into()) }.validate();
        assert_eq!(zone("Europe/Berlin").expect("known")["time_zone"], "Europe/Berlin");
        assert!(zone("Europe/Nowhere").is_err());
        assert!(PatchBody { display_name: None, time_zone: None }.validate().is_err());
    }
}
