//! The HTTP side: authentication, the three endpoints, and the Redis connection (re-opened after a loss).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use redis::aio::MultiplexedConnection;
use redis::AsyncConnectionConfig;
use redis::{Cmd, Pipeline, RedisError, Value as Reply};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use super::encoding::{error_text, outcome, StringEncoding};

/// Shared state: the Redis client, the current connection (if any) and the REST token.
pub struct Gateway {
    client: redis::Client,
    connection: Mutex<Option<MultiplexedConnection>>,
    token: String,
    /// Commands received, by name, as Upstash bills them (each command of a pipeline counts; a script is one).
    billed: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
    /// The same commands by the prefix of their first key (`rl`, `metrics`, …), so a client can tell its uses apart.
    billed_by_prefix: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
    /// Test knob (`POST /__delay`): every reply waits this long after its commands ran, as a slow or distant Upstash
    /// would — the commands took effect, the client may give up before it hears so.
    reply_delay_ms: std::sync::atomic::AtomicU64,
}

impl Gateway {
    /// Connects lazily to `redis_url`; requests must carry `Authorization: Bearer {token}`.
    pub fn new(redis_url: &str, token: &str) -> Result<Self, RedisError> {
        Ok(Self {
            client: redis::Client::open(redis_url)?,
            connection: Mutex::new(None),
            token: token.to_owned(),
            billed: std::sync::Mutex::new(std::collections::BTreeMap::new()),
            billed_by_prefix: std::sync::Mutex::new(std::collections::BTreeMap::new()),
            reply_delay_ms: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Waits the test knob's reply delay, if one is set.
    async fn delay_reply(&self) {
        let ms = self.reply_delay_ms.load(std::sync::atomic::Ordering::Relaxed);
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }

    fn bill(&self, commands: &[&Value]) {
        let mut billed = self.billed.lock().unwrap_or_else(|e| e.into_inner());
        let mut by_prefix = self.billed_by_prefix.lock().unwrap_or_else(|e| e.into_inner());
        for command in commands {
            let name = command.get(0).and_then(Value::as_str).unwrap_or_default().to_ascii_uppercase();
            *billed.entry(name).or_insert(0) += 1;
            *by_prefix.entry(key_prefix(command)).or_insert(0) += 1;
        }
    }

    async fn connection(&self) -> Result<MultiplexedConnection, Failure> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        let connection = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| Failure::Unavailable(e.to_string()))?;
        *slot = Some(connection.clone());
        Ok(connection)
    }

    /// Sends a pipeline; a lost connection is forgotten so the next request reconnects.
    async fn send(&self, pipeline: &Pipeline) -> Result<Vec<Reply>, Failure> {
        let mut connection = self.connection().await?;
        match pipeline.query_async::<Vec<Reply>>(&mut connection).await {
            Ok(replies) => Ok(replies),
            Err(error) if error.is_io_error() || error.is_connection_dropped() || error.is_unrecoverable_error() => {
                *self.connection.lock().await = None;
                Err(Failure::Unavailable(error.to_string()))
            }
            Err(error) => Err(Failure::Command(match error.code() {
                Some(code) => error_text(code, error.detail()),
                None => error.to_string(),
            })),
        }
    }
}

/// Why a request failed before producing per-command outcomes.
#[derive(Debug)]
enum Failure {
    Unauthorized,
    BadRequest(String),
    Command(String),
    Unavailable(String),
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Failure::Unauthorized => (StatusCode::UNAUTHORIZED, "Unauthorized".to_owned()),
            Failure::BadRequest(message) | Failure::Command(message) => (StatusCode::BAD_REQUEST, message),
            Failure::Unavailable(message) => (StatusCode::SERVICE_UNAVAILABLE, format!("redis unavailable: {message}")),
        };
        (status, axum::Json(json!({ "error": message }))).into_response()
    }
}

/// The routes: `POST /`, `POST /pipeline`, `POST /multi-exec`.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/", post(single))
        .route("/pipeline", post(pipeline))
        .route("/multi-exec", post(multi_exec))
        .route("/__stats", axum::routing::get(stats))
        .route("/__delay", post(set_delay))
        .fallback(|| async {
            Failure::BadRequest("unsupported by the local Upstash gateway: only POST /, /pipeline, /multi-exec".into())
        })
        .with_state(gateway)
}

fn authorize(gateway: &Gateway, headers: &HeaderMap) -> Result<StringEncoding, Failure> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .ok_or(Failure::Unauthorized)?;
    // Constant-time comparison is not needed for a local-only stand-in; equality is the contract being emulated.
    if token.trim() != gateway.token {
        return Err(Failure::Unauthorized);
    }
    let base64 = headers.get("upstash-encoding").and_then(|v| v.to_str().ok()).is_some_and(|v| v == "base64");
    Ok(if base64 { StringEncoding::Base64 } else { StringEncoding::Plain })
}

/// The part before the first `:` of a command's first key (`rl` of `rl:default:user:…`): the argument after the name,
/// or for a script (`EVAL`/`EVALSHA` with its key count) the first of its keys; `-` when it names no key.
pub fn key_prefix(command: &Value) -> String {
    let word = |i: usize| command.get(i).and_then(|v| v.as_str().map(str::to_owned).or_else(|| Some(v.to_string())));
    let name = word(0).unwrap_or_default().to_ascii_uppercase();
    let key = if name.starts_with("EVAL") || name.starts_with("FCALL") {
        word(2).and_then(|n| n.parse::<u64>().ok()).filter(|n| *n > 0).and_then(|_| word(3))
    } else {
        word(1)
    };
    key.map_or_else(|| "-".to_owned(), |key| key.split(':').next().unwrap_or_default().to_owned())
}

/// One JSON command array (`["SET", "k", "v"]`) as a Redis command.
fn command(value: &Value) -> Result<Cmd, Failure> {
    let parts = value.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
        Failure::BadRequest("ERR a command is a non-empty JSON array of strings and numbers".to_owned())
    })?;
    let mut words = parts.iter().map(|part| match part {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(Failure::BadRequest(format!("ERR command arguments must be strings or numbers, got {part}"))),
    });
    let name = words.next().transpose()?.unwrap_or_default();
    let mut cmd = redis::cmd(&name);
    for word in words {
        cmd.arg(word?);
    }
    Ok(cmd)
}

fn commands(gateway: &Gateway, body: &[u8]) -> Result<Vec<Cmd>, Failure> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| Failure::BadRequest(format!("ERR invalid JSON: {e}")))?;
    let list = value
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| Failure::BadRequest("ERR the body must be a non-empty JSON array of commands".to_owned()))?;
    let commands = list.iter().map(command).collect::<Result<Vec<_>, _>>()?;
    gateway.bill(&list.iter().collect::<Vec<_>>());
    Ok(commands)
}

/// `GET /__stats` (local only, not an Upstash route): the commands received so far, by name — what an Upstash
/// database would bill — and by the prefix of their first key, so the load tool can report commands per request and
/// what they were for.
async fn stats(State(gateway): State<Arc<Gateway>>, headers: HeaderMap) -> Result<Response, Failure> {
    authorize(&gateway, &headers)?;
    let billed = gateway.billed.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let by_prefix = gateway.billed_by_prefix.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let total: u64 = billed.values().sum();
    Ok(axum::Json(json!({"commands": total, "by_command": billed, "by_key_prefix": by_prefix})).into_response())
}

/// `POST /__delay` with `{"ms": N}` (local only, not an Upstash route): delays every later reply by N ms after its
/// commands ran (0 turns it off), for the tests of a slow Redis.
async fn set_delay(State(gateway): State<Arc<Gateway>>, headers: HeaderMap, body: Bytes) -> Result<Response, Failure> {
    authorize(&gateway, &headers)?;
    let value: Value =
        serde_json::from_slice(&body).map_err(|e| Failure::BadRequest(format!("ERR invalid JSON: {e}")))?;
    let ms = value.get("ms").and_then(Value::as_u64).ok_or_else(|| Failure::BadRequest("ERR ms is required".into()))?;
    gateway.reply_delay_ms.store(ms, std::sync::atomic::Ordering::Relaxed);
    Ok(axum::Json(json!({"ms": ms})).into_response())
}

fn build(commands: Vec<Cmd>, atomic: bool) -> Pipeline {
    let mut pipeline = redis::pipe();
    if atomic {
        pipeline.atomic();
    }
    // Errors of single commands come back as values, so one failing command does not fail its neighbours.
    pipeline.ignore_errors();
    for cmd in commands {
        pipeline.add_command(cmd);
    }
    pipeline
}

async fn single(State(gateway): State<Arc<Gateway>>, headers: HeaderMap, body: Bytes) -> Result<Response, Failure> {
    let encoding = authorize(&gateway, &headers)?;
    let value: Value =
        serde_json::from_slice(&body).map_err(|e| Failure::BadRequest(format!("ERR invalid JSON: {e}")))?;
    let single = command(&value)?;
    gateway.bill(&[&value]);
    let replies = gateway.send(&build(vec![single], false)).await?;
    gateway.delay_reply().await;
    let reply = replies.first().ok_or_else(|| Failure::Unavailable("empty reply".to_owned()))?;
    let body = outcome(reply, encoding);
    let status = if body.get("error").is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Ok((status, axum::Json(body)).into_response())
}

async fn pipeline(State(gateway): State<Arc<Gateway>>, headers: HeaderMap, body: Bytes) -> Result<Response, Failure> {
    let encoding = authorize(&gateway, &headers)?;
    let replies = gateway.send(&build(commands(&gateway, &body)?, false)).await?;
    gateway.delay_reply().await;
    Ok(axum::Json(replies.iter().map(|r| outcome(r, encoding)).collect::<Vec<_>>()).into_response())
}

async fn multi_exec(State(gateway): State<Arc<Gateway>>, headers: HeaderMap, body: Bytes) -> Result<Response, Failure> {
    let encoding = authorize(&gateway, &headers)?;
    let replies = gateway.send(&build(commands(&gateway, &body)?, true)).await?;
    gateway.delay_reply().await;
    Ok(axum::Json(replies.iter().map(|r| outcome(r, encoding)).collect::<Vec<_>>()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_told_apart_by_their_first_keys_prefix() {
        let cases = [
            (json!(["EVALSHA", "abc123", "1", "rl:default:user:7", "0.1", "200", "1", "61"]), "rl"),
            (json!(["EVAL", "script", "2", "metrics:v1", "metrics:v1:flush:a-1", "600"]), "metrics"),
            (json!(["GET", "comp:7"]), "comp"),
            (json!(["SET", "idem:7:k", "{}", "EX", 86400]), "idem"),
            (json!(["get", "health:v1"]), "health"),
            (json!(["EVAL", "return 1", "0"]), "-"),
            (json!(["PING"]), "-"),
            (json!(["INCR", "plain"]), "plain"),
        ];
        for (command, prefix) in cases {
            assert_eq!(key_prefix(&command), prefix, "{command}");
        }
    }
}
