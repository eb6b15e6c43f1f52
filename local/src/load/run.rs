//! HTTP mode: `concurrency` workers, started over the ramp-up, each sending one request at a time for the next
//! virtual user with a scenario drawn from the mix, until the duration or the request cap is reached.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::Method;
use serde_json::json;
use uuid::Uuid;

use super::client::Client;
use super::mix::{Mix, Scenario};
use super::setup::User;
use super::stats::Recorder;

/// Everything the workers share.
pub struct Plan {
    /// The client.
    pub client: Client,
    /// Scenario weights.
    pub mix: Mix,
    /// Virtual users.
    pub users: Vec<User>,
    /// Each user's last score (updates keep rising).
    pub scores: Vec<AtomicU64>,
    /// The competition of the competition scenarios.
    pub competition: Option<Uuid>,
    /// Request paths that never change, built once (`page`, `around`).
    pub paths: FixedPaths,
    /// Requests at most.
    pub cap: u64,
    /// How long to run.
    pub duration: Duration,
    /// Over how long workers start.
    pub ramp_up: Duration,
}

/// Paths built once per run rather than per request.
#[derive(Debug, Clone, Default)]
pub struct FixedPaths {
    page: String,
    around: String,
    competition: String,
}

impl FixedPaths {
    /// The paths for `competition`.
    pub fn new(competition: Option<Uuid>) -> Self {
        let id = competition.map(|c| c.to_string()).unwrap_or_default();
        Self {
            page: format!("/api/v1/leaderboard/{id}?limit=50"),
            around: format!("/api/v1/leaderboard/{id}/me?around=5"),
            competition: id,
        }
    }
}

/// A fast, seedable generator for scenario draws (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// The request of `scenario` for `user` (`user_index` finds its score).
fn request<'a>(
    plan: &'a Plan,
    scenario: Scenario,
    user_index: usize,
    rng: &mut Rng,
) -> (Method, &'a str, Option<String>) {
    match scenario {
        Scenario::Page => (Method::GET, &plan.paths.page, None),
        Scenario::Around => (Method::GET, &plan.paths.around, None),
        Scenario::Me => (Method::GET, "/api/v1/me", None),
        Scenario::List => (Method::GET, "/api/v1/competitions", None),
        Scenario::Live => (Method::GET, "/health/live", None),
        Scenario::Update => {
            let score = plan.scores[user_index].fetch_add(1 + rng.next() % 20, Ordering::Relaxed) + 1;
            let body = json!({"competition_id": plan.paths.competition, "score": score});
            (Method::POST, "/api/v1/leaderboard/update", Some(body.to_string()))
        }
        Scenario::Sync => {
            let today = &crate::time::rfc3339(crate::token::now())[..10];
            let body = json!({"source": "manual", "samples": [{"date": today, "steps": 1000 + rng.next() % 5000}]});
            (Method::POST, "/api/v1/fitness/sync", Some(body.to_string()))
        }
    }
}

/// Runs the plan in the open model: request `i` is due at `i / rate` seconds and starts then whatever earlier
/// requests are doing (at most `concurrency` in flight: past that a start waits for a free slot). Latency is
/// measured from when the request was due, so a late start counts against the service, not the schedule (no
/// coordinated omission).
pub async fn run_at_rate(plan: Arc<Plan>, rate: f64, concurrency: usize, progress: bool) -> (Recorder, Duration) {
    let started = tokio::time::Instant::now();
    let slots = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let recorder = Arc::new(std::sync::Mutex::new(Recorder::default()));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut tasks = tokio::task::JoinSet::new();
    let mut last_report = started;
    let mut n: u64 = 0;
    while n < plan.cap {
        let due = started + Duration::from_secs_f64(n as f64 / rate);
        if due.duration_since(started) >= plan.duration {
            break;
        }
        tokio::time::sleep_until(due).await;
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { break };
        let user_index = (n % plan.users.len() as u64) as usize;
        let scenario = plan.mix.pick(rng.next());
        let (method, path, body) = request(&plan, scenario, user_index, &mut rng);
        let (method, path) = (method, path.to_owned());
        let (plan, recorder) = (Arc::clone(&plan), Arc::clone(&recorder));
        tasks.spawn(async move {
            let token = (scenario != Scenario::Live).then_some(plan.users[user_index].token.as_str());
            let answer = plan.client.clone().send(method, &path, token, body).await;
            let latency = tokio::time::Instant::now().duration_since(due);
            let at = due.duration_since(started);
            if let Ok(mut recorder) = recorder.lock() {
                recorder.record(scenario.name(), answer.outcome, latency.max(answer.latency), at);
            }
            drop(slot);
        });
        while tasks.try_join_next().is_some() {}
        n += 1;
        if progress && last_report.elapsed() >= Duration::from_secs(1) {
            last_report = tokio::time::Instant::now();
            eprint!("\r{:>6.1} s  {n:>9} requests started ({rate} a second)   ", started.elapsed().as_secs_f64());
        }
    }
    while tasks.join_next().await.is_some() {}
    if progress {
        eprintln!();
    }
    let elapsed = started.elapsed();
    let total = recorder.lock().map(|r| r.clone()).unwrap_or_default();
    (total, elapsed)
}

/// Runs the plan with `concurrency` workers; returns the measurements and the time the run took.
pub async fn run(plan: Arc<Plan>, concurrency: usize, progress: bool) -> (Recorder, Duration) {
    let started = Instant::now();
    let sent = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let reporter = progress.then(|| {
        let (sent, done) = (Arc::clone(&sent), Arc::clone(&done));
        tokio::spawn(async move {
            let mut last = 0;
            while !done.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let now = sent.load(Ordering::Relaxed);
                eprint!("\r{:>6.1} s  {now:>9} requests  {:>8} req/s   ", started.elapsed().as_secs_f64(), now - last);
                last = now;
            }
            eprintln!();
        })
    });
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (plan, sent) = (Arc::clone(&plan), Arc::clone(&sent));
            tokio::spawn(async move {
                let delay = plan.ramp_up.mul_f64(worker as f64 / concurrency as f64);
                tokio::time::sleep(delay).await;
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((worker as u64 + 1) << 17));
                let mut recorder = Recorder::default();
                let mut client = plan.client.clone();
                loop {
                    let n = sent.fetch_add(1, Ordering::Relaxed);
                    if n >= plan.cap || started.elapsed() >= plan.duration {
                        break;
                    }
                    let user_index = (n % plan.users.len() as u64) as usize;
                    let scenario = plan.mix.pick(rng.next());
                    let (method, path, body) = request(&plan, scenario, user_index, &mut rng);
                    let token = (scenario != Scenario::Live).then_some(plan.users[user_index].token.as_str());
                    let answer = client.send(method, path, token, body).await;
                    recorder.record(scenario.name(), answer.outcome, answer.latency, started.elapsed());
                }
                recorder
            })
        })
        .collect();
    let mut total = Recorder::default();
    for worker in workers {
        if let Ok(recorder) = worker.await {
            total.merge(&recorder);
        }
    }
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    if let Some(reporter) = reporter {
        let _ = reporter.await;
    }
    (total, elapsed)
}
