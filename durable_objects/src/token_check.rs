//! How a live socket's `auth` frame is checked: with the Worker's verifier, reached through the link it installs at
//! start-up (`worker_link`; the JWT rules and key sources live in the Worker crate, which depends on this one).
//! Without it, every refresh is refused and sockets close when their first token expires.

use std::future::Future;
use std::pin::Pin;

use uuid::Uuid;
use worker::Env;

/// A verification in flight: the token's user and expiry (seconds since the epoch), or why it is refused.
pub type Verification<'a> = Pin<Box<dyn Future<Output = Result<(Uuid, i64), String>> + 'a>>;

/// Verifies a bearer token with the object's environment (settings and key sources).
pub type Verifier = for<'a> fn(&'a Env, String) -> Verification<'a>;
