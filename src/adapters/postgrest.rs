//! The database API adapter: the card's `postgrest` crate (it works inside workerd, `docs/TOOLCHAIN.md`) with
//! the caller's JWT forwarded so row-level security applies, or the service key where a route acts on its own
//! authority. Every call runs under the PostgREST breaker and a time budget.

use std::rc::Rc;

use postgrest::{Builder, Postgrest};
use serde::de::DeserializeOwned;
use serde_json::json;
use uuid::Uuid;

use super::error::{AdapterError, Dependency};
use super::guard::Breakers;
use super::rows::{
    CompetitionRow, DeletedAccount, FitnessDayArg, HoldDecision, HoldRow, MembershipRow, MyCompetitionRow,
    NewCompetitionRow, ProfileRow, ScoreEntryArg, SyncedDays,
};

const DEP: Dependency = Dependency::Postgrest;

/// Who a call runs as.
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    /// An end user: their access token, so Postgres applies their row-level security.
    User(&'a str),
    /// The Worker itself, with the service-role key (bypasses RLS; only where a route needs it).
    Service,
}

/// The PostgREST client of one isolate (or of one request, with its trace context; see [`Database::traced`]).
#[derive(Clone)]
pub struct Database {
    /// Users' and anonymous requests: the public (anon or publishable) key as `apikey`.
    client: Postgrest,
    /// The Worker's own requests: the service key as `apikey`.
    service_client: Postgrest,
    /// `Some(jwt)` for a legacy `service_role` JWT, also sent as the bearer token; `None` for an `sb_secret_…` key,
    /// which is not a JWT and goes in `apikey` only.
    service_bearer: Option<String>,
    budget_ms: u64,
    breakers: Rc<Breakers>,
}

/// Whether `key` is one of Supabase's newer API keys (`sb_secret_…`, `sb_publishable_…`) rather than a JWT.
pub fn is_api_key_style(key: &str) -> bool {
    key.starts_with("sb_")
}

/// PostgREST's error body.
#[derive(Debug, serde::Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Turns a status and body into the decoded value or an upstream error.
pub fn decode<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, AdapterError> {
    serde_json::from_str(success_body(status, body)?).map_err(|e| AdapterError::Decode(DEP, e.to_string()))
}

/// The body of a 2xx reply (`null` for an empty one); any other status as the error PostgREST described. Not
/// generic, so the error path is not copied into every row type's decoder.
fn success_body(status: u16, body: &str) -> Result<&str, AdapterError> {
    if (200..300).contains(&status) {
        return Ok(if body.trim().is_empty() { "null" } else { body });
    }
    let parsed: Option<ErrorBody> = serde_json::from_str(body).ok();
    Err(AdapterError::Upstream {
        dependency: DEP,
        status,
        code: parsed.as_ref().and_then(|e| e.code.clone()).unwrap_or_default(),
        message: parsed.and_then(|e| e.message).unwrap_or_else(|| format!("HTTP {status}")),
    })
}

/// Sends a built request and reads the reply whole. In the Worker through the runtime's `fetch`
/// (`crate::subrequest`), not reqwest's wasm client: that one converts every reply header through
/// `JSON.stringify`, `serde_json` and `http`'s header parser, parses the reply's URL and sets up an `AbortController`
/// per call, all unused here (the guard's budget bounds the call) — code in the bundle and time on every query.
#[cfg(target_arch = "wasm32")]
async fn send(builder: Builder) -> Result<(u16, String), AdapterError> {
    use worker::js_sys::Uint8Array;
    use worker::Headers;
    let unreachable = |e: &dyn std::fmt::Display| AdapterError::Unreachable(DEP, e.to_string());
    let built = builder.build().build().map_err(|e| unreachable(&e))?;
    let headers = Headers::new();
    for (name, value) in built.headers() {
        let value = value.to_str().map_err(|e| unreachable(&e))?;
        headers.append(name.as_str(), value).map_err(|e| unreachable(&e))?;
    }
    // The builder gives every request a body, empty for reads; `fetch` refuses a GET with one.
    let body = built.body().and_then(|body| body.as_bytes()).filter(|body| !body.is_empty());
    let body = body.map(|bytes| worker::wasm_bindgen::JsValue::from(Uint8Array::from(bytes)));
    let request = crate::subrequest::request(built.method().as_str(), built.url().as_str(), &headers, body.as_ref())
        .map_err(|e| unreachable(&e))?;
    let answer = crate::subrequest::send(&request).await.map_err(|e| unreachable(&e))?;
    let body = String::from_utf8(answer.body).map_err(|e| AdapterError::Decode(DEP, e.to_string()))?;
    Ok((answer.status, body))
}

/// Sends a built request with reqwest's own client (host builds: the adapter's conformance test against the local
/// PostgREST gateway).
#[cfg(not(target_arch = "wasm32"))]
async fn send(builder: Builder) -> Result<(u16, String), AdapterError> {
    let response = builder.execute().await.map_err(|e| AdapterError::Unreachable(DEP, e.to_string()))?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(|e| AdapterError::Unreachable(DEP, e.to_string()))?;
    Ok((status, body))
}

impl Database {
    /// A client for `{supabase_url}/rest/v1`. `anon_key` (a legacy anon JWT or an `sb_publishable_…` key) goes as
    /// `apikey` with users' requests, as Supabase's gateway requires; `service_key` (a legacy `service_role` JWT or an
    /// `sb_secret_…` key) as `apikey` with the Worker's own, and as the bearer token too when it is a JWT.
    pub fn new(supabase_url: &str, anon_key: &str, service_key: &str, budget_ms: u64, breakers: Rc<Breakers>) -> Self {
        let base = format!("{}/rest/v1", supabase_url.trim_end_matches('/'));
        Self {
            client: Postgrest::new(base.clone()).insert_header("apikey", anon_key),
            service_client: Postgrest::new(base).insert_header("apikey", service_key),
            service_bearer: (!is_api_key_style(service_key)).then(|| service_key.to_owned()),
            budget_ms,
            breakers,
        }
    }

    /// This client with `traceparent` on every request it sends (a cheap clone of the isolate's client).
    pub fn traced(&self, traceparent: &str) -> Self {
        Self {
            client: self.client.clone().insert_header("traceparent", traceparent),
            service_client: self.service_client.clone().insert_header("traceparent", traceparent),
            ..self.clone()
        }
    }

    fn client_of(&self, caller: Caller<'_>) -> &Postgrest {
        match caller {
            Caller::User(_) => &self.client,
            Caller::Service => &self.service_client,
        }
    }

    fn as_caller(&self, builder: Builder, caller: Caller<'_>) -> Builder {
        match (caller, &self.service_bearer) {
            (Caller::User(token), _) => builder.auth(token),
            (Caller::Service, Some(jwt)) => builder.auth(jwt),
            (Caller::Service, None) => builder,
        }
    }

    fn table(&self, table: &str, caller: Caller<'_>) -> Builder {
        self.as_caller(self.client_of(caller).from(table), caller)
    }

    fn rpc(&self, function: &str, args: serde_json::Value, caller: Caller<'_>) -> Builder {
        self.as_caller(self.client_of(caller).rpc(function, args.to_string()), caller)
    }

    /// Sends a request under the breaker and budget, decodes the reply, and times it as `operation` (whatever the
    /// outcome, so slow failures show too; calls an open breaker refuses are not queries and are not timed).
    async fn run<T: DeserializeOwned>(&self, operation: &str, builder: Builder) -> Result<T, AdapterError> {
        // Only the decoding is generic: the guarded, timed and measured exchange is one function for every row type
        // (a copy of it per type was 3–6 KB of the bundle each).
        let mut decoded = None;
        self.exchange(operation, builder, &mut |status, body| {
            decoded = Some(decode::<T>(status, body)?);
            Ok(())
        })
        .await?;
        decoded.ok_or_else(|| AdapterError::Decode(DEP, "no reply".to_owned()))
    }

    /// Runs `builder` under the database's breaker and budget, hands the reply to `decode` inside them (so a reply
    /// that does not decode counts against the breaker) and records the query's duration.
    async fn exchange(
        &self,
        operation: &str,
        builder: Builder,
        decode: &mut dyn FnMut(u16, &str) -> Result<(), AdapterError>,
    ) -> Result<(), AdapterError> {
        let started = super::guard::clock_ms();
        let outcome = self
            .breakers
            .guarded(DEP, self.budget_ms, async move {
                let (status, body) = send(builder).await?;
                decode(status, &body)
            })
            .await;
        if !matches!(outcome, Err(AdapterError::CircuitOpen(_))) {
            let seconds = super::guard::clock_ms().saturating_sub(started) as f64 / 1000.0;
            let buckets = crate::metrics::series::DURATION_BUCKETS;
            crate::metrics::observe(
                crate::metrics::Family::DbQueryDurationSeconds,
                &[("operation", operation)],
                seconds,
                buckets,
            );
        }
        outcome
    }

    /// A cheap request as the anonymous role (health checks): one column of at most one row.
    pub async fn ping(&self) -> Result<(), AdapterError> {
        let rows: Vec<serde_json::Value> =
            self.run("ping", self.client.from("competitions").select("id").limit(1)).await?;
        drop(rows);
        Ok(())
    }

    /// The user's profile, created with the contract's default name on first use. Users cannot write profiles
    /// themselves (beyond their display name), so the Worker does it with the service key for the verified user.
    pub async fn ensure_profile(&self, user_id: &Uuid) -> Result<ProfileRow, AdapterError> {
        self.run("ensure_profile", self.rpc("ensure_profile", json!({ "p_user": user_id }), Caller::Service)).await
    }

    /// Sets the user's display name and/or avatar URL (service key: the route has checked both); `None` when the
    /// profile does not exist.
    pub async fn update_profile(
        &self,
        user_id: &Uuid,
        changes: &serde_json::Value,
    ) -> Result<Option<ProfileRow>, AdapterError> {
        let builder = self
            .table("profiles", Caller::Service)
            .eq("user_id", user_id.to_string())
            .select("user_id,display_name,avatar_url,time_zone")
            .update(changes.to_string());
        let rows: Vec<ProfileRow> = self.run("update_profile", builder).await?;
        Ok(rows.into_iter().next())
    }

    /// Inserts a competition (service role only; RLS refuses users).
    pub async fn create_competition(&self, row: &NewCompetitionRow) -> Result<CompetitionRow, AdapterError> {
        let body = serde_json::to_string(row).map_err(|e| AdapterError::Decode(DEP, e.to_string()))?;
        let builder = self.table("competitions", Caller::Service).insert(body).single();
        self.run("create_competition", builder).await
    }

    /// Applies `changes` to a competition's row (service role: administrators' edits); the row after, or `None`.
    pub async fn update_competition(
        &self,
        id: &Uuid,
        changes: &serde_json::Value,
    ) -> Result<Option<CompetitionRow>, AdapterError> {
        let builder = self
            .table("competitions", Caller::Service)
            .eq("id", id.to_string())
            .select("*")
            .update(changes.to_string());
        let rows: Vec<CompetitionRow> = self.run("update_competition", builder).await?;
        Ok(rows.into_iter().next())
    }

    /// Competitions not cancelled whose standings are not final at `now_rfc3339` (upcoming, active or finalizing), by
    /// start time, at most `limit`.
    pub async fn list_competitions(
        &self,
        caller: Caller<'_>,
        now_rfc3339: &str,
        limit: usize,
    ) -> Result<Vec<CompetitionRow>, AdapterError> {
        let builder = self
            .table("competition_summaries", caller)
            .select("*")
            .gt("final_at", now_rfc3339)
            .is("cancelled_at", "null")
            .order("starts_at.asc,id.asc")
            .limit(limit);
        self.run("list_competitions", builder).await
    }

    /// One competition, or `None`.
    pub async fn competition(&self, caller: Caller<'_>, id: &Uuid) -> Result<Option<CompetitionRow>, AdapterError> {
        let builder = self.table("competition_summaries", caller).select("*").eq("id", id.to_string());
        let rows: Vec<CompetitionRow> = self.run("competition", builder).await?;
        Ok(rows.into_iter().next())
    }

    /// Joins a verified user (idempotent; the database sets `joined_at`); PostgREST answers 404 for an unknown and
    /// 409 for a finished competition.
    pub async fn join_competition(&self, user_id: &Uuid, id: &Uuid) -> Result<MembershipRow, AdapterError> {
        let args = json!({ "competition": id, "p_user": user_id });
        self.run("join_competition", self.rpc("join_competition", args, Caller::Service)).await
    }

    /// Marks a member disqualified (idempotent: the first time and reason stay); PostgREST answers 404 for a user
    /// who is not a member.
    pub async fn disqualify_member(
        &self,
        competition_id: &Uuid,
        user_id: &Uuid,
        reason: &str,
    ) -> Result<MembershipRow, AdapterError> {
        let args = json!({ "competition": competition_id, "p_user": user_id, "p_reason": reason });
        self.run("disqualify_member", self.rpc("disqualify_member", args, Caller::Service)).await
    }

    /// Every competition `user_id` joined, newest join first (at most 100), with final standings where delivered.
    pub async fn my_competitions(&self, user_id: &Uuid) -> Result<Vec<MyCompetitionRow>, AdapterError> {
        let args = json!({ "p_user": user_id, "p_limit": 100 });
        self.run("my_competitions", self.rpc("my_competitions", args, Caller::Service)).await
    }

    /// Every competition `user_id` is a member of (the Worker's own read: no limit of the "my competitions" page).
    pub async fn competitions_of(&self, user_id: &Uuid) -> Result<Vec<Uuid>, AdapterError> {
        #[derive(serde::Deserialize)]
        struct Row {
            competition_id: Uuid,
        }
        let builder =
            self.table("memberships", Caller::Service).select("competition_id").eq("user_id", user_id.to_string());
        let rows: Vec<Row> = self.run("competitions_of", builder).await?;
        Ok(rows.into_iter().map(|row| row.competition_id).collect())
    }

    /// Whether `user_id` joined `competition_id`.
    pub async fn is_member(
        &self,
        caller: Caller<'_>,
        competition_id: &Uuid,
        user_id: &Uuid,
    ) -> Result<bool, AdapterError> {
        let builder = self
            .table("memberships", caller)
            .select("user_id")
            .eq("competition_id", competition_id.to_string())
            .eq("user_id", user_id.to_string());
        let rows: Vec<serde_json::Value> = self.run("is_member", builder).await?;
        Ok(!rows.is_empty())
    }

    /// Stores a verified user's samples from one source (setting their zone first when `time_zone` is given) and
    /// returns what rescoring their competitions needs, with the samples dated after their local today (users
    /// cannot call the function themselves).
    pub async fn sync_fitness_days(
        &self,
        user_id: &Uuid,
        source: &str,
        days: &[FitnessDayArg],
        time_zone: Option<&str>,
    ) -> Result<SyncedDays, AdapterError> {
        let args = json!({ "p_user": user_id, "p_source": source, "p_days": days, "p_time_zone": time_zone });
        self.run("sync_fitness_days", self.rpc("sync_fitness_days", args, Caller::Service)).await
    }

    /// Held samples whose day has `status` (every status when `None`), by date then user, at most 500.
    pub async fn list_holds(&self, status: Option<&str>) -> Result<Vec<HoldRow>, AdapterError> {
        let args = json!({ "p_status": status, "p_limit": 500 });
        self.run("list_holds", self.rpc("list_holds", args, Caller::Service)).await
    }

    /// Records a review decision (`approved` or `rejected`) on a user's held day; PostgREST answers 404 when the day
    /// has no hold.
    pub async fn decide_hold(&self, user_id: &Uuid, day: &str, decision: &str) -> Result<HoldDecision, AdapterError> {
        let args = json!({ "p_user": user_id, "p_day": day, "p_decision": decision });
        self.run("decide_hold", self.rpc("decide_hold", args, Caller::Service)).await
    }

    /// Deletes a verified user's account in one transaction (auth user, profile and everything that cascades from
    /// them); returns the competitions they were in and their avatar URL when nobody else shows the same image.
    pub async fn delete_account(&self, user_id: &Uuid) -> Result<DeletedAccount, AdapterError> {
        self.run("delete_account", self.rpc("delete_account", json!({ "p_user": user_id }), Caller::Service)).await
    }

    /// Records a finished competition's final results idempotently (by rank); returns how many were new.
    pub async fn record_final_results(
        &self,
        competition_id: &Uuid,
        results: &[standings::protocol::FinalResult],
    ) -> Result<i64, AdapterError> {
        let args = json!({ "competition": competition_id, "results": results });
        self.run("record_final_results", self.rpc("record_final_results", args, Caller::Service)).await
    }

    /// Applies Competition DO outbox rows idempotently (by `seq`); returns how many changed.
    pub async fn apply_score_outbox(&self, entries: &[ScoreEntryArg]) -> Result<i64, AdapterError> {
        self.run("apply_score_outbox", self.rpc("apply_score_outbox", json!({ "entries": entries }), Caller::Service))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_decode_or_become_upstream_errors() {
        assert_eq!(decode::<i64>(200, "3"), Ok(3));
        assert_eq!(decode::<Option<i64>>(204, ""), Ok(None));
        let error = decode::<i64>(409, r#"{"code":"PT409","message":"competition has finished","details":null}"#);
        assert_eq!(
            error,
            Err(AdapterError::Upstream {
                dependency: DEP,
                status: 409,
                code: "PT409".into(),
                message: "competition has finished".into()
            })
        );
        let opaque = decode::<i64>(502, "<html>bad gateway</html>").expect_err("502");
        assert_eq!(opaque.upstream_code(), Some(""));
        assert!(opaque.counts_against_breaker());
        assert!(matches!(decode::<i64>(200, "{"), Err(AdapterError::Decode(..))));
    }
}
