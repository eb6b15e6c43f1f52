//! Command-line options of the load tool.

use clap::{Parser, ValueEnum};

/// What to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// HTTP scenarios by weight.
    Http,
    /// Live sockets: subscribers on one competition while writers post updates.
    Ws,
}

/// `scripts/load --help`
#[derive(Debug, Clone, Parser)]
#[command(about = "Load-test the leaderboard Worker: a weighted scenario mix, or live-socket fan-out")]
pub struct Options {
    /// Worker base URL.
    #[arg(long, default_value = "http://127.0.0.1:8787")]
    pub url: String,
    /// Allow a target other than this machine (staging); the default refuses anything but loopback.
    #[arg(long)]
    pub allow_remote: bool,
    /// `http` (scenario mix) or `ws` (subscribers + writers).
    #[arg(long, value_enum, default_value_t = Mode::Http)]
    pub mode: Mode,
    /// Virtual users (each has its own user id and token; requests rotate over them).
    #[arg(long, default_value_t = 50)]
    pub users: usize,
    /// Requests in flight at once (HTTP mode).
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Seconds over which the concurrent workers start.
    #[arg(long, default_value_t = 0.0)]
    pub ramp_up: f64,
    /// Seconds to run (also the WebSocket mode's writing time).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Stop after this many requests (whichever of duration and count comes first).
    #[arg(long)]
    pub requests: Option<u64>,
    /// Scenario weights, e.g. `page=50,me=20,update=20,sync=5,list=5`; scenarios: page, me, update, sync, list,
    /// around, live (GET /health/live, the trivial baseline).
    #[arg(long, default_value = "page=50,me=20,update=20,sync=5,list=5")]
    pub mix: String,
    /// Competition to use; one is created (with a service-role token) and joined by every user when omitted.
    #[arg(long)]
    pub competition: Option<String>,
    /// Secret the users' tokens are signed with.
    #[arg(
        long,
        env = "SUPABASE_JWT_SECRET",
        default_value = "super-secret-jwt-token-with-at-least-32-characters-long"
    )]
    pub jwt_secret: String,
    /// Audience of the minted tokens.
    #[arg(long, env = "JWT_AUDIENCE", default_value = "authenticated")]
    pub jwt_audience: String,
    /// Per-request timeout, milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// WebSocket mode: subscribers to open.
    #[arg(long, default_value_t = 100)]
    pub subscribers: usize,
    /// WebSocket mode: writers posting updates.
    #[arg(long, default_value_t = 1)]
    pub writers: usize,
    /// WebSocket mode: pause between one writer's updates, milliseconds.
    #[arg(long, default_value_t = 20)]
    pub write_interval_ms: u64,
    /// `max_participants` of the competition the tool creates (none by default). With the Worker's
    /// `LIVE_RELAY_MEMBERS` set, it decides how many relay objects serve the live sockets.
    #[arg(long)]
    pub max_participants: Option<u64>,
    /// Write the JSON report here.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
    /// Write the HTML report (latency over time, latency histogram) here.
    #[arg(long)]
    pub html: Option<std::path::PathBuf>,
    /// Upstash REST URL of the Worker's Redis, when it is the local gateway: the report then includes the Redis
    /// commands (as Upstash bills them) per request, from the gateway's `/__stats`.
    #[arg(long, env = "UPSTASH_REDIS_REST_URL")]
    pub redis_url: Option<String>,
    /// Upstash REST token.
    #[arg(long, env = "UPSTASH_REDIS_REST_TOKEN", default_value = "local-upstash-token")]
    pub redis_token: String,
    /// Scrape the Worker's `/metrics` before and after the run and report how long it waited for Redis (and how
    /// often it gave up), as the Worker measured it.
    #[arg(long)]
    pub worker_metrics: bool,
    /// The operator's `METRICS_TOKEN` for `--worker-metrics`.
    #[arg(long, env = "METRICS_TOKEN")]
    pub metrics_token: Option<String>,
    /// Print no progress line.
    #[arg(long)]
    pub quiet: bool,
    /// Open model: start this many requests a second on schedule, whatever their latency; a request that starts
    /// late counts the wait in its latency. HTTP mode: at most `--concurrency` in flight. WebSocket mode: the writers'
    /// updates a second together (instead of `--write-interval-ms` after each reply).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Pass/fail condition, repeatable: `p50|p95|p99|max<N ms|s`, `errors<N%`, `rps>N`. A run that breaks one exits
    /// with status 1.
    #[arg(long = "threshold")]
    pub thresholds: Vec<String>,
    /// Users' access tokens made elsewhere (one JWT per line; e.g. ES256 tokens of a staging project) instead of
    /// minting HS256 tokens; needs `--competition` when the mix uses one.
    #[arg(long)]
    pub token_file: Option<std::path::PathBuf>,
}

/// The longest run allowed, seconds, and the most requests: the tool always stops by itself.
pub const MAX_DURATION_SECS: f64 = 3_600.0;
/// Most requests one run may send.
pub const MAX_REQUESTS: u64 = 10_000_000;

impl Options {
    /// Refuses settings that could not stop or that target another machine without `--allow-remote`.
    pub fn check(&self) -> Result<(), String> {
        let url = url::Url::parse(&self.url).map_err(|e| format!("--url: {e}"))?;
        let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if !local && !self.allow_remote {
            return Err(format!("--url {} is not this machine; pass --allow-remote to load it", self.url));
        }
        if !(self.duration > 0.0 && self.duration <= MAX_DURATION_SECS) {
            return Err(format!("--duration must be in (0, {MAX_DURATION_SECS}] seconds"));
        }
        if self.requests.is_some_and(|n| n == 0 || n > MAX_REQUESTS) {
            return Err(format!("--requests must be in 1..={MAX_REQUESTS}"));
        }
        if self.users == 0 || self.concurrency == 0 || self.concurrency > 10_000 {
            return Err("--users must be ≥ 1 and --concurrency in 1..=10000".into());
        }
        if self.mode == Mode::Ws && (self.subscribers == 0 || self.writers == 0) {
            return Err("--subscribers and --writers must be ≥ 1".into());
        }
        if self.rate.is_some_and(|rate| !(rate > 0.0 && rate <= 1_000_000.0)) {
            return Err("--rate must be in (0, 1000000] requests a second".into());
        }
        for threshold in &self.thresholds {
            super::thresholds::Threshold::parse(threshold).map_err(|e| format!("--threshold {e}"))?;
        }
        Ok(())
    }

    /// The request cap in effect.
    pub fn request_cap(&self) -> u64 {
        self.requests.unwrap_or(MAX_REQUESTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Options {
        Options::parse_from([&["load"], args].concat())
    }

    #[test]
    fn runs_are_bounded_and_local_unless_allowed() {
        assert!(parse(&[]).check().is_ok());
        let cases: &[&[&str]] = &[
            &["--url", "https://example.com"],
            &["--duration", "0"],
            &["--duration", "99999"],
            &["--requests", "0"],
            &["--users", "0"],
            &["--concurrency", "0"],
            &["--mode", "ws", "--subscribers", "0"],
            &["--rate", "0"],
            &["--threshold", "p99<fast"],
        ];
        for args in cases {
            assert!(parse(args).check().is_err(), "{args:?}");
        }
        assert!(parse(&["--url", "https://staging.example.com", "--allow-remote"]).check().is_ok());
        assert_eq!(parse(&["--requests", "5"]).request_cap(), 5);
        let gated = parse(&["--rate", "200", "--threshold", "p99<200ms", "--threshold", "errors<1%"]);
        assert!(gated.check().is_ok());
        assert_eq!(gated.thresholds.len(), 2);
    }
}
