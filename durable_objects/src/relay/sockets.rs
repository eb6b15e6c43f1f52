//! The relay's live sockets: the same protocol and limits as the competition object's own (snapshot first, pings,
//! `resume`, `auth`, the per-socket frame budget, the per-user socket limit, closing at token expiry), with the
//! snapshot and older frames asked of the competition.

use super::*;
use crate::telemetry::ObjectMetric;
use crate::worker_link;
use standings::protocol::{
    ClientFrame, FramesAt, ServerFrame, SnapshotAt, HEADER_SUBPROTOCOL, HEADER_TOKEN_EXP, HEADER_USER, PONG_TEXT,
};
use standings::relay::{HEADER_COMPETITION, HEADER_RELAY};
use standings::socket_rules::{self, CLOSE_POLICY, CLOSE_TOKEN_EXPIRED};
use worker::{Headers, WebSocketPair};

fn to_text(frame: &ServerFrame) -> Result<String> {
    serde_json::to_string(frame).map_err(rust_error)
}

impl RelayState {
    pub(super) async fn subscribe(&self, req: &Request) -> Result<Response> {
        let headers = req.headers();
        if !headers.get("Upgrade")?.is_some_and(|v| v.eq_ignore_ascii_case("websocket")) {
            return error(ErrorCode::BadRequest, "expected a WebSocket upgrade");
        }
        let user_id = headers.get(HEADER_USER)?.and_then(|v| Uuid::try_parse(&v).ok());
        let competition = headers.get(HEADER_COMPETITION)?.and_then(|v| Uuid::try_parse(&v).ok());
        let (Some(user_id), Some(competition), Some(name)) = (user_id, competition, headers.get(HEADER_RELAY)?) else {
            return error(ErrorCode::BadRequest, "missing subscriber, competition or relay name");
        };
        if self.sockets.borrow().open() >= self.config.socket_capacity {
            return error(
                ErrorCode::LiveFull,
                format!("the live feed is full ({} sockets)", self.config.socket_capacity),
            );
        }
        let now = now_ms();
        let closes_at_ms = headers
            .get(HEADER_TOKEN_EXP)?
            .and_then(|v| v.parse::<i64>().ok())
            .map_or(socket_rules::NEVER_MS, socket_rules::closes_at_ms);
        if closes_at_ms <= now {
            return error(ErrorCode::TokenExpired, "the token has expired");
        }
        self.remember(competition, name)?;
        let _hold = self.hold();
        if let Err(e) = self.join().await {
            worker::console_error!("relay could not join its competition: {e}");
            return error(ErrorCode::DependencyUnavailable, "the live feed is unavailable");
        }
        let snapshot: SnapshotAt = match self.ask(&ObjectRequest::Snapshot { user_id }).await {
            Ok(snapshot) => snapshot,
            Err(e) => {
                worker::console_error!("relay could not get a snapshot: {e}");
                return error(ErrorCode::DependencyUnavailable, "the live feed is unavailable");
            }
        };
        self.catch_up_to(snapshot.seq).await?;
        self.make_room_for(&user_id);
        let pair = WebSocketPair::new()?;
        let tags = vec![wasm_bindgen::JsValue::from(user_id.to_string())];
        if let Err(e) = self.state.as_raw().accept_websocket_with_tags(pair.server.as_ref(), tags) {
            worker::console_error!("the runtime refused a relay socket: {e:?}");
            return error(ErrorCode::LiveFull, "the live feed refused the socket");
        }
        self.sockets_changed(1);
        let id = self.next_socket.get();
        self.next_socket.set(id + 1);
        self.frame_budgets.borrow_mut().insert(id, FrameBudget::full(now));
        pair.server.serialize_attachment(SocketAttachment { user_id, id, closes_at_ms })?;
        pair.server.send_with_str(&snapshot.text)?;
        // The line may be ahead of the snapshot (frames sent while it was asked for): this socket gets those too.
        let sent = 1 + self.replay_to(&pair.server, snapshot.seq).await?;
        self.frames_sent(sent);
        self.expiry_due_by(closes_at_ms).await?;
        let response_headers = Headers::new();
        if headers.get(HEADER_SUBPROTOCOL)?.is_some() {
            response_headers.set("Sec-WebSocket-Protocol", "bearer")?;
        }
        Ok(Response::from_websocket(pair.client)?.with_headers(response_headers))
    }

    /// Sends `ws` the frames after `since` up to the line's position, from the ring or else from the competition;
    /// `false`-like 0 when nothing was missing. A run the competition no longer keeps closes the socket to resume.
    async fn replay_to(&self, ws: &WebSocket, since: u64) -> Result<u64> {
        let through = self.line.borrow().through();
        if since >= through {
            return Ok(0);
        }
        let ring = self.line.borrow().replay(since);
        let texts = match ring {
            Some(texts) => Some(texts),
            None => self
                .ask::<FramesAt>(&ObjectRequest::Frames { since, through })
                .await?
                .frames
                .map(|frames| frames.into_iter().map(|(_, _, text)| text).collect()),
        };
        match texts {
            Some(texts) => {
                texts.iter().try_for_each(|text| ws.send_with_str(text))?;
                Ok(texts.len() as u64)
            }
            None => {
                ws.close(Some(1012), Some("missed updates; resume"))?;
                Ok(0)
            }
        }
    }

    pub(super) async fn on_message(&self, ws: &WebSocket, text: &str) -> Result<()> {
        let Some(attachment) = ws.deserialize_attachment::<SocketAttachment>().ok().flatten() else {
            return ws.close(Some(1011), Some("socket state lost"));
        };
        let now = now_ms();
        let allowed =
            self.frame_budgets.borrow_mut().entry(attachment.id).or_insert_with(|| FrameBudget::full(now)).take(now);
        if !allowed {
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
            Ok(ClientFrame::Resume { since }) => self.resume(ws, attachment.user_id, since).await,
            Ok(ClientFrame::Auth { token }) => self.refresh_token(ws, attachment, token).await,
            Err(_) => Ok(()),
        }
    }

    /// A `resume`: the missed frames from the ring or the competition; a client further back (or from the future)
    /// gets a fresh snapshot, then whatever the line has sent since it.
    async fn resume(&self, ws: &WebSocket, user_id: Uuid, since: u64) -> Result<()> {
        let _hold = self.hold();
        let through = self.line.borrow().through();
        let ring = self.line.borrow().replay(since);
        let frames = match ring {
            Some(texts) => Some(texts),
            None if since < through => self
                .ask::<FramesAt>(&ObjectRequest::Frames { since, through })
                .await?
                .frames
                .map(|frames| frames.into_iter().map(|(_, _, text)| text).collect()),
            None => None,
        };
        let sent = match frames {
            Some(texts) => {
                texts.iter().try_for_each(|text| ws.send_with_str(text))?;
                texts.len() as u64
            }
            None => {
                let snapshot: SnapshotAt = self.ask(&ObjectRequest::Snapshot { user_id }).await?;
                self.catch_up_to(snapshot.seq).await?;
                ws.send_with_str(&snapshot.text)?;
                1 + self.replay_to(ws, snapshot.seq).await?
            }
        };
        self.frames_sent(sent);
        Ok(())
    }

    /// An `auth` frame: a valid token of the socket's own user extends it; anything else closes it (1008).
    async fn refresh_token(&self, ws: &WebSocket, mut attachment: SocketAttachment, token: String) -> Result<()> {
        match worker_link::verify(&self.env, token).await {
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

    async fn expiry_due_by(&self, closes_at_ms: i64) -> Result<()> {
        if closes_at_ms >= socket_rules::NEVER_MS {
            return Ok(());
        }
        if self.next_socket_expiry.get().is_none_or(|next| closes_at_ms < next) {
            self.next_socket_expiry.set(Some(closes_at_ms));
        }
        self.ensure_alarm_by(closes_at_ms).await
    }

    /// Closes (4001) every socket whose token has expired; the next expiry still ahead, if any.
    pub(super) fn close_expired_sockets(&self, now: i64) -> Option<i64> {
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

    /// Counts the open sockets when the relay wakes, and brings the global gauge in line.
    pub(super) fn count_sockets_on_wake(&self) {
        const OPEN: u16 = 1;
        let open = self.state.get_websockets().iter().filter(|s| s.as_ref().ready_state() == OPEN).count() as u64;
        self.sockets.borrow_mut().recount(open);
        self.report_sockets();
    }

    pub(super) fn sockets_changed(&self, by: i64) {
        self.sockets.borrow_mut().changed(by);
        self.report_sockets();
    }

    /// Moves the global `websocket_connections` gauge by what changed since the last report (stored first).
    fn report_sockets(&self) {
        let due = self.sockets.borrow().due();
        if let Some(report) = due {
            if let Err(e) = self.set_meta(KEY_REPORTED_SOCKETS, &report.count.to_string()) {
                worker::console_error!("relay socket count not stored, gauge not moved: {e}");
                return;
            }
            self.sockets.borrow_mut().reported(report);
            worker_link::add_metric(ObjectMetric::WebsocketConnections, report.delta);
        }
        worker_link::flush_metrics(&self.state, &self.env);
    }
}
