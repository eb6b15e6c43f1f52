//! Avatar images that no profile shows any more leave the bucket. The request that let go of an image (a new avatar,
//! `DELETE /api/v1/me`) removes it at once; this catches what that missed — a removal that failed (the bucket down or
//! slow) and the images of accounts deleted in Supabase Auth, which the Worker never hears of. The database queues
//! every such image as profiles let go of it (migration `20261206110000_avatar_removals.sql`), so nothing here has to
//! know how it happened.

use worker::Env;

use crate::adapters::error::AdapterError;
use crate::routes::avatars::model::key_of_url;
use crate::services::Services;

/// Images one run removes at most; the rest wait for the next run.
pub const REMOVALS_PER_RUN: u32 = 100;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Removals {
    /// Images removed from the bucket (or found gone) and taken off the queue.
    pub removed: usize,
    /// Whether a removal failed: the run stopped there, and what is left waits for the next one.
    pub stopped: bool,
}

/// Removes the images queued at least `AVATAR_REMOVAL_AFTER_SECS` ago from the bucket and takes them off the queue.
pub async fn remove_unused_avatars(services: &'static Services, env: &Env) -> Result<Removals, AdapterError> {
    let database = &services.database;
    let due = database.avatar_removals_due(services.config.avatar_removal_after_secs, REMOVALS_PER_RUN).await?;
    if due.is_empty() {
        return Ok(Removals::default());
    }
    let store = services.avatar_store(env)?;
    let mut done = Vec::with_capacity(due.len());
    let mut stopped = false;
    for url in due {
        // A URL without a key of ours names nothing in the bucket: off the queue with nothing to remove.
        let removed = match key_of_url(&url) {
            Some(key) => store.remove(key).await,
            None => Ok(()),
        };
        match removed {
            Ok(()) => done.push(url),
            Err(error) => {
                // One at a time, and no further once the bucket fails: a bucket that hangs costs one budget a run,
                // and its breaker sees the failure as every other caller's would.
                worker::console_warn!("avatar {url} not removed yet: {error}");
                stopped = true;
                break;
            }
        }
    }
    if !done.is_empty() {
        database.avatar_removals_done(&done).await?;
    }
    Ok(Removals { removed: done.len(), stopped })
}
