//! W3C Trace Context (`traceparent`, version 00): a valid incoming header makes this request a child span of the
//! caller's trace; otherwise a new trace starts here. Every outbound call (database API, Redis, the Competition
//! object, the JWKS endpoint) carries the request's span as its parent, and the access log carries the trace id.

/// One span's identity in a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    /// 16-byte trace id (never all zero).
    pub trace_id: [u8; 16],
    /// 8-byte id of this span (never all zero).
    pub span_id: [u8; 8],
    /// Trace flags (bit 0: sampled).
    pub flags: u8,
}

fn hex_bytes<const N: usize>(text: &str) -> Option<[u8; N]> {
    // Lower-case hex only, as the specification requires.
    if text.len() != N * 2 || !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).ok()?;
    }
    Some(out)
}

fn hex(bytes: &[u8]) -> String {
    // One formatting call per byte was ≈ 2 % of a `GET /health/live` in a profile under load (twice a request).
    base16ct::lower::encode_string(bytes)
}

impl TraceContext {
    /// Parses a `traceparent` header; `None` for anything the specification says to ignore (wrong version `ff`,
    /// bad lengths, upper-case or non-hex digits, all-zero ids). Later versions are read by their version-00 prefix.
    pub fn parse(header: &str) -> Option<Self> {
        let header = header.trim();
        let mut parts = header.split('-');
        let version = parts.next()?;
        let trace_id = hex_bytes::<16>(parts.next()?)?;
        let span_id = hex_bytes::<8>(parts.next()?)?;
        let flags = hex_bytes::<1>(parts.next()?)?[0];
        let version = hex_bytes::<1>(version)?[0];
        if version == 0xff || (version == 0 && parts.next().is_some()) {
            return None;
        }
        if trace_id == [0; 16] || span_id == [0; 8] {
            return None;
        }
        Some(Self { trace_id, span_id, flags })
    }

    /// This request's span: a child of the caller's valid `traceparent`, else the root of a new trace. `random`
    /// supplies fresh ids (24 bytes: 16 for a new trace id, 8 for the span id).
    pub fn for_request(incoming: Option<&str>, random: [u8; 24]) -> Self {
        let mut span_id = [0u8; 8];
        span_id.copy_from_slice(&random[16..]);
        if span_id == [0; 8] {
            span_id[7] = 1;
        }
        match incoming.and_then(Self::parse) {
            Some(parent) => Self { trace_id: parent.trace_id, span_id, flags: parent.flags },
            None => {
                let mut trace_id = [0u8; 16];
                trace_id.copy_from_slice(&random[..16]);
                if trace_id == [0; 16] {
                    trace_id[15] = 1;
                }
                Self { trace_id, span_id, flags: 0x01 }
            }
        }
    }

    /// The `traceparent` value that names this span as the parent of an outbound call.
    pub fn header(&self) -> String {
        format!("00-{}-{}-{:02x}", hex(&self.trace_id), hex(&self.span_id), self.flags)
    }

    /// The trace id as 32 hex digits (for logs).
    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn headers_are_parsed_per_the_specification() {
        let cases: &[(&str, bool)] = &[
            (VALID, true),
            ("  00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00 ", true),
            ("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later-fields", true),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", false),
            ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false),
            ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", false),
            ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", false),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false),
            ("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", false),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", false),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba9zzzz-01", false),
            ("", false),
            ("garbage", false),
        ];
        for (header, valid) in cases {
            assert_eq!(TraceContext::parse(header).is_some(), *valid, "{header:?}");
        }
        assert_eq!(TraceContext::parse(VALID).map(|t| t.header()).as_deref(), Some(VALID));
    }

    #[test]
    fn a_request_joins_a_valid_trace_or_starts_one() {
        let random = [7u8; 24];
        let child = TraceContext::for_request(Some(VALID), random);
        assert_eq!(child.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(child.header(), "00-4bf92f3577b34da6a3ce929d0e0e4736-0707070707070707-01");

        let root = TraceContext::for_request(Some("00-bad"), random);
        assert_eq!(root.header(), format!("00-{}-0707070707070707-01", "07".repeat(16)));
        let zero = TraceContext::for_request(None, [0u8; 24]);
        assert!(TraceContext::parse(&zero.header()).is_some(), "never all-zero ids");
    }
}
