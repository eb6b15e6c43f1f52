//! Calls from the Worker to a Competition Durable Object (its id comes from the competition id by name).

use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;
use worker::{Env, Headers, Method, Request, RequestInit};

use durable_objects::protocol::{ObjectError, INTERNAL_ORIGIN};

use crate::error::ApiError;

/// Binding name of the Competition namespace in `wrangler.toml`.
pub const BINDING: &str = "COMPETITION";

/// A handle on one competition's object.
pub struct CompetitionClient {
    stub: worker::Stub,
}

fn unavailable(error: worker::Error) -> ApiError {
    ApiError::Internal(format!("competition object unreachable: {error}"))
}

impl CompetitionClient {
    /// The object of `competition_id`.
    pub fn for_competition(env: &Env, competition_id: &Uuid) -> Result<Self, ApiError> {
        let namespace = env.durable_object(BINDING).map_err(unavailable)?;
        let stub =
            namespace.id_from_name(&competition_id.to_string()).and_then(|id| id.get_stub()).map_err(unavailable)?;
        Ok(Self { stub })
    }

    /// Sends a prepared request and returns the object's response untouched (WebSocket upgrades).
    pub async fn forward(&self, request: Request) -> Result<worker::Response, ApiError> {
        self.stub.fetch_with_request(request).await.map_err(unavailable)
    }

    /// Sends a request and decodes the reply, mapping the object's errors onto API errors.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, ApiError> {
        let mut init = RequestInit::new();
        init.with_method(method);
        if let Some(body) = body {
            let json = serde_json::to_string(body).map_err(|e| ApiError::Internal(e.to_string()))?;
            let headers = Headers::new();
            headers.set("Content-Type", "application/json").map_err(unavailable)?;
            init.with_headers(headers).with_body(Some(json.into()));
        }
        let request = Request::new_with_init(&format!("{INTERNAL_ORIGIN}{path}"), &init).map_err(unavailable)?;
        let mut response = self.stub.fetch_with_request(request).await.map_err(unavailable)?;
        let status = response.status_code();
        let bytes = response.bytes().await.map_err(unavailable)?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&bytes).map_err(|e| ApiError::Internal(format!("bad object reply: {e}")));
        }
        let error: ObjectError = serde_json::from_slice(&bytes)
            .map_err(|_| ApiError::Internal(format!("competition object answered {status}")))?;
        Err(ApiError::from_upstream(status, &error.code, error.message))
    }
}
