//! The life of a live socket, shared by the Competition object and its relays: what a socket carries through
//! hibernation, its frame budget, the per-user limit, closing at token expiry and extending it with an `auth` frame.
//! The object's one alarm, which expiry needs, is `alarm_slot.rs`; the protocol's rules are `standings::socket_rules`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use worker::{Env, Headers, Response, Result, State, WebSocket, WebSocketPair};

use crate::replies::{error_response, to_text};
use crate::telemetry::{ObjectMetric, Refusal};
use crate::worker_link;
use standings::object_error::ErrorCode;
use standings::protocol::{ServerFrame, HEADER_SUBPROTOCOL, HEADER_TOKEN_EXP, HEADER_USER};
use standings::socket_gauge::SocketGauge;
use standings::socket_rules::{
    self, ExpiryWatch, FrameBudget, ReplayBook, CLOSE_POLICY, CLOSE_TOKEN_EXPIRED, CLOSE_TOO_BIG, TOO_LONG_FRAME,
};

/// `WebSocket.readyState` of a socket that takes frames (the runtime's `OPEN`).
pub(crate) const OPEN: u16 = 1;

/// What a socket carries through hibernation (well under the 2 048-byte attachment limit).
#[derive(Debug, Serialize, Deserialize)]
pub struct SocketAttachment {
    /// The subscriber.
    pub user_id: Uuid,
    /// The object's number for the socket: keys its frame budget, and orders a user's sockets by age (numbers grow
    /// as sockets are accepted, also across the object's lives), so the oldest gives way first.
    #[serde(default)]
    pub id: u64,
    /// When it must close (epoch ms): its token's expiry plus the leeway; extended by `auth` frames.
    #[serde(default = "never")]
    pub closes_at_ms: i64,
}

fn never() -> i64 {
    socket_rules::NEVER_MS
}

/// A socket's attachment, if it still has one.
pub fn attachment_of(ws: &WebSocket) -> Option<SocketAttachment> {
    ws.deserialize_attachment::<SocketAttachment>().ok().flatten()
}

/// A live socket upgrade as the Worker forwards it to an object.
pub struct Upgrade {
    /// The subscriber (verified by the Worker).
    pub user_id: Uuid,
    /// When the socket must close: its token's expiry plus the leeway.
    pub closes_at_ms: i64,
    /// The `bearer` subprotocol as the client spelled it, when it asked for it (echoed in the 101).
    bearer: Option<String>,
}

impl Upgrade {
    /// Reads an upgrade for an object with `open` of `capacity` sockets; `Err` holds the refusal to answer (not an
    /// upgrade, no subscriber, a full live feed, an expired token).
    pub fn read(
        headers: &Headers,
        open: u64,
        capacity: u64,
        now_ms: i64,
    ) -> Result<std::result::Result<Self, Response>> {
        if !headers.get("Upgrade")?.is_some_and(|v| v.eq_ignore_ascii_case("websocket")) {
            return error_response(ErrorCode::BadRequest, "expected a WebSocket upgrade").map(Err);
        }
        let Some(user_id) = headers.get(HEADER_USER)?.and_then(|v| Uuid::try_parse(&v).ok()) else {
            return error_response(ErrorCode::BadRequest, "missing subscriber").map(Err);
        };
        if open >= capacity {
            return error_response(ErrorCode::LiveFull, format!("the live feed is full ({capacity} sockets)")).map(Err);
        }
        let closes_at_ms = headers
            .get(HEADER_TOKEN_EXP)?
            .and_then(|v| v.parse::<i64>().ok())
            .map_or(socket_rules::NEVER_MS, socket_rules::closes_at_ms);
        if closes_at_ms <= now_ms {
            return error_response(ErrorCode::TokenExpired, "the token has expired").map(Err);
        }
        let bearer = headers.get(HEADER_SUBPROTOCOL)?;
        Ok(Ok(Self { user_id, closes_at_ms, bearer }))
    }

    /// The 101 that hands the client its end of the socket.
    pub fn accepted(&self, client: WebSocket) -> Result<Response> {
        let headers = Headers::new();
        if let Some(bearer) = &self.bearer {
            headers.set("Sec-WebSocket-Protocol", bearer)?;
        }
        Ok(Response::from_websocket(client)?.with_headers(headers))
    }
}

/// An object's book of its sockets: how many are open (and last reported to the global gauge), their frame budgets,
/// the next socket number, and the earliest token expiry.
pub struct Subscribers {
    /// Open sockets (counted on wake, then kept by accept and close events) and the count last reported.
    gauge: RefCell<SocketGauge>,
    /// Each socket's frame allowance, by its number (lost with the object's memory, then full again: harmless).
    frame_budgets: RefCell<HashMap<u64, FrameBudget>>,
    /// What `resume`s replayed to each user lately (lost with the object's memory, then full again: harmless).
    replays: RefCell<ReplayBook>,
    next_socket: Cell<u64>,
    /// The earliest time a socket must close for its token.
    expiry: Cell<ExpiryWatch>,
}

/// What a client frame may do after the socket's checks.
pub enum Admitted {
    /// Handle it, for this socket.
    Frame(SocketAttachment),
    /// The socket broke a rule (or lost its state) and was closed.
    Closed,
}

impl Subscribers {
    /// A book for an object that woke at `now_ms`: numbers from the wake time (in µs) on stay above those of an
    /// earlier life of the object, and below 2^53 (attachments travel as JavaScript numbers).
    pub fn new(now_ms: i64, reported_sockets: u64) -> Self {
        Self {
            gauge: RefCell::new(SocketGauge::woke(0, reported_sockets)),
            frame_budgets: RefCell::new(HashMap::new()),
            replays: RefCell::new(ReplayBook::default()),
            next_socket: Cell::new(now_ms as u64 * 1000),
            expiry: Cell::new(ExpiryWatch::default()),
        }
    }

    /// Open sockets.
    pub fn open(&self) -> u64 {
        self.gauge.borrow().open()
    }

    /// Counts the open sockets of `state` once, when the object wakes (the only O(n) pass; events adjust the count
    /// after), and reports them (see [`Subscribers::changed`]).
    pub fn count_on_wake(&self, state: &State, store: impl FnOnce(u64) -> std::result::Result<(), String>) {
        let open = state.get_websockets().iter().filter(|s| s.as_ref().ready_state() == OPEN).count() as u64;
        self.gauge.borrow_mut().recount(open);
        self.report(store);
    }

    /// A socket opened (`+1`) or closed (`-1`): moves the global `websocket_connections` gauge by the difference
    /// between the open sockets and the count last reported (see [`SocketGauge`]), after `store` recorded the new
    /// count, so sockets a deploy or eviction dropped without close events leave the gauge at the next wake.
    pub fn changed(&self, by: i64, store: impl FnOnce(u64) -> std::result::Result<(), String>) {
        self.gauge.borrow_mut().changed(by);
        self.report(store);
    }

    fn report(&self, store: impl FnOnce(u64) -> std::result::Result<(), String>) {
        let due = self.gauge.borrow().due();
        if let Some(report) = due {
            if let Err(e) = store(report.count) {
                worker::console_error!("socket count not stored, gauge not moved: {e}");
                return;
            }
            self.gauge.borrow_mut().reported(report);
            worker_link::add_metric(ObjectMetric::WebsocketConnections, report.delta);
        }
    }

    /// Accepts a new socket into `state`, tagged with its user so a user's sockets can be found; `Err` holds the
    /// refusal to answer. Called on the runtime directly: workers-rs's accept unwraps the runtime's exception, and
    /// that panic would take the whole object (and every subscriber) down; here the one subscriber is refused.
    pub fn accept(&self, state: &State, upgrade: &Upgrade) -> Result<std::result::Result<WebSocketPair, Response>> {
        self.make_room_for(state, &upgrade.user_id);
        let pair = WebSocketPair::new()?;
        let tags = vec![wasm_bindgen::JsValue::from(upgrade.user_id.to_string())];
        if let Err(e) = state.as_raw().accept_websocket_with_tags(pair.server.as_ref(), tags) {
            worker::console_error!("the runtime refused a live socket: {e:?}");
            return error_response(ErrorCode::LiveFull, "the live feed refused the socket").map(Err);
        }
        Ok(Ok(pair))
    }

    /// Numbers a newly accepted socket, gives it a full frame budget and stores its attachment (which survives
    /// hibernation).
    pub fn attach(&self, ws: &WebSocket, upgrade: &Upgrade, now_ms: i64) -> Result<()> {
        let id = self.next_socket.get();
        self.next_socket.set(id + 1);
        self.frame_budgets.borrow_mut().insert(id, FrameBudget::full(now_ms));
        ws.serialize_attachment(SocketAttachment { user_id: upgrade.user_id, id, closes_at_ms: upgrade.closes_at_ms })
    }

    /// The checks every client `frame` passes first: the socket's state, its length (a frame longer than any of the
    /// protocol, which the JS entry hands over as `socket_rules::TOO_LONG_FRAME`, closes the socket with 1009), its
    /// frame budget (a flood is refused, told why and closed, so one socket cannot starve the object) and its token's
    /// expiry.
    pub fn admit(&self, ws: &WebSocket, frame: &str, now_ms: i64) -> Result<Admitted> {
        // Frames the client sent before it saw our close still arrive; the socket takes nothing more (a send throws
        // and the handler's error would be logged as uncaught), so they are dropped unanswered.
        if ws.as_ref().ready_state() != OPEN {
            return Ok(Admitted::Closed);
        }
        let Some(attachment) = attachment_of(ws) else {
            ws.close(Some(1011), Some("socket state lost"))?;
            return Ok(Admitted::Closed);
        };
        if frame == TOO_LONG_FRAME {
            self.close(ws, attachment.id, CLOSE_TOO_BIG, "frame_too_large")?;
            refused(Refusal::FrameTooLarge, &attachment.user_id);
            return Ok(Admitted::Closed);
        }
        let allowed = self
            .frame_budgets
            .borrow_mut()
            .entry(attachment.id)
            .or_insert_with(|| FrameBudget::full(now_ms))
            .take(now_ms);
        if !allowed {
            let _ = ws.send_with_str(to_text(&ServerFrame::Error { code: "rate_limited".to_owned() })?);
            self.close(ws, attachment.id, CLOSE_POLICY, "rate_limited")?;
            refused(Refusal::FrameFlood, &attachment.user_id);
            return Ok(Admitted::Closed);
        }
        if now_ms >= attachment.closes_at_ms {
            self.close(ws, attachment.id, CLOSE_TOKEN_EXPIRED, "token_expired")?;
            return Ok(Admitted::Closed);
        }
        Ok(Admitted::Frame(attachment))
    }

    /// Whether a `resume` may replay `frames` kept frames to `user_id` now (`ReplayBook`); if not, it gets a
    /// snapshot (counted, not logged: a client may ask ten times a second).
    pub fn may_replay(&self, user_id: Uuid, frames: u64, now_ms: i64) -> bool {
        let allowed = self.replays.borrow_mut().may_replay(user_id, frames, now_ms);
        if !allowed {
            worker_link::add_metric(ObjectMetric::WebsocketRefusal(Refusal::ReplayAllowance), 1.0);
        }
        allowed
    }

    /// Closes a socket that broke a rule, forgetting its frame budget.
    pub fn close(&self, ws: &WebSocket, id: u64, code: u16, reason: &str) -> Result<()> {
        self.frame_budgets.borrow_mut().remove(&id);
        ws.close(Some(code), Some(reason))
    }

    /// A socket's close event: completes the closing handshake and forgets its budget.
    pub fn closed(&self, ws: &WebSocket, code: usize) {
        finish_close(ws, code);
        if let Some(attachment) = attachment_of(ws) {
            self.frame_budgets.borrow_mut().remove(&attachment.id);
        }
    }

    /// Closes the oldest of `user_id`'s open sockets until a new one fits under the per-user limit.
    fn make_room_for(&self, state: &State, user_id: &Uuid) {
        let sockets: Vec<(WebSocket, u64)> = state
            .get_websockets_with_tag(&user_id.to_string())
            .into_iter()
            .filter(|s| s.as_ref().ready_state() == OPEN)
            .map(|s| {
                let number = attachment_of(&s).map_or(0, |a| a.id);
                (s, number)
            })
            .collect();
        let opened: Vec<u64> = sockets.iter().map(|(_, number)| *number).collect();
        for index in socket_rules::make_room(&opened) {
            let _ = sockets[index].0.close(Some(CLOSE_POLICY), Some("too many live sockets for this user"));
        }
    }

    /// Notes that a socket must close by `closes_at_ms`; whether the object's alarm must run by then.
    pub fn expires_at(&self, closes_at_ms: i64) -> bool {
        if closes_at_ms >= socket_rules::NEVER_MS {
            return false;
        }
        let mut expiry = self.expiry.get();
        expiry.noted(closes_at_ms);
        self.expiry.set(expiry);
        true
    }

    /// Closes (4001) every socket whose token has expired; the next expiry still ahead, if any. Reads the sockets
    /// only when an expiry is due (or unknown since the object woke), so it is a clock comparison on every send.
    pub fn close_expired(&self, state: &State, now_ms: i64) -> Option<i64> {
        let mut expiry = self.expiry.get();
        if expiry.scan_due(now_ms) {
            let mut next = socket_rules::NEVER_MS;
            for socket in state.get_websockets() {
                let Some(attachment) = attachment_of(&socket) else { continue };
                if attachment.closes_at_ms <= now_ms {
                    let _ = self.close(&socket, attachment.id, CLOSE_TOKEN_EXPIRED, "token_expired");
                } else {
                    next = next.min(attachment.closes_at_ms);
                }
            }
            expiry.scanned(next);
            self.expiry.set(expiry);
        }
        expiry.next()
    }

    /// Before a frame goes to every socket: closes those whose tokens expired, so an expired token stops receiving
    /// the board on time even when the alarm that closes them runs late (it does the database work due with it
    /// first, and one alarm runs at a time).
    pub fn close_expired_before_sending(&self, state: &State) {
        if self.open() > 0 {
            self.close_expired(state, crate::clock::now_ms());
        }
    }

    /// An `auth` frame: a valid token of the socket's own user extends the socket to that token's expiry (its new
    /// closing time is returned, for the alarm); anything else closes it (1008) after an error frame
    /// (`token_expired` or `invalid_token`), as a socket's token is its only credential.
    pub async fn refresh(
        &self,
        env: &Env,
        ws: &WebSocket,
        mut attachment: SocketAttachment,
        token: String,
        now_ms: i64,
    ) -> Result<Option<i64>> {
        match worker_link::verify(env, token).await {
            Ok((user_id, exp)) if user_id == attachment.user_id && socket_rules::closes_at_ms(exp) > now_ms => {
                attachment.closes_at_ms = socket_rules::closes_at_ms(exp);
                ws.serialize_attachment(&attachment)?;
                ws.send_with_str(to_text(&ServerFrame::AuthOk { exp })?)?;
                Ok(Some(attachment.closes_at_ms))
            }
            outcome => {
                // An expired token is told as such (the client fetches a fresh one, as after a 401 `token_expired`);
                // anything else, a foreign user's valid token included, is a bad one.
                let code = match outcome {
                    Err(refusal) => {
                        worker::console_warn!("live socket auth refused: {refusal}");
                        refusal.code()
                    }
                    Ok(_) => "invalid_token",
                };
                let _ = ws.send_with_str(to_text(&ServerFrame::Error { code: code.to_owned() })?);
                self.close(ws, attachment.id, CLOSE_POLICY, code)?;
                Ok(None)
            }
        }
    }
}

/// Counts a socket closed by one of its rules, and logs whose it was (at most once per socket: it is closed).
fn refused(refusal: Refusal, user_id: &Uuid) {
    worker::console_warn!("live socket of user {user_id} closed: {}", refusal.reason());
    worker_link::add_metric(ObjectMetric::WebsocketRefusal(refusal), 1.0);
}

/// Completes the closing handshake of a socket the client closed with `code` (the runtime forgets it afterwards).
pub fn finish_close(ws: &WebSocket, code: usize) {
    let code = u16::try_from(code).ok().filter(|c| (1000..5000).contains(c) && *c != 1005 && *c != 1006);
    let _ = ws.close(code.or(Some(1000)), Some("bye"));
}
