//! Every Redis operation of the product, by name: the caches, idempotency records, the rate limiter's shared
//! buckets, metric totals and the health check. Each is one command or one Lua script call on the Upstash REST
//! client, so every command and script the product sends is here (Upstash bills per command); callers never build
//! a raw command. Parsing the replies is plain Rust, tested below.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde_json::Value;

use super::upstash::Upstash;
use super::{AdapterError, Dependency};

/// The token bucket: `KEYS[1]` the bucket; `ARGV` rate per ms, burst, tokens wanted, idle TTL in seconds.
/// Returns `{granted, remaining}` (remaining as a string: Lua numbers become integers on the way out).
pub const TAKE_TOKENS: &str = "local t = redis.call('TIME') \
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) \
local rate, burst, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]) \
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts') \
local tokens, ts = tonumber(b[1]) or burst, tonumber(b[2]) or now \
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate); ts = now end \
local granted = math.min(want, math.floor(tokens)) \
if granted < 0 then granted = 0 end \
tokens = tokens - granted \
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts)) \
redis.call('EXPIRE', KEYS[1], ARGV[4]) \
return {granted, tostring(tokens)}";

/// Adds every pair of `ARGV[2..]` (field, increment) to the hash `KEYS[1]` unless the batch id `KEYS[2]` was applied
/// already (`ARGV[1]`: how long to remember it). One script call per batch, which Upstash bills as one command.
/// Returns the number of series added, or -1 for a batch applied before.
pub const ADD_ONCE: &str = "if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return -1 end \
for i = 2, #ARGV, 2 do redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1]) end \
return (#ARGV - 1) / 2";

/// Keeps `ARGV[1]` in `KEYS[1]` for `ARGV[2]` seconds unless the fence `KEYS[2]` moved from `ARGV[3]`, the value it
/// had when the caller's read began (`''` for none): a copy read before a change must not land after the change
/// dropped the old one. Returns 1 when kept, 0 when fenced off.
pub const KEEP_UNLESS_FENCED: &str = "if (redis.call('GET', KEYS[2]) or '') ~= ARGV[3] then return 0 end \
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) \
return 1";

/// Drops the copy `KEYS[1]` and moves its fence `KEYS[2]` (kept `ARGV[1]` seconds), so no copy read before now is
/// kept after it ([`KEEP_UNLESS_FENCED`]).
pub const DROP_AND_FENCE: &str = "redis.call('INCR', KEYS[2]) \
redis.call('EXPIRE', KEYS[2], ARGV[1]) \
return redis.call('DEL', KEYS[1])";

thread_local! {
    // The bucket script's SHA once loaded (per isolate; a Redis restart forgets it, see `take_tokens`).
    static BUCKET_SHA: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A rate-limit bucket's shape for [`Upstash::take_tokens`].
#[derive(Debug, Clone, Copy)]
pub struct BucketShape {
    /// Tokens added per millisecond.
    pub rate_per_ms: f64,
    /// Tokens held at most.
    pub burst: u32,
    /// Seconds an idle bucket is kept.
    pub ttl_secs: u64,
}

impl Upstash {
    /// `PING`: whether Redis answers.
    pub async fn ping(&self) -> Result<(), AdapterError> {
        self.command(&["PING"]).await.map(drop)
    }

    /// A cached text (`GET`); `None` when absent.
    pub async fn cached(&self, key: &str) -> Result<Option<String>, AdapterError> {
        Ok(text_of(self.command(&["GET", key]).await?))
    }

    /// Keeps a text for `ttl_secs` (`SET … EX`).
    pub async fn keep(&self, key: &str, text: &str, ttl_secs: u64) -> Result<(), AdapterError> {
        self.command(&["SET", key, text, "EX", &ttl_secs.to_string()]).await.map(drop)
    }

    /// A cached text within a tighter budget than the adapter's (the shared health report).
    pub async fn cached_within(&self, key: &str, budget_ms: u64) -> Result<Option<String>, AdapterError> {
        Ok(text_of(self.command_within(budget_ms, &["GET", key]).await?))
    }

    /// Keeps a text for `ttl_ms` milliseconds unless one is kept already (`SET … NX PX`), within a tighter budget than
    /// the adapter's: whether this call stored it.
    pub async fn keep_first_briefly(
        &self,
        key: &str,
        text: &str,
        ttl_ms: u64,
        budget_ms: u64,
    ) -> Result<bool, AdapterError> {
        let reply = self.command_within(budget_ms, &["SET", key, text, "NX", "PX", &ttl_ms.to_string()]).await?;
        Ok(reply.as_str() == Some("OK"))
    }

    /// Claims `key` with `text` for `ttl_secs` unless someone holds it (`SET … NX EX`): whether this call claimed it.
    pub async fn claim(&self, key: &str, text: &str, ttl_secs: u64) -> Result<bool, AdapterError> {
        let reply = self.command(&["SET", key, text, "NX", "EX", &ttl_secs.to_string()]).await?;
        Ok(reply.as_str() == Some("OK"))
    }

    /// A cached text and its fence's value (`MGET`; `""` when there is no fence), for [`Upstash::keep_fenced`].
    pub async fn cached_fenced(&self, key: &str, fence: &str) -> Result<(Option<String>, String), AdapterError> {
        fenced_reply(self.command(&["MGET", key, fence]).await?)
    }

    /// Keeps a text for `ttl_secs` unless `fence` moved from `seen` since the caller read it
    /// ([`KEEP_UNLESS_FENCED`]): whether it was kept.
    pub async fn keep_fenced(
        &self,
        key: &str,
        fence: &str,
        seen: &str,
        text: &str,
        ttl_secs: u64,
    ) -> Result<bool, AdapterError> {
        let ttl = ttl_secs.to_string();
        let reply = self.command(&["EVAL", KEEP_UNLESS_FENCED, "2", key, fence, text, &ttl, seen]).await?;
        Ok(reply.as_i64() == Some(1))
    }

    /// Drops a cached text and moves its fence, kept `fence_ttl_secs` ([`DROP_AND_FENCE`]), so a copy read before
    /// the drop is not kept after it.
    pub async fn drop_fenced(&self, key: &str, fence: &str, fence_ttl_secs: u64) -> Result<(), AdapterError> {
        self.command(&["EVAL", DROP_AND_FENCE, "2", key, fence, &fence_ttl_secs.to_string()]).await.map(drop)
    }

    /// Drops a key (`DEL`).
    pub async fn drop_key(&self, key: &str) -> Result<(), AdapterError> {
        self.command(&["DEL", key]).await.map(drop)
    }

    /// Takes up to `want` tokens from the shared bucket `key` within `budget_ms`: the tokens granted and those
    /// left. `EVALSHA` with the script's SHA (loaded once per isolate), `EVAL` after a `NOSCRIPT` (a Redis restart
    /// forgets loaded scripts).
    pub async fn take_tokens(
        &self,
        key: &str,
        shape: BucketShape,
        want: u32,
        budget_ms: u64,
    ) -> Result<(u32, f64), AdapterError> {
        let (rate, burst, want, ttl) =
            (shape.rate_per_ms.to_string(), shape.burst.to_string(), want.to_string(), shape.ttl_secs.to_string());
        let sha = match BUCKET_SHA.with(|s| s.borrow().clone()) {
            Some(sha) => sha,
            None => {
                let loaded = self.command_within(budget_ms * 4, &["SCRIPT", "LOAD", TAKE_TOKENS]).await?;
                let sha = loaded.as_str().unwrap_or_default().to_owned();
                BUCKET_SHA.with(|s| *s.borrow_mut() = Some(sha.clone()));
                sha
            }
        };
        let args = [key, &rate, &burst, &want, &ttl];
        let reply = match self.command_within(budget_ms, &[&["EVALSHA", &sha, "1"][..], &args].concat()).await {
            Err(error) if error.upstream_code() == Some("NOSCRIPT") => {
                BUCKET_SHA.with(|s| *s.borrow_mut() = None);
                self.command_within(budget_ms, &[&["EVAL", TAKE_TOKENS, "1"][..], &args].concat()).await?
            }
            other => other?,
        };
        bucket_reply(&reply)
    }

    /// Adds `deltas` to the totals in `hash` once, whatever retries follow: the batch `id` is remembered for
    /// `id_ttl_secs` and a batch seen before adds nothing.
    pub async fn add_once(
        &self,
        hash: &str,
        id: &str,
        id_ttl_secs: u64,
        deltas: &BTreeMap<String, f64>,
    ) -> Result<(), AdapterError> {
        let command = add_once_command(hash, id, id_ttl_secs, deltas);
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        self.command(&args).await.map(drop)
    }

    /// Every total in `hash` (`HGETALL`), numbers only.
    pub async fn totals(&self, hash: &str) -> Result<BTreeMap<String, f64>, AdapterError> {
        Ok(totals_of(&self.command(&["HGETALL", hash]).await?))
    }
}

/// A string reply as text; anything else (nil) is absence.
fn text_of(reply: Value) -> Option<String> {
    match reply {
        Value::String(text) => Some(text),
        _ => None,
    }
}

/// The text and fence of an `MGET key fence` reply.
fn fenced_reply(reply: Value) -> Result<(Option<String>, String), AdapterError> {
    let mut parts = match reply {
        Value::Array(parts) if parts.len() == 2 => parts,
        other => {
            return Err(AdapterError::Decode(Dependency::Redis, format!("MGET of a key and its fence replied {other}")))
        }
    };
    let fence = match parts.pop() {
        Some(Value::String(text)) => text,
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    Ok((parts.pop().and_then(text_of), fence))
}

/// `{granted, "remaining"}` from [`TAKE_TOKENS`].
pub fn bucket_reply(reply: &Value) -> Result<(u32, f64), AdapterError> {
    let bad = || AdapterError::Decode(Dependency::Redis, format!("bucket script replied {reply}"));
    let parts = reply.as_array().ok_or_else(bad)?;
    let granted = parts.first().and_then(Value::as_u64).ok_or_else(bad)? as u32;
    let remaining = match parts.get(1) {
        Some(Value::String(text)) => text.parse::<f64>().map_err(|_| bad())?,
        Some(Value::Number(n)) => n.as_f64().ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    Ok((granted, remaining))
}

/// The [`ADD_ONCE`] call for a batch.
fn add_once_command(hash: &str, id: &str, id_ttl_secs: u64, deltas: &BTreeMap<String, f64>) -> Vec<String> {
    let mut command = vec![
        "EVAL".to_owned(),
        ADD_ONCE.to_owned(),
        "2".to_owned(),
        hash.to_owned(),
        format!("{hash}:flush:{id}"),
        id_ttl_secs.to_string(),
    ];
    for (series, value) in deltas {
        command.push(series.clone());
        command.push(value.to_string());
    }
    command
}

/// Field/value pairs of an `HGETALL` reply whose values are numbers.
pub fn totals_of(reply: &Value) -> BTreeMap<String, f64> {
    let Some(items) = reply.as_array() else { return BTreeMap::new() };
    items
        .chunks(2)
        .filter_map(|pair| {
            let field = pair.first()?.as_str()?.to_owned();
            let value = match pair.get(1)? {
                Value::String(text) => text.parse().ok()?,
                Value::Number(n) => n.as_f64()?,
                _ => return None,
            };
            Some((field, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn replies_parse_into_what_the_operations_return() {
        assert_eq!(text_of(json!("x")), Some("x".to_owned()));
        assert_eq!(text_of(Value::Null), None);
        assert_eq!(bucket_reply(&json!([3, "12.5"])).expect("ok"), (3, 12.5));
        assert_eq!(bucket_reply(&json!([0, "0"])).expect("ok"), (0, 0.0));
        assert!(bucket_reply(&json!("OK")).is_err());
        assert!(bucket_reply(&json!([1, "x"])).is_err());
        let totals = totals_of(&json!(["a_total", "3", "b_sum", "0.25", "odd"]));
        assert_eq!(totals, BTreeMap::from([("a_total".to_owned(), 3.0), ("b_sum".to_owned(), 0.25)]));
        assert_eq!(fenced_reply(json!(["row", "7"])).expect("ok"), (Some("row".to_owned()), "7".to_owned()));
        assert_eq!(fenced_reply(json!([null, null])).expect("ok"), (None, String::new()));
        assert_eq!(fenced_reply(json!([null, 3])).expect("ok"), (None, "3".to_owned()));
        assert!(fenced_reply(json!(["row"])).is_err());
        assert!(fenced_reply(json!("OK")).is_err());
    }

    #[test]
    fn a_metrics_batch_is_one_script_call_with_its_id_and_every_delta() {
        let deltas = BTreeMap::from([("a_total".to_owned(), 3.0), ("b_sum".to_owned(), 0.25)]);
        let command = add_once_command("metrics:v1", "x-1", 600, &deltas);
        assert_eq!(command[..3], ["EVAL", ADD_ONCE, "2"]);
        assert_eq!(command[3..6], ["metrics:v1", "metrics:v1:flush:x-1", "600"]);
        assert_eq!(&command[6..], ["a_total", "3", "b_sum", "0.25"]);
    }
}
