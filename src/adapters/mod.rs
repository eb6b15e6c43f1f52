//! One adapter per external service (PostgREST, Upstash), each behind a small struct with its circuit breaker and
//! timeout budget inside, so handlers never see HTTP details of either service.

pub mod analytics;
pub mod breaker;
pub mod error;
pub mod guard;
pub mod postgrest;
pub mod redis_ops;
pub mod rows;
pub mod score_history;
pub mod upstash;

pub use error::{AdapterError, Dependency};
