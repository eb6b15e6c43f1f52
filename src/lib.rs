//! Edge backend of the health-competition app: a Cloudflare Worker in front of one Durable Object per competition.
//!
//! Plain-Rust modules (`auth`, `config`, `error`, `http`, `router`, route models) hold the logic and are tested
//! natively; `entry`, `runtime`, `competition_client` and the handlers are the thin glue to the Workers runtime.

pub mod adapters;
pub mod auth;
pub mod cache;
pub mod competition_client;
pub mod config;
pub mod entry;
pub mod error;
pub mod fitness_rules;
pub mod held_body;
pub mod http;
pub mod idempotency;
pub mod isolate_cache;
pub mod maintenance;
pub mod metrics;
#[cfg(not(target_arch = "wasm32"))]
pub mod openapi_doc;
pub mod platform;
pub mod rate_limit;
pub mod router;
pub mod routes;
pub mod runtime;
pub mod scoring;
pub mod services;
pub mod time;

// The Competition and Relay classes live in the `durable_objects` crate; referencing them here is what makes the
// build export them to the runtime.
pub use durable_objects::{Competition, Relay};
// Subrequests answered whole; the objects make them too, so the module lives in their crate.
pub use durable_objects::subrequest;
