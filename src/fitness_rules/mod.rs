//! The rules that turn a member's stored fitness days into a competition score (API.md, additions of 2026-12-01):
//! which local dates count under the competition's clock ([`clock`]), what one day counts after the manual cap, the
//! largest value across sources and the review of held days ([`day_value`]), and the scoring mode that sums them up
//! ([`modes`]). [`rescore`] applies them to what the database returns from a sync or a hold decision. Plain Rust:
//! no I/O, tested natively.

pub mod clock;
pub mod day_value;
pub mod modes;
pub mod rescore;

pub use clock::Clock;
pub use day_value::HoldStatus;
pub use modes::Scoring;
