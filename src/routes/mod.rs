//! Route handlers, grouped by resource. Each handler: parse → authorise → call the object or adapter → reply.

pub mod health;
pub mod leaderboard;
pub mod live;
pub mod test_support;
