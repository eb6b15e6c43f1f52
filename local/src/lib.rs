//! Local-only development tools. Nothing here is deployed: token minting, the fan-out benchmark, and the gateways
//! that make the local Postgres and Redis speak Supabase PostgREST's and Upstash's HTTP protocols.

pub mod load;
pub mod postgrest;
pub mod time;
pub mod token;
pub mod upstash;
