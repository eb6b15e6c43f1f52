//! Security headers every response carries (`API.md`, Conventions).

/// Header name/value pairs added to every API response.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
];

// Reads the contract from disk: native only.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// The security headers the contract lists (`docs/API.md`, Conventions): each `Name: value` in backticks, or a
    /// name in backticks followed by its value in backticks.
    fn contract_headers() -> Vec<(String, String)> {
        let contract = include_str!("../../docs/API.md");
        let start = contract.find("the security headers:").expect("the contract lists the security headers");
        let end = start + contract[start..].find("\n- ").expect("end of the bullet");
        let quoted: Vec<&str> = contract[start..end].split('`').skip(1).step_by(2).collect();
        let mut headers = Vec::new();
        let mut parts = quoted.iter();
        while let Some(part) = parts.next() {
            match part.split_once(": ") {
                Some((name, value)) => headers.push((name.to_owned(), value.to_owned())),
                None => headers.push((part.to_string(), parts.next().expect("a value").to_string())),
            }
        }
        headers
    }

    #[test]
    fn every_response_carries_exactly_the_contracts_security_headers() {
        let ours: Vec<(String, String)> =
            SECURITY_HEADERS.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
        let contract = contract_headers();
        assert_eq!(contract.len(), 5, "{contract:?}");
        assert_eq!(ours, contract);
    }
}
