//! Avatars: `POST /api/v1/me/avatar` stores the image in the R2 bucket under a key of its own (`model::key_of`),
//! points the caller's profile at it and removes the image it replaces; `GET /api/v1/avatars/{key}` serves it publicly with
//! long immutable caching.

pub mod held_image;
pub mod model;

use crate::adapters::error::AdapterError;
use crate::error::ApiError;
use crate::http::reply::Reply;
use crate::router::RouteMatch;
use crate::routes::profile;
use crate::runtime::RequestContext;

use held_image::HeldImage;
use model::{check_upload, key_of, key_of_url, parse_key, AvatarReply, CACHE_CONTROL, MAX_BYTES};

/// `POST /api/v1/me/avatar`
pub async fn upload(ctx: &RequestContext<'_>, req: &crate::http::incoming::Incoming) -> Result<Reply, ApiError> {
    let user = ctx.require_person()?;
    let content_type = req.headers().get("Content-Type").ok().flatten();
    let bytes = HeldImage::read(req, MAX_BYTES).await?;
    let image = check_upload(content_type.as_deref(), &bytes.head(), bytes.size())?;
    let key = key_of(&user.user_id, &crate::platform::random(), image);
    let url = format!("{}/api/v1/avatars/{key}", origin(req)?);

    profile::ensure(ctx).await?;
    let store = ctx.avatars()?;
    if let Err(error) = store.put_image(&key, bytes.bytes(), image.mime(), CACHE_CONTROL).await {
        // A call that timed out may still write the image, which no profile would ever show.
        leave_for_removal(ctx, &url).await;
        return Err(error.into());
    }
    match ctx.database().set_avatar(&user.user_id, &url).await {
        Ok(Some(change)) => {
            crate::scoring::announce_person(ctx, &change.profile).await;
            // The replaced image was one upload's alone (a key per upload), and that upload is over.
            if let Some(old) = change.replaced.as_deref().and_then(key_of_url).filter(|old| *old != key) {
                if let Err(error) = store.remove(old).await {
                    worker::console_error!("replaced avatar {old} left in storage: {error}");
                }
            }
            Ok(Reply::json(200, &AvatarReply { avatar_url: url }))
        }
        failed => {
            if matches!(failed, Err(AdapterError::Timeout(..) | AdapterError::Decode(..))) {
                // The reply was lost or unreadable, not necessarily the update: the profile may show the image now.
                // The queue takes only what no profile shows, and the cron trigger removes only that.
                leave_for_removal(ctx, &url).await;
            } else if let Err(error) = store.remove(&key).await {
                worker::console_error!("avatar {key} left behind after a failed profile update: {error}");
                leave_for_removal(ctx, &url).await;
            }
            Err(match failed {
                Err(error) => ApiError::from(error),
                _ => profile::vanished(ctx).await,
            })
        }
    }
}

/// An avatar's answer: its status and headers, and the image as the runtime's stream (none for a 304). The bytes
/// never enter the isolate: reading them into wasm memory and copying them out into the response made two copies of
/// each image per read (180 reads of a 2 MiB image cost 880–960 ms of workerd CPU under `wrangler dev`, streamed
/// 680–830 ms).
pub struct Image {
    /// Status and headers; the body is the stream.
    pub reply: Reply,
    /// The stored image, streamed by the runtime.
    pub stream: Option<worker::web_sys::ReadableStream>,
    /// The image's size, for the access log and metrics.
    pub bytes: u64,
}

/// `GET /api/v1/avatars/{key}` (public).
pub async fn serve(
    ctx: &RequestContext<'_>,
    route: &RouteMatch,
    req: &crate::http::incoming::Incoming,
) -> Result<Image, ApiError> {
    let key = route.param("key").unwrap_or_default();
    let image = parse_key(key).ok_or_else(|| ApiError::NotFound("no such avatar".to_owned()))?;
    let stored = ctx.avatars()?.image(key).await?.ok_or_else(|| ApiError::NotFound("no such avatar".to_owned()))?;
    let etag = stored.etag();
    let mut headers = vec![
        ("Content-Type".to_owned(), image.mime().to_owned()),
        ("Cache-Control".to_owned(), CACHE_CONTROL.to_owned()),
        ("ETag".to_owned(), etag.clone()),
    ];
    let if_none_match = req.headers().get("If-None-Match").ok().flatten();
    if if_none_match.is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*")) {
        return Ok(Image { reply: Reply { status: 304, body: Vec::new(), headers }, stream: None, bytes: 0 });
    }
    let bytes = stored.size();
    headers.push(("Content-Length".to_owned(), bytes.to_string()));
    let stream = stored.stream();
    Ok(Image { reply: Reply { status: 200, body: Vec::new(), headers }, stream, bytes })
}

/// Queues the image at `url`, which this upload may have left in the bucket with no profile showing it, for the cron
/// trigger to remove (`maintenance.rs`); a profile that comes to show it takes it off the queue.
async fn leave_for_removal(ctx: &RequestContext<'_>, url: &str) {
    if let Err(error) = ctx.database().queue_avatar_removal(url).await {
        worker::console_error!("avatar {url} may stay in storage: {error}");
    }
}

/// `scheme://host[:port]` of the request, for absolute avatar URLs.
fn origin(req: &crate::http::incoming::Incoming) -> Result<String, ApiError> {
    let url = req.url().map_err(|e| ApiError::BadRequest(format!("bad URL: {e}")))?;
    Ok(url.origin().ascii_serialization())
}
