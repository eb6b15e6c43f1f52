//! Before a run: the virtual users' tokens, and a running competition they all joined (unless one is given).

use std::sync::Arc;

use hyper::Method;
use serde_json::json;
use uuid::Uuid;

use super::client::Client;
use super::stats::Outcome;

/// A virtual user.
#[derive(Debug, Clone)]
pub struct User {
    /// Its id (`sub`).
    pub id: Uuid,
    /// Its access token.
    pub token: String,
}

/// Mints `count` users' tokens (valid for a day, longer than any run).
pub fn users(count: usize, secret: &str, audience: &str) -> Vec<User> {
    (0..count)
        .map(|_| {
            let id = Uuid::new_v4();
            let claims =
                crate::token::access_claims(&id.to_string(), "authenticated", audience, crate::token::now(), 86_400);
            User { id, token: crate::token::sign(secret.as_bytes(), &claims) }
        })
        .collect()
}

/// Users from a file of access tokens made elsewhere, one per line (blank lines and `#` comments skipped); each
/// user's id is its token's `sub` (read, not verified: the Worker verifies).
pub fn users_from_file(path: &std::path::Path) -> Result<Vec<User>, String> {
    use base64::Engine;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut users = Vec::new();
    for (line_number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let payload = line.split('.').nth(1).ok_or(format!("line {line_number}: not a JWT"))?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|e| format!("line {line_number}: {e}"))?;
        let claims: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| format!("line {line_number}: {e}"))?;
        let id = claims["sub"]
            .as_str()
            .and_then(|sub| Uuid::parse_str(sub).ok())
            .ok_or(format!("line {line_number}: the token has no UUID sub"))?;
        users.push(User { id, token: line.to_owned() });
    }
    if users.is_empty() {
        return Err(format!("{}: no tokens", path.display()));
    }
    Ok(users)
}

/// A service-role token.
pub fn admin_token(secret: &str, audience: &str) -> String {
    let claims =
        crate::token::access_claims(&Uuid::new_v4().to_string(), "service_role", audience, crate::token::now(), 86_400);
    crate::token::sign(secret.as_bytes(), &claims)
}

/// Creates a steps competition that started a day ago and runs for a week (so plausible scores have room), of at
/// most `max_participants` members when given.
pub async fn create_competition(client: &Client, admin: &str, max_participants: Option<u64>) -> Result<Uuid, String> {
    let now = crate::token::now();
    let mut body = json!({
        "name": "load test", "metric": "steps", "prize_pool": 10_000, "payout": [5000, 3000, 2000], "score_source": "client",
        "starts_at": crate::time::rfc3339(now - 86_400), "ends_at": crate::time::rfc3339(now + 7 * 86_400),
    });
    if let Some(max) = max_participants {
        body["max_participants"] = json!(max);
    }
    let answer = client.clone().send(Method::POST, "/api/v1/competitions", Some(admin), Some(body.to_string())).await;
    if answer.outcome != Outcome::Status(201) {
        return Err(format!(
            "creating the competition: {:?} {}",
            answer.outcome,
            String::from_utf8_lossy(&answer.body)
        ));
    }
    let created: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|e| e.to_string())?;
    created["id"].as_str().and_then(|id| id.parse().ok()).ok_or_else(|| "no id in the created competition".into())
}

/// Joins every user, `concurrency` at a time; fails on the first refusal.
pub async fn join_all(client: &Client, competition: Uuid, users: &[User], concurrency: usize) -> Result<(), String> {
    let gate = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = Vec::with_capacity(users.len());
    for user in users {
        let (mut client, gate, token) = (client.clone(), Arc::clone(&gate), user.token.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.map_err(|e| e.to_string())?;
            let path = format!("/api/v1/competitions/{competition}/join");
            let answer = client.send(Method::POST, &path, Some(&token), None).await;
            match answer.outcome {
                Outcome::Status(200) => Ok(()),
                other => Err(format!("join: {other:?} {}", String::from_utf8_lossy(&answer.body))),
            }
        }));
    }
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    Ok(())
}
