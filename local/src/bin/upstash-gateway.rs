//! Local stand-in for Upstash Redis's REST API (never deployed), in front of the local `redis-server`.

use std::sync::Arc;

use clap::Parser;
use local::upstash::{router, Gateway};

/// Upstash's REST protocol for local development and tests.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8079")]
    listen: String,
    /// The Redis server behind the gateway.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6390")]
    redis_url: String,
    /// The token clients send as `Authorization: Bearer …`.
    #[arg(long, env = "UPSTASH_REDIS_REST_TOKEN")]
    token: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args = Args::parse();
    let gateway = Arc::new(Gateway::new(&args.redis_url, &args.token)?);
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    eprintln!("upstash-gateway listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router(gateway)).await?;
    Ok(())
}
