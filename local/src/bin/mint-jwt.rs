//! Prints a Supabase-style access token signed with the local JWT secret.
//!
//! `cargo run -q -p local --bin mint-jwt -- --role authenticated` (a fresh user id unless `--sub` is given).

use clap::Parser;

#[derive(Parser)]
#[command(about = "Mint an HS256 Supabase access token for local use")]
struct Args {
    /// User id (UUID); a random one when omitted.
    #[arg(long)]
    sub: Option<String>,
    /// `authenticated` or `service_role`.
    #[arg(long, default_value = "authenticated")]
    role: String,
    /// Signing secret; defaults to SUPABASE_JWT_SECRET, then the local default.
    #[arg(
        long,
        env = "SUPABASE_JWT_SECRET",
        default_value = "super-secret-jwt-token-with-at-least-32-characters-long"
    )]
    secret: String,
    /// Audience claim.
    #[arg(long, default_value = "authenticated")]
    aud: String,
    /// Issuer claim (needed when the Worker sets JWT_ISSUER).
    #[arg(long, env = "JWT_ISSUER")]
    iss: Option<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl: i64,
}

fn main() {
    let args = Args::parse();
    let sub = args.sub.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut claims = local::token::access_claims(&sub, &args.role, &args.aud, local::token::now(), args.ttl);
    if let Some(iss) = args.iss.filter(|iss| !iss.is_empty()) {
        claims["iss"] = iss.into();
    }
    println!("{}", local::token::sign(args.secret.as_bytes(), &claims));
}
