//! The relay's side of the competition's stream: published batches sent to every socket in `seq` order once, gaps
//! filled from the competition's kept frames, and holds that keep batches back while a socket is being brought up
//! to date on its own.

use super::*;
use crate::broadcast;
use crate::telemetry::ObjectMetric;
use crate::worker_link;
use standings::live;
use standings::protocol::{FramesAt, SnapshotAt};

/// Rounds of gap filling before the relay waits for the next batch (each round asks the competition once).
const FILL_ROUNDS: u32 = 4;

/// Keeps published frames back while it lives (see [`RelayState::holds`]); dropping it releases them.
pub(super) struct Hold<'a>(&'a RelayState);

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        self.0.holds.set(self.0.holds.get() - 1);
        if self.0.holds.get() == 0 {
            let held = std::mem::take(&mut *self.0.held.borrow_mut());
            if !held.is_empty() {
                self.0.deliver(held);
                // A gap among them is filled when the next batch arrives.
            }
        }
    }
}

impl RelayState {
    /// Holds published frames back until the returned guard is dropped.
    pub(super) fn hold(&self) -> Hold<'_> {
        self.holds.set(self.holds.get() + 1);
        Hold(self)
    }

    /// Whether no socket is open or being brought up to date: batches then only move the line.
    pub(super) fn unattended(&self) -> bool {
        self.subscribers.open() == 0 && self.holds.get() == 0
    }

    /// A batch from the competition.
    pub(super) async fn publish(&self, frames: Vec<PendingFrame>) {
        if let Some(finished) = frames.iter().find(|frame| standings::relay::is_finished_text(&frame.2)) {
            self.learn_finished(Some(&finished.2));
        }
        if self.unattended() {
            // Nobody to send to: move on without asking for anything missed.
            let newest = frames.iter().map(|f| f.0).max().unwrap_or(0);
            self.line.borrow_mut().skip_to(newest);
            self.save_through();
            return;
        }
        self.deliver(frames);
        self.fill_gaps().await;
    }

    /// Frames to send: held while a hold is on, else sent now.
    pub(super) fn deliver(&self, frames: Vec<PendingFrame>) {
        if self.holds.get() > 0 {
            self.held.borrow_mut().extend(frames);
            return;
        }
        self.send_now(frames);
    }

    /// Sends what continues the line to every socket (consecutive updates combined), and stores the new position.
    pub(super) fn send_now(&self, frames: Vec<PendingFrame>) {
        let before = self.line.borrow().through();
        let ready = self.line.borrow_mut().receive(frames);
        if ready.is_empty() {
            return;
        }
        self.subscribers.close_expired_before_sending(&self.state);
        let raw: &wasm_bindgen::JsValue = self.state.as_raw().as_ref();
        let sent: u64 = live::combine(ready).iter().map(|text| broadcast::to_all_raw(raw, text)).sum();
        if self.line.borrow().through() != before {
            self.save_through();
        }
        self.frames_sent(sent);
    }

    /// Asks the competition for the frames a gap holds back, until none is left (or the competition no longer keeps
    /// them: then every socket is closed to resume, which gives each a snapshot).
    pub(super) async fn fill_gaps(&self) {
        if self.filling.replace(true) {
            return;
        }
        for _ in 0..FILL_ROUNDS {
            let Some((since, until)) = self.line.borrow().gap() else { break };
            match self.kept_frames(since, until).await {
                Ok(Some(frames)) => self.deliver(frames),
                Ok(None) => {
                    self.close_all(1012, "missed updates; resume");
                    let newest = self.line.borrow().newest();
                    self.line.borrow_mut().skip_to(newest);
                    self.save_through();
                }
                Err(e) => {
                    worker::console_error!("relay gap {since}..{until} not filled yet: {e}");
                    break;
                }
            }
        }
        self.filling.set(false);
    }

    /// Brings the line up to `seq` before a socket gets a snapshot of `seq` (so it never sees an older frame after
    /// it): sent to the sockets already open, or skipped when there are none.
    pub(super) async fn catch_up_to(&self, seq: u64) -> Result<()> {
        if self.subscribers.open() == 0 {
            self.line.borrow_mut().skip_to(seq);
            self.save_through();
            return Ok(());
        }
        for _ in 0..FILL_ROUNDS {
            let since = self.line.borrow().through();
            if since >= seq {
                return Ok(());
            }
            match self.kept_frames(since, seq).await? {
                Some(frames) => self.send_now(frames),
                None => {
                    self.close_all(1012, "missed updates; resume");
                    self.line.borrow_mut().skip_to(seq);
                    self.save_through();
                }
            }
        }
        Ok(())
    }

    /// The competition's kept frames in `since+1..=through` (`None` when it no longer keeps them all), learning its
    /// `finished` frame from the answer.
    pub(super) async fn kept_frames(&self, since: u64, through: u64) -> Result<Option<Vec<PendingFrame>>> {
        let answer = self.ask::<FramesAt>(&ObjectRequest::Frames { since, through }).await?;
        self.learn_finished(answer.finished.as_deref());
        Ok(answer.frames)
    }

    /// The competition's snapshot for `user_id`'s new or resuming socket, learning its `finished` frame from it.
    pub(super) async fn snapshot_for(&self, user_id: Uuid) -> Result<SnapshotAt> {
        let snapshot: SnapshotAt = self.ask(&ObjectRequest::Snapshot { user_id }).await?;
        self.learn_finished(snapshot.finished.as_deref());
        Ok(snapshot)
    }

    /// Remembers the competition's `finished` frame (from a batch or an answer), stored for the relay's next life.
    fn learn_finished(&self, text: Option<&str>) {
        let Some(text) = text else { return };
        if self.finished.borrow().is_some() {
            return;
        }
        if let Err(e) = self.set_meta(KEY_FINISHED, text) {
            worker::console_error!("finished frame not stored (kept in memory only): {e}");
        }
        *self.finished.borrow_mut() = Some(text.to_owned());
    }

    /// Sends `ws` the `finished` frame after the frames it was brought up to date with, unless the line is still to
    /// send it to every socket (it waits for its `seq`, or sits in a held batch) or the socket is closing; how many.
    pub(super) fn send_finished(&self, ws: &WebSocket) -> Result<u64> {
        // A socket closed to resume (a run the competition no longer keeps) gets it with its resume.
        if ws.as_ref().ready_state() != crate::subscribers::OPEN {
            return Ok(0);
        }
        let on_its_way = self.line.borrow().finished_pending()
            || self.held.borrow().iter().any(|frame| standings::relay::is_finished_text(&frame.2));
        match self.finished.borrow().as_ref() {
            Some(text) if !on_its_way => ws.send_with_str(text).map(|()| 1),
            _ => Ok(0),
        }
    }

    /// Counts frames sent and lets a due metrics flush run.
    pub(super) fn frames_sent(&self, count: u64) {
        if count > 0 {
            worker_link::add_metric(ObjectMetric::WebsocketMessagesSent, count as f64);
        }
        worker_link::flush_metrics(&self.state, &self.env);
    }

    /// Closes every socket with `code` (their clients reconnect and resume).
    pub(super) fn close_all(&self, code: u16, reason: &str) {
        for socket in self.state.get_websockets() {
            let _ = socket.close(Some(code), Some(reason));
        }
    }
}
