//! The identity provider's signing keys: one GET of the JWKS document under the `jwks` circuit breaker and a time
//! budget. While the provider is down, an open breaker answers at once instead of every token verification waiting
//! out the budget (callers fall back to the expired cached set when they hold one; `auth::key_source`).

use super::error::{AdapterError, Dependency};
use super::guard::Breakers;
use crate::subrequest;

const DEP: Dependency = Dependency::Jwks;

/// GETs the JWKS document at `url` (`SUPABASE_JWKS_URL`): its body and its `Cache-Control` header.
pub async fn fetch(
    breakers: &Breakers,
    url: &str,
    traceparent: &str,
    budget_ms: u64,
) -> Result<(String, Option<String>), AdapterError> {
    breakers
        .guarded(DEP, budget_ms, async {
            let unreachable = |e: &dyn std::fmt::Display| AdapterError::Unreachable(DEP, e.to_string());
            let headers = worker::Headers::new();
            headers.set("traceparent", traceparent).map_err(|e| unreachable(&e))?;
            let request = subrequest::request("GET", url, &headers, None).map_err(|e| unreachable(&e))?;
            let response = subrequest::respond(&request).await.map_err(|e| unreachable(&e))?;
            let cache_control = response.headers().get("Cache-Control").ok().flatten();
            let answer = subrequest::whole(response).await.map_err(|e| unreachable(&e))?;
            let status = answer.status;
            if status != 200 {
                return Err(AdapterError::Upstream {
                    dependency: DEP,
                    status,
                    code: status.to_string(),
                    message: "the key set was not served".into(),
                });
            }
            let body = String::from_utf8(answer.body).map_err(|e| AdapterError::Decode(DEP, e.to_string()))?;
            Ok((body, cache_control))
        })
        .await
}
