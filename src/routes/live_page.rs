//! `GET /live/{competition_id}`: a small self-contained page (no CDN) showing a competition's top 10, updated live
//! over the competition's WebSocket; `GET /assets/{file}` serves its script and style. Its Content-Security-Policy
//! allows only this origin and this origin's WebSocket.

use uuid::Uuid;

use crate::error::ApiError;
use crate::http::reply::Reply;
use crate::router::RouteMatch;

const PAGE: &str = include_str!("live_page/page.html");
const SCRIPT: &str = include_str!("live_page/live.js");
const STYLE: &str = include_str!("live_page/live.css");
const ICON: &str = include_str!("live_page/favicon.svg");

/// The page's policy: scripts, styles, images and connections from this origin only (`'self'` plus the explicit
/// WebSocket origin, which older browsers do not derive from `'self'`).
pub fn content_security_policy(host: Option<&str>) -> String {
    // A Host header is attacker-controlled: only a plain host[:port] makes it into the policy.
    let host = host.filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)));
    let sockets = host.map(|h| format!(" ws://{h} wss://{h}")).unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'{sockets}; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

/// `GET /live/{competition_id}`
pub fn page(route: &RouteMatch, host: Option<&str>) -> Result<Reply, ApiError> {
    let id = route.param("competition_id").unwrap_or_default();
    if Uuid::try_parse(id).is_err() {
        return Err(ApiError::NotFound("no such competition page".into()));
    }
    let mut reply = Reply::typed(200, "text/html; charset=utf-8", PAGE.as_bytes().to_vec());
    reply.headers.push(("Content-Security-Policy".to_owned(), content_security_policy(host)));
    reply.headers.push(("Cache-Control".to_owned(), "no-cache".to_owned()));
    Ok(reply)
}

/// `GET /assets/{file}`
pub fn asset(route: &RouteMatch) -> Result<Reply, ApiError> {
    let (content_type, body) = match route.param("file") {
        Some("live.js") => ("text/javascript; charset=utf-8", SCRIPT),
        Some("live.css") => ("text/css; charset=utf-8", STYLE),
        Some("favicon.svg") => ("image/svg+xml", ICON),
        _ => return Err(ApiError::NotFound("no such asset".into())),
    };
    let mut reply = Reply::typed(200, content_type, body.as_bytes().to_vec());
    reply.headers.push(("Cache-Control".to_owned(), "public, max-age=300".to_owned()));
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_only_this_origin() {
        let policy = content_security_policy(Some("127.0.0.1:8787"));
        assert!(policy.contains("connect-src 'self' ws://127.0.0.1:8787 wss://127.0.0.1:8787;"), "{policy}");
        assert!(policy.starts_with("default-src 'none'; script-src 'self';"));
        for hostile in ["evil.com; script-src *", "a b", "x\"y", ""] {
            let policy = content_security_policy(Some(hostile));
            assert!(policy.contains("connect-src 'self';"), "{hostile}: {policy}");
        }
    }

    #[test]
    fn the_page_loads_only_its_own_assets() {
        assert!(PAGE.contains(r#"src="/assets/live.js""#) && PAGE.contains(r#"href="/assets/live.css""#));
        assert!(
            PAGE.contains(r#"href="/assets/favicon.svg""#),
            "its own icon, so browsers do not ask for /favicon.ico"
        );
        assert!(!PAGE.contains("http://") && !PAGE.contains("https://"), "no external resources");
        assert!(!PAGE.contains("<script>") && !PAGE.contains("<style>"), "no inline code (the policy forbids it)");
    }
}
