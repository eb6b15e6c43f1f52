//! Profiles and accounts: a user's profile made on first use, their edits, the deletion of an account, and the queue
//! of avatar images no profile shows any more.

use serde_json::json;
use uuid::Uuid;

use super::{Caller, Database};
use crate::adapters::error::AdapterError;
use crate::adapters::rows::{AvatarChange, DeletedAccount, ProfileRow};

impl Database {
    /// The user's profile, created with the contract's default name on first use. Users cannot write profiles
    /// themselves (beyond their display name), so the Worker does it with the service key for the verified user.
    pub async fn ensure_profile(&self, user_id: &Uuid) -> Result<ProfileRow, AdapterError> {
        self.run("ensure_profile", self.rpc("ensure_profile", json!({ "p_user": user_id }), Caller::Service)).await
    }

    /// Sets the user's display name and/or time zone (service key: the route has checked them); `None` when the
    /// profile does not exist.
    pub async fn update_profile(
        &self,
        user_id: &Uuid,
        changes: &serde_json::Value,
    ) -> Result<Option<ProfileRow>, AdapterError> {
        let builder = self
            .table("profiles", Caller::Service)
            .eq("user_id", user_id.to_string())
            .select("user_id,display_name,avatar_url,time_zone,person_version")
            .update(changes.to_string());
        let rows: Vec<ProfileRow> = self.run("update_profile", builder).await?;
        Ok(rows.into_iter().next())
    }

    /// Points the user's profile at a new avatar and says which avatar it showed until now, in one locked step (so
    /// of two racing uploads each learns the image it replaced); `None` when the profile does not exist.
    pub async fn set_avatar(&self, user_id: &Uuid, url: &str) -> Result<Option<AvatarChange>, AdapterError> {
        let args = json!({ "p_user": user_id, "p_url": url });
        self.run("set_avatar", self.rpc("set_avatar", args, Caller::Service)).await
    }

    /// Deletes a verified user's account in one transaction (auth user, profile and everything that cascades from
    /// them); returns the competitions they were in and their avatar URL when nobody else shows the same image.
    pub async fn delete_account(&self, user_id: &Uuid) -> Result<DeletedAccount, AdapterError> {
        self.run("delete_account", self.rpc("delete_account", json!({ "p_user": user_id }), Caller::Service)).await
    }

    /// The URLs of avatar images no profile has shown for at least `after_secs` (oldest first, at most `limit`),
    /// which the database queued as profiles let go of them.
    pub async fn avatar_removals_due(&self, after_secs: u64, limit: u32) -> Result<Vec<String>, AdapterError> {
        let args = json!({ "p_after_secs": after_secs, "p_limit": limit });
        self.run("avatar_removals_due", self.rpc("avatar_removals_due", args, Caller::Service)).await
    }

    /// Queues an image an upload may have left in the bucket without a profile showing it (nothing when one shows
    /// it); whether it was queued.
    pub async fn queue_avatar_removal(&self, url: &str) -> Result<bool, AdapterError> {
        let args = json!({ "p_url": url });
        self.run("queue_avatar_removal_of", self.rpc("queue_avatar_removal_of", args, Caller::Service)).await
    }

    /// Takes images removed from the bucket off the queue; returns how many were on it.
    pub async fn avatar_removals_done(&self, urls: &[String]) -> Result<u64, AdapterError> {
        let args = json!({ "p_urls": urls });
        self.run("avatar_removals_done", self.rpc("avatar_removals_done", args, Caller::Service)).await
    }
}
