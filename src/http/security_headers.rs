//! Security headers every response carries (`API.md`, Conventions).

/// Header name/value pairs added to every API response.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contracts_headers_are_all_present() {
        let names: Vec<&str> = SECURITY_HEADERS.iter().map(|(name, _)| *name).collect();
        for required in [
            "X-Content-Type-Options",
            "X-Frame-Options",
            "Strict-Transport-Security",
            "Referrer-Policy",
            "Content-Security-Policy",
        ] {
            assert!(names.contains(&required), "{required} missing");
        }
    }
}
