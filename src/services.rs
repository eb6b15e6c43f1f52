//! The isolate's services: its configuration, its breakers and the adapters built on them, made once from the
//! environment by the first event the isolate serves and shared by every later request and Competition object in it.
//!
//! This is the Worker's one global for wiring. workerd hands each event only its `Env`, and constructs Competition
//! objects itself, so something must carry what one event built to the next; everything else reaches the services
//! through the request context or these functions. (Memory caches — competition rows, verified tokens, the key set,
//! rate-limit leases, metric deltas, health results — stay with the module that owns their policy: they are state
//! of the isolate, not wiring, and each is documented where it lives.)

use std::cell::OnceCell;
use std::rc::Rc;

use worker::Env;

use crate::adapters::avatar_store::AvatarStore;
use crate::adapters::error::AdapterError;
use crate::adapters::guard::Breakers;
use crate::adapters::postgrest::Database;
use crate::adapters::upstash::Upstash;
use crate::config::{Config, ConfigError};

/// What the isolate built from its configuration.
pub struct Services {
    /// Typed settings.
    pub config: Config,
    /// One circuit breaker per dependency, shared by the adapters below.
    pub breakers: Rc<Breakers>,
    /// The PostgREST adapter.
    pub database: Database,
    /// The Upstash adapter.
    pub redis: Upstash,
}

impl Services {
    /// The services `config` describes, with closed breakers.
    pub fn build(config: Config) -> Self {
        let breakers = Rc::new(Breakers::new(config.breaker));
        let database = Database::new(
            config.supabase_url.as_str(),
            &config.supabase_anon_key,
            &config.supabase_service_role_key,
            config.postgrest_timeout_ms,
            Rc::clone(&breakers),
        );
        let redis = Upstash::new(
            config.upstash_url.as_str(),
            &config.upstash_token,
            config.upstash_timeout_ms,
            Rc::clone(&breakers),
        );
        Self { config, breakers, database, redis }
    }

    /// The avatar bucket bound in `env`, under the `storage` breaker and `STORAGE_TIMEOUT_MS` (a request's, through
    /// its context, and the cron trigger's).
    pub fn avatar_store(&'static self, env: &Env) -> Result<AvatarStore, AdapterError> {
        AvatarStore::open(env, &self.breakers, self.config.storage_timeout_ms)
    }
}

thread_local! {
    /// Built on first use and kept for the isolate's life (leaked once per isolate, so requests borrow it freely).
    static SERVICES: OnceCell<Result<&'static Services, ConfigError>> = const { OnceCell::new() };
}

/// The isolate's services, built from `env`'s settings and secrets on first use; a broken setting is an error
/// naming it, every time (the pipeline answers 500, liveness still answers).
pub fn of(env: &Env) -> Result<&'static Services, ConfigError> {
    SERVICES.with(|cell| {
        cell.get_or_init(|| {
            let config = Config::from_lookup(|name| {
                env.secret(name).map(|s| s.to_string()).or_else(|_| env.var(name).map(|v| v.to_string())).ok()
            })?;
            Ok(&*Box::leak(Box::new(Services::build(config))))
        })
        .clone()
    })
}
