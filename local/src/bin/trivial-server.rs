//! The smallest HTTP server: `200 ok` on every path. `scripts/bench-load` points both `wrk` and the load tool at it,
//! so the comparison measures the tools, not the server.

use axum::Router;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listen = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("{}", listener.local_addr()?);
    axum::serve(listener, Router::new().fallback(|| async { "ok" })).await?;
    Ok(())
}
