//! The Competition Durable Object: one per competition, the single writer of its leaderboard.
//!
//! Thin glue around the [`Board`] (the standings and their rules), the [`ScoreStore`] and the live sockets: the board lives in memory,
//! rebuilt from SQLite when the object wakes; a change is written to SQLite first and applied to the board after,
//! with no `await` in between, so requests cannot interleave inside a read-modify-write and a failed write changes
//! nothing. Subscribers are hibernatable WebSockets tagged with their user id.

mod alarm;
mod final_totals;
mod instances;
mod member_changes;
mod reads;
mod relays;
mod rpc;
mod sockets;
mod start;
#[cfg(feature = "test-routes")]
mod test_routes;
mod writes;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use uuid::Uuid;
use worker::{
    durable_object, DurableObject, Env, Method, Request, Response, Result, State, WebSocket, WebSocketIncomingMessage,
};

use crate::broadcast;
use crate::clock::now_ms;
use crate::fanout::Fanout;
use crate::relay_link::RelayLinks;
use crate::replies::{error, to_text, Reply};
use crate::score_store::{ScoreStore, StoreError};
use crate::subscribers::{self, Admitted, Subscribers, Upgrade};
use crate::system_of_record::CompetitionSink;
use crate::telemetry::ObjectMetric;
use crate::worker_link;
use standings::board::{Board, WriteError, Written};
use standings::engine::{Cursor, Entry, Leaderboard};
use standings::finish::{self, CancelOutcome};
use standings::live::{self, Resume};
use standings::object_config::ObjectConfig;
use standings::object_error::{ErrorCode, ObjectError};
use standings::outbox::{self, DeliveryError, Drained, OutboxRow, OutboxSink, OutboxStore};
use standings::protocol::{
    self, percentile, Announced, Around, BoardEntry, ClientFrame, CompetitionMeta, Disqualified, Disqualify, Forget,
    FramesAt, ObjectStats, OutboxReport, OutboxRetried, Page, PageAt, Person, Prizes, PublicEntry, Repair, RosterAdd,
    ScoreWrite, ScoreWriteReply, ServerFrame, Settings, SnapshotAt, Standing, UpdateFrame, WriteOutcome, PATH_LIVE,
    PONG_TEXT,
};
use standings::requests::{MAX_AROUND, MAX_BATCH_WRITES, MAX_PAGE_LIMIT};
use standings::stored_rows::CorruptRow;

/// Rows in a snapshot frame.
pub const SNAPSHOT_TOP: usize = 10;

/// Delay between an accepted change and the outbox delivery, so bursts travel in one batch.
pub const OUTBOX_DELAY_MS: u64 = 1_000;

/// Stands in when no sink can be built (none installed, bad settings, or the competition id is not yet known):
/// deliveries fail with the reason, rows wait in the outbox and the alarm backs off; nothing is lost.
struct Undeliverable(String);

impl OutboxSink for Undeliverable {
    async fn deliver(&self, rows: &[OutboxRow]) -> std::result::Result<(), DeliveryError> {
        Err(DeliveryError::transient(format!("{}; {} rows wait in the outbox", self.0, rows.len())))
    }
}

/// The board and its storage, once loaded.
struct Loaded {
    state: State,
    env: Env,
    store: ScoreStore,
    /// The standings with their rules, the competition's settings once the Worker has sent them (writes are refused
    /// until then), and whether the standings are final.
    board: RefCell<Board>,
    /// Stored member rows the last load could not restore (reported by stats until repaired).
    corrupt_rows: RefCell<Vec<CorruptRow>>,
    /// How long the rebuild from SQLite took, and how many members it loaded (for operators and benchmarks).
    rebuild_ms: f64,
    rebuilt_members: u64,
    /// When the object's one alarm is known to be set for (epoch ms); `None` when unknown (read it from storage).
    alarm_at: Cell<Option<i64>>,
    /// When the member changes were last read from the system of record (epoch ms; 0 since the wake).
    changes_checked_at: Cell<i64>,
    /// Whether a read of the board asked the alarm to read the member changes.
    changes_wanted: Cell<bool>,
    /// When the members' totals at the start are due, while they are (a copy of the stored flag with the start, so
    /// that every operation can tell cheaply whether to write them first: `settle_if_due`).
    start_totals_at: Cell<Option<i64>>,
    /// Where the start's totals go on after a failed read: the page not yet written (those before it stay written,
    /// each total with its days version), so a large competition's pass is not started over by every failure. In
    /// memory only: an object woken again starts over, which is as correct, only slower.
    start_totals_from: Cell<Option<Uuid>>,
    /// The start totals or final standings being settled by one operation while the others wait (`settle_if_due`).
    settling: crate::single_flight::SingleFlight,
    /// Whether a settling that `settle_within` spawned has yet to start, so that the operations arriving before it
    /// does spawn no other.
    settle_spawned: Cell<bool>,
    /// The deployment's settings, read once at wake (the socket limit, the coalescing threshold).
    config: ObjectConfig,
    /// The live sockets: how many are open (and last reported to the global gauge, also in storage for the next
    /// wake to reconcile against), their frame budgets, numbers and token expiry.
    subscribers: Subscribers,
    /// Frames on their way to the subscribers (sent at once with few sockets, in combined passes with many).
    fanout: Rc<Fanout>,
    /// The relay objects that serve the rest of the subscribers; each published frame goes to each once.
    relays: RelayLinks,
    /// The `finished` frame once the standings are final, for subscribers who come or resume after the end.
    finished_frame: RefCell<Option<String>>,
    /// Whether a newer instance of this object replaced this one and took its memory (`instances`).
    released: Cell<bool>,
    /// How long each operation and live upgrade waits before it starts (`TestStall`; test builds).
    #[cfg(feature = "test-routes")]
    stall_ms: Cell<u64>,
}

impl instances::Release for Loaded {
    fn release(&self) {
        if self.released.replace(true) {
            return;
        }
        // Never a panic here (it would stop the whole isolate): a part still borrowed, which the runtime's turn order
        // rules out, is left to the garbage collector as before.
        if let Ok(mut board) = self.board.try_borrow_mut() {
            *board = Board::new(Leaderboard::new(), None, false);
        }
        if let Ok(mut rows) = self.corrupt_rows.try_borrow_mut() {
            rows.clear();
            rows.shrink_to_fit();
        }
        if let Ok(mut frame) = self.finished_frame.try_borrow_mut() {
            *frame = None;
        }
    }
}

/// The Durable Object class bound as `COMPETITION` in `wrangler.toml`.
#[durable_object]
pub struct Competition {
    /// `Err` when storage could not be opened or loaded; every request then answers 503 and logs why, rather than
    /// serving a board that silently lost members.
    /// Shared with the operations in flight (`rpc.rs`), which may outlive the call that started them.
    loaded: std::result::Result<Rc<Loaded>, String>,
}

/// A storage failure as the runtime's error, for replies built with `?`.
fn storage_error(failure: StoreError) -> worker::Error {
    worker::Error::RustError(failure.to_string())
}

/// A storage failure as the object's error reply.
fn storage_failure(failure: &StoreError) -> Result<Reply> {
    let refusal = storage_refusal(failure);
    error(refusal.code, refusal.message)
}

/// A storage failure as the refusal the Worker gets (logged with its cause, which the Worker never sees).
fn storage_refusal(failure: &StoreError) -> ObjectError {
    worker::console_error!("competition storage failure: {failure}");
    ObjectError { code: ErrorCode::DependencyUnavailable, message: "competition storage unavailable".to_owned() }
}

/// Rows of the board for a reply, with their display ranks (`entries` consecutive in rank order) and the names and
/// avatars in `people`.
fn board_entries(board: &Leaderboard, entries: &[Entry], people: &HashMap<Uuid, Person>) -> Vec<BoardEntry> {
    entries
        .iter()
        .zip(board.display_ranks(entries))
        .map(|(entry, display_rank)| {
            let person = people.get(&entry.user_id);
            BoardEntry {
                rank: entry.rank,
                display_rank,
                user_id: entry.user_id,
                score: entry.score,
                display_name: person.map(|p| p.display_name.clone()),
                avatar_url: person.and_then(|p| p.avatar_url.clone()),
            }
        })
        .collect()
}

/// A member's standing for a reply.
fn standing_of(board: &Leaderboard, entry: &Entry) -> Standing {
    Standing { rank: entry.rank, display_rank: board.display_rank(entry.score), score: entry.score }
}

impl Loaded {
    fn open(state: State, env: Env) -> std::result::Result<Self, StoreError> {
        let started = now_ms();
        let store = ScoreStore::open(state.storage().sql())?;
        // A metrics figure must never keep the board from loading.
        let reported_sockets = store.reported_sockets().unwrap_or_else(|e| {
            worker::console_error!("socket count unreadable, the gauge restarts from 0 here: {e}");
            0
        });
        let meta = store.meta()?;
        let finalized = store.finalized()?.is_some();
        let start_totals_at = match (&meta, store.start_totals_due()?) {
            (Some(meta), true) => Some(meta.starts_ms),
            _ => None,
        };
        let (mut board, corrupt_rows) = store.load()?;
        // A removal's sequence lives only in its kept frame: continue above every frame a client may have seen.
        board.continue_after(store.last_kept_seq()?);
        let rebuild_ms = (now_ms() - started) as f64;
        let rebuilt_members = board.total();
        for row in &corrupt_rows {
            worker::console_error!("stored member {:?} left off the board: {} (repair drops it)", row.key, row.reason);
        }
        let config = ObjectConfig::from_lookup(|name| env.var(name).ok().map(|v| v.to_string()));
        let raw_state: &wasm_bindgen::JsValue = state.as_raw().as_ref();
        let raw_state = raw_state.clone();
        // Nothing is pending after a wake: subscribers have had (or will resume) every kept frame.
        let fanout = Fanout::new(raw_state, board.last_seq().unwrap_or(0), config.coalesce_from);
        let relays = RelayLinks::new(env.clone(), store.relays()?, config.call_within_ms);
        Ok(Self {
            state,
            env,
            store,
            board: RefCell::new(Board::new(board, meta, finalized)),
            corrupt_rows: RefCell::new(corrupt_rows),
            rebuild_ms,
            rebuilt_members,
            alarm_at: Cell::new(None),
            changes_checked_at: Cell::new(0),
            changes_wanted: Cell::new(false),
            start_totals_at: Cell::new(start_totals_at),
            start_totals_from: Cell::new(None),
            settling: crate::single_flight::SingleFlight::new(),
            settle_spawned: Cell::new(false),
            config,
            subscribers: Subscribers::new(now_ms(), reported_sockets),
            fanout,
            relays,
            finished_frame: RefCell::new(None),
            released: Cell::new(false),
            #[cfg(feature = "test-routes")]
            stall_ms: Cell::new(0),
        })
    }
}

impl Competition {
    fn loaded(&self) -> std::result::Result<&Loaded, &str> {
        let loaded = self.loaded.as_deref().map_err(String::as_str)?;
        // The runtime does not call an instance it replaced; should it, the empty board must not answer.
        if loaded.released.get() {
            return Err("this instance was replaced by a newer one of the same object");
        }
        Ok(loaded)
    }
}

/// The reply to any request while storage could not be loaded (logged with why each time).
fn unloaded(reason: &str) -> Result<Reply> {
    worker::console_error!("competition failed to load: {reason}");
    error(ErrorCode::DependencyUnavailable, "competition storage unavailable")
}

impl DurableObject for Competition {
    fn new(state: State, env: Env) -> Self {
        // No automatic ping answers: the runtime would answer them without counting them, and every client frame
        // counts against the socket's frame limit (API.md, "Live socket limits").
        // SQLite calls are synchronous, so the board is complete before the first request is delivered.
        let id = state.id().to_string();
        instances::release_previous(&id);
        let loaded = Loaded::open(state, env).map(Rc::new).map_err(|e| e.to_string());
        if let Ok(loaded) = &loaded {
            instances::record(id, loaded);
            loaded.count_sockets_on_wake();
        }
        Self { loaded }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let loaded = match self.loaded() {
            Ok(loaded) => loaded,
            Err(reason) => return unloaded(reason)?.into_response(),
        };
        if req.method() == Method::Get && req.path() == PATH_LIVE {
            #[cfg(feature = "test-routes")]
            loaded.stall().await;
            return loaded.subscribe(&req).await;
        }
        // The operations of callers whose code predates RPC (the rest come by RPC, `rpc.rs`), and the Worker's test
        // routes. Read whole (one promise) and parsed by serde_json: workers-rs's `Request::json` parses in JS and
        // converts the value field by field.
        let body = req.bytes().await?;
        self.order_future(body).await?.into_response()
    }

    async fn alarm(&self) -> Result<Response> {
        match self.loaded() {
            Ok(loaded) => loaded.run_alarm().await?,
            Err(reason) => worker::console_error!("outbox alarm on an unloaded competition: {reason}"),
        }
        Response::empty()
    }

    async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> Result<()> {
        match (self.loaded(), message) {
            (Ok(loaded), WebSocketIncomingMessage::String(text)) => loaded.on_message(&ws, &text).await,
            // The live protocol has no binary frames (the JS entry hands them over without their bytes), but each
            // is one of the client's frames: it counts against the socket's frame budget, and is then ignored.
            (Ok(loaded), WebSocketIncomingMessage::Binary(_)) => loaded.on_message(&ws, "").await,
            (Err(_), _) => ws.close(Some(1011), Some("competition unavailable")),
        }
    }

    async fn websocket_close(&self, ws: WebSocket, code: usize, _reason: String, _was_clean: bool) -> Result<()> {
        match self.loaded() {
            Ok(loaded) => {
                loaded.subscribers.closed(&ws, code);
                loaded.sockets_changed(-1);
            }
            Err(_) => subscribers::finish_close(&ws, code),
        }
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> Result<()> {
        // Counted down by its close event (which follows); counting here too could count it twice.
        let _ = ws.close(Some(1011), Some("socket error"));
        Ok(())
    }
}
