//! `scripts/load`: load-tests the Worker (see `local::load`). Prints a progress line while running, a table at the
//! end, and writes `--json` / `--html` reports. Exits 2 when the run cannot start, 1 when WebSocket deliveries were
//! incomplete.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use local::load::client::Client;
use local::load::mix::Mix;
use local::load::options::{Mode, Options};
use local::load::{redis_stats, report, run, setup, worker_metrics, ws};
use serde_json::{json, Map};

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("load: {message}");
    std::process::exit(2);
}

#[tokio::main]
async fn main() {
    let options = Options::parse();
    options.check().unwrap_or_else(|e| fail(e));
    let mix = Mix::parse(&options.mix).unwrap_or_else(|e| fail(format!("--mix: {e}")));
    let client = Client::new(&options.url, Duration::from_millis(options.timeout_ms));
    let needs_competition = options.mode == Mode::Ws || mix.scenarios().any(|s| s.needs_competition());
    let user_count = match options.mode {
        Mode::Http => options.users,
        Mode::Ws => options.subscribers + options.writers,
    };
    let users = match &options.token_file {
        Some(path) => setup::users_from_file(path).unwrap_or_else(|e| fail(format!("--token-file {e}"))),
        None => setup::users(user_count, &options.jwt_secret, &options.jwt_audience),
    };
    if options.mode == Mode::Ws && users.len() < user_count {
        fail(format!("--token-file holds {} tokens; this run needs {user_count}", users.len()));
    }
    let competition = match (&options.competition, needs_competition) {
        (Some(id), _) => Some(id.parse().unwrap_or_else(|_| fail("--competition must be a UUID"))),
        (None, true) if options.token_file.is_some() => {
            fail("--token-file needs --competition (the tool cannot mint an administrator's token for that project)")
        }
        (None, true) => {
            let admin = setup::admin_token(&options.jwt_secret, &options.jwt_audience);
            Some(setup::create_competition(&client, &admin, options.max_participants).await.unwrap_or_else(|e| fail(e)))
        }
        (None, false) => None,
    };
    if let Some(competition) = competition {
        let joiners = match options.mode {
            Mode::Http => &users[..],
            Mode::Ws => &users[options.subscribers..],
        };
        setup::join_all(&client, competition, joiners, 32).await.unwrap_or_else(|e| fail(e));
    }
    let redis_before = options.redis_url.as_deref().map(|url| redis_stats::billed(url, &options.redis_token));
    let metrics_token = options.metrics_token.as_deref().filter(|token| !token.is_empty());
    let scrape = || worker_metrics::scrape(&options.url, metrics_token);
    let metrics_before = options.worker_metrics.then(scrape);

    let mut extra = Map::new();
    extra.insert("target".into(), json!(options.url));
    extra.insert("mode".into(), json!(format!("{:?}", options.mode).to_lowercase()));
    extra.insert("competition".into(), json!(competition));
    let (recorder, elapsed, incomplete) = match options.mode {
        Mode::Http => {
            extra.insert("mix".into(), json!(options.mix));
            extra.insert("users".into(), json!(options.users));
            extra.insert("concurrency".into(), json!(options.concurrency));
            let plan = run::Plan {
                client,
                mix,
                scores: users.iter().map(|_| AtomicU64::new(0)).collect(),
                users,
                competition,
                paths: run::FixedPaths::new(competition),
                cap: options.request_cap(),
                duration: Duration::from_secs_f64(options.duration),
                ramp_up: Duration::from_secs_f64(options.ramp_up),
            };
            let (recorder, elapsed) = match options.rate {
                Some(rate) => {
                    extra.insert("rate".into(), json!(rate));
                    run::run_at_rate(Arc::new(plan), rate, options.concurrency, !options.quiet).await
                }
                None => run::run(Arc::new(plan), options.concurrency, !options.quiet).await,
            };
            (recorder, elapsed, false)
        }
        Mode::Ws => {
            let (subscribers, writers) = users.split_at(options.subscribers);
            let started = std::time::Instant::now();
            let fanout = ws::run(
                &client,
                &options.url,
                competition.unwrap_or_else(|| fail("no competition")),
                subscribers,
                writers,
                match options.rate {
                    // The writers share the rate.
                    Some(rate) => ws::Pace::Open(rate / options.writers.max(1) as f64),
                    None => ws::Pace::Closed(Duration::from_millis(options.write_interval_ms)),
                },
                Duration::from_secs_f64(options.duration),
            )
            .await;
            println!(
                "subscribers {}/{}; updates {}; deliveries {}/{} ({} subscribers complete)",
                fanout.connected,
                options.subscribers,
                fanout.updates,
                fanout.delivered,
                fanout.expected,
                fanout.complete
            );
            println!(
                "update-to-delivery latency: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                fanout.ms(0.5),
                fanout.ms(0.95),
                fanout.ms(0.99),
                fanout.latency.max() as f64 / 1000.0
            );
            println!(
                "per update: first delivery p50 {:.1} ms (request path); first to last delivery p50 {:.1} ms (fan-out)",
                fanout.to_json()["first_delivery_ms"]["p50"].as_f64().unwrap_or_default(),
                fanout.to_json()["fanout_spread_ms"]["p50"].as_f64().unwrap_or_default()
            );
            extra.insert("ws".into(), fanout.to_json());
            let incomplete = fanout.connected < options.subscribers || fanout.delivered < fanout.expected;
            (fanout.writes, started.elapsed(), incomplete)
        }
    };
    if let (Some(Ok(before)), Some(url)) = (&redis_before, options.redis_url.as_deref()) {
        match redis_stats::billed(url, &options.redis_token) {
            Ok(after) => {
                let requests = recorder.total().requests();
                let (total, by_command) = redis_stats::per_request(&before.by_command, &after.by_command, requests);
                let shown: Vec<String> = by_command.iter().map(|(name, n)| format!("{name} {n:.3}")).collect();
                println!("redis commands per request: {total:.3} ({})", shown.join(", "));
                let (_, by_prefix) = redis_stats::per_request(&before.by_key_prefix, &after.by_key_prefix, requests);
                let by_use = redis_stats::by_use(&by_prefix);
                let shown: Vec<String> = by_use.iter().map(|(name, n)| format!("{name} {n:.3}")).collect();
                println!("redis commands per request by use: {}", shown.join(", "));
                let pages_and_metrics =
                    ["page cache", "metrics flush"].iter().filter_map(|u| by_use.get(u)).sum::<f64>();
                println!("redis commands per request for the page cache and the metrics flush: {pages_and_metrics:.3}");
                extra.insert("redis_commands_per_request".into(), json!(total));
                extra.insert("redis_commands_per_request_by_command".into(), json!(by_command));
                extra.insert("redis_commands_per_request_by_use".into(), json!(by_use));
            }
            Err(e) => eprintln!("redis stats after the run failed: {e}"),
        }
    }
    match (metrics_before, options.worker_metrics.then(scrape)) {
        (Some(Ok(before)), Some(Ok(after))) => {
            let redis = worker_metrics::waits(&before, &after, "redis");
            println!("{}", redis.summary("redis"));
            extra.insert("redis_calls_by_outcome".into(), json!(redis.by_outcome));
            extra.insert("redis_calls_within_seconds".into(), json!(redis.within));
        }
        (Some(Err(e)), _) | (_, Some(Err(e))) => eprintln!("worker metrics: {e}"),
        _ => {}
    }
    print!("{}", report::to_text(&recorder, elapsed));
    let document = report::to_json(&recorder, elapsed, extra);
    if let Some(path) = &options.json {
        let text = serde_json::to_string_pretty(&document).unwrap_or_default();
        std::fs::write(path, text).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
    }
    if let Some(path) = &options.html {
        let title = format!("Load run against {} ({:?} mode)", options.url, options.mode);
        let html = report::to_html(&recorder, elapsed, &title).unwrap_or_else(|e| fail(e));
        std::fs::write(path, html).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
    }
    let mut failed = incomplete;
    for text in &options.thresholds {
        // Checked by Options::check already.
        let Ok(threshold) = local::load::thresholds::Threshold::parse(text) else { continue };
        match threshold.check(&recorder.total(), elapsed) {
            Some(reason) => {
                println!("FAIL {reason}");
                failed = true;
            }
            None => println!("ok   threshold {text}"),
        }
    }
    if failed {
        std::process::exit(1);
    }
}
