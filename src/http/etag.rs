//! Entity tags of cacheable reads (leaderboard pages, competitions): a strong tag from the body's SHA-256, and the
//! `If-None-Match` test that turns a repeated read into `304 Not Modified` without a body.

use sha2::{Digest, Sha256};

/// The tag of a response body (`"` + 32 hex digits + `"`).
pub fn of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether an `If-None-Match` value names `tag` (weak comparison, as RFC 9110 asks for this header; `*` matches).
pub fn matches(if_none_match: &str, tag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    if_none_match.split(',').any(|candidate| candidate.trim() == "*" || bare(candidate) == bare(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_the_body_and_if_none_match_compares_weakly() {
        let tag = of(b"{\"total\":1}");
        assert_eq!(tag.len(), 34);
        assert_ne!(tag, of(b"{\"total\":2}"));
        assert!(matches(&tag, &tag));
        assert!(matches(&format!("\"x\", W/{tag}"), &tag));
        assert!(matches("*", &tag));
        assert!(!matches("\"other\"", &tag));
    }
}
