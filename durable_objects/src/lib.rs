//! The Competition Durable Object: the runtime glue around the `standings` crate.
//!
//! `score_store` is the object's SQLite schema and queries; `fanout` and `broadcast` send frames to sockets;
//! `system_of_record` delivers the outbox to Postgres; `telemetry` and `token_check` hold the types of the Worker's
//! metrics and token verifier; all three are reached through the one link the Worker installs (`worker_link`).
//! `object` is the object itself (`mod.rs` loads it and routes requests; `writes`, `reads`, `sockets`, `alarm` and
//! `test_routes` hold what each kind of request does). The rules themselves (engine, admission, finish, protocol)
//! live in `standings`.

pub mod alarm_slot;
pub mod broadcast;
pub mod clock;
#[cfg(test)]
mod counting_waker;
pub mod fanout;
pub mod object;
pub mod object_call;
pub mod promise_wait;
pub mod read_ahead;
pub mod ready_now;
pub mod relay;
pub mod relay_link;
pub mod replies;
mod rpc_order;
pub mod score_store;
pub mod single_flight;
pub mod subrequest;
pub mod subscribers;
pub mod system_of_record;
pub mod telemetry;
pub mod token_check;
pub mod worker_link;

pub use object::Competition;
pub use relay::Relay;
