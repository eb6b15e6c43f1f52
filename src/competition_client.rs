//! Calls from the Worker to a Competition Durable Object (its id comes from the competition id by name).

use serde::de::DeserializeOwned;
use standings::object_error::{ErrorCode, ObjectError};
use uuid::Uuid;
use worker::{web_sys, Env};

use standings::live::LIVE_FULL_RETRY_SECS;
use standings::requests::ObjectRequest;

use crate::error::ApiError;
use crate::subrequest::{self, Failure, RawStub};

/// Binding name of the Competition namespace in `wrangler.toml`.
pub const BINDING: &str = standings::relay::COMPETITION_BINDING;

/// A handle on one competition's object (or one of its relays).
///
/// Operations travel by RPC (`order`, one string each way) and carry no `traceparent`: the object makes no call on
/// the request's behalf (its outbox deliveries run on its own schedule), so there is no trace for it to join.
pub struct CompetitionClient {
    stub: RawStub,
    /// How long a call waits for the object's answer before it answers 503 itself (0: as long as it takes).
    within_ms: u32,
}

fn unavailable(error: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("competition object unreachable: {error}"))
}

/// Whether the runtime refused the call because the object is overloaded (its queue is full). The runtime marks such
/// errors with `overloaded: true`; the message is checked too in case the flag does not survive conversion.
fn is_overloaded(error: &Failure) -> bool {
    error.overloaded() || mentions_overload(&error.message())
}

/// The message test of [`is_overloaded`].
pub fn mentions_overload(message: &str) -> bool {
    message.to_ascii_lowercase().contains("overloaded")
}

/// Maps a failed call to the object: overload, an object that did not answer within the call's budget and a failure
/// the runtime calls retryable (the object restarting after a deploy, a lost connection) are a 503 with
/// `Retry-After`, for the app to try again (never retried here: that would deepen an overloaded object's queue, and a
/// write may have been applied); anything else (the object's own exception) is an internal error.
fn call_failed(error: Failure) -> ApiError {
    let (reason, dependency) = if is_overloaded(&error) {
        ("overloaded", Some("competition (overloaded)"))
    } else if error.timed_out() {
        ("no_answer", Some("competition (no answer in time)"))
    } else if error.retryable() {
        ("restarting", Some("competition (restarting)"))
    } else {
        ("error", None)
    };
    // Failures only: a call that succeeds costs the write path nothing here.
    crate::metrics::add(crate::metrics::Family::CompetitionCallFailuresTotal, &[("reason", reason)], 1.0);
    let Some(dependency) = dependency else {
        return unavailable(error);
    };
    ApiError::DependencyUnavailable {
        dependency: dependency.to_owned(),
        retry_after_secs: Some(1),
        cause: error.message(),
    }
}

impl CompetitionClient {
    /// The object of `competition_id`, whose every call waits at most `within_ms` for its answer (0: no limit).
    pub fn for_competition(env: &Env, competition_id: &Uuid, within_ms: u32) -> Result<Self, ApiError> {
        Self::for_object(env, BINDING, &competition_id.to_string(), within_ms)
    }

    /// Relay `index` of `competition_id` (it serves some of the competition's live sockets): it takes the same
    /// upgrade as the competition.
    pub fn for_relay(env: &Env, competition_id: &Uuid, index: u32, within_ms: u32) -> Result<Self, ApiError> {
        let name = standings::relay::relay_name(competition_id, index);
        Self::for_object(env, standings::relay::RELAY_BINDING, &name, within_ms)
    }

    fn for_object(env: &Env, binding: &str, name: &str, within_ms: u32) -> Result<Self, ApiError> {
        let stub = subrequest::stub(env, binding, name).map_err(unavailable)?;
        Ok(Self { stub, within_ms })
    }

    /// The same object with no time limit on its calls: the test routes' seeding of large boards may take minutes.
    #[cfg(feature = "test-routes")]
    pub fn unbounded(self) -> Self {
        Self { within_ms: 0, ..self }
    }

    /// Sends a WebSocket upgrade and returns the object's 101 untouched; a refusal becomes an API error.
    pub async fn upgrade(&self, request: web_sys::Request) -> Result<worker::Response, ApiError> {
        let response = self.stub.respond(&request, self.within_ms).await.map_err(call_failed)?;
        let status = response.status();
        if status == 101 {
            return Ok(response.into());
        }
        let answer = subrequest::whole(response).await.map_err(unavailable)?;
        Err(upgrade_refused(object_error(status, &answer.body)?))
    }

    /// Sends a request and decodes the reply, mapping the object's errors onto API errors.
    pub async fn call<T: DeserializeOwned>(&self, request: &ObjectRequest) -> Result<T, ApiError> {
        self.try_call(request).await?.map_err(ApiError::from_object)
    }

    /// Sends a request whose successful reply has no body.
    pub async fn call_empty(&self, request: &ObjectRequest) -> Result<(), ApiError> {
        let (status, bytes) = self.exchange(request).await?;
        if (200..300).contains(&status) {
            return Ok(());
        }
        let error = object_error(status, &bytes)?;
        Err(ApiError::from_object(error))
    }

    /// Sends a request and decodes the reply; an error the object answered comes back as its status and body, for
    /// callers that handle particular codes.
    pub async fn try_call<T: DeserializeOwned>(
        &self,
        request: &ObjectRequest,
    ) -> Result<Result<T, ObjectError>, ApiError> {
        let (status, bytes) = self.exchange(request).await?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&bytes)
                .map(Ok)
                .map_err(|e| ApiError::Internal(format!("bad object reply: {e}")));
        }
        Ok(Err(object_error(status, &bytes)?))
    }

    /// Sends a relay one of its operations (a relay client, from [`Self::for_relay`]) as a `fetch`, the way the
    /// competition object publishes to it; its reply has no body.
    #[cfg(feature = "test-routes")]
    pub async fn call_relay(&self, request: &standings::relay::RelayRequest) -> Result<(), ApiError> {
        let json = serde_json::to_string(request).map_err(|e| ApiError::Internal(e.to_string()))?;
        let answer = self.stub.post_json(request.name(), &json, self.within_ms).await.map_err(call_failed)?;
        let (status, bytes) = (answer.status, answer.body);
        if (200..300).contains(&status) {
            return Ok(());
        }
        Err(ApiError::from_object(object_error(status, &bytes)?))
    }

    async fn exchange(&self, request: &ObjectRequest) -> Result<(u16, Vec<u8>), ApiError> {
        let json = serde_json::to_string(request).map_err(|e| ApiError::Internal(e.to_string()))?;
        let answer = self.stub.send_order(request.name(), &json, self.within_ms).await.map_err(call_failed)?;
        Ok((answer.status, answer.body))
    }
}

/// The API error for an upgrade the object refused: a full live feed asks the client to come back later.
fn upgrade_refused(error: ObjectError) -> ApiError {
    if error.code == ErrorCode::LiveFull {
        return ApiError::DependencyUnavailable {
            dependency: "competition live feed (full)".to_owned(),
            retry_after_secs: Some(LIVE_FULL_RETRY_SECS),
            cause: error.message,
        };
    }
    ApiError::from_object(error)
}

fn object_error(status: u16, bytes: &[u8]) -> Result<ObjectError, ApiError> {
    serde_json::from_slice(bytes).map_err(|_| ApiError::Internal(format!("competition object answered {status}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overload_is_recognised_from_the_runtime_message() {
        assert!(mentions_overload("Durable Object is overloaded. Too many requests queued."));
        assert!(mentions_overload("Error: durable object OVERLOADED"));
        assert!(!mentions_overload("Network connection lost."));
    }

    #[test]
    fn a_full_live_feed_is_a_503_with_a_long_retry_after() {
        let refusal = |code| upgrade_refused(ObjectError { code, message: "m".into() });
        let full = refusal(ErrorCode::LiveFull);
        assert_eq!((full.status(), full.code()), (503, "dependency_unavailable"));
        assert_eq!(full.headers(), vec![("Retry-After", LIVE_FULL_RETRY_SECS.to_string())]);
        let other = refusal(ErrorCode::BadRequest);
        assert_eq!((other.status(), other.code()), (400, "bad_request"));
    }
}

/// What the runtime's failures become, and the time limit on a call, with JavaScript's own errors and promises (node).
#[cfg(all(test, target_arch = "wasm32"))]
mod wasm_tests {
    use super::*;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_test::wasm_bindgen_test;
    use worker::js_sys::{Error, Function, Object, Reflect};

    /// A JavaScript `Error` with the properties the runtime sets (`overloaded`, `retryable`, `remote`).
    fn runtime_error(message: &str, flags: &[&str]) -> Failure {
        let error = Error::new(message);
        for flag in flags {
            Reflect::set(&error, &(*flag).into(), &JsValue::TRUE).expect("flag");
        }
        Failure(error.into())
    }

    /// A stub whose `order` method runs `body` (JavaScript with the order as `order`).
    fn stub(body: &str) -> RawStub {
        let stub = Object::new();
        Reflect::set(&stub, &"order".into(), &Function::new_with_args("order", body)).expect("order");
        stub.unchecked_into()
    }

    #[wasm_bindgen_test]
    fn runtime_failures_are_503s_to_retry_and_the_objects_own_exceptions_500s() {
        let cases: [(&str, &[&str], u16, Option<&str>); 5] = [
            ("Durable Object is overloaded. Too many requests queued.", &["overloaded", "retryable"], 503, Some("1")),
            ("no answer within 10000 ms", &["timedOut"], 503, Some("1")),
            ("Durable Object reset because its code was updated.", &["retryable"], 503, Some("1")),
            ("Network connection lost.", &["retryable"], 503, Some("1")),
            ("unreachable executed", &["remote"], 500, None),
        ];
        for (message, flags, status, retry_after) in cases {
            let error = call_failed(runtime_error(message, flags));
            assert_eq!(error.status(), status, "{message}");
            let retry: Vec<(&str, String)> = retry_after.iter().map(|s| ("Retry-After", (*s).to_owned())).collect();
            assert_eq!(error.headers(), retry, "{message}");
        }
    }

    #[wasm_bindgen_test]
    async fn a_call_the_object_does_not_answer_fails_once_its_time_is_up() {
        let silent = stub("return new Promise(() => {});");
        let started = crate::platform::now_ms();
        let failure = silent.order("\"stats\"", 30).await.err().expect("no answer, so a failure");
        let waited = crate::platform::now_ms() - started;
        assert!(failure.timed_out(), "{}", failure.message());
        assert!((25..2_000).contains(&waited), "failed after {waited} ms");
        assert_eq!(call_failed(failure).status(), 503);
    }

    #[wasm_bindgen_test]
    async fn an_answer_within_the_time_limit_comes_through_and_no_limit_waits_as_long_as_it_takes() {
        let prompt = stub("return Promise.resolve('200' + order);");
        let answer = prompt.order("{\"a\":1}", 1_000).await.ok().expect("answered");
        assert_eq!((answer.status, answer.body.as_slice()), (200, br#"{"a":1}"#.as_slice()));
        let slow = stub("return new Promise((resolve) => setTimeout(() => resolve('204'), 40));");
        let answer = slow.order("{}", 0).await.ok().expect("answered late, with no limit");
        assert_eq!(answer.status, 204);
        let failing = stub("return Promise.reject(new Error('refused'));");
        let failure = failing.order("{}", 1_000).await.err().expect("refused");
        assert!(!failure.timed_out() && failure.message() == "refused", "{}", failure.message());
    }
}
