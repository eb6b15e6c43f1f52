//! A piece the body types' OpenAPI schemas share: a string field that holds one of a few words (`#[schema(schema_with
//! = …)]` takes a function without arguments, so each such field names a one-line function that calls this).

use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

/// The schema of a string that is one of `words`.
pub fn one_of_words<const N: usize>(words: [&'static str; N]) -> Object {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(words)).build()
}
