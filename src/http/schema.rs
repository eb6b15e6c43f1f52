//! Pieces the body types' OpenAPI schemas share: the patterns of text people read, and a string field that holds one
//! of a few words (`#[schema(schema_with = …)]` takes a function without arguments, so each such field names a
//! one-line function that calls this).

use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// The pattern of text people read as it is written (a display name): no character of Unicode category Cc.
pub const NO_CONTROLS: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";
/// The pattern of text that is trimmed before it is checked (a competition's name, a reason): white space (Unicode's
/// `White_Space`, spelled out: regex dialects disagree on `\\s`) at either end, between them at least one other
/// character and no character of category Cc.
pub const TRIMMED_TEXT: &str = "^[\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*[\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*$";

/// The schema of text of 1 to `max` characters as written, without control characters ([`NO_CONTROLS`]).
pub fn text_as_written(max: usize, description: &str) -> Object {
    text_builder(max, NO_CONTROLS, description).schema_type(Type::String).build()
}

/// The schema of text of 1 to `max` characters once trimmed, without control characters ([`TRIMMED_TEXT`]).
pub fn trimmed_text(max: usize, description: &str) -> Object {
    text_builder(max, TRIMMED_TEXT, description).schema_type(Type::String).build()
}

/// [`trimmed_text`], or `null`.
pub fn trimmed_text_or_null(max: usize, description: &str) -> Object {
    text_builder(max, TRIMMED_TEXT, description).schema_type(SchemaType::from_iter([Type::String, Type::Null])).build()
}

fn text_builder(max: usize, pattern: &str, description: &str) -> ObjectBuilder {
    ObjectBuilder::new().min_length(Some(1)).max_length(Some(max)).pattern(Some(pattern)).description(Some(description))
}

/// The schema of a string that is one of `words`.
pub fn one_of_words<const N: usize>(words: [&'static str; N]) -> Object {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(words)).build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::competitions::model::reason;

    /// The documented patterns accept what the checks accept (lengths aside, which `minLength`/`maxLength` state).
    #[test]
    fn the_patterns_agree_with_the_checks() {
        let no_controls = regex::Regex::new(NO_CONTROLS).expect("pattern");
        let trimmed = regex::Regex::new(TRIMMED_TEXT).expect("pattern");
        let texts = [
            "Ana",
            "Zoë Ñandú",
            "名前",
            "a b",
            " padded ",
            "emoji 🏃",
            "\u{a0}x",
            "tab\there",
            "new\nline",
            "nul\0",
            "del\u{7f}",
            "c1 \u{85}",
            "c1 \u{9f}",
            "\u{a0}",
            "   ",
            "\u{3000}",
            "\u{200b}",
            "\u{feff}",
            "\u{2028}",
            "\tpadded\n",
            "\u{1c}x",
            "x\u{85}",
            "\u{85}",
            "\u{feff}x\u{feff}",
        ];
        for text in texts {
            let readable = !text.chars().any(char::is_control);
            assert_eq!(no_controls.is_match(text), readable, "{text:?}");
            assert_eq!(trimmed.is_match(text), reason(text).is_ok(), "{text:?}");
        }
    }
}
