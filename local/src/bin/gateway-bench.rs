//! Latency of one call through each local gateway versus the same work sent straight to Postgres / Redis, on the
//! same machine, sequentially (one request in flight), so the numbers are per-call overhead, not throughput.
//!
//! The PostgREST comparison does what the gateway does per request — a transaction with `SET LOCAL ROLE` and
//! `request.jwt.claims`, then the query — so the difference is the HTTP hop, JWT verification and JSON shaping.

use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use local::token::{access_claims, now, sign};

/// Options.
#[derive(Parser)]
struct Args {
    /// Base URL of the PostgREST gateway (without /rest/v1).
    #[arg(long)]
    postgrest: String,
    /// Base URL of the Upstash gateway.
    #[arg(long)]
    upstash: String,
    /// Postgres URL, connecting as `authenticator`.
    #[arg(long)]
    database_url: String,
    /// Redis URL.
    #[arg(long)]
    redis_url: String,
    /// HS256 secret of the gateway's JWTs.
    #[arg(long, env = "SUPABASE_JWT_SECRET")]
    jwt_secret: String,
    /// Upstash token.
    #[arg(long, env = "UPSTASH_REDIS_REST_TOKEN")]
    upstash_token: String,
    /// Calls per measurement (after 10% warm-up).
    #[arg(long, default_value_t = 2000)]
    calls: u32,
}

fn record(name: &str, calls: u32, mut call: impl FnMut()) -> (f64, f64) {
    for _ in 0..calls / 10 {
        call();
    }
    let mut histogram = Histogram::<u64>::new(3).expect("histogram");
    for _ in 0..calls {
        let started = Instant::now();
        call();
        histogram.record(started.elapsed().as_micros() as u64).expect("record");
    }
    let (p50, p99) =
        (histogram.value_at_quantile(0.5) as f64 / 1000.0, histogram.value_at_quantile(0.99) as f64 / 1000.0);
    println!("{name:<44} p50 {p50:>7.3} ms   p99 {p99:>7.3} ms   ({calls} calls)");
    (p50, p99)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let claims = access_claims("00000000-0000-4000-8000-0000000000b1", "authenticated", "authenticated", now(), 3600);
    let token = sign(args.jwt_secret.as_bytes(), &claims);
    let claims_text = claims.to_string();
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build();

    // PostgREST: one row of competitions, as a user.
    let url = format!("{}/rest/v1/competitions?select=id,name&limit=1", args.postgrest);
    let auth = format!("Bearer {token}");
    // Blocking HTTP on the runtime's only thread is fine here: nothing else runs while the gateways are measured.
    let via_gateway = record("postgrest gateway: GET competitions limit 1", args.calls, || {
        let response = agent.get(&url).set("Authorization", &auth).call().expect("gateway");
        let _ = response.into_string();
    });
    let (mut client, connection) = tokio_postgres::connect(&args.database_url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let mut samples = Vec::with_capacity(args.calls as usize);
    for i in 0..args.calls + args.calls / 10 {
        let started = Instant::now();
        let tx = client.transaction().await?;
        tx.batch_execute("SET LOCAL ROLE authenticated").await?;
        tx.execute("SELECT set_config('request.jwt.claims', $1, true)", &[&claims_text]).await?;
        tx.query("SELECT id, name FROM public.competitions LIMIT 1", &[]).await?;
        tx.commit().await?;
        if i >= args.calls / 10 {
            samples.push(started.elapsed().as_micros() as u64);
        }
    }
    let direct_pg = summarize("postgres direct: same transaction, same query", &samples);

    // Upstash: GET of one key.
    let upstash = format!("{}/", args.upstash);
    let upstash_auth = format!("Bearer {}", args.upstash_token);
    let via_upstash = record("upstash gateway: [\"GET\", key]", args.calls, || {
        let response = agent
            .post(&upstash)
            .set("Authorization", &upstash_auth)
            .send_string(r#"["GET","bench:key"]"#)
            .expect("gateway");
        let _ = response.into_string();
    });
    let redis = redis::Client::open(args.redis_url.as_str())?;
    let mut connection = redis.get_multiplexed_async_connection().await?;
    let mut samples = Vec::with_capacity(args.calls as usize);
    for i in 0..args.calls + args.calls / 10 {
        let started = Instant::now();
        let _: Option<String> = redis::cmd("GET").arg("bench:key").query_async(&mut connection).await?;
        if i >= args.calls / 10 {
            samples.push(started.elapsed().as_micros() as u64);
        }
    }
    let direct_redis = summarize("redis direct: GET key", &samples);
    println!(
        "gateway overhead p50: postgrest +{:.3} ms, upstash +{:.3} ms",
        via_gateway.0 - direct_pg.0,
        via_upstash.0 - direct_redis.0
    );
    Ok(())
}

fn summarize(name: &str, samples: &[u64]) -> (f64, f64) {
    let mut histogram = Histogram::<u64>::new(3).expect("histogram");
    for sample in samples {
        histogram.record(*sample).expect("record");
    }
    let (p50, p99) =
        (histogram.value_at_quantile(0.5) as f64 / 1000.0, histogram.value_at_quantile(0.99) as f64 / 1000.0);
    println!("{name:<44} p50 {p50:>7.3} ms   p99 {p99:>7.3} ms   ({} calls)", samples.len());
    (p50, p99)
}
