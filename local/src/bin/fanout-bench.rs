//! WebSocket fan-out benchmark: N subscribers on one competition, M score updates from one writer; reports
//! update-to-delivery latency percentiles across all subscribers and updates, update throughput and completeness.
//!
//! `cargo run --release -p local --bin fanout-bench -- --base http://127.0.0.1:8787 --sockets 1000 --updates 200`
//! (`scripts/bench-fanout` starts a private `wrangler dev` and runs it at 1k and 10k sockets). Targets only
//! 127.0.0.1 and stops by itself: every wait has a deadline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

#[derive(Parser, Clone)]
#[command(about = "Measure update-to-delivery latency of the live leaderboard socket")]
struct Args {
    /// Worker base URL (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8787")]
    base: String,
    /// Subscribers to open.
    #[arg(long, default_value_t = 1000)]
    sockets: usize,
    /// Score updates to send.
    #[arg(long, default_value_t = 200)]
    updates: u64,
    /// Pause between updates, in milliseconds (0 sends back to back).
    #[arg(long, default_value_t = 5)]
    interval_ms: u64,
    /// Sockets connecting at once.
    #[arg(long, default_value_t = 100)]
    connect_concurrency: usize,
    /// JWT secret used to mint tokens.
    #[arg(
        long,
        env = "SUPABASE_JWT_SECRET",
        default_value = "super-secret-jwt-token-with-at-least-32-characters-long"
    )]
    secret: String,
    /// Give up waiting for deliveries after this many seconds.
    #[arg(long, default_value_t = 60)]
    deadline_secs: u64,
}

fn token(secret: &str, user: &Uuid) -> String {
    token_with_role(secret, user, "authenticated")
}

fn token_with_role(secret: &str, user: &Uuid, role: &str) -> String {
    let claims = local::token::access_claims(&user.to_string(), role, "authenticated", local::token::now(), 3600);
    local::token::sign(secret.as_bytes(), &claims)
}

/// Creates a running competition through the Worker (as service role) and joins the writer to it, as the app would.
fn prepare(base: &str, secret: &str, writer: &Uuid) -> Result<Uuid, String> {
    let now = local::token::now();
    let at = local::time::rfc3339;
    let body = serde_json::json!({
        "name": "fan-out bench", "metric": "steps", "prize_pool": 0, "payout": [],
        "starts_at": at(now - 60), "ends_at": at(now + 86_400),
    });
    let admin = token_with_role(secret, &Uuid::new_v4(), "service_role");
    let created: serde_json::Value = ureq::post(&format!("{base}/api/v1/competitions"))
        .set("Authorization", &format!("Bearer {admin}"))
        .send_json(body)
        .map_err(|e| format!("create competition: {e}"))?
        .into_json()
        .map_err(|e| e.to_string())?;
    let competition: Uuid =
        created["id"].as_str().and_then(|id| id.parse().ok()).ok_or("no competition id in the reply")?;
    ureq::post(&format!("{base}/api/v1/competitions/{competition}/join"))
        .set("Authorization", &format!("Bearer {}", token(secret, writer)))
        .call()
        .map_err(|e| format!("join: {e}"))?;
    Ok(competition)
}

/// Per-subscriber result: arrival instant of each update seq.
type Arrivals = Vec<(u64, Instant)>;

async fn subscribe(
    args: Args,
    competition: Uuid,
    gate: Arc<Semaphore>,
    ready: tokio::sync::mpsc::Sender<u64>,
    deadline: Instant,
) -> Result<Arrivals, String> {
    let url = format!("{}/api/v1/competitions/{competition}/live", args.base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    let header = format!("Bearer {}", token(&args.secret, &Uuid::new_v4()));
    request.headers_mut().insert("Authorization", header.parse().map_err(|_| "header")?);
    let permit = gate.acquire().await.map_err(|e| e.to_string())?;
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.map_err(|e| e.to_string())?;
    drop(permit);
    let mut arrivals = Vec::with_capacity(args.updates as usize);
    let mut snapshot_seq = None;
    while arrivals.len() < args.updates as usize {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let frame = match tokio::time::timeout(remaining, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(e))) => return Err(e.to_string()),
            Ok(None) | Err(_) => break,
        };
        let now = Instant::now();
        let value: serde_json::Value = serde_json::from_str(frame.as_str()).map_err(|e| e.to_string())?;
        match value["type"].as_str() {
            Some("snapshot") if snapshot_seq.is_none() => {
                let seq = value["seq"].as_u64().unwrap_or(0);
                snapshot_seq = Some(seq);
                let _ = ready.send(seq).await;
            }
            Some("update") => arrivals.push((value["seq"].as_u64().unwrap_or(0), now)),
            _ => {}
        }
    }
    let _ = socket.close(None).await;
    Ok(arrivals)
}

fn post_update(base: &str, secret: &str, competition: &Uuid, writer: &Uuid, score: u64) -> Result<(), String> {
    let body = serde_json::json!({"competition_id": competition, "score": score});
    ureq::post(&format!("{base}/api/v1/leaderboard/update"))
        .set("Authorization", &format!("Bearer {}", token(secret, writer)))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    assert!(
        args.base.starts_with("http://127.0.0.1") || args.base.starts_with("http://localhost"),
        "the benchmark only targets this machine"
    );
    let writer = Uuid::new_v4();
    let competition = match prepare(&args.base, &args.secret, &writer) {
        Ok(competition) => competition,
        Err(e) => {
            eprintln!("cannot prepare the competition (the Worker needs its local stack): {e}");
            std::process::exit(2);
        }
    };
    let deadline = Instant::now() + Duration::from_secs(args.deadline_secs);
    let gate = Arc::new(Semaphore::new(args.connect_concurrency));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(args.sockets);
    let connect_started = Instant::now();
    let tasks: Vec<_> = (0..args.sockets)
        .map(|_| tokio::spawn(subscribe(args.clone(), competition, gate.clone(), ready_tx.clone(), deadline)))
        .collect();
    drop(ready_tx);
    let mut connected = 0;
    while connected < args.sockets {
        match tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), ready_rx.recv()).await {
            Ok(Some(_)) => connected += 1,
            _ => break,
        }
    }
    println!("connected {connected}/{} sockets in {:.1} s", args.sockets, connect_started.elapsed().as_secs_f64());

    // Only the writer changes this competition, so update i carries seq i (sequences start at 1).
    let (base, secret, updates, interval) = (args.base.clone(), args.secret.clone(), args.updates, args.interval_ms);
    let sent = tokio::task::spawn_blocking(move || {
        let mut sent_at = Vec::with_capacity(updates as usize);
        let started = Instant::now();
        for i in 1..=updates {
            sent_at.push(Instant::now());
            if let Err(e) = post_update(&base, &secret, &competition, &writer, i) {
                eprintln!("update {i} failed: {e}");
            }
            if interval > 0 {
                std::thread::sleep(Duration::from_millis(interval));
            }
        }
        (sent_at, started.elapsed())
    });
    let (sent_at, writing) = sent.await.expect("writer thread");

    let mut histogram = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3).expect("histogram bounds");
    let (mut delivered, mut complete, mut failed) = (0u64, 0usize, 0usize);
    for task in tasks {
        match task.await {
            Ok(Ok(arrivals)) => {
                complete += usize::from(arrivals.len() as u64 == updates);
                for (seq, at) in arrivals {
                    if let Some(sent) = seq.checked_sub(1).and_then(|i| sent_at.get(i as usize)) {
                        histogram.record(at.saturating_duration_since(*sent).as_micros().max(1) as u64).ok();
                        delivered += 1;
                    }
                }
            }
            _ => failed += 1,
        }
    }
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "updates: {updates} in {:.2} s ({:.0}/s); deliveries {delivered}/{} ({complete} sockets complete, {failed} failed)",
        writing.as_secs_f64(),
        updates as f64 / writing.as_secs_f64(),
        updates * args.sockets as u64,
    );
    println!(
        "update-to-delivery latency: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(0.5),
        ms(0.95),
        ms(0.99),
        histogram.max() as f64 / 1000.0
    );
    println!("p99 {:.0} ms at {} sockets", ms(0.99), args.sockets);
    if delivered < updates * args.sockets as u64 {
        std::process::exit(1);
    }
}
