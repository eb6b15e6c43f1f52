//! Live sockets: accepting subscribers, their frames (`resume`, `auth`, pings), the per-socket and per-user limits,
//! token expiry, and publishing frames to everyone.

use super::*;
use crate::subscribers::SocketAttachment;

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
        self.to_relays(seq, is_update, &text);
        self.subscribers.close_expired_before_sending(&self.state);
        self.frames_sent(self.fanout.publish(seq, is_update, text, self.subscribers.open()));
        Ok(())
    }

    /// Sends the last frame (`finished`, which repeats the last `seq` and is not kept for `resume`) to every socket,
    /// the relays' included, after the updates still pending.
    pub(super) fn announce_finished(&self, seq: u64, text: String) {
        self.subscribers.close_expired_before_sending(&self.state);
        let pending = self.fanout.flush();
        self.to_relays(seq, false, &text);
        self.frames_sent(pending + broadcast::to_all(&self.state, &text));
        self.finished_frame.replace(Some(text));
    }

    /// The `finished` frame when the standings are final (built once from the stored results after a wake): a
    /// socket that opens or resumes after the end gets it after its other frames, as those open at the end did.
    pub(super) fn finished_text(&self) -> Option<String> {
        let seq = {
            let board = self.board.borrow();
            if !board.is_final() {
                return None;
            }
            board.last_seq().unwrap_or(0)
        };
        if let Some(text) = self.finished_frame.borrow().as_ref() {
            return Some(text.clone());
        }
        // Cancelled standings have no results: their `finished` pays nobody, as the one sent at the cancel.
        let prizes = match self.final_prizes() {
            Ok(prizes) => prizes,
            Err(e) => {
                worker::console_error!("final results unreadable for a late subscriber's finished frame: {e}");
                return None;
            }
        };
        let text = to_text(&ServerFrame::Finished { seq, prizes }).ok()?;
        self.finished_frame.replace(Some(text.clone()));
        Some(text)
    }

    /// Sends `ws` the `finished` frame after its snapshot or resumed frames, when the standings are final; how many.
    fn send_finished(&self, ws: &WebSocket) -> Result<u64> {
        match self.finished_text() {
            Some(text) => ws.send_with_str(&text).map(|()| 1),
            None => Ok(0),
        }
    }

    /// Hands a frame to the linked relays for their sockets (relays that left are forgotten first).
    fn to_relays(&self, seq: u64, is_update: bool, text: &str) {
        self.forget_left_relays();
        if !self.relays.is_empty() {
            self.relays.publish(&(seq, is_update, text.to_owned()));
        }
    }

    /// Counts frames sent to subscribers and lets a due metrics flush run after the event.
    pub(super) fn frames_sent(&self, count: u64) {
        if count > 0 {
            worker_link::add_metric(ObjectMetric::WebsocketMessagesSent, count as f64);
        }
        worker_link::flush_metrics(&self.state, &self.env);
    }

    /// Counts the open sockets once, when the object wakes, and brings the global gauge in line.
    pub(super) fn count_sockets_on_wake(&self) {
        self.subscribers.count_on_wake(&self.state, |count| self.store_socket_count(count));
        worker_link::flush_metrics(&self.state, &self.env);
    }

    /// A socket opened (`+1`) or closed (`-1`).
    pub(super) fn sockets_changed(&self, by: i64) {
        self.subscribers.changed(by, |count| self.store_socket_count(count));
        worker_link::flush_metrics(&self.state, &self.env);
    }

    fn store_socket_count(&self, count: u64) -> std::result::Result<(), String> {
        self.store.set_reported_sockets(count).map_err(|e| e.to_string())
    }

    pub(super) async fn subscribe(&self, req: &Request) -> Result<Response> {
        let now = now_ms();
        let open = self.subscribers.open();
        let upgrade = match Upgrade::read(req.headers(), open, self.config.socket_capacity, now)? {
            Ok(upgrade) => upgrade,
            Err(refusal) => return Ok(refusal),
        };
        // Pending frames go to the sockets already open before this one joins: its snapshot includes them.
        let pending = self.fanout.flush();
        self.frames_sent(pending);
        let pair = match self.subscribers.accept(&self.state, &upgrade)? {
            Ok(pair) => pair,
            Err(refusal) => return Ok(refusal),
        };
        // Counted as soon as the runtime holds it: its close event will be counted too, even if a step below fails.
        self.sockets_changed(1);
        self.subscribers.attach(&pair.server, &upgrade, now)?;
        pair.server.send_with_str(to_text(&self.snapshot(Some(upgrade.user_id)))?)?;
        let finished = self.send_finished(&pair.server)?;
        self.frames_sent(1 + finished);
        self.expiry_due_by(upgrade.closes_at_ms).await?;
        upgrade.accepted(pair.client)
    }

    pub(super) async fn on_message(&self, ws: &WebSocket, text: &str) -> Result<()> {
        let Admitted::Frame(attachment) = self.subscribers.admit(ws, text, now_ms())? else { return Ok(()) };
        match serde_json::from_slice::<ClientFrame>(text.as_bytes()) {
            Ok(ClientFrame::Ping) => {
                ws.send_with_str(PONG_TEXT)?;
                self.frames_sent(1);
                Ok(())
            }
            Ok(ClientFrame::Resume { since }) => {
                // A resume replays what was sent; frames still pending reach this socket with the next pass.
                let sent_through = self.fanout.sent_through();
                let latest = self.board.borrow().last_seq().map(|last| last.min(sent_through));
                // Checked before the read: a replay past the user's allowance costs no more than a snapshot.
                let owed = latest.map_or(0, |latest| latest.saturating_sub(since));
                let plan = if !live::needs_kept_frames(since, latest) {
                    live::plan(since, latest, None, Vec::new())
                } else if !self.subscribers.may_replay(attachment.user_id, owed, now_ms()) {
                    Resume::Snapshot
                } else {
                    match self.store.updates_since(since) {
                        Ok((oldest, mut kept)) => {
                            kept.retain(|(seq, _)| *seq <= sent_through);
                            live::plan(since, latest, oldest, kept)
                        }
                        Err(e) => {
                            worker::console_error!("resume read failed: {e}");
                            Resume::Snapshot
                        }
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
                // A client that missed the end (its socket closed around it) learns it here.
                let finished = self.send_finished(ws)?;
                self.frames_sent(sent + finished);
                Ok(())
            }
            Ok(ClientFrame::Auth { token }) => self.refresh_token(ws, attachment, token).await,
            // Unknown frames are ignored rather than fatal, so newer clients keep working with this server.
            Err(_) => Ok(()),
        }
    }

    /// An `auth` frame: extends the socket to the new token's expiry, or closes it (`Subscribers::refresh`).
    pub(super) async fn refresh_token(
        &self,
        ws: &WebSocket,
        attachment: SocketAttachment,
        token: String,
    ) -> Result<()> {
        match self.subscribers.refresh(&self.env, ws, attachment, token, now_ms()).await? {
            Some(closes_at_ms) => {
                self.frames_sent(1);
                self.expiry_due_by(closes_at_ms).await
            }
            None => Ok(()),
        }
    }

    /// Makes sure the alarm runs by `closes_at_ms`, when a socket's token expires.
    pub(super) async fn expiry_due_by(&self, closes_at_ms: i64) -> Result<()> {
        if self.subscribers.expires_at(closes_at_ms) {
            self.ensure_alarm_by(closes_at_ms).await?;
        }
        Ok(())
    }

    /// Closes (4001) every socket whose token has expired; the next expiry still ahead, if any.
    pub(super) fn close_expired_sockets(&self, now: i64) -> Option<i64> {
        self.subscribers.close_expired(&self.state, now)
    }
}
