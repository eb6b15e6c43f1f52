//! The Competition Durable Object: one per competition, the single writer of its leaderboard.
//!
//! Thin glue around the [`Leaderboard`] engine, the [`ScoreStore`] and the live sockets: the board lives in memory,
//! rebuilt from SQLite when the object wakes; a change is written to SQLite first and applied to the board after,
//! with no `await` in between, so requests cannot interleave inside a read-modify-write and a failed write changes
//! nothing. Subscribers are hibernatable WebSockets tagged with their user id.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use worker::{
    durable_object, DurableObject, Env, Headers, Method, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair,
};

use crate::broadcast;
use crate::fanout::Fanout;
use crate::score_store::{ScoreStore, StoreError};
use crate::system_of_record::{self, CompetitionSink};
use crate::telemetry;
use crate::token_check;
use standings::board::{Board, WriteError, Written};
use standings::engine::{Cursor, Entry, Leaderboard};
use standings::finish;
use standings::live::{self, Resume};
use standings::outbox::{self, DeliveryError, Drained, OutboxRow, OutboxSink, OutboxStore};
use standings::protocol::{
    self, percentile, Announced, Around, BoardEntry, ClientFrame, CompetitionMeta, Disqualified, Disqualify, Forget,
    ObjectError, ObjectStats, OutboxReport, Page, Person, Prizes, PublicEntry, Repair, RosterAdd, ScoreWrite,
    ScoreWriteReply, ServerFrame, Settings, Standing, CODE_COMPETITION_UNKNOWN, CODE_LIVE_FULL, HEADER_SUBPROTOCOL,
    HEADER_TOKEN_EXP, HEADER_USER, PATH_AROUND, PATH_CANCEL, PATH_DISQUALIFY, PATH_FORGET, PATH_LIVE, PATH_META,
    PATH_OUTBOX, PATH_OUTBOX_RETRY, PATH_PAGE, PATH_PEOPLE, PATH_PRIZES, PATH_REPAIR, PATH_ROSTER, PATH_SCORES,
    PATH_SCORE_OF, PATH_SETTINGS, PATH_STATS, PONG_TEXT,
};
#[cfg(feature = "test-routes")]
use standings::protocol::{PATH_TEST_ALARM, PATH_TEST_CORRUPT, PATH_TEST_FINALIZE, PATH_TEST_SEED};
use standings::rules::Metric;
use standings::socket_rules::{self, FrameBudget, CLOSE_POLICY, CLOSE_TOKEN_EXPIRED};
use standings::stored_rows::CorruptRow;

/// Largest page the object serves.
pub const MAX_PAGE: usize = 200;
/// Largest around-me radius the object serves.
pub const MAX_RADIUS: u64 = 50;
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

/// What a socket carries through hibernation (well under the 2 048-byte attachment limit).
#[derive(Debug, Serialize, Deserialize)]
struct SocketAttachment {
    user_id: Uuid,
    /// This object's number for the socket: keys its frame budget, and orders a user's sockets by age (numbers grow
    /// as sockets are accepted, also across the object's lives), so the oldest gives way first.
    #[serde(default)]
    id: u64,
    /// When it must close (epoch ms): its token's expiry plus the leeway; extended by `auth` frames.
    #[serde(default = "never")]
    closes_at_ms: i64,
}

fn never() -> i64 {
    socket_rules::NEVER_MS
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
    /// Open live sockets (counted on wake, then kept by accept and close events).
    open_sockets: Cell<u64>,
    /// The count last added to the global gauge (also in storage, for the next wake to reconcile against).
    reported_sockets: Cell<u64>,
    /// Live sockets accepted at most (`LIVE_SOCKETS_PER_COMPETITION`, under the runtime's limit).
    socket_capacity: u64,
    /// Each socket's frame allowance, by its number (lost with the object's memory, then full again: harmless).
    frame_budgets: RefCell<std::collections::HashMap<u64, FrameBudget>>,
    /// The next socket number.
    next_socket: Cell<u64>,
    /// The earliest time a socket must close for its token (`None`: unknown since the object woke, scan once).
    next_socket_expiry: Cell<Option<i64>>,
    /// Frames on their way to the subscribers (sent at once with few sockets, in combined passes with many).
    fanout: Rc<Fanout>,
}

/// The Durable Object class bound as `COMPETITION` in `wrangler.toml`.
#[durable_object]
pub struct Competition {
    /// `Err` when storage could not be opened or loaded; every request then answers 503 and logs why, rather than
    /// serving a board that silently lost members.
    loaded: std::result::Result<Loaded, String>,
}

fn error(status: u16, code: &str, message: impl Into<String>) -> Result<Response> {
    Ok(Response::from_json(&ObjectError { code: code.to_owned(), message: message.into() })?.with_status(status))
}

/// A storage failure as the runtime's error, for replies built with `?`.
/// The request's JSON body, read whole (one promise) and parsed by serde_json: workers-rs's `Request::json` parses in
/// JS and converts the value field by field across the boundary, which costs more on every score write.
async fn read_json<T: serde::de::DeserializeOwned>(req: &mut Request) -> Result<T> {
    let bytes = req.bytes().await?;
    serde_json::from_slice(&bytes).map_err(|e| worker::Error::RustError(e.to_string()))
}

fn storage_error(failure: StoreError) -> worker::Error {
    worker::Error::RustError(failure.to_string())
}

fn storage_failure(failure: &StoreError) -> Result<Response> {
    worker::console_error!("competition storage failure: {failure}");
    error(503, "dependency_unavailable", "competition storage unavailable")
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
                score: entry.score as i64,
                display_name: person.map(|p| p.display_name.clone()),
                avatar_url: person.and_then(|p| p.avatar_url.clone()),
            }
        })
        .collect()
}

/// A member's standing for a reply.
fn standing_of(board: &Leaderboard, entry: &Entry) -> Standing {
    Standing { rank: entry.rank, display_rank: board.display_rank(entry.score), score: entry.score as i64 }
}

/// A query parameter of the request URL.
fn query(req: &Request, name: &str) -> Option<String> {
    req.url().ok()?.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

fn to_text(frame: &ServerFrame) -> Result<String> {
    serde_json::to_string(frame).map_err(|e| worker::Error::RustError(e.to_string()))
}

impl Loaded {
    fn open(state: State, env: Env) -> std::result::Result<Self, StoreError> {
        let started = worker::Date::now().as_millis();
        let store = ScoreStore::open(state.storage().sql())?;
        // A metrics figure must never keep the board from loading.
        let reported_sockets = store.reported_sockets().unwrap_or_else(|e| {
            worker::console_error!("socket count unreadable, the gauge restarts from 0 here: {e}");
            0
        });
        let meta = store.meta()?;
        let finalized = store.finalized()?.is_some();
        let (mut board, corrupt_rows) = store.load()?;
        // A removal's sequence lives only in its kept frame: continue above every frame a client may have seen.
        board.continue_after(store.last_kept_seq()?);
        let rebuild_ms = (worker::Date::now().as_millis() - started) as f64;
        let rebuilt_members = board.total();
        for row in &corrupt_rows {
            worker::console_error!("stored member {:?} left off the board: {} (repair drops it)", row.key, row.reason);
        }
        let socket_capacity =
            live::socket_capacity(env.var("LIVE_SOCKETS_PER_COMPETITION").ok().map(|v| v.to_string()).as_deref());
        let coalesce_from =
            live::coalesce_from(env.var("LIVE_COALESCE_FROM_SOCKETS").ok().map(|v| v.to_string()).as_deref());
        let raw_state: &wasm_bindgen::JsValue = state.as_raw().as_ref();
        let raw_state = raw_state.clone();
        // Nothing is pending after a wake: subscribers have had (or will resume) every kept frame.
        let fanout = Fanout::new(raw_state, board.last_seq().unwrap_or(0), coalesce_from);
        Ok(Self {
            state,
            env,
            store,
            board: RefCell::new(Board::new(board, meta, finalized)),
            corrupt_rows: RefCell::new(corrupt_rows),
            rebuild_ms,
            rebuilt_members,
            alarm_at: Cell::new(None),
            open_sockets: Cell::new(0),
            reported_sockets: Cell::new(reported_sockets),
            socket_capacity,
            frame_budgets: RefCell::new(std::collections::HashMap::new()),
            // Numbers from the wake time (in µs) on stay above those of an earlier life of the object, and below
            // 2^53 (attachments travel as JavaScript numbers).
            next_socket: Cell::new(now_ms() as u64 * 1000),
            next_socket_expiry: Cell::new(None),
            fanout,
        })
    }

    /// Adds `n` synthetic members (test routes only).
    #[cfg(feature = "test-routes")]
    fn seed(&self, req: &Request) -> Result<Response> {
        let n = query(req, "n").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0).min(1_000_000);
        let mut board = self.board.borrow_mut();
        let base = board.total() as u128;
        let first_seq = board.next_seq();
        let rows: Vec<(Uuid, u64, u64)> = (0..n)
            .map(|i| {
                let id = uuid::Builder::from_random_bytes(
                    ((base + u128::from(i) + 1) * 0x9E37_79B9_7F4A_7C15).to_le_bytes(),
                );
                (id.into_uuid(), (i * 7919) % 100_000, first_seq + i)
            })
            .collect();
        if let Err(e) = self.store.save_many(&rows, worker::Date::now().as_millis() as i64) {
            return storage_failure(&e);
        }
        for (user, score, seq) in rows {
            if let Err(e) = board.leaderboard_mut().restore(user, score, seq) {
                return error(400, "bad_request", e.to_string());
            }
        }
        drop(board);
        self.stats()
    }

    fn stats(&self) -> Result<Response> {
        Response::from_json(&ObjectStats {
            members: self.board.borrow().total(),
            rebuild_ms: self.rebuild_ms,
            rebuilt_members: self.rebuilt_members,
            outbox_pending: self.store.outbox_len().map_err(storage_error)?,
            outbox_failures: self.store.failures().map_err(storage_error)?,
            finalized: self.board.borrow().is_final(),
            final_results: self.store.final_count().map_err(storage_error)?,
            dead_letters: self.store.dead_letter_count().map_err(storage_error)?,
            corrupt_rows: self.corrupt_rows.borrow().clone(),
        })
    }

    /// `GET /outbox`: the outbox's state and the rows set aside.
    fn outbox_report(&self) -> Result<Response> {
        Response::from_json(&OutboxReport {
            pending: self.store.outbox_len().map_err(storage_error)?,
            failures: self.store.failures().map_err(storage_error)?,
            dead_letters: self.store.dead_letters(500).map_err(storage_error)?,
        })
    }

    /// `POST /outbox/retry`: the dead letters go back into the outbox and the alarm delivers them.
    async fn retry_dead_letters(&self) -> Result<Response> {
        let moved = match self.store.retry_dead_letters() {
            Ok(moved) => moved,
            Err(e) => return storage_failure(&e),
        };
        if moved > 0 {
            telemetry::add("outbox_dead_letters", &[], -(moved as f64));
            if let Err(e) = self.store.set_failures(0) {
                return storage_failure(&e);
            }
            self.schedule_outbox(0).await?;
        }
        Response::from_json(&serde_json::json!({ "retried": moved }))
    }

    /// `POST /settings`: an administrator's edit of a competition that is not final: stored, the alarm moved to the
    /// new end (an alarm set for an older end finds nothing due and sets the right one), and a `changed` frame.
    async fn change_settings(&self, mut req: Request) -> Result<Response> {
        let settings: Settings = match read_json(&mut req).await {
            Ok(settings) => settings,
            Err(e) => return error(400, "bad_request", format!("bad settings: {e}")),
        };
        if self.board.borrow().is_final() {
            return error(409, "conflict", "the standings are final");
        }
        let meta = settings.meta;
        if Metric::parse(&meta.metric).is_none() || meta.ends_ms <= meta.starts_ms {
            return error(400, "bad_request", "competition settings break the schema's rules");
        }
        let seq = {
            if let Err(e) = self.store.save_meta(&meta) {
                return storage_failure(&e);
            }
            match self.board.borrow_mut().leaderboard_mut().take_seq() {
                Ok(seq) => seq,
                Err(e) => return error(500, "internal", e.to_string()),
            }
        };
        let final_ms = meta.final_ms();
        self.board.borrow_mut().set_meta(meta);
        self.publish(seq, &ServerFrame::Changed { seq, competition: settings.competition })?;
        self.ensure_alarm_by(final_ms).await?;
        Response::from_json(&Announced { seq })
    }

    /// `POST /cancel`: the competition is called off: final at once with no results (writes refused, prizes final
    /// and empty) and a `finished` frame without prizes. Idempotent; 409 when it already ended normally.
    fn cancel(&self) -> Result<Response> {
        if self.board.borrow().is_final() {
            return match self.store.final_count() {
                Ok(0) => Response::from_json(&Announced { seq: self.board.borrow().last_seq().unwrap_or(0) }),
                Ok(_) => error(409, "conflict", "the standings are final"),
                Err(e) => storage_failure(&e),
            };
        }
        let seq = self.board.borrow().last_seq().unwrap_or(0);
        if let Err(e) = self.store.save_final(&[], seq) {
            return storage_failure(&e);
        }
        self.board.borrow_mut().mark_final();
        let text = to_text(&ServerFrame::Finished { seq, prizes: Vec::new() })?;
        // Pending updates first: `finished` is the last frame.
        let pending = self.fanout.flush();
        self.frames_sent(pending + broadcast::to_all(&self.state, &text));
        Response::from_json(&Announced { seq })
    }

    /// `POST /disqualify`: the member leaves the board at once (everyone behind moves up), stays off it across
    /// restarts, and may post no more scores; subscribers get a `removed` frame. Idempotent; 409 once final.
    async fn disqualify(&self, mut req: Request) -> Result<Response> {
        let order: Disqualify = match read_json(&mut req).await {
            Ok(order) => order,
            Err(e) => return error(400, "bad_request", format!("bad disqualification: {e}")),
        };
        if self.board.borrow().is_final() {
            return error(409, "conflict", "the standings are final");
        }
        // Stored first: a failed write changes nothing.
        if let Err(e) = self.store.disqualify(&order.user_id, &order.reason) {
            return storage_failure(&e);
        }
        if let Err(response) = self.take_off_board(order.user_id) {
            return response;
        }
        let board = self.board.borrow();
        Response::from_json(&Disqualified { seq: board.last_seq().unwrap_or(0), total: board.total() })
    }

    /// Removes a member whose removal is stored from the in-memory board (everyone behind moves up) and announces it
    /// with a `removed` frame; nothing when they had no score.
    fn take_off_board(&self, user: Uuid) -> std::result::Result<(), Result<Response>> {
        let removed = self.board.borrow_mut().take_off(user);
        let (seq, total) = match removed {
            Ok(Some(removed)) => removed,
            Ok(None) => return Ok(()),
            Err(e) => return Err(error(500, "internal", e.describe().2)),
        };
        self.publish(seq, &ServerFrame::Removed { seq, user_id: user, total }).map_err(Err)
    }

    /// `POST /forget`: a member deleted their account. A board that still moves drops them at once (a `removed`
    /// frame; everyone behind moves up); final standings keep their rank and amount under `deleted player`.
    async fn forget(&self, mut req: Request) -> Result<Response> {
        let order: Forget = match read_json(&mut req).await {
            Ok(order) => order,
            Err(e) => return error(400, "bad_request", format!("bad forget order: {e}")),
        };
        let moving = !self.board.borrow().is_final();
        // Stored first: a failed write changes nothing.
        if let Err(e) = self.store.forget(&order.user_id, moving) {
            return storage_failure(&e);
        }
        if moving {
            if let Err(response) = self.take_off_board(order.user_id) {
                return response;
            }
        }
        Response::from_json(&Announced { seq: self.board.borrow().last_seq().unwrap_or(0) })
    }

    /// `POST /repair`: drops a stored member row the board could not load.
    async fn repair(&self, mut req: Request) -> Result<Response> {
        let repair: Repair = match read_json(&mut req).await {
            Ok(repair) => repair,
            Err(e) => return error(400, "bad_request", format!("bad repair: {e}")),
        };
        if !self.corrupt_rows.borrow().iter().any(|row| row.key == repair.key) {
            // Sound members leave a board only through the product's own rules, never through a repair.
            return error(404, "not_found", "no corrupt stored row has this key");
        }
        if let Err(e) = self.store.drop_member(&repair.key) {
            return storage_failure(&e);
        }
        self.corrupt_rows.borrow_mut().retain(|row| row.key != repair.key);
        self.stats()
    }

    /// `POST /__test/corrupt?key=K` (test routes only): stores a member row that cannot be loaded, then reloads the
    /// board from storage as a wake would.
    #[cfg(feature = "test-routes")]
    fn test_corrupt(&self, req: &Request) -> Result<Response> {
        let key = query(req, "key").unwrap_or_else(|| "not-a-uuid".to_owned());
        let reloaded = self.store.insert_raw_member(&key, 1, 1).and_then(|()| self.store.load());
        match reloaded {
            Ok((board, corrupt)) => {
                self.board.borrow_mut().replace_leaderboard(board);
                *self.corrupt_rows.borrow_mut() = corrupt;
                self.stats()
            }
            Err(e) => storage_failure(&e),
        }
    }

    async fn write_score(&self, mut req: Request) -> Result<Response> {
        let write: ScoreWrite = match read_json(&mut req).await {
            Ok(write) => write,
            Err(e) => return error(400, "bad_request", format!("bad score write: {e}")),
        };
        let written = self.board.borrow_mut().write(&self.store, &write);
        let Written { change, stored, display_rank } = match written {
            Ok(written) => written,
            Err(WriteError::Refused(refusal)) => {
                let (status, code, message) = refusal.describe();
                return error(status, code, message);
            }
            Err(WriteError::Storage(e)) => return storage_failure(&e),
        };
        if change.changed {
            let frame = ServerFrame::Update {
                seq: change.seq,
                user_id: write.user_id,
                display_name: self.display_name_of(write.user_id),
                score: write.score,
                rank: change.rank,
                display_rank,
                previous_rank: change.previous_rank,
                total: change.total,
            };
            self.publish(change.seq, &frame)?;
            self.schedule_outbox(OUTBOX_DELAY_MS).await?;
        }
        Response::from_json(&ScoreWriteReply {
            competition_id: write.competition_id,
            user_id: write.user_id,
            score: stored as i64,
            rank: change.rank,
            display_rank,
            previous_rank: change.previous_rank,
            total: change.total,
            seq: self.board.borrow().last_seq().unwrap_or(0),
        })
    }

    /// `PUT /meta`: stores the competition's settings.
    async fn set_meta(&self, mut req: Request) -> Result<Response> {
        let meta: CompetitionMeta = match read_json(&mut req).await {
            Ok(meta) => meta,
            Err(e) => return error(400, "bad_request", format!("bad competition settings: {e}")),
        };
        if Metric::parse(&meta.metric).is_none() || meta.ends_ms <= meta.starts_ms {
            return error(400, "bad_request", "competition settings break the schema's rules");
        }
        if let Err(e) = self.store.save_meta(&meta) {
            return storage_failure(&e);
        }
        let final_ms = meta.final_ms();
        self.board.borrow_mut().set_meta(meta);
        if !self.board.borrow().is_final() {
            // The alarm at the end of the grace period (ends_at for client competitions) stores the final standings.
            self.ensure_alarm_by(final_ms).await?;
        }
        Response::empty()
    }

    /// `POST /roster`: a user joined (with their name and avatar when the Worker sends them).
    async fn add_member(&self, mut req: Request) -> Result<Response> {
        let member: RosterAdd = match read_json(&mut req).await {
            Ok(member) => member,
            Err(e) => return error(400, "bad_request", format!("bad roster entry: {e}")),
        };
        if let Err(e) = self.store.add_member(&member.user_id) {
            return storage_failure(&e);
        }
        match member.person.filter(|p| p.user_id == member.user_id).map(|p| self.store.save_person(&p)) {
            Some(Err(e)) => storage_failure(&e),
            _ => Response::empty(),
        }
    }

    /// `POST /people`: a member's new name or avatar. A member on a board that still moves gets an `update` frame
    /// with the new name (score and rank unchanged), whose `seq` the Worker versions cached pages by; the reply is the
    /// competition's sequence after it.
    async fn set_person(&self, mut req: Request) -> Result<Response> {
        let person: Person = match read_json(&mut req).await {
            Ok(person) => person,
            Err(e) => return error(400, "bad_request", format!("bad person: {e}")),
        };
        if let Err(e) = self.store.save_person(&person) {
            return storage_failure(&e);
        }
        let standing = if self.board.borrow().is_final() { None } else { self.board.borrow().standing(person.user_id) };
        if let Some(entry) = standing {
            let (seq, display_rank, total) = {
                let mut board = self.board.borrow_mut();
                match board.leaderboard_mut().take_seq() {
                    Ok(seq) => (seq, board.display_rank(entry.score), board.total()),
                    Err(e) => return error(500, "internal", e.to_string()),
                }
            };
            let frame = ServerFrame::Update {
                seq,
                user_id: person.user_id,
                display_name: person.display_name,
                score: entry.score as i64,
                rank: entry.rank,
                display_rank,
                previous_rank: Some(entry.rank),
                total,
            };
            self.publish(seq, &frame)?;
        }
        Response::from_json(&Announced { seq: self.board.borrow().last_seq().unwrap_or(0) })
    }

    /// The names and avatars the object knows for the members of `entries` (one query; a storage failure shows the
    /// defaults rather than failing the read).
    fn people_of(&self, entries: &[Entry]) -> HashMap<Uuid, Person> {
        let users: Vec<Uuid> = entries.iter().map(|e| e.user_id).collect();
        self.store.people(&users).unwrap_or_else(|e| {
            worker::console_error!("names unavailable for a board read: {e}");
            HashMap::new()
        })
    }

    /// A member's current display name (the contract's default when the object was never told it).
    fn display_name_of(&self, user: Uuid) -> String {
        match self.store.display_name(&user) {
            Ok(name) => name,
            Err(e) => {
                worker::console_error!("name unavailable for an update frame: {e}");
                None
            }
        }
        .unwrap_or_else(|| protocol::default_display_name(&user))
    }

    /// Keeps the frame for `resume` and hands it to the fan-out (sent now, or with the next pass when the object has
    /// many sockets). Serialised once; a socket that fails to take it is closed (its client reconnects and resumes)
    /// so one dead peer never blocks the others.
    fn publish(&self, seq: u64, frame: &ServerFrame) -> Result<()> {
        let text = to_text(frame)?;
        if let Err(e) = self.store.keep_update(seq, &text) {
            // The score itself is stored; a missing frame only turns a later resume into a snapshot.
            worker::console_error!("could not keep update {seq} for resume: {e}");
        }
        let is_update = matches!(frame, ServerFrame::Update { .. });
        self.frames_sent(self.fanout.publish(seq, is_update, text, self.open_sockets.get()));
        Ok(())
    }

    /// Counts frames sent to subscribers and lets a due metrics flush run after the event.
    fn frames_sent(&self, count: u64) {
        if count > 0 {
            telemetry::add("websocket_messages_sent_total", &[], count as f64);
        }
        telemetry::flush(&self.state, &self.env);
    }

    /// Counts the open sockets once, when the object wakes (the only O(n) pass; events adjust the count after), and
    /// brings the global gauge in line: sockets a deploy or eviction dropped without close events leave it here.
    fn count_sockets_on_wake(&self) {
        const OPEN: u16 = 1;
        let open = self.state.get_websockets().iter().filter(|s| s.as_ref().ready_state() == OPEN).count() as u64;
        self.open_sockets.set(open);
        self.report_sockets();
    }

    /// A socket opened (`+1`) or closed (`-1`).
    fn sockets_changed(&self, by: i64) {
        self.open_sockets.set(self.open_sockets.get().saturating_add_signed(by));
        self.report_sockets();
    }

    /// Moves the global `websocket_connections` gauge by the difference between this object's open sockets and the
    /// count it last reported (see [`telemetry::socket_gauge_delta`]), stored before the gauge moves.
    fn report_sockets(&self) {
        let (open, reported) = (self.open_sockets.get(), self.reported_sockets.get());
        if open != reported {
            if let Err(e) = self.store.set_reported_sockets(open) {
                worker::console_error!("socket count not stored, gauge not moved: {e}");
                return;
            }
            self.reported_sockets.set(open);
            telemetry::add("websocket_connections", &[], telemetry::socket_gauge_delta(open, reported));
        }
        telemetry::flush(&self.state, &self.env);
    }

    /// Makes sure the alarm that drains the outbox will run within `delay_ms`.
    async fn schedule_outbox(&self, delay_ms: u64) -> Result<()> {
        self.ensure_alarm_by(now_ms() + delay_ms as i64).await
    }

    /// Makes sure the object's one alarm runs no later than `at_ms` (an earlier alarm already set is kept: every
    /// run works out everything that is due and sets the next).
    async fn ensure_alarm_by(&self, at_ms: i64) -> Result<()> {
        let current = match self.alarm_at.get() {
            Some(at) => Some(at),
            None => self.state.storage().get_alarm().await?,
        };
        if current.is_some_and(|at| at <= at_ms) {
            self.alarm_at.set(current);
            return Ok(());
        }
        let delay = (at_ms - now_ms()).max(0);
        self.state.storage().set_alarm(Duration::from_millis(delay as u64)).await?;
        self.alarm_at.set(Some(at_ms));
        Ok(())
    }

    /// One alarm run: finalize the competition when it has ended, deliver outbox and final rows, and set the next
    /// alarm for whatever is still due. Alarms may run twice; every step is idempotent.
    async fn run_alarm(&self) -> Result<()> {
        self.alarm_at.set(None);
        let now = now_ms();
        let mut due: Vec<i64> = Vec::new();
        let (final_ms, is_final) = {
            let board = self.board.borrow();
            (board.meta().map(CompetitionMeta::final_ms), board.is_final())
        };
        if let (Some(final_ms), false) = (final_ms, is_final) {
            if now >= final_ms {
                self.finalize()?;
            } else {
                due.push(final_ms);
            }
        }
        if let Some(delay) = self.drain_outbox().await {
            due.push(now + delay as i64);
        }
        if let Some(delay) = self.deliver_final().await {
            due.push(now + delay as i64);
        }
        if let Some(at) = self.close_expired_sockets(now) {
            due.push(at);
        }
        if let Some(at) = due.into_iter().min() {
            self.ensure_alarm_by(at).await?;
        }
        Ok(())
    }

    /// Stores every member's final rank, score and prize (once), and tells the subscribers.
    fn finalize(&self) -> Result<()> {
        let (results, seq) = {
            let board = self.board.borrow();
            let Some(results) = board.final_results() else { return Ok(()) };
            (results, board.last_seq().unwrap_or(0))
        };
        if let Err(e) = self.store.save_final(&results, seq) {
            worker::console_error!("final standings not stored, retrying at the next alarm: {e}");
            return Ok(());
        }
        self.board.borrow_mut().mark_final();
        let frame = ServerFrame::Finished { seq, prizes: finish::paid(&results) };
        let text = to_text(&frame)?;
        // Pending updates first: `finished` is the last frame.
        let pending = self.fanout.flush();
        self.frames_sent(pending + broadcast::to_all(&self.state, &text));
        Ok(())
    }

    /// Writes the next batch of final results to the system of record; the delay before the next attempt, if any.
    async fn deliver_final(&self) -> Option<u64> {
        if !self.board.borrow().is_final() {
            return None;
        }
        let after = self.store.final_delivered().ok()?;
        let batch = match self.store.final_results(after, outbox::BATCH, false) {
            Ok(batch) if batch.is_empty() => return None,
            Ok(batch) => batch,
            Err(e) => {
                worker::console_error!("final results unreadable: {e}");
                return Some(outbox::BACKOFF_MAX_MS);
            }
        };
        let delivered = match self.record_sink() {
            Ok(sink) => sink.sink.deliver_final(sink.competition_id, &batch).await,
            Err(reason) => Err(DeliveryError::transient(reason)),
        };
        match delivered {
            Ok(()) => {
                let last = batch.last().map_or(after, |r| r.rank);
                if let Err(e) = self.store.set_final_delivered(last) {
                    worker::console_error!("final delivery mark not stored: {e}");
                }
                (batch.len() == outbox::BATCH).then_some(0)
            }
            Err(error) => {
                worker::console_warn!("final results delivery failed, retrying in 30 s: {error}");
                Some(30_000)
            }
        }
    }

    /// `POST /__test/finalize[?fail_after=N]` (test routes only): finalizes now, or stores N rows and fails the way
    /// a crash half-way through the alarm would.
    #[cfg(feature = "test-routes")]
    fn test_finalize(&self, req: &Request) -> Result<Response> {
        let fail_after = query(req, "fail_after").and_then(|v| v.parse::<usize>().ok());
        let (known, results) = {
            let board = self.board.borrow();
            (board.meta().is_some(), board.final_results())
        };
        match (fail_after, known, results) {
            (_, false, _) => {
                return error(409, CODE_COMPETITION_UNKNOWN, "the object has not been told its competition")
            }
            (Some(n), true, Some(results)) => {
                if let Err(e) = self.store.insert_final_rows(&results[..n.min(results.len())]) {
                    return storage_failure(&e);
                }
                return error(500, "internal", format!("simulated failure after {n} final rows"));
            }
            _ => self.finalize()?,
        }
        self.stats()
    }

    /// `GET /prizes`: final amounts once the competition has ended, the split of the current board before.
    fn prizes(&self) -> Result<Response> {
        let board = self.board.borrow();
        let Some(meta) = board.meta() else {
            return error(409, CODE_COMPETITION_UNKNOWN, "the object has not been told its competition");
        };
        let (is_final, prizes) = if board.is_final() {
            match self.store.final_results(0, 10_000, true) {
                Ok(results) => (true, finish::paid(&results)),
                Err(e) => return storage_failure(&e),
            }
        } else {
            (false, finish::provisional_prizes(&board, meta))
        };
        Response::from_json(&Prizes { prize_pool: meta.prize_pool, r#final: is_final, prizes })
    }

    /// The system-of-record sink for this competition.
    fn record_sink(&self) -> std::result::Result<CompetitionSink, String> {
        let competition_id =
            self.board.borrow().meta().map(|m| m.competition_id).ok_or("the competition is not known yet")?;
        Ok(CompetitionSink { competition_id, sink: system_of_record::sink(&self.env)? })
    }

    /// Delivers one outbox batch; the delay before the next run, if one is needed. Draining is idempotent.
    async fn drain_outbox(&self) -> Option<u64> {
        let drained = match self.record_sink() {
            Ok(sink) => outbox::drain(&self.store, &sink).await,
            Err(reason) => outbox::drain(&self.store, &Undeliverable(reason)).await,
        };
        let next = match drained {
            Ok(Drained::Empty) => None,
            Ok(Drained::Delivered { more: true, .. }) => Some(0),
            // Rows accepted while the batch was in flight wait for the next run.
            Ok(Drained::Delivered { more: false, .. }) => {
                self.store.outbox_len().ok().filter(|&n| n > 0).map(|_| OUTBOX_DELAY_MS)
            }
            Ok(Drained::Failed { retry_in_ms, error }) => {
                worker::console_warn!("outbox delivery failed, retrying in {retry_in_ms} ms: {error}");
                Some(retry_in_ms)
            }
            Ok(Drained::Narrowed { to, error }) => {
                worker::console_warn!(
                    "outbox batch refused for good, looking for the refused row ({to} rows): {error}"
                );
                Some(0)
            }
            Ok(Drained::DeadLettered { seq, error }) => {
                worker::console_error!("outbox row {seq} refused for good, set aside as a dead letter: {error}");
                telemetry::add("outbox_dead_letters", &[], 1.0);
                Some(0)
            }
            Err(e) => {
                worker::console_error!("outbox storage failure: {e}");
                Some(outbox::BACKOFF_MAX_MS)
            }
        };
        next
    }

    fn snapshot(&self, user: Option<Uuid>) -> ServerFrame {
        let board = self.board.borrow();
        let top = board.page(1, SNAPSHOT_TOP);
        ServerFrame::Snapshot {
            seq: board.last_seq().unwrap_or(0),
            total: board.total(),
            entries: board_entries(&board, &top, &self.people_of(&top)).iter().map(PublicEntry::from).collect(),
            me: user.and_then(|u| board.standing(u)).map(|e| standing_of(&board, &e)),
        }
    }

    async fn subscribe(&self, req: &Request) -> Result<Response> {
        let headers = req.headers();
        if !headers.get("Upgrade")?.is_some_and(|v| v.eq_ignore_ascii_case("websocket")) {
            return error(400, "bad_request", "expected a WebSocket upgrade");
        }
        let Some(user_id) = headers.get(HEADER_USER)?.and_then(|v| Uuid::try_parse(&v).ok()) else {
            return error(400, "bad_request", "missing subscriber");
        };
        if self.open_sockets.get() >= self.socket_capacity {
            return error(503, CODE_LIVE_FULL, format!("the live feed is full ({} sockets)", self.socket_capacity));
        }
        let now = now_ms();
        let closes_at_ms = headers
            .get(HEADER_TOKEN_EXP)?
            .and_then(|v| v.parse::<i64>().ok())
            .map_or(socket_rules::NEVER_MS, socket_rules::closes_at_ms);
        if closes_at_ms <= now {
            return error(401, "token_expired", "the token has expired");
        }
        self.make_room_for(&user_id);
        // Pending frames go to the sockets already open before this one joins: its snapshot includes them.
        let pending = self.fanout.flush();
        self.frames_sent(pending);
        let pair = WebSocketPair::new()?;
        // Tagged with the user id so a user's sockets can be found; the attachment survives hibernation. Called on
        // the runtime directly: workers-rs's accept unwraps the runtime's exception, and that panic would take the
        // whole object (and every subscriber) down; here the one subscriber is refused.
        let tags = vec![wasm_bindgen::JsValue::from(user_id.to_string())];
        if let Err(e) = self.state.as_raw().accept_websocket_with_tags(pair.server.as_ref(), tags) {
            worker::console_error!("the runtime refused a live socket: {e:?}");
            return error(503, CODE_LIVE_FULL, "the live feed refused the socket");
        }
        // Counted as soon as the runtime holds it: its close event will be counted too, even if a step below fails.
        self.sockets_changed(1);
        let id = self.next_socket.get();
        self.next_socket.set(id + 1);
        self.frame_budgets.borrow_mut().insert(id, FrameBudget::full(now));
        pair.server.serialize_attachment(SocketAttachment { user_id, id, closes_at_ms })?;
        pair.server.send_with_str(to_text(&self.snapshot(Some(user_id)))?)?;
        self.frames_sent(1);
        self.expiry_due_by(closes_at_ms).await?;
        let response_headers = Headers::new();
        if headers.get(HEADER_SUBPROTOCOL)?.is_some() {
            response_headers.set("Sec-WebSocket-Protocol", "bearer")?;
        }
        Ok(Response::from_websocket(pair.client)?.with_headers(response_headers))
    }

    async fn on_message(&self, ws: &WebSocket, text: &str) -> Result<()> {
        let Some(attachment) = ws.deserialize_attachment::<SocketAttachment>().ok().flatten() else {
            return ws.close(Some(1011), Some("socket state lost"));
        };
        let now = now_ms();
        let allowed =
            self.frame_budgets.borrow_mut().entry(attachment.id).or_insert_with(|| FrameBudget::full(now)).take(now);
        if !allowed {
            // One socket's flood must not starve the object: refuse, say why, and close.
            let _ = ws.send_with_str(to_text(&ServerFrame::Error { code: "rate_limited".to_owned() })?);
            return self.close_socket(ws, attachment.id, CLOSE_POLICY, "rate_limited");
        }
        if now >= attachment.closes_at_ms {
            return self.close_socket(ws, attachment.id, CLOSE_TOKEN_EXPIRED, "token_expired");
        }
        match serde_json::from_str::<ClientFrame>(text) {
            Ok(ClientFrame::Ping) => {
                ws.send_with_str(PONG_TEXT)?;
                self.frames_sent(1);
                Ok(())
            }
            Ok(ClientFrame::Resume { since }) => {
                // A resume replays what was sent; frames still pending reach this socket with the next pass.
                let sent_through = self.fanout.sent_through();
                let latest = self.board.borrow().last_seq().map(|last| last.min(sent_through));
                let plan = match self.store.updates_since(since) {
                    Ok((oldest, mut kept)) => {
                        kept.retain(|(seq, _)| *seq <= sent_through);
                        live::plan(since, latest, oldest, kept)
                    }
                    Err(e) => {
                        worker::console_error!("resume read failed: {e}");
                        Resume::Snapshot
                    }
                };
                let sent = match plan {
                    Resume::Frames(frames) => {
                        frames.iter().try_for_each(|frame| ws.send_with_str(frame))?;
                        frames.len() as u64
                    }
                    Resume::Snapshot => {
                        // The snapshot covers every applied change: pending frames go first, to every socket.
                        let pending = self.fanout.flush();
                        ws.send_with_str(to_text(&self.snapshot(Some(attachment.user_id)))?)?;
                        pending + 1
                    }
                };
                self.frames_sent(sent);
                Ok(())
            }
            Ok(ClientFrame::Auth { token }) => self.refresh_token(ws, attachment, token).await,
            // Unknown frames are ignored rather than fatal, so newer clients keep working with this server.
            Err(_) => Ok(()),
        }
    }

    /// An `auth` frame: a valid token of the socket's own user extends the socket to that token's expiry; anything
    /// else closes it (1008), as a socket's token is its only credential.
    async fn refresh_token(&self, ws: &WebSocket, mut attachment: SocketAttachment, token: String) -> Result<()> {
        match token_check::verify(&self.env, token).await {
            Ok((user_id, exp)) if user_id == attachment.user_id && socket_rules::closes_at_ms(exp) > now_ms() => {
                attachment.closes_at_ms = socket_rules::closes_at_ms(exp);
                ws.serialize_attachment(&attachment)?;
                ws.send_with_str(to_text(&ServerFrame::AuthOk { exp })?)?;
                self.frames_sent(1);
                self.expiry_due_by(attachment.closes_at_ms).await
            }
            outcome => {
                if let Err(reason) = outcome {
                    worker::console_warn!("live socket auth refused: {reason}");
                }
                let _ = ws.send_with_str(to_text(&ServerFrame::Error { code: "invalid_token".to_owned() })?);
                self.close_socket(ws, attachment.id, CLOSE_POLICY, "invalid_token")
            }
        }
    }

    /// Closes a socket that broke a rule, forgetting its frame budget.
    fn close_socket(&self, ws: &WebSocket, id: u64, code: u16, reason: &str) -> Result<()> {
        self.frame_budgets.borrow_mut().remove(&id);
        ws.close(Some(code), Some(reason))
    }

    /// Closes the oldest of `user_id`'s open sockets until a new one fits under the per-user limit.
    fn make_room_for(&self, user_id: &Uuid) {
        const OPEN: u16 = 1;
        let sockets: Vec<(WebSocket, u64)> = self
            .state
            .get_websockets_with_tag(&user_id.to_string())
            .into_iter()
            .filter(|s| s.as_ref().ready_state() == OPEN)
            .map(|s| {
                let number = s.deserialize_attachment::<SocketAttachment>().ok().flatten().map_or(0, |a| a.id);
                (s, number)
            })
            .collect();
        let opened: Vec<u64> = sockets.iter().map(|(_, number)| *number).collect();
        for index in socket_rules::make_room(&opened) {
            let _ = sockets[index].0.close(Some(CLOSE_POLICY), Some("too many live sockets for this user"));
        }
    }

    /// Makes sure the alarm runs by `closes_at_ms`, when a socket's token expires.
    async fn expiry_due_by(&self, closes_at_ms: i64) -> Result<()> {
        if closes_at_ms >= socket_rules::NEVER_MS {
            return Ok(());
        }
        if self.next_socket_expiry.get().is_none_or(|next| closes_at_ms < next) {
            self.next_socket_expiry.set(Some(closes_at_ms));
        }
        self.ensure_alarm_by(closes_at_ms).await
    }

    /// Closes (4001) every socket whose token has expired; the next expiry still ahead, if any. Scans the sockets
    /// only when an expiry is due (or unknown since the object woke), not on every alarm of the outbox.
    fn close_expired_sockets(&self, now: i64) -> Option<i64> {
        if self.next_socket_expiry.get().is_some_and(|next| next > now) {
            return self.next_socket_expiry.get();
        }
        let mut next: Option<i64> = None;
        for socket in self.state.get_websockets() {
            let Some(attachment) = socket.deserialize_attachment::<SocketAttachment>().ok().flatten() else { continue };
            if attachment.closes_at_ms <= now {
                let _ = self.close_socket(&socket, attachment.id, CLOSE_TOKEN_EXPIRED, "token_expired");
            } else if attachment.closes_at_ms < socket_rules::NEVER_MS {
                next = Some(next.map_or(attachment.closes_at_ms, |n| n.min(attachment.closes_at_ms)));
            }
        }
        self.next_socket_expiry.set(next);
        next
    }

    fn read_standing(&self, user: &str) -> Result<Response> {
        let Ok(user_id) = Uuid::try_parse(user) else {
            return error(400, "bad_request", "user id must be a UUID");
        };
        let board = self.board.borrow();
        match board.standing(user_id) {
            Some(entry) => Response::from_json(&standing_of(&board, &entry)),
            None => error(404, "not_found", "no score for this user"),
        }
    }

    fn read_page(&self, req: &Request) -> Result<Response> {
        let limit = query(req, "limit").and_then(|v| v.parse::<usize>().ok()).unwrap_or(50).clamp(1, MAX_PAGE);
        let board = self.board.borrow();
        let entries = match query(req, "cursor") {
            Some(text) => match Cursor::decode(&text) {
                Some(cursor) => board.page_after(cursor, limit),
                None => return error(400, "bad_request", "malformed cursor"),
            },
            None => board.page(1, limit),
        };
        let next_cursor = match entries.last() {
            Some(last) if last.rank < board.total() => board.cursor_after(last).map(|c| c.encode()),
            _ => None,
        };
        let entries = board_entries(&board, &entries, &self.people_of(&entries));
        Response::from_json(&Page { total: board.total(), entries, next_cursor })
    }

    fn read_around(&self, req: &Request, user: &str) -> Result<Response> {
        let Ok(user_id) = Uuid::try_parse(user) else {
            return error(400, "bad_request", "user id must be a UUID");
        };
        let radius = query(req, "radius").and_then(|v| v.parse::<u64>().ok()).unwrap_or(5).min(MAX_RADIUS);
        let board = self.board.borrow();
        let (Some(me), Some(window)) = (board.standing(user_id), board.around(user_id, radius)) else {
            return error(404, "not_found", "no score for this user");
        };
        Response::from_json(&Around {
            rank: me.rank,
            display_rank: board.display_rank(me.score),
            score: me.score as i64,
            total: board.total(),
            percentile: percentile(me.rank, board.total()),
            entries: board_entries(&board, &window, &self.people_of(&window)),
        })
    }
}

impl Competition {
    fn loaded(&self) -> std::result::Result<&Loaded, &str> {
        self.loaded.as_ref().map_err(String::as_str)
    }
}

impl DurableObject for Competition {
    fn new(state: State, env: Env) -> Self {
        // No automatic ping answers: the runtime would answer them without counting them, and every client frame
        // counts against the socket's frame limit (API.md, "Live socket limits").
        // SQLite calls are synchronous, so the board is complete before the first request is delivered.
        let loaded = Loaded::open(state, env).map_err(|e| e.to_string());
        if let Ok(loaded) = &loaded {
            loaded.count_sockets_on_wake();
        }
        Self { loaded }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let loaded = match self.loaded() {
            Ok(loaded) => loaded,
            Err(reason) => {
                worker::console_error!("competition failed to load: {reason}");
                return error(503, "dependency_unavailable", "competition storage unavailable");
            }
        };
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, PATH_SCORES) => loaded.write_score(req).await,
            (Method::Put, PATH_META) => loaded.set_meta(req).await,
            (Method::Get, PATH_PRIZES) => loaded.prizes(),
            (Method::Post, PATH_ROSTER) => loaded.add_member(req).await,
            (Method::Post, PATH_PEOPLE) => loaded.set_person(req).await,
            (Method::Post, PATH_FORGET) => loaded.forget(req).await,
            (Method::Get, PATH_LIVE) => loaded.subscribe(&req).await,
            (Method::Get, PATH_PAGE) => loaded.read_page(&req),
            #[cfg(feature = "test-routes")]
            (Method::Post, PATH_TEST_SEED) => loaded.seed(&req),
            (Method::Get, PATH_STATS) => loaded.stats(),
            (Method::Get, PATH_OUTBOX) => loaded.outbox_report(),
            (Method::Post, PATH_OUTBOX_RETRY) => loaded.retry_dead_letters().await,
            (Method::Post, PATH_REPAIR) => loaded.repair(req).await,
            (Method::Post, PATH_DISQUALIFY) => loaded.disqualify(req).await,
            (Method::Post, PATH_SETTINGS) => loaded.change_settings(req).await,
            (Method::Post, PATH_CANCEL) => loaded.cancel(),
            #[cfg(feature = "test-routes")]
            (Method::Post, PATH_TEST_CORRUPT) => loaded.test_corrupt(&req),
            #[cfg(feature = "test-routes")]
            (Method::Post, PATH_TEST_FINALIZE) => loaded.test_finalize(&req),
            #[cfg(feature = "test-routes")]
            (Method::Post, PATH_TEST_ALARM) => {
                loaded.run_alarm().await?;
                loaded.stats()
            }
            (Method::Get, p) if p.starts_with(PATH_SCORE_OF) => loaded.read_standing(&p[PATH_SCORE_OF.len()..]),
            (Method::Get, p) if p.starts_with(PATH_AROUND) => loaded.read_around(&req, &p[PATH_AROUND.len()..]),
            _ => error(404, "not_found", "unknown competition operation"),
        }
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
            (Ok(_), WebSocketIncomingMessage::Binary(_)) => Ok(()),
            (Err(_), _) => ws.close(Some(1011), Some("competition unavailable")),
        }
    }

    async fn websocket_close(&self, ws: WebSocket, code: usize, _reason: String, _was_clean: bool) -> Result<()> {
        // Complete the closing handshake; the runtime forgets the socket afterwards.
        let code = u16::try_from(code).ok().filter(|c| (1000..5000).contains(c) && *c != 1005 && *c != 1006);
        let _ = ws.close(code.or(Some(1000)), Some("bye"));
        if let Ok(loaded) = self.loaded() {
            loaded.sockets_changed(-1);
            if let Some(attachment) = ws.deserialize_attachment::<SocketAttachment>().ok().flatten() {
                loaded.frame_budgets.borrow_mut().remove(&attachment.id);
            }
        }
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> Result<()> {
        // Counted down by its close event (which follows); counting here too could count it twice.
        let _ = ws.close(Some(1011), Some("socket error"));
        Ok(())
    }
}
