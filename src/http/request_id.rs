//! `X-Request-Id`: keep a sane caller-supplied id, otherwise mint a fresh one.

/// Longest caller-supplied id we echo back.
pub const MAX_LEN: usize = 64;

/// Whether a caller's id may be reused: 1..=64 chars of `[A-Za-z0-9._-]`.
pub fn is_acceptable(candidate: &str) -> bool {
    !candidate.is_empty()
        && candidate.len() <= MAX_LEN
        && candidate.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The id for this request: the caller's when acceptable, else one built from `random` (a UUID v4).
pub fn accept_or_generate(incoming: Option<&str>, random: [u8; 16]) -> String {
    match incoming {
        Some(id) if is_acceptable(id) => id.to_owned(),
        _ => uuid::Builder::from_random_bytes(random).into_uuid().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_incoming_ids_are_kept_and_others_replaced() {
        let long_ok = "a".repeat(64);
        let too_long = "a".repeat(65);
        let cases: &[(Option<&str>, bool)] = &[
            (Some("abc-123_x.y"), true),
            (Some(long_ok.as_str()), true),
            (Some(too_long.as_str()), false),
            (Some(""), false),
            (Some("has space"), false),
            (Some("new\nline"), false),
            (Some("<script>"), false),
            (Some("ünïcode"), false),
            (None, false),
        ];
        for (incoming, kept) in cases {
            let id = accept_or_generate(*incoming, [7; 16]);
            assert_eq!(Some(id.as_str()) == *incoming, *kept, "{incoming:?} -> {id}");
            assert!(is_acceptable(&id), "generated id must itself be acceptable: {id}");
        }
    }

    #[test]
    fn generated_ids_are_uuid_v4() {
        let id = accept_or_generate(None, [0xAB; 16]);
        let parsed = uuid::Uuid::parse_str(&id).expect("uuid");
        assert_eq!(parsed.get_version_num(), 4);
    }
}
