//! Profile shapes and the display-name rule of `API.md` (1..40 code points, none of Unicode category Cc).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::adapters::rows::ProfileRow;
use crate::error::{ApiError, FieldError};

/// Body of `PATCH /api/v1/me`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    pub display_name: String,
}

impl PatchBody {
    /// The validated display name.
    pub fn validate(self) -> Result<String, ApiError> {
        let count = self.display_name.chars().count();
        if !(1..=40).contains(&count) {
            return Err(ApiError::ValidationFailed(vec![FieldError::new(
                "display_name",
                "must be 1 to 40 characters",
            )]));
        }
        if self.display_name.chars().any(char::is_control) {
            return Err(ApiError::ValidationFailed(vec![FieldError::new(
                "display_name",
                "must not contain control characters",
            )]));
        }
        Ok(self.display_name)
    }
}

/// A profile as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub user_id: Uuid,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

impl From<ProfileRow> for Profile {
    fn from(row: ProfileRow) -> Self {
        Self { user_id: row.user_id, display_name: row.display_name, avatar_url: row.avatar_url }
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
            let result = PatchBody { display_name: name.to_owned() }.validate();
            assert_eq!(result.is_ok(), ok, "{name:?}");
        }
    }
}
