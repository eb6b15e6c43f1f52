//! Route handlers, grouped by resource. Each handler: parse → authorise → call the object or adapter → reply.

pub mod admin;
pub mod avatars;
pub mod competitions;
pub mod fitness;
pub mod health;
pub mod leaderboard;
pub mod live;
pub mod live_page;
pub mod metrics;
pub mod openapi;
pub mod profile;
#[cfg(feature = "test-routes")]
pub mod test_support;
