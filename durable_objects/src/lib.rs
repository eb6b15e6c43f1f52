//! The Competition Durable Object: the runtime glue around the `standings` crate.
//!
//! `score_store` is the object's SQLite schema and queries; `fanout` and `broadcast` send frames to sockets;
//! `system_of_record` delivers the outbox to Postgres; `telemetry` and `token_check` reach the Worker's metrics and
//! token verifier; `competition` is the object itself, which routes a request to the rules and the store. The rules
//! themselves (engine, admission, finish, protocol) live in `standings`.

pub mod broadcast;
pub mod competition;
pub mod fanout;
pub mod score_store;
pub mod system_of_record;
pub mod telemetry;
pub mod token_check;

pub use competition::Competition;
