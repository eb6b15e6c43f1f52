//! The per-request context handed to handlers, and the runtime facts it wraps (headers, query, bodies); the clock and
//! randomness are `platform`, the isolate's configuration and adapters `services`.

use serde::de::DeserializeOwned;
use worker::Env;

use crate::auth::UserContext;
use crate::error::ApiError;
use crate::http::body;
use crate::services::Services;

/// What every handler can see about the request it serves.
pub struct RequestContext<'a> {
    /// Bindings.
    pub env: &'a Env,
    /// The isolate's services (its configuration among them).
    pub services: &'static Services,
    /// This request's id.
    pub request_id: &'a str,
    /// This request's span as the `traceparent` of its outbound calls.
    pub traceparent: String,
    /// Arrival time, milliseconds since the epoch.
    pub now_ms: i64,
    /// The verified caller, when the request carried a valid token.
    pub user: Option<UserContext>,
    /// That token, forwarded to the database API so row-level security applies to the caller.
    pub token: Option<String>,
    /// Work the Worker does on its own (the cron trigger's), not a request: there is no caller, and what would be
    /// read as the caller is read with the service key ([`RequestContext::reader`]).
    pub own_work: bool,
}

/// Why a token without `sub` cannot use a route that acts for the caller themself.
const NO_PERSON: &str = "this route acts for the caller, and a token without sub names no user";

impl RequestContext<'_> {
    /// The caller, or the 401 the route owes an anonymous request.
    pub fn require_user(&self) -> Result<&UserContext, ApiError> {
        self.user.as_ref().ok_or(ApiError::MissingToken)
    }

    /// The caller as a person with a profile, for the routes that act for the caller themself (their profile, days,
    /// memberships, own score); 401 when anonymous. A `service_role` token without `sub` (Supabase's service key)
    /// names nobody: 403, rather than a made-up user `00000000-…` who could join boards and win prizes.
    pub fn require_person(&self) -> Result<&UserContext, ApiError> {
        let user = self.require_user()?;
        if user.names_nobody() {
            return Err(ApiError::Forbidden(NO_PERSON.to_owned()));
        }
        Ok(user)
    }

    /// The caller when they are an administrator (`service_role`); 401 when anonymous, 403 with `refusal` otherwise.
    pub fn require_admin(&self, refusal: &str) -> Result<&UserContext, ApiError> {
        let user = self.require_user()?;
        if user.is_admin() {
            Ok(user)
        } else {
            Err(ApiError::Forbidden(refusal.to_owned()))
        }
    }

    /// The caller and their token, or the 401 the route owes an anonymous request.
    pub fn require_token(&self) -> Result<(&UserContext, &str), ApiError> {
        match (&self.user, &self.token) {
            (Some(user), Some(token)) => Ok((user, token)),
            _ => Err(ApiError::MissingToken),
        }
    }

    /// Whom reads made for the caller run as: the caller's token (their row-level security applies), or the service
    /// key for the Worker's own work; 401 for an anonymous request.
    pub fn reader(&self) -> Result<crate::adapters::postgrest::Caller<'_>, ApiError> {
        match (&self.token, self.own_work) {
            (Some(token), _) => Ok(crate::adapters::postgrest::Caller::User(token)),
            (None, true) => Ok(crate::adapters::postgrest::Caller::Service),
            (None, false) => Err(ApiError::MissingToken),
        }
    }

    /// The database adapter, tracing its calls under this request and naming its caller to the audit trail.
    pub fn database(&self) -> crate::adapters::postgrest::Database {
        let actor = self.user.as_ref().filter(|user| !user.names_nobody()).map(|user| &user.user_id);
        self.services.database.traced(&self.traceparent).on_behalf_of(self.request_id, actor)
    }

    /// The Redis adapter, tracing its calls under this request.
    pub fn redis(&self) -> crate::adapters::upstash::Upstash {
        self.services.redis.traced(&self.traceparent)
    }

    /// The avatar bucket, under the isolate's storage breaker.
    pub fn avatars(&self) -> Result<crate::adapters::avatar_store::AvatarStore, crate::adapters::error::AdapterError> {
        self.services.avatar_store(self.env)
    }

    /// The Competition object of `competition_id`, its calls bounded by `OBJECT_TIMEOUT_MS`.
    pub fn competition(
        &self,
        competition_id: &uuid::Uuid,
    ) -> Result<crate::competition_client::CompetitionClient, ApiError> {
        let within_ms = self.services.config.object_timeout_ms;
        crate::competition_client::CompetitionClient::for_competition(self.env, competition_id, within_ms)
    }

    /// Relay `index` of `competition_id`, its calls bounded by `OBJECT_TIMEOUT_MS` as the competition's are.
    pub fn relay(
        &self,
        competition_id: &uuid::Uuid,
        index: u32,
    ) -> Result<crate::competition_client::CompetitionClient, ApiError> {
        let within_ms = self.services.config.object_timeout_ms;
        crate::competition_client::CompetitionClient::for_relay(self.env, competition_id, index, within_ms)
    }

    /// Reads and parses a JSON body under `limit` bytes, with the content-type and size rules of `API.md`.
    pub async fn read_json<T: DeserializeOwned>(
        &self,
        req: &mut crate::http::incoming::Incoming,
        limit: usize,
    ) -> Result<T, ApiError> {
        body::parse_json(&self.read_json_bytes(req, limit).await?, limit)
    }

    /// Reads a JSON body's bytes (content type and declared size checked; parse with `body::parse_json`).
    pub async fn read_json_bytes(
        &self,
        req: &mut crate::http::incoming::Incoming,
        limit: usize,
    ) -> Result<Vec<u8>, ApiError> {
        body::require_json_content_type(req.header("Content-Type").as_deref())?;
        read_body(req, limit).await
    }
}

/// Query pairs of the request URL.
pub fn query_pairs(req: &crate::http::incoming::Incoming) -> Result<Vec<(String, String)>, ApiError> {
    let url = req.url().map_err(|e| ApiError::BadRequest(format!("bad URL: {e}")))?;
    Ok(url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
}

/// The value of the query parameter `name` (the first, when repeated).
pub fn query_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

/// A page's `limit` parameter: `default` when absent, else an integer from 1 to `max` (the field's error otherwise).
pub fn limit_query(pairs: &[(String, String)], default: usize, max: usize) -> Result<usize, crate::error::FieldError> {
    match query_value(pairs, "limit").map(str::parse::<usize>) {
        None => Ok(default),
        Some(Ok(limit)) if (1..=max).contains(&limit) => Ok(limit),
        Some(_) => Err(crate::error::FieldError::new("limit", format!("must be an integer from 1 to {max}"))),
    }
}

/// Reads a request body into the isolate's memory, refusing it with 413 as soon as more than `limit` bytes arrived
/// (`held_body`: until it is whole, it stays in the runtime's memory).
pub async fn read_body(req: &crate::http::incoming::Incoming, limit: usize) -> Result<Vec<u8>, ApiError> {
    // A body framed by its length is read in one call (`held_body::read` would make two).
    body::check_declared_length(req.content_length(), limit)?;
    if let Some(declared) = body::declared_length(req.content_length(), req.transfer_encoded()) {
        if declared == 0 {
            return Ok(Vec::new());
        }
        let bytes = crate::subrequest::declared_body(req.raw())
            .await
            .map_err(|e| ApiError::BadRequest(format!("unreadable body: {e}")))?;
        if bytes.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        return Ok(bytes);
    }
    // A request without a body has no stream.
    let Some(stream) = req.raw().body() else { return Ok(Vec::new()) };
    Ok(crate::held_body::read_chunks(stream, limit).await?.to_vec())
}
