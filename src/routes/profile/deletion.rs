//! `DELETE /api/v1/me`: the account and everything the contract lists go. Postgres first, in one transaction (the
//! auth user, the profile and all that cascades from them): if the database cannot be reached the request fails
//! with 503 and nothing changes. Then every competition object the user was in forgets them (off a board that still
//! moves, with a `removed` frame; `deleted player` on final standings), and every avatar image they stored leaves R2.
//! Redis keeps nothing of the user that does not expire by itself: idempotency records (24 h), rate-limit buckets
//! (seconds) and cached pages (15 s).

use standings::protocol::{Announced, Forget};
use standings::requests::ObjectRequest;
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::reply::Reply;
use crate::routes::avatars::model::{key_of_url, owner_prefix};
use crate::runtime::RequestContext;

/// `DELETE /api/v1/me` → 204.
pub async fn delete(ctx: &RequestContext<'_>) -> Result<Reply, ApiError> {
    let user = ctx.require_user()?;
    if user.is_admin() {
        return Err(ApiError::Forbidden("a service_role token has no account to delete".to_owned()));
    }
    let deleted = ctx.database().delete_account(&user.user_id).await?;
    super::forget_provisioned(&user.user_id);
    let calls = deleted.competitions.iter().map(|id| forget(ctx, id, &user.user_id));
    for (id, outcome) in deleted.competitions.iter().zip(futures_util::future::join_all(calls).await) {
        if let Err(error) = outcome {
            // The database no longer has the member (their outbox rows are skipped there); the object takes them
            // off its board when it next reads the database's member changes (`object::member_changes`: its next
            // delivery or board read, and before its standings become final). Logged for an operator.
            worker::console_error!("deleted account {} still on the board of {id} for now: {error}", user.user_id);
        }
    }
    remove_images(ctx, &user.user_id, deleted.avatar_url.as_deref()).await;
    Ok(Reply { status: 204, body: Vec::new(), headers: Vec::new() })
}

/// Removes every image the account stored: all under its prefix (an upload's image left behind by a failure
/// included), and the one its profile showed when that was stored before keys had prefixes. What fails stays for the
/// cron trigger: the database queued the shown image, and each upload queued what its failure may have left.
async fn remove_images(ctx: &RequestContext<'_>, owner: &Uuid, shown: Option<&str>) {
    let store = match ctx.avatars() {
        Ok(store) => store,
        Err(error) => return worker::console_error!("images of deleted account {owner} left in storage: {error}"),
    };
    let mut keys = store.keys_under(&owner_prefix(owner)).await.unwrap_or_else(|error| {
        worker::console_error!("images of deleted account {owner} not listed: {error}");
        Vec::new()
    });
    if let Some(key) = shown.and_then(key_of_url).filter(|key| !keys.iter().any(|listed| listed == key)) {
        keys.push(key.to_owned());
    }
    if let Err(error) = store.remove_all(&keys).await {
        worker::console_error!("images {keys:?} of deleted account {owner} left in storage: {error}");
    }
}

/// Takes the member off the competition's board, and drops its cached row, whose participant count still has them.
async fn forget(ctx: &RequestContext<'_>, id: &Uuid, user_id: &Uuid) -> Result<(), ApiError> {
    let (_, left) = futures_util::future::join(
        crate::cache::competitions::forget(ctx, id),
        ctx.competition(id)?.call::<Announced>(&ObjectRequest::Forget(Forget { user_id: *user_id })),
    )
    .await;
    left.map(|_| ())
}
