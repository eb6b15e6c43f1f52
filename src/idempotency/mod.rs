//! `Idempotency-Key` on `POST /api/v1/leaderboard/update` and `POST /api/v1/fitness/sync`: the first reply is
//! replayed for 24 h, the same key with another body is 422 `idempotency_mismatch`, and a second request while the
//! first runs is 409. Keys are scoped to the caller and held in Redis (`SET NX` claims them), so they hold across
//! isolates, locations and competitions.
//!
//! With Redis unreachable the request runs unprotected and says so in the log: both routes are idempotent by
//! nature (an absolute score; an upsert per day), so a retry cannot double-count.

pub mod record;

use std::future::Future;

use serde_json::Value;

use crate::error::ApiError;
use crate::http::reply::Reply;
use crate::runtime::RequestContext;

use record::{decide, fingerprint, keeps, storage_key, validate_key, Decision, Record, StoredReply};

/// Header a replayed reply carries.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";

/// A key this request holds until it finishes.
struct Claim {
    key: String,
    fingerprint: String,
}

enum Begin {
    Replay(Reply),
    Run(Option<Claim>),
}

/// Runs `handler` under the caller's `Idempotency-Key` (when the request has one).
pub async fn guarded<F, Fut>(
    ctx: &RequestContext<'_>,
    key: Option<String>,
    route: &str,
    body: &[u8],
    handler: F,
) -> Result<Reply, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Reply, ApiError>>,
{
    let claim = match begin(ctx, key, route, body).await? {
        Begin::Replay(reply) => return Ok(reply),
        Begin::Run(claim) => claim,
    };
    let outcome = handler().await;
    if let Some(claim) = claim {
        finish(ctx, claim, &outcome).await;
    }
    outcome
}

async fn begin(ctx: &RequestContext<'_>, key: Option<String>, route: &str, body: &[u8]) -> Result<Begin, ApiError> {
    let Some(key) = key else { return Ok(Begin::Run(None)) };
    validate_key(&key)?;
    let user = ctx.require_user()?;
    let key = storage_key(&user.user_id, &key);
    let fingerprint = fingerprint(route, body);
    let running = serde_json::to_string(&Record { fingerprint: fingerprint.clone(), reply: None })
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let redis = ctx.redis();
    // Two rounds: a record can expire between a failed claim and the read that follows.
    for _ in 0..2 {
        match redis.claim(&key, &running, record::RUNNING_TTL_SECS).await {
            Ok(true) => return Ok(Begin::Run(Some(Claim { key, fingerprint }))),
            Ok(false) => {}
            Err(error) => {
                worker::console_warn!("Idempotency-Key not enforced (redis): {error}");
                return Ok(Begin::Run(None));
            }
        }
        let existing = match redis.cached(&key).await {
            Ok(Some(text)) => serde_json::from_slice::<Record>(text.as_bytes()).ok(),
            Ok(None) => continue,
            Err(error) => {
                worker::console_warn!("Idempotency-Key not enforced (redis): {error}");
                return Ok(Begin::Run(None));
            }
        };
        let Some(existing) = existing else { continue };
        return match decide(&existing, &fingerprint) {
            Decision::Replay(stored) => Ok(Begin::Replay(replay(stored))),
            Decision::Mismatch => Err(ApiError::IdempotencyMismatch),
            Decision::InFlight => {
                Err(ApiError::Conflict("a request with this Idempotency-Key is still being processed".to_owned()))
            }
        };
    }
    Err(ApiError::Conflict("this Idempotency-Key is changing hands; retry".to_owned()))
}

fn replay(stored: StoredReply) -> Reply {
    let mut reply = Reply::json(stored.status, &Value::Null);
    reply.body = stored.body.into_bytes();
    reply.headers.push((REPLAYED_HEADER.to_owned(), "true".to_owned()));
    reply
}

async fn finish(ctx: &RequestContext<'_>, claim: Claim, outcome: &Result<Reply, ApiError>) {
    let (status, body) = match outcome {
        Ok(reply) => (reply.status, String::from_utf8_lossy(&reply.body).into_owned()),
        Err(error) => (error.status(), serde_json::to_string(&error.envelope(ctx.request_id)).unwrap_or_default()),
    };
    // The claim reached Redis, so its outcome is stored even if the breaker opened meanwhile: a claim left behind
    // would answer the client's retries "in progress" until it expires.
    let redis = ctx.redis().insistent();
    let result = if keeps(status) {
        let done = Record { fingerprint: claim.fingerprint, reply: Some(StoredReply { status, body }) };
        let text = serde_json::to_string(&done).unwrap_or_default();
        redis.keep(&claim.key, &text, record::TTL_SECS).await
    } else {
        // A server error is not an answer: free the key so the client's retry runs.
        redis.drop_key(&claim.key).await
    };
    if let Err(error) = result {
        worker::console_warn!("Idempotency-Key outcome not stored: {error}");
    }
}
