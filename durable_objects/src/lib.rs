//! The Competition Durable Object and the pieces it is made of.
//!
//! `engine` is the leaderboard itself (pure Rust, no runtime types: ranking, pages, prizes); `protocol` holds the
//! messages exchanged between the Worker and the object (plain serde types, shared by both crates);
//! `score_store` the object's SQLite schema and queries; `live` the rules of the socket protocol; `outbox` the queue of changes for Postgres and how it drains; `competition` the object itself, thin glue that routes a
//! request to the store.

pub mod broadcast;
pub mod competition;
pub mod engine;
pub mod fanout;
pub mod finish;
pub mod live;
pub mod outbox;
pub mod protocol;
pub mod rules;
pub mod score_store;
pub mod socket_rules;
pub mod system_of_record;
pub mod telemetry;
pub mod token_check;

pub use competition::Competition;
