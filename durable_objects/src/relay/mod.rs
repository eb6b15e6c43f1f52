//! The Relay Durable Object: serves a share of one competition's live sockets (the Worker assigns users to relays,
//! `standings::relay::relay_of`), so a large audience's send passes run on several objects while the competition
//! object does one subrequest per batch and relay. It joins its competition on its first subscriber, takes each
//! published batch (`RelayRequest::Publish`), sends it to its sockets in `seq` order once, fills gaps from the
//! competition's kept frames, and answers `resume` from its own ring (older resumes, and snapshots, from the
//! competition). A relay that has had no socket for `RELAY_LEAVE_AFTER_MS` answers the next batch by leaving, so
//! the competition stops paying a subrequest per batch for it; its next subscriber joins it again. Its place in the
//! stream (`through`) is stored, so a relay that wakes from hibernation with its sockets still open carries on where
//! it was; what it held only in memory a client gets back by resuming.

mod rpc;
mod sockets;
mod stream;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use uuid::Uuid;
use worker::{
    durable_object, DurableObject, Env, Method, Request, Response, Result, SqlStorage, SqlStorageValue, State,
    WebSocket, WebSocketIncomingMessage,
};

use crate::clock::now_ms;
use crate::object_call;
use crate::replies::{error, error_response, Reply};
use crate::subscribers::{self, Subscribers};
use standings::live::PendingFrame;
use standings::object_config::ObjectConfig;
use standings::object_error::ErrorCode;
use standings::protocol::PATH_LIVE;
use standings::relay::{leaves, Published, RelayLine, RelayRequest, COMPETITION_BINDING};
use standings::requests::ObjectRequest;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS relay_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);";
/// `relay_meta` keys.
const KEY_COMPETITION: &str = "competition";
const KEY_NAME: &str = "name";
const KEY_THROUGH: &str = "through";
const KEY_REPORTED_SOCKETS: &str = "reported_sockets";
const KEY_EPOCH: &str = "epoch";
const KEY_FINISHED: &str = "finished";

/// The Durable Object class bound as `RELAY` in `wrangler.toml`.
#[durable_object]
pub struct Relay {
    /// Shared with the operations in flight (`order_future`), which may outlive the call that started them.
    inner: std::result::Result<Rc<RelayState>, String>,
}

/// A relay once its storage is open.
struct RelayState {
    state: State,
    env: Env,
    sql: SqlStorage,
    config: ObjectConfig,
    /// The competition served and this relay's own name (from the first upgrade, then from storage).
    competition: RefCell<Option<(Uuid, String)>>,
    /// Whether the competition was told about this relay in this life of the object (and it has not left since).
    joined: Cell<bool>,
    /// The number of this relay's latest join (stored, so it grows across lives).
    epoch: Cell<u64>,
    /// Since when no socket has been open (`None` while one is).
    idle_since: Cell<Option<i64>>,
    /// Where the relay stands in the competition's stream.
    line: RefCell<RelayLine>,
    /// Operations (a subscribe, a resume) that send a socket frames of their own: while any runs, published
    /// frames wait in `held`, so no socket sees a frame twice or out of order.
    holds: Cell<u32>,
    held: RefCell<Vec<PendingFrame>>,
    /// Whether a gap is being filled.
    filling: Cell<bool>,
    /// How long the next batch waits before it is taken (a relay that is slow to answer; test builds).
    #[cfg(feature = "test-routes")]
    stall_next_ms: Cell<u64>,
    /// The live sockets: how many are open (and last reported), their frame budgets, numbers and token expiry.
    subscribers: Subscribers,
    /// When the alarm (token expiry) is known to be set for.
    alarm_at: Cell<Option<i64>>,
    /// The competition's `finished` frame once the relay has seen it (stored: sockets that open or resume after the
    /// end get it too).
    finished: RefCell<Option<String>>,
}

#[derive(Deserialize)]
struct MetaRow {
    value: String,
}

fn rust_error(e: impl std::fmt::Display) -> worker::Error {
    worker::Error::RustError(e.to_string())
}

impl RelayState {
    fn open(state: State, env: Env) -> Result<Self> {
        let sql = state.storage().sql();
        sql.exec(SCHEMA, None)?;
        let config = ObjectConfig::from_lookup(|name| env.var(name).ok().map(|v| v.to_string()));
        let relay = Self {
            state,
            env,
            sql,
            config,
            competition: RefCell::new(None),
            joined: Cell::new(false),
            epoch: Cell::new(0),
            idle_since: Cell::new(None),
            line: RefCell::new(RelayLine::default()),
            holds: Cell::new(0),
            held: RefCell::new(Vec::new()),
            filling: Cell::new(false),
            #[cfg(feature = "test-routes")]
            stall_next_ms: Cell::new(0),
            subscribers: Subscribers::new(now_ms(), 0),
            alarm_at: Cell::new(None),
            finished: RefCell::new(None),
        };
        let competition = relay.meta(KEY_COMPETITION)?.and_then(|id| Uuid::try_parse(&id).ok());
        if let (Some(id), Some(name)) = (competition, relay.meta(KEY_NAME)?) {
            *relay.competition.borrow_mut() = Some((id, name));
        }
        let through = relay.meta(KEY_THROUGH)?.and_then(|t| t.parse().ok()).unwrap_or(0);
        *relay.line.borrow_mut() = RelayLine::starting_at(through);
        relay.epoch.set(relay.meta(KEY_EPOCH)?.and_then(|t| t.parse().ok()).unwrap_or(0));
        let reported = relay.meta(KEY_REPORTED_SOCKETS)?.and_then(|t| t.parse().ok()).unwrap_or(0);
        *relay.finished.borrow_mut() = relay.meta(KEY_FINISHED)?;
        Ok(Self { subscribers: Subscribers::new(now_ms(), reported), ..relay })
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        let rows: Vec<MetaRow> =
            self.sql.exec("SELECT value FROM relay_meta WHERE key = ?1", vec![key.to_owned().into()])?.to_array()?;
        Ok(rows.into_iter().next().map(|row| row.value))
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.sql.exec(
            "INSERT INTO relay_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            vec![SqlStorageValue::from(key.to_owned()), value.to_owned().into()],
        )?;
        Ok(())
    }

    /// Stores `through`, so a wake with sockets still open continues from it.
    fn save_through(&self) {
        let through = self.line.borrow().through();
        if let Err(e) = self.set_meta(KEY_THROUGH, &through.to_string()) {
            worker::console_error!("relay position not stored (a wake would resume sockets from snapshots): {e}");
        }
    }

    /// Remembers the competition and this relay's name from an upgrade, once.
    fn remember(&self, competition: Uuid, name: String) -> Result<()> {
        if self.competition.borrow().as_ref().is_some_and(|(id, _)| *id == competition) {
            return Ok(());
        }
        self.set_meta(KEY_COMPETITION, &competition.to_string())?;
        self.set_meta(KEY_NAME, &name)?;
        *self.competition.borrow_mut() = Some((competition, name));
        Ok(())
    }

    /// Sends one operation to the competition object and reads its reply.
    async fn ask<T: DeserializeOwned>(&self, request: &ObjectRequest) -> Result<T> {
        let body = self.send_to_competition(request).await?;
        serde_json::from_slice(&body).map_err(rust_error)
    }

    async fn send_to_competition(&self, request: &ObjectRequest) -> Result<Vec<u8>> {
        let competition = self.competition.borrow().as_ref().map(|(id, _)| *id);
        let competition = competition.ok_or_else(|| rust_error("the relay has not been told its competition"))?;
        let within_ms = self.config.call_within_ms;
        object_call::post(&self.env, COMPETITION_BINDING, &competition.to_string(), request.name(), request, within_ms)
            .await
    }

    /// Tells the competition about this relay once per life and after each leave (it stores the name; repeats are
    /// harmless). The join's number is stored before it is sent, so it never repeats an earlier one.
    async fn join(&self) -> Result<()> {
        if self.joined.get() {
            return Ok(());
        }
        let name = self.competition.borrow().as_ref().map(|(_, name)| name.clone()).unwrap_or_default();
        let epoch = self.epoch.get() + 1;
        self.set_meta(KEY_EPOCH, &epoch.to_string())?;
        self.epoch.set(epoch);
        self.send_to_competition(&ObjectRequest::RelayJoin { name, epoch }).await?;
        self.joined.set(true);
        Ok(())
    }

    /// Whether this batch is answered by leaving (see `standings::relay::leaves`): then the relay joins again with
    /// its next subscriber. (The batch itself only moves the line: nobody is there to send it to.)
    fn leaving(&self) -> bool {
        let leaving = leaves(!self.unattended(), self.idle_since.get(), now_ms(), self.config.relay_leave_after_ms);
        if leaving {
            self.joined.set(false);
        }
        leaving
    }

    async fn handle(&self, request: RelayRequest) -> Result<Reply> {
        match request {
            RelayRequest::Publish { frames } => {
                #[cfg(feature = "test-routes")]
                {
                    let stall = self.stall_next_ms.replace(0);
                    if stall > 0 {
                        worker::Delay::from(std::time::Duration::from_millis(stall)).await;
                    }
                }
                let left = self.leaving().then(|| self.epoch.get());
                self.publish(frames).await;
                Reply::json(&Published { left })
            }
            #[cfg(feature = "test-routes")]
            RelayRequest::TestForget => {
                let through = self.line.borrow().through();
                self.line.borrow_mut().forget(through);
                self.joined.set(false);
                Reply::empty()
            }
            #[cfg(feature = "test-routes")]
            RelayRequest::TestCloseAll => {
                self.close_all(1012, "relay restarting");
                Reply::empty()
            }
            #[cfg(feature = "test-routes")]
            RelayRequest::TestStallNext { ms } => {
                self.stall_next_ms.set(ms);
                Reply::empty()
            }
        }
    }

    /// Makes sure the alarm runs by `at_ms` (a socket's token expiry).
    async fn ensure_alarm_by(&self, at_ms: i64) -> Result<()> {
        crate::alarm_slot::ensure_alarm_by(&self.state, &self.alarm_at, at_ms, now_ms()).await
    }
}

impl Relay {
    fn relay(&self) -> std::result::Result<&RelayState, &str> {
        self.inner.as_deref().map_err(String::as_str)
    }

    /// Runs one operation's JSON, whichever way it came (the competition's RPC call, or a `fetch`). The future holds
    /// its own handle on the relay, so an operation that waits can finish after the call that started it returned.
    fn order_future(&self, order: Vec<u8>) -> impl std::future::Future<Output = Result<Reply>> + 'static {
        let relay = self.inner.as_ref().map(Rc::clone).map_err(String::clone);
        async move {
            let relay = match relay {
                Ok(relay) => relay,
                Err(reason) => return unopened(&reason),
            };
            match RelayRequest::parse(&order) {
                Ok(request) => relay.handle(request).await,
                Err(e) => error(ErrorCode::BadRequest, format!("unknown or malformed relay operation: {e}")),
            }
        }
    }
}

/// The reply to any request while storage could not be opened (logged with why each time).
fn unopened(reason: &str) -> Result<Reply> {
    worker::console_error!("relay failed to open: {reason}");
    error(ErrorCode::DependencyUnavailable, "relay storage unavailable")
}

impl DurableObject for Relay {
    fn new(state: State, env: Env) -> Self {
        let inner = RelayState::open(state, env).map(Rc::new).map_err(|e| e.to_string());
        if let Ok(relay) = &inner {
            relay.count_sockets_on_wake();
        }
        Self { inner }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let relay = match self.relay() {
            Ok(relay) => relay,
            Err(reason) => return unopened(reason)?.into_response(),
        };
        if req.method() == Method::Get && req.path() == PATH_LIVE {
            return relay.subscribe(&req).await;
        }
        // The operations of objects whose calling code predates RPC, and the Worker's test routes.
        let body = req.bytes().await?;
        self.order_future(body).await?.into_response()
    }

    async fn alarm(&self) -> Result<Response> {
        if let Ok(relay) = self.relay() {
            relay.alarm_at.set(None);
            if let Some(next) = relay.subscribers.close_expired(&relay.state, now_ms()) {
                relay.ensure_alarm_by(next).await?;
            }
        }
        Response::empty()
    }

    async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> Result<()> {
        match (self.relay(), message) {
            (Ok(relay), WebSocketIncomingMessage::String(text)) => relay.on_message(&ws, &text).await,
            // The live protocol has no binary frames (the JS entry hands them over without their bytes), but each
            // is one of the client's frames: it counts against the socket's frame budget, and is then ignored.
            (Ok(relay), WebSocketIncomingMessage::Binary(_)) => relay.on_message(&ws, "").await,
            (Err(_), _) => ws.close(Some(1011), Some("relay unavailable")),
        }
    }

    async fn websocket_close(&self, ws: WebSocket, code: usize, _reason: String, _was_clean: bool) -> Result<()> {
        match self.relay() {
            Ok(relay) => {
                relay.subscribers.closed(&ws, code);
                relay.sockets_changed(-1);
            }
            Err(_) => subscribers::finish_close(&ws, code),
        }
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> Result<()> {
        let _ = ws.close(Some(1011), Some("socket error"));
        Ok(())
    }
}
