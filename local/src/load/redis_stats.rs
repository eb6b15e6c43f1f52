//! Redis commands the Worker spent during a run, as Upstash bills them (each command of a pipeline counts, a script
//! call is one): the local Upstash gateway's `GET /__stats` before and after the run.

use std::collections::BTreeMap;

/// Commands received so far: by name, and by the prefix of their first key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Billed {
    /// By command name (`EVALSHA`, `GET`, …).
    pub by_command: BTreeMap<String, u64>,
    /// By the first key's prefix (`rl`, `metrics`, …; `-` for none).
    pub by_key_prefix: BTreeMap<String, u64>,
}

/// Commands received so far, from the gateway's `/__stats`.
pub fn billed(url: &str, token: &str) -> Result<Billed, String> {
    let reply: serde_json::Value = ureq::get(&format!("{}/__stats", url.trim_end_matches('/')))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
        .map_err(|e| format!("gateway stats (the local Upstash gateway's /__stats): {e}"))?
        .into_json()
        .map_err(|e| format!("gateway stats reply: {e}"))?;
    let field = |name: &str| -> Result<BTreeMap<String, u64>, String> {
        serde_json::from_value(reply[name].clone()).map_err(|e| format!("gateway stats {name}: {e}"))
    };
    Ok(Billed { by_command: field("by_command")?, by_key_prefix: field("by_key_prefix")? })
}

/// What the Worker uses Redis for, by the prefix of the keys it names (`src/cache/keys.rs`,
/// `src/rate_limit/policy.rs`, `src/idempotency/record.rs`, `adapters::metrics_totals`, the health cache).
pub fn use_of(prefix: &str) -> &'static str {
    match prefix {
        "rl" => "rate limiter",
        "metrics" => "metrics flush",
        "lb" => "page cache",
        "comp" => "competition cache",
        "idem" => "idempotency",
        "health" => "health cache",
        _ => "other",
    }
}

/// Commands per request by use (see [`use_of`]), from the per-request figures by key prefix.
pub fn by_use(by_prefix: &BTreeMap<String, f64>) -> BTreeMap<&'static str, f64> {
    let mut uses = BTreeMap::new();
    for (prefix, n) in by_prefix {
        *uses.entry(use_of(prefix)).or_insert(0.0) += n;
    }
    uses
}

/// Commands per request between two readings: in total and by command name (only names that were used).
pub fn per_request(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
    requests: u64,
) -> (f64, BTreeMap<String, f64>) {
    if requests == 0 {
        return (0.0, BTreeMap::new());
    }
    let by_command: BTreeMap<String, f64> = after
        .iter()
        .map(|(name, n)| (name.clone(), n.saturating_sub(before.get(name).copied().unwrap_or(0))))
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| (name, n as f64 / requests as f64))
        .collect();
    (by_command.values().sum(), by_command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_are_divided_by_requests() {
        let before = BTreeMap::from([("EVALSHA".to_owned(), 10), ("GET".to_owned(), 5)]);
        let after = BTreeMap::from([("EVALSHA".to_owned(), 110), ("GET".to_owned(), 5), ("EVAL".to_owned(), 100)]);
        let (total, by) = per_request(&before, &after, 1000);
        assert!((total - 0.2).abs() < 1e-9);
        assert_eq!(by.get("EVALSHA"), Some(&0.1));
        assert_eq!(by.get("EVAL"), Some(&0.1));
        assert!(!by.contains_key("GET"));
        assert_eq!(per_request(&before, &after, 0).0, 0.0);
    }

    #[test]
    fn key_prefixes_add_up_by_use() {
        let by_prefix = BTreeMap::from([
            ("rl".to_owned(), 0.03),
            ("metrics".to_owned(), 0.002),
            ("lb".to_owned(), 0.5),
            ("comp".to_owned(), 0.01),
            ("-".to_owned(), 0.001),
            ("x".to_owned(), 0.002),
        ]);
        let uses = by_use(&by_prefix);
        assert_eq!(uses.get("rate limiter"), Some(&0.03));
        assert_eq!(uses.get("metrics flush"), Some(&0.002));
        assert_eq!(uses.get("page cache"), Some(&0.5));
        assert_eq!(uses.get("competition cache"), Some(&0.01));
        assert!((uses["other"] - 0.003).abs() < 1e-12);
        assert_eq!(uses.get("idempotency"), None);
    }
}
