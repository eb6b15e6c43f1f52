//! Live sockets: accepting subscribers, their frames (`resume`, `auth`, pings), the per-socket and per-user limits,
//! token expiry, and publishing frames to everyone.

use super::*;

impl Loaded {
    /// Keeps the frame for `resume` and hands it to the fan-out (sent now, or with the next pass when the object has
    /// many sockets). Serialised once; a socket that fails to take it is closed (its client reconnects and resumes)
    /// so one dead peer never blocks the others.
    pub(super) fn publish(&self, seq: u64, frame: &ServerFrame) -> Result<()> {
        let text = to_text(frame)?;
        if let Err(e) = self.store.keep_update(seq, &text) {
            // The score itself is stored; a missing frame only turns a later resume into a snapshot.
            worker::console_error!("could not keep update {seq} for resume: {e}");
        }
        let is_update = matches!(frame, ServerFrame::Update(_));
        if !self.relays.is_empty() {
            self.relays.publish(&(seq, is_update, text.clone()));
        }
        self.frames_sent(self.fanout.publish(seq, is_update, text, self.sockets.borrow().open()));
        Ok(())
    }

    /// Counts frames sent to subscribers and lets a due metrics flush run after the event.
    pub(super) fn frames_sent(&self, count: u64) {
        if count > 0 {
            worker_link::add_metric(ObjectMetric::WebsocketMessagesSent, count as f64);
        }
        worker_link::flush_metrics(&self.state, &self.env);
    }

    /// Counts the open sockets once, when the object wakes (the only O(n) pass; events adjust the count after), and
    /// brings the global gauge in line: sockets a deploy or eviction dropped without close events leave it here.
    pub(super) fn count_sockets_on_wake(&self) {
        const OPEN: u16 = 1;
        let open = self.state.get_websockets().iter().filter(|s| s.as_ref().ready_state() == OPEN).count() as u64;
        self.sockets.borrow_mut().recount(open);
        self.report_sockets();
    }

    /// A socket opened (`+1`) or closed (`-1`).
    pub(super) fn sockets_changed(&self, by: i64) {
        self.sockets.borrow_mut().changed(by);
        self.report_sockets();
    }

    /// Moves the global `websocket_connections` gauge by the difference between this object's open sockets and the
    /// count it last reported (see [`SocketGauge`]), stored before the gauge moves.
    pub(super) fn report_sockets(&self) {
        let due = self.sockets.borrow().due();
        if let Some(report) = due {
            if let Err(e) = self.store.set_reported_sockets(report.count) {
                worker::console_error!("socket count not stored, gauge not moved: {e}");
                return;
            }
            self.sockets.borrow_mut().reported(report);
            worker_link::add_metric(ObjectMetric::WebsocketConnections, report.delta);
        }
        worker_link::flush_metrics(&self.state, &self.env);
    }

    pub(super) async fn subscribe(&self, req: &Request) -> Result<Response> {
        let headers = req.headers();
        if !headers.get("Upgrade")?.is_some_and(|v| v.eq_ignore_ascii_case("websocket")) {
            return error(ErrorCode::BadRequest, "expected a WebSocket upgrade");
        }
        let Some(user_id) = headers.get(HEADER_USER)?.and_then(|v| Uuid::try_parse(&v).ok()) else {
            return error(ErrorCode::BadRequest, "missing subscriber");
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
            return error(ErrorCode::LiveFull, "the live feed refused the socket");
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

    pub(super) async fn on_message(&self, ws: &WebSocket, text: &str) -> Result<()> {
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
    pub(super) async fn refresh_token(
        &self,
        ws: &WebSocket,
        mut attachment: SocketAttachment,
        token: String,
    ) -> Result<()> {
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

    /// Closes a socket that broke a rule, forgetting its frame budget.
    pub(super) fn close_socket(&self, ws: &WebSocket, id: u64, code: u16, reason: &str) -> Result<()> {
        self.frame_budgets.borrow_mut().remove(&id);
        ws.close(Some(code), Some(reason))
    }

    /// Closes the oldest of `user_id`'s open sockets until a new one fits under the per-user limit.
    pub(super) fn make_room_for(&self, user_id: &Uuid) {
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
    pub(super) async fn expiry_due_by(&self, closes_at_ms: i64) -> Result<()> {
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
    pub(super) fn close_expired_sockets(&self, now: i64) -> Option<i64> {
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
}
