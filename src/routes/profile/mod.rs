//! Profile routes: `GET/PATCH /api/v1/me`. A profile is created on the caller's first authenticated use (by the
//! `ensure_profile` RPC, which the Worker calls with the service key for the verified user).

pub mod competitions;
pub mod deletion;
pub mod model;

use std::cell::RefCell;

use crate::adapters::rows::ProfileRow;
use crate::error::ApiError;
use crate::http::body::JSON_LIMIT;
use crate::http::reply::Reply;
use crate::isolate_cache::TtlCache;
use crate::runtime::RequestContext;

use model::{PatchBody, Profile};

thread_local! {
    /// Users whose profile this isolate has seen exist (so joins and syncs skip the provisioning call).
    static PROVISIONED: RefCell<TtlCache<uuid::Uuid, ()>> = RefCell::new(TtlCache::new(60 * 60 * 1_000, 100_000));
}

/// Creates the caller's profile if it does not exist yet, and returns it.
pub async fn provision(ctx: &RequestContext<'_>) -> Result<ProfileRow, ApiError> {
    let user = ctx.require_person()?;
    let row = ctx.database().ensure_profile(&user.user_id).await?;
    PROVISIONED.with(|c| c.borrow_mut().put(user.user_id, (), ctx.now_ms));
    Ok(row)
}

/// Forgets that this isolate saw `user`'s profile (their account was deleted).
pub fn forget_provisioned(user: &uuid::Uuid) {
    PROVISIONED.with(|c| c.borrow_mut().remove(user));
}

/// Makes sure the caller's profile exists (one database call per user and isolate per hour at most).
pub async fn ensure(ctx: &RequestContext<'_>) -> Result<(), ApiError> {
    let user = ctx.require_person()?;
    if PROVISIONED.with(|c| c.borrow().get(&user.user_id, ctx.now_ms)).is_none() {
        provision(ctx).await?;
    }
    Ok(())
}

/// The error for a profile this isolate saw but the database no longer has: the account was deleted since, through
/// another isolate. Provisioning again says so (a deleted account's token is refused with 401).
pub async fn vanished(ctx: &RequestContext<'_>) -> ApiError {
    if let Ok(user) = ctx.require_person() {
        forget_provisioned(&user.user_id);
    }
    match provision(ctx).await {
        Err(error) => error,
        Ok(_) => ApiError::Internal("profile missing after provisioning".to_owned()),
    }
}

/// `GET /api/v1/me`
pub async fn get(ctx: &RequestContext<'_>) -> Result<Reply, ApiError> {
    Ok(Reply::json(200, &Profile::from(provision(ctx).await?)))
}

/// `PATCH /api/v1/me`. A new `time_zone` moves the member's own calendar days, so their fitness competitions on the
/// `participant` clock are rescored before the reply, as a sync naming the zone would.
pub async fn patch(ctx: &RequestContext<'_>, req: &mut crate::http::incoming::Incoming) -> Result<Reply, ApiError> {
    let user = ctx.require_person()?;
    let mut changes = ctx.read_json::<PatchBody>(req, JSON_LIMIT).await?.validate()?;
    let renamed = changes.contains_key("display_name");
    ensure(ctx).await?;
    let database = ctx.database();
    if let Some(zone) = changes.remove("time_zone") {
        // The zone is set with the rescore's inputs, in one transaction ordered with the member's syncs.
        let inputs = database.days_to_rescore(&user.user_id, zone.as_str()).await?.counting_by_own_zone();
        crate::scoring::write_rescored(ctx, &user.user_id, &inputs).await?;
    }
    let updated = if changes.is_empty() {
        database.ensure_profile(&user.user_id).await?
    } else {
        match database.update_profile(&user.user_id, &serde_json::Value::Object(changes)).await? {
            Some(updated) => updated,
            None => return Err(vanished(ctx).await),
        }
    };
    if renamed {
        crate::scoring::announce_person(ctx, &updated).await;
    }
    Ok(Reply::json(200, &Profile::from(updated)))
}
