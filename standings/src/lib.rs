//! The rules that decide standings and money, in plain Rust with no runtime types, so every one of them runs and is
//! tested natively.
//!
//! `engine` is the leaderboard (ranking, pages, prizes); `rules` admits or refuses a score; `finish` computes final
//! standings and prize splits; `live` and `socket_rules` are the rules of the live socket protocol; `outbox` is the
//! queue of changes for Postgres and how it drains; `stored_rows` reads stored member rows back onto a board;
//! `protocol` holds the messages the Worker and the Competition object exchange, `requests` the one enum of what the
//! Worker asks.

pub mod board;
pub mod engine;
pub mod finish;
pub mod live;
pub mod object_config;
pub mod object_error;
pub mod outbox;
pub mod protocol;
pub mod relay;
pub mod requests;
pub mod rules;
pub mod score;
pub mod socket_gauge;
pub mod socket_rules;
pub mod stored_rows;
