//! How a live socket's `auth` frame is checked: the Worker installs its token verifier at start-up (the JWT rules
//! and key sources live in the Worker crate, which depends on this one, so the dependency is inverted here, as for
//! the system of record). Without one, every refresh is refused and sockets close when their first token expires.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;

use uuid::Uuid;
use worker::Env;

/// A verification in flight: the token's user and expiry (seconds since the epoch), or why it is refused.
pub type Verification<'a> = Pin<Box<dyn Future<Output = Result<(Uuid, i64), String>> + 'a>>;

/// Verifies a bearer token with the object's environment (settings and key sources).
pub type Verifier = for<'a> fn(&'a Env, String) -> Verification<'a>;

thread_local! {
    static VERIFIER: Cell<Option<Verifier>> = const { Cell::new(None) };
}

/// Installs the verifier (the Worker's start event does this once per isolate).
pub fn install(verifier: Verifier) {
    VERIFIER.with(|slot| slot.set(Some(verifier)));
}

/// Verifies `token`: its user and expiry, or why not.
pub async fn verify(env: &Env, token: String) -> Result<(Uuid, i64), String> {
    let verifier = VERIFIER.with(Cell::get).ok_or("no token verifier installed")?;
    verifier(env, token).await
}
