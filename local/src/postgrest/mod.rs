//! A local stand-in for Supabase's PostgREST, never deployed: the subset of PostgREST the Worker and the official
//! clients use, served under `/rest/v1` in front of the real local Postgres. Each request runs in one transaction as
//! the JWT's `role` with `request.jwt.claims` set, so Postgres enforces row-level security exactly as on Supabase.
//! Anything outside the subset answers 400 naming the feature, so a divergence fails a test instead of passing.

pub mod auth;
mod error;
mod handlers;
mod prefer;
mod query;
mod sql;

pub use handlers::{router, Gateway};
