//! The cron trigger's work (`wrangler.toml`, `[triggers]`; `entry/mod.rs` runs it and logs one line): what requests
//! left for later, each part in its own file.

mod avatars;
mod rescores;

pub use avatars::{remove_unused_avatars, Removals, REMOVALS_PER_RUN};
pub use rescores::{finish_pending_rescores, Rescores, RESCORES_PER_RUN};
