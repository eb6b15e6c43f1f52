//! Redis commands the Worker spent during a run, as Upstash bills them (each command of a pipeline counts, a script
//! call is one): the local Upstash gateway's `GET /__stats` before and after the run.

use std::collections::BTreeMap;

/// Commands received so far, by name.
pub fn billed(url: &str, token: &str) -> Result<BTreeMap<String, u64>, String> {
    let reply: serde_json::Value = ureq::get(&format!("{}/__stats", url.trim_end_matches('/')))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
        .map_err(|e| format!("gateway stats (the local Upstash gateway's /__stats): {e}"))?
        .into_json()
        .map_err(|e| format!("gateway stats reply: {e}"))?;
    serde_json::from_value(reply["by_command"].clone()).map_err(|e| format!("gateway stats: {e}"))
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
}
