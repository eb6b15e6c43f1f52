//! `GET /api/v1/competitions/{id}/live`: the WebSocket upgrade, verified at the edge and handed to the competition.

use standings::protocol::{HEADER_SUBPROTOCOL, HEADER_TOKEN_EXP, HEADER_USER, INTERNAL_ORIGIN, PATH_LIVE};
use standings::relay::{self, HEADER_COMPETITION, HEADER_RELAY};
use worker::{Headers, Response};

use crate::http::incoming::Incoming;

use crate::error::ApiError;
use crate::router::RouteMatch;
use crate::routes::leaderboard::model::path_uuid;
use crate::runtime::RequestContext;

/// Forwards the upgrade to the competition's object with the verified user id; the object's 101 is returned as is,
/// a refusal (a full live feed) as an API error.
pub async fn subscribe(ctx: &RequestContext<'_>, route: &RouteMatch, req: &Incoming) -> Result<Response, ApiError> {
    let user = ctx.require_user()?;
    let competition_id = path_uuid("competition_id", route.param("competition_id"))?;
    // A competition that does not exist is 404 whatever the request (API.md), so it is looked up before the upgrade
    // is asked for. Its row says how large its audience may be, and so how many relays share its sockets; when the
    // database is unavailable the competition object serves the socket itself (it publishes to its relays too).
    let row = crate::routes::leaderboard::require_competition(ctx, &competition_id).await?;
    let relays =
        row.as_ref().map_or(0, |row| relay::relays_for(row.max_participants, ctx.services.config.live_relay_members));
    let incoming = req.headers();
    let upgrade = incoming.get("Upgrade").ok().flatten();
    if !upgrade.is_some_and(|v| v.eq_ignore_ascii_case("websocket")) {
        return Err(ApiError::BadRequest("this route needs a WebSocket upgrade (Upgrade: websocket)".into()));
    }
    check_handshake(
        incoming.get("Sec-WebSocket-Version").ok().flatten().as_deref(),
        incoming.get("Sec-WebSocket-Key").ok().flatten().as_deref(),
    )?;
    let internal = |e: worker::Error| ApiError::Internal(format!("building the upgrade: {e}"));
    let headers = Headers::new();
    for (name, value) in incoming.entries() {
        // The subscriber identity is ours to state; whatever the client sent under that name is dropped.
        let internal_header = [HEADER_USER, HEADER_SUBPROTOCOL, HEADER_TOKEN_EXP, HEADER_COMPETITION, HEADER_RELAY];
        if !internal_header.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            headers.append(&name, &value).map_err(internal)?;
        }
    }
    headers.set(HEADER_USER, &user.user_id.to_string()).map_err(internal)?;
    // The socket closes when the token it was opened with expires (unless an `auth` frame extends it).
    headers.set(HEADER_TOKEN_EXP, &user.expires_at.to_string()).map_err(internal)?;
    headers.set("traceparent", &ctx.traceparent).map_err(internal)?;
    let protocol = incoming.get("Sec-WebSocket-Protocol").ok().flatten();
    // Echoed as the client spelled it: RFC 6455 has a client fail a handshake whose protocol it did not offer, and
    // the token is read from `BEARER, <jwt>` as from `bearer, <jwt>`.
    let offered = protocol.as_deref().and_then(|p| p.split(',').next()).map(str::trim);
    if let Some(bearer) = offered.filter(|first| first.eq_ignore_ascii_case("bearer")) {
        headers.set(HEADER_SUBPROTOCOL, bearer).map_err(internal)?;
    }
    let object = if relays > 0 {
        let index = relay::relay_of(&user.user_id, relays);
        headers.set(HEADER_COMPETITION, &competition_id.to_string()).map_err(internal)?;
        headers.set(HEADER_RELAY, &relay::relay_name(&competition_id, index)).map_err(internal)?;
        ctx.relay(&competition_id, index)?
    } else {
        ctx.competition(&competition_id)?
    };
    let forwarded = crate::subrequest::request("GET", &format!("{INTERNAL_ORIGIN}{PATH_LIVE}"), &headers, None)
        .map_err(|e| ApiError::Internal(format!("building the upgrade: {e}")))?;
    object.upgrade(forwarded).await
}

/// Refuses a handshake the runtime would refuse only after the object accepted its socket: that socket still counted
/// against the user's five live sockets, and closed their oldest good one (1008).
fn check_handshake(version: Option<&str>, key: Option<&str>) -> Result<(), ApiError> {
    if version != Some("13") {
        return Err(ApiError::BadRequest("a WebSocket upgrade needs Sec-WebSocket-Version: 13".into()));
    }
    if key.is_none_or(|key| key.trim().is_empty()) {
        return Err(ApiError::BadRequest("a WebSocket upgrade needs a Sec-WebSocket-Key".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_handshake_the_runtime_completes_reaches_the_object() {
        let key = Some("dGhlIHNhbXBsZSBub25jZQ==");
        let cases = [
            (Some("13"), key, true),
            (Some("8"), key, false),
            (Some("8, 13"), key, false),
            (None, key, false),
            (Some("13"), None, false),
            (Some("13"), Some(""), false),
            (Some("13"), Some("short"), true),
        ];
        for (version, key, accepted) in cases {
            assert_eq!(check_handshake(version, key).is_ok(), accepted, "{version:?} {key:?}");
        }
    }
}
