//! WebSocket mode: subscribers on one competition's live socket while writers post score updates; reports
//! update-to-delivery latency across all subscribers (from sending the update to each arrival) and completeness
//! (every subscriber got every accepted update's `seq`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hdrhistogram::Histogram;
use hyper::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use super::client::Client;
use super::setup::User;
use super::stats::{Outcome, Recorder};

/// What the WebSocket run found.
#[derive(Debug)]
pub struct Fanout {
    /// Subscribers that connected and got their snapshot.
    pub connected: usize,
    /// Updates the writers had accepted.
    pub updates: usize,
    /// Deliveries seen, and the deliveries owed (updates × connected subscribers).
    pub delivered: u64,
    /// Deliveries owed.
    pub expected: u64,
    /// Subscribers that got every update.
    pub complete: usize,
    /// Update-to-delivery latency, microseconds.
    pub latency: Histogram<u64>,
    /// Per update: sending it to its first delivery (the request path), microseconds.
    pub first_delivery: Histogram<u64>,
    /// Per update: first to last delivery across subscribers (the fan-out itself), microseconds.
    pub spread: Histogram<u64>,
    /// The writers' requests.
    pub writes: Recorder,
}

impl Fanout {
    /// Latency at quantile `q`, milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }

    /// The report's `ws` section.
    pub fn to_json(&self) -> Value {
        json!({
            "subscribers_connected": self.connected,
            "updates": self.updates,
            "deliveries": self.delivered,
            "deliveries_expected": self.expected,
            "subscribers_complete": self.complete,
            "delivery_latency_ms": {"p50": self.ms(0.5), "p95": self.ms(0.95), "p99": self.ms(0.99),
                                     "max": self.latency.max() as f64 / 1000.0},
            "first_delivery_ms": {"p50": quantile_ms(&self.first_delivery, 0.5), "max": self.first_delivery.max() as f64 / 1000.0},
            "fanout_spread_ms": {"p50": quantile_ms(&self.spread, 0.5), "max": self.spread.max() as f64 / 1000.0},
        })
    }
}

fn quantile_ms(histogram: &Histogram<u64>, q: f64) -> f64 {
    histogram.value_at_quantile(q) as f64 / 1000.0
}

fn micros_histogram() -> Histogram<u64> {
    Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("static histogram bounds are valid")
}

async fn subscribe(
    url: String,
    token: String,
    gate: Arc<tokio::sync::Semaphore>,
    ready: tokio::sync::mpsc::Sender<()>,
    stop: tokio::sync::watch::Receiver<Option<BTreeSet<u64>>>,
    deadline: Instant,
) -> Result<Vec<(u64, Instant)>, String> {
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    request.headers_mut().insert("Authorization", format!("Bearer {token}").parse().map_err(|_| "header")?);
    let permit = gate.acquire().await.map_err(|e| e.to_string())?;
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.map_err(|e| e.to_string())?;
    drop(permit);
    let mut arrivals = Vec::new();
    let mut seen = BTreeSet::new();
    let mut announced = false;
    loop {
        // Done once the writers have finished and every accepted seq has arrived.
        if let Some(expected) = stop.borrow().as_ref() {
            if expected.is_subset(&seen) {
                break;
            }
        }
        let wait = deadline.saturating_duration_since(Instant::now()).min(Duration::from_millis(200));
        if wait.is_zero() {
            break;
        }
        let frame = match tokio::time::timeout(wait, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(_))) | Err(_) => continue,
            Ok(Some(Err(e))) => return Err(e.to_string()),
            Ok(None) => break,
        };
        let now = Instant::now();
        let value: Value = serde_json::from_str(frame.as_str()).map_err(|e| e.to_string())?;
        match value["type"].as_str() {
            Some("snapshot") if !announced => {
                announced = true;
                let _ = ready.send(()).await;
            }
            Some("update") => {
                let seq = value["seq"].as_u64().unwrap_or(0);
                seen.insert(seq);
                arrivals.push((seq, now));
            }
            // Under load the object combines consecutive updates into one frame: each counts as delivered now.
            Some("updates") => {
                for update in value["updates"].as_array().into_iter().flatten() {
                    let seq = update["seq"].as_u64().unwrap_or(0);
                    seen.insert(seq);
                    arrivals.push((seq, now));
                }
            }
            _ => {}
        }
    }
    let _ = socket.close(None).await;
    Ok(arrivals)
}

/// How the writers post.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// Each writer waits for its reply, then this long, then posts again (closed model).
    Closed(Duration),
    /// Each writer starts this many updates a second on schedule, whatever their latency (open model): an update
    /// that starts late counts the wait in its delivery latency, so a server that falls behind shows it.
    Open(f64),
}

/// One writer's rising scores at `pace` for `duration`: the `seq` each reply names with the time its update was
/// due, and the writes' latencies.
async fn write(
    client: Client,
    writer: User,
    competition: Uuid,
    pace: Pace,
    started: Instant,
    duration: Duration,
) -> (Vec<(u64, Instant)>, Recorder) {
    // One update due at `due`: its outcome, the `seq` its reply names, and its latency counted from `due`.
    let post = |mut client: Client, score: u64, due: Instant| {
        let token = writer.token.clone();
        async move {
            let body = json!({"competition_id": competition, "score": score}).to_string();
            let answer = client.send(Method::POST, "/api/v1/leaderboard/update", Some(&token), Some(body)).await;
            let latency = due.elapsed();
            let seq = (answer.outcome == Outcome::Status(200))
                .then(|| serde_json::from_slice::<Value>(&answer.body).ok()?["seq"].as_u64())
                .flatten();
            (answer.outcome, latency, seq, due)
        }
    };
    let mut sent = Vec::new();
    let mut recorder = Recorder::default();
    let mut score = 0u64;
    match pace {
        Pace::Closed(interval) => {
            while started.elapsed() < duration {
                score += 10;
                let (outcome, latency, seq, due) = post(client.clone(), score, Instant::now()).await;
                recorder.record("update", outcome, latency, started.elapsed());
                sent.extend(seq.map(|seq| (seq, due)));
                tokio::time::sleep(interval).await;
            }
        }
        Pace::Open(rate) => {
            let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
            let mut in_flight = tokio::task::JoinSet::new();
            let mut due = started;
            while due < started + duration {
                tokio::time::sleep_until(due.into()).await;
                score += 10;
                in_flight.spawn(post(client.clone(), score, due));
                due += period;
            }
            while let Some(done) = in_flight.join_next().await {
                if let Ok((outcome, latency, seq, due)) = done {
                    recorder.record("update", outcome, latency, started.elapsed());
                    sent.extend(seq.map(|seq| (seq, due)));
                }
            }
        }
    }
    (sent, recorder)
}

/// Runs the fan-out: connects `subscribers`, then `writers` post rising scores at `pace` for `duration`.
pub async fn run(
    client: &Client,
    base: &str,
    competition: Uuid,
    subscribers: &[User],
    writers: &[User],
    pace: Pace,
    duration: Duration,
) -> Fanout {
    let url = format!("{}/api/v1/competitions/{competition}/live", base.replacen("http", "ws", 1));
    // Time to connect (a minute, plus 10 ms a subscriber), to write, and 30 s for the last deliveries.
    let connect_budget = Duration::from_secs(60) + Duration::from_millis(10) * subscribers.len() as u32;
    let deadline = Instant::now() + connect_budget + duration + Duration::from_secs(30);
    let gate = Arc::new(tokio::sync::Semaphore::new(100));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(subscribers.len().max(1));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(None);
    let tasks: Vec<_> = subscribers
        .iter()
        .map(|user| {
            let task =
                subscribe(url.clone(), user.token.clone(), gate.clone(), ready_tx.clone(), stop_rx.clone(), deadline);
            tokio::spawn(task)
        })
        .collect();
    drop(ready_tx);
    let mut connected = 0;
    while connected < subscribers.len() {
        match tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), ready_rx.recv()).await {
            Ok(Some(())) => connected += 1,
            _ => break,
        }
    }

    // Writers: each posts its own rising score; the reply's seq names the update the sockets will see.
    let started = Instant::now();
    let writer_tasks: Vec<_> = writers
        .iter()
        .map(|writer| tokio::spawn(write(client.clone(), writer.clone(), competition, pace, started, duration)))
        .collect();
    let mut sent_at = BTreeMap::new();
    let mut writes = Recorder::default();
    for task in writer_tasks {
        if let Ok((sent, recorder)) = task.await {
            sent_at.extend(sent);
            writes.merge(&recorder);
        }
    }
    let _ = stop_tx.send(Some(sent_at.keys().copied().collect()));

    let mut latency = micros_histogram();
    let mut window: BTreeMap<u64, (Instant, Instant)> = BTreeMap::new();
    let (mut delivered, mut complete) = (0u64, 0usize);
    for task in tasks {
        let Ok(Ok(arrivals)) = task.await else { continue };
        let mut got = BTreeSet::new();
        for (seq, at) in arrivals {
            if let Some(sent) = sent_at.get(&seq) {
                latency.saturating_record(at.saturating_duration_since(*sent).as_micros().max(1) as u64);
                delivered += u64::from(got.insert(seq));
                let span = window.entry(seq).or_insert((at, at));
                span.0 = span.0.min(at);
                span.1 = span.1.max(at);
            }
        }
        complete += usize::from(got.len() == sent_at.len());
    }
    let (mut first_delivery, mut spread) = (micros_histogram(), micros_histogram());
    for (seq, (first, last)) in &window {
        if let Some(sent) = sent_at.get(seq) {
            first_delivery.saturating_record(first.saturating_duration_since(*sent).as_micros().max(1) as u64);
        }
        spread.saturating_record(last.saturating_duration_since(*first).as_micros().max(1) as u64);
    }
    Fanout {
        first_delivery,
        spread,
        connected,
        updates: sent_at.len(),
        delivered,
        expected: sent_at.len() as u64 * connected as u64,
        complete,
        latency,
        writes,
    }
}
