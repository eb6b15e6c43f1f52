//! One adapter per external service (PostgREST, Upstash, the avatar bucket, the JWKS document, Analytics Engine),
//! each with its time budget (and, for the three HTTP services, its circuit breaker) inside, so handlers never see a
//! service's API.

pub mod analytics;
pub mod avatar_store;
pub mod breaker;
pub mod error;
pub mod guard;
pub mod jwks;
pub mod metrics_totals;
pub mod postgrest;
pub mod redis_ops;
pub mod rows;
pub mod score_history;
pub mod upstash;

pub use error::{AdapterError, Dependency};
