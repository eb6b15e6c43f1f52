//! Competition shapes of the API and the rules that check them (plain Rust): a new competition (`create`), an
//! edit or a disqualification (`edits`), and what the API shows and tells the objects (`replies`).

mod create;
mod edits;
mod replies;

pub use create::{BasisPoints, CreateBody, ScoreSource, MAX_GRACE_HOURS, MAX_PARTICIPANTS, MAX_PLACES};
pub use edits::{reason, trimmed_text, DisqualifyBody, PatchBody};
pub use replies::{meta_from_row, present, Competition, CompetitionList, Disqualified, Membership};

/// The OpenAPI schema of a competition's name, new or edited.
fn competition_name() -> utoipa::openapi::schema::Object {
    crate::http::schema::trimmed_text(create::MAX_NAME_CHARS, "1 to 80 characters once trimmed, no control characters")
}
