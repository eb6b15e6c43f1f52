//! Requests of the relay objects that serve some of this competition's sockets: joining (every published frame
//! goes to them from then on), a subscriber's snapshot, and kept frames for a relay's gap or a resume it cannot
//! answer from its own ring.

use super::*;

impl Loaded {
    /// `RelayJoin`: stored first, so the relay is still linked after this object wakes again.
    pub(super) fn relay_join(&self, name: String, epoch: u64) -> Result<Reply> {
        if !self.relays.has(&name) {
            if let Err(e) = self.store.add_relay(&name) {
                return storage_failure(&e);
            }
        }
        self.relays.add(name, epoch);
        Reply::empty()
    }

    /// Deletes the stored rows of relays that left (and did not join again), so a wake does not link them again.
    pub(super) fn forget_left_relays(&self) {
        for name in self.relays.take_left() {
            if let Err(e) = self.store.remove_relay(&name) {
                worker::console_error!("relay {name} left but stays stored (it will leave again): {e}");
            }
        }
    }

    /// `Snapshot`: the frame a relay sends a new subscriber, with the sequence it includes (and `finished` after the
    /// end).
    pub(super) fn relay_snapshot(&self, user_id: Uuid) -> Result<Reply> {
        let frame = self.snapshot(Some(user_id));
        let seq = match &frame {
            ServerFrame::Snapshot { seq, .. } => *seq,
            _ => 0,
        };
        Reply::json(&SnapshotAt { seq, text: to_text(&frame)?, finished: self.finished_text() })
    }

    /// `Frames`: the kept frames in `since+1..=through`, or none when the run is no longer complete.
    pub(super) fn relay_frames(&self, since: u64, through: u64) -> Result<Reply> {
        let latest = self.board.borrow().last_seq().map(|last| last.min(through));
        let frames = match self.store.updates_since(since) {
            Ok((oldest, mut kept)) => {
                kept.retain(|(seq, _)| *seq <= through);
                match live::plan(since, latest, oldest, kept) {
                    Resume::Frames(texts) => Some(
                        (since + 1..)
                            .zip(texts)
                            .map(|(seq, text)| (seq, standings::relay::is_update_text(&text), text))
                            .collect(),
                    ),
                    Resume::Snapshot => None,
                }
            }
            Err(e) => return storage_failure(&e),
        };
        Reply::json(&FramesAt { frames, finished: self.finished_text() })
    }
}
