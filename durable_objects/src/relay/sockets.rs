//! The relay's live sockets: the same protocol and limits as the competition object's own (snapshot first, pings,
//! `resume`, `auth`, and `crate::subscribers`' frame budget, per-user limit and token expiry), with the snapshot and
//! older frames asked of the competition.

use super::*;
use crate::subscribers::{Admitted, SocketAttachment, Upgrade};
use crate::worker_link;
use standings::protocol::{ClientFrame, PONG_TEXT};
use standings::relay::{HEADER_COMPETITION, HEADER_RELAY};

impl RelayState {
    pub(super) async fn subscribe(&self, req: &Request) -> Result<Response> {
        let headers = req.headers();
        let now = now_ms();
        let open = self.subscribers.open();
        let upgrade = match Upgrade::read(headers, open, self.config.socket_capacity, now)? {
            Ok(upgrade) => upgrade,
            Err(refusal) => return Ok(refusal),
        };
        let competition = headers.get(HEADER_COMPETITION)?.and_then(|v| Uuid::try_parse(&v).ok());
        let (Some(competition), Some(name)) = (competition, headers.get(HEADER_RELAY)?) else {
            return error_response(ErrorCode::BadRequest, "missing competition or relay name");
        };
        self.remember(competition, name)?;
        let _hold = self.hold();
        if let Err(e) = self.join().await {
            worker::console_error!("relay could not join its competition: {e}");
            return error_response(ErrorCode::DependencyUnavailable, "the live feed is unavailable");
        }
        let user_id = upgrade.user_id;
        let snapshot = match self.snapshot_for(user_id).await {
            Ok(snapshot) => snapshot,
            Err(e) => {
                worker::console_error!("relay could not get a snapshot: {e}");
                return error_response(ErrorCode::DependencyUnavailable, "the live feed is unavailable");
            }
        };
        self.catch_up_to(snapshot.seq).await?;
        let pair = match self.subscribers.accept(&self.state, &upgrade)? {
            Ok(pair) => pair,
            Err(refusal) => return Ok(refusal),
        };
        self.sockets_changed(1);
        self.subscribers.attach(&pair.server, &upgrade, now)?;
        pair.server.send_with_str(&snapshot.text)?;
        // The line may be ahead of the snapshot (frames sent while it was asked for): this socket gets those too.
        let sent = 1 + self.replay_to(&pair.server, snapshot.seq).await?;
        let finished = self.send_finished(&pair.server)?;
        self.frames_sent(sent + finished);
        self.expiry_due_by(upgrade.closes_at_ms).await?;
        upgrade.accepted(pair.client)
    }

    /// The frames after `since` up to the line's position: from the ring, else from the competition's kept frames;
    /// `None` when neither holds them all, or when `since` is ahead of the line.
    async fn missed_since(&self, since: u64) -> Result<Option<Vec<String>>> {
        let through = self.line.borrow().through();
        let ring = self.line.borrow().replay(since);
        if ring.is_some() || since >= through {
            return Ok(ring);
        }
        let frames = self.kept_frames(since, through).await?;
        Ok(frames.map(|frames| frames.into_iter().map(|(_, _, text)| text).collect()))
    }

    /// Sends `ws` the frames after `since` up to the line's position (none when the line is not past `since`); how
    /// many. A run the competition no longer keeps closes the socket to resume.
    async fn replay_to(&self, ws: &WebSocket, since: u64) -> Result<u64> {
        if since >= self.line.borrow().through() {
            return Ok(0);
        }
        match self.missed_since(since).await? {
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
        let Admitted::Frame(attachment) = self.subscribers.admit(ws, text, now_ms())? else { return Ok(()) };
        match serde_json::from_slice::<ClientFrame>(text.as_bytes()) {
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
        // Checked before the frames are looked for (perhaps at the competition): a replay past the user's allowance
        // costs no more than a snapshot.
        let owed = self.line.borrow().through().saturating_sub(since);
        let missed =
            if self.subscribers.may_replay(user_id, owed, now_ms()) { self.missed_since(since).await? } else { None };
        let sent = match missed {
            Some(texts) => {
                texts.iter().try_for_each(|text| ws.send_with_str(text))?;
                texts.len() as u64
            }
            None => {
                let snapshot = self.snapshot_for(user_id).await?;
                self.catch_up_to(snapshot.seq).await?;
                ws.send_with_str(&snapshot.text)?;
                1 + self.replay_to(ws, snapshot.seq).await?
            }
        };
        // A client that missed the end (its socket closed around it) learns it here.
        let finished = self.send_finished(ws)?;
        self.frames_sent(sent + finished);
        Ok(())
    }

    /// An `auth` frame: extends the socket to the new token's expiry, or closes it (`Subscribers::refresh`).
    async fn refresh_token(&self, ws: &WebSocket, attachment: SocketAttachment, token: String) -> Result<()> {
        match self.subscribers.refresh(&self.env, ws, attachment, token, now_ms()).await? {
            Some(closes_at_ms) => {
                self.frames_sent(1);
                self.expiry_due_by(closes_at_ms).await
            }
            None => Ok(()),
        }
    }

    async fn expiry_due_by(&self, closes_at_ms: i64) -> Result<()> {
        if self.subscribers.expires_at(closes_at_ms) {
            self.ensure_alarm_by(closes_at_ms).await?;
        }
        Ok(())
    }

    /// Counts the open sockets when the relay wakes, and brings the global gauge in line.
    pub(super) fn count_sockets_on_wake(&self) {
        self.subscribers.count_on_wake(&self.state, |count| self.store_socket_count(count));
        self.note_idle();
        worker_link::flush_metrics(&self.state, &self.env);
    }

    /// A socket opened (`+1`) or closed (`-1`).
    pub(super) fn sockets_changed(&self, by: i64) {
        self.subscribers.changed(by, |count| self.store_socket_count(count));
        self.note_idle();
        worker_link::flush_metrics(&self.state, &self.env);
    }

    /// Starts the quiet spell after which the relay leaves when its last socket has gone (ends it when one opens).
    fn note_idle(&self) {
        match (self.subscribers.open(), self.idle_since.get()) {
            (0, None) => self.idle_since.set(Some(now_ms())),
            (0, Some(_)) => {}
            _ => self.idle_since.set(None),
        }
    }

    fn store_socket_count(&self, count: u64) -> std::result::Result<(), String> {
        self.set_meta(KEY_REPORTED_SOCKETS, &count.to_string()).map_err(|e| e.to_string())
    }
}
