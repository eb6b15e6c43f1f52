//! Local stand-in for Supabase PostgREST (never deployed): serves `/rest/v1` in front of the local Postgres.

use std::sync::Arc;

use clap::Parser;
use local::postgrest::{router, Gateway};

/// The PostgREST subset the Worker uses, with PostgREST's semantics, for local development and tests.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:54321")]
    listen: String,
    /// Postgres URL; connect as the `authenticator` role, as PostgREST does.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// HS256 secret the JWTs are signed with (Supabase's JWT secret).
    #[arg(long, env = "SUPABASE_JWT_SECRET")]
    jwt_secret: String,
    /// JWKS file whose ES256/RS256 public keys are trusted too (and served at /auth/v1/.well-known/jwks.json).
    #[arg(long, env = "JWKS_FILE")]
    jwks_file: Option<std::path::PathBuf>,
    /// Supabase-style secret API key (`sb_secret_…`), accepted in `apikey` as `service_role`.
    #[arg(long, env = "SUPABASE_SECRET_KEY")]
    secret_key: Option<String>,
    /// Supabase-style publishable API key (`sb_publishable_…`), accepted in `apikey` as the anonymous role.
    #[arg(long, env = "SUPABASE_PUBLISHABLE_KEY")]
    publishable_key: Option<String>,
    /// Role used when the token has no `role` claim.
    #[arg(long, default_value = "anon")]
    anon_role: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args = Args::parse();
    let keys = local::postgrest::auth::ApiKeys { secret: args.secret_key, publishable: args.publishable_key };
    let mut gateway =
        Gateway::new(&args.database_url, args.jwt_secret.as_bytes(), &args.anon_role)?.with_api_keys(keys);
    if let Some(path) = args.jwks_file {
        gateway = gateway.with_jwks_file(path);
    }
    let gateway = Arc::new(gateway);
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    eprintln!("postgrest-gateway listening on http://{}/rest/v1", listener.local_addr()?);
    axum::serve(listener, router(gateway)).await?;
    Ok(())
}
