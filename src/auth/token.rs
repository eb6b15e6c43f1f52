//! Where a bearer token comes from: the `Authorization` header, or for WebSockets `Sec-WebSocket-Protocol`.

use super::{AuthError, MAX_TOKEN_LEN};

/// Extracts the token from `Authorization: Bearer <jwt>`; `None` when the header is absent.
pub fn from_authorization(header: Option<&str>) -> Result<Option<&str>, AuthError> {
    let Some(value) = header else { return Ok(None) };
    let value = value.trim();
    let (scheme, token) =
        value.split_once(' ').ok_or_else(|| AuthError::Invalid("malformed Authorization header".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Invalid("Authorization scheme must be Bearer".into()));
    }
    checked(token.trim()).map(Some)
}

/// Extracts the token from `Sec-WebSocket-Protocol: bearer, <jwt>`; `None` when that form is not used.
pub fn from_websocket_protocol(header: Option<&str>) -> Result<Option<&str>, AuthError> {
    let Some(value) = header else { return Ok(None) };
    let mut parts = value.split(',').map(str::trim);
    match (parts.next(), parts.next()) {
        (Some(first), Some(token)) if first.eq_ignore_ascii_case("bearer") => checked(token).map(Some),
        _ => Ok(None),
    }
}

fn checked(token: &str) -> Result<&str, AuthError> {
    if token.is_empty() {
        return Err(AuthError::Invalid("empty bearer token".into()));
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::Invalid("token too large".into()));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_header_forms() {
        let big = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN + 1));
        type Case<'a> = (Option<&'a str>, Result<Option<&'a str>, ()>);
        let cases: &[Case] = &[
            (None, Ok(None)),
            (Some("Bearer abc.def.ghi"), Ok(Some("abc.def.ghi"))),
            (Some("bearer   abc"), Ok(Some("abc"))),
            (Some("Basic dXNlcjpwdw=="), Err(())),
            (Some("Bearer"), Err(())),
            (Some("Bearer "), Err(())),
            (Some(big.as_str()), Err(())),
        ];
        for (header, expected) in cases {
            let got = from_authorization(*header).map_err(|_| ());
            assert_eq!(&got, expected, "{header:?}");
        }
    }

    #[test]
    fn websocket_protocol_forms() {
        assert_eq!(from_websocket_protocol(Some("bearer, a.b.c")), Ok(Some("a.b.c")));
        assert_eq!(from_websocket_protocol(Some("graphql-ws")), Ok(None));
        assert_eq!(from_websocket_protocol(None), Ok(None));
        assert!(from_websocket_protocol(Some("bearer, ")).is_err());
    }
}
