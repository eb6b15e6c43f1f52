//! The `Prefer` header: which of its preferences this gateway honours, and a 400 for the others.

use super::error::GatewayError;

/// What the caller wants back from a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Return {
    #[default]
    Minimal,
    Representation,
}

/// What an insert does on a key conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resolution {
    /// No `ON CONFLICT` clause: a conflict is a 409.
    #[default]
    Error,
    MergeDuplicates,
    IgnoreDuplicates,
}

/// The parsed `Prefer` header(s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Preferences {
    pub return_: Return,
    pub resolution: Resolution,
    pub count_exact: bool,
}

impl Preferences {
    /// Parses every `Prefer` header value (comma-separated preferences).
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Self, GatewayError> {
        let mut prefs = Preferences::default();
        for preference in values.into_iter().flat_map(|v| v.split(',')).map(str::trim).filter(|p| !p.is_empty()) {
            match preference {
                "return=minimal" => prefs.return_ = Return::Minimal,
                "return=representation" => prefs.return_ = Return::Representation,
                "resolution=merge-duplicates" => prefs.resolution = Resolution::MergeDuplicates,
                "resolution=ignore-duplicates" => prefs.resolution = Resolution::IgnoreDuplicates,
                "count=exact" => prefs.count_exact = true,
                other => return Err(GatewayError::unsupported(format!("Prefer: {other}"))),
            }
        }
        Ok(prefs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferences_combine_across_headers_and_commas() {
        let prefs =
            Preferences::parse(["return=representation, resolution=merge-duplicates", "count=exact"]).expect("parse");
        assert_eq!(
            prefs,
            Preferences { return_: Return::Representation, resolution: Resolution::MergeDuplicates, count_exact: true }
        );
        assert_eq!(Preferences::parse([]).expect("empty"), Preferences::default());
    }

    #[test]
    fn unknown_preferences_are_refused() {
        for value in ["count=planned", "tx=rollback", "missing=default", "return=headers-only"] {
            assert_eq!(Preferences::parse([value]).expect_err(value).status().as_u16(), 400, "{value}");
        }
    }
}
