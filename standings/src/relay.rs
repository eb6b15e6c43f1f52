//! Rules of relay objects that need no runtime. A relay owns a share of one competition's live sockets (assigned
//! by user), receives each batch of frames once from the competition object, and sends it to its own sockets, so the
//! send passes of a large audience run on several objects instead of one. This module says how many relays a
//! competition gets, which relay serves a user, and where a relay stands in the competition's stream of frames:
//! every frame delivered once, in `seq` order, with gaps found (to be filled from the competition) and a ring of
//! recent frames for `resume`.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::live::PendingFrame;

/// Setting: members per relay. A competition with `max_participants` gets `ceil(max / this)` relays; unset (the
/// default) or 0 means no relays, and every socket is served by the competition object itself.
pub const LIVE_RELAY_MEMBERS: &str = "LIVE_RELAY_MEMBERS";
/// Most relays one competition gets.
pub const MAX_RELAYS: u32 = 64;
/// Frames a relay keeps for `resume` (API.md: at least the last 1 000); older resumes are answered by the
/// competition, which keeps the same window in SQLite.
pub const RELAY_RING: usize = 1_000;
/// Header that tells a relay which competition it serves (set by the Worker on the upgrade it forwards).
pub const HEADER_COMPETITION: &str = "X-Leaderboard-Competition";
/// Header with the relay's own object name (set by the Worker with the competition).
pub const HEADER_RELAY: &str = "X-Leaderboard-Relay";
/// Binding name of the Relay namespace in `wrangler.toml`.
pub const RELAY_BINDING: &str = "RELAY";
/// Binding name of the Competition namespace in `wrangler.toml`.
pub const COMPETITION_BINDING: &str = "COMPETITION";

/// Every operation a relay object takes besides the socket upgrade (which carries headers): the JSON body of
/// `POST {INTERNAL_ORIGIN}/{name}`.
/// Externally tagged, as [`crate::requests::ObjectRequest`] is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RelayRequest {
    /// Frames the competition published, `(seq, is_update, text)` in order, for the relay's sockets. Reply:
    /// [`Published`].
    Publish {
        /// The batch.
        frames: Vec<PendingFrame>,
    },
    /// The relay loses what it holds in memory (ring, waiting frames), as when it is evicted (test builds). Reply:
    /// empty.
    #[cfg(feature = "test-routes")]
    TestForget,
    /// The relay closes every socket (1012), as a deploy does (test builds). Reply: empty.
    #[cfg(feature = "test-routes")]
    TestCloseAll,
    /// The relay's next batch waits `ms` before it is taken, as a relay busy or stuck would (test builds). Reply:
    /// empty.
    #[cfg(feature = "test-routes")]
    TestStallNext {
        /// How long.
        ms: u64,
    },
}

impl RelayRequest {
    /// The operation's name: the path it is posted to, so traces say what was asked.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Publish { .. } => "publish",
            #[cfg(feature = "test-routes")]
            Self::TestForget => "test_forget",
            #[cfg(feature = "test-routes")]
            Self::TestCloseAll => "test_close_all",
            #[cfg(feature = "test-routes")]
            Self::TestStallNext { .. } => "test_stall_next",
        }
    }

    /// Parses a request body as the relay receives it.
    pub fn parse(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

/// A relay's answer to a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// The relay has no sockets and leaves: the epoch of the join this ends. The competition stops publishing to
    /// it unless it has heard of a later join; the relay joins again with its next subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left: Option<u64>,
}

impl Published {
    /// The answer in a reply body: an empty or unreadable body (a relay of an older build) has not left.
    pub fn read(body: &[u8]) -> Self {
        serde_json::from_slice(body).unwrap_or_default()
    }
}

/// Setting of how long a relay goes without sockets before it leaves its competition (milliseconds).
pub const RELAY_LEAVE_AFTER_MS: &str = "RELAY_LEAVE_AFTER_MS";
/// Its default: a minute, so a client that reconnects costs no new join.
pub const DEFAULT_RELAY_LEAVE_AFTER_MS: i64 = 60_000;

/// Whether a relay answers a batch by leaving: no socket open or being opened, and none for `leave_after_ms`.
pub fn leaves(busy: bool, idle_since_ms: Option<i64>, now_ms: i64, leave_after_ms: i64) -> bool {
    !busy && idle_since_ms.is_some_and(|since| now_ms.saturating_sub(since) >= leave_after_ms)
}

/// Whether a relay's "left" answer for `left_epoch` ends the competition's link, which knows of join `known`. `None`
/// means no join arrived since the competition woke, so the "left" is for the join it stored before; a later join
/// that arrived first (the relay's next subscriber) keeps the link.
pub fn ends_link(known: Option<u64>, left_epoch: u64) -> bool {
    known.is_none_or(|epoch| epoch == left_epoch)
}

/// Frames a competition holds for one relay while a batch to it is on its way (a relay slow to answer, or silent until
/// the call's time limit): beyond it the older half goes, and the relay asks the competition for what it missed (or,
/// once the competition no longer keeps those frames, closes its sockets to resume). At ≈ 250 bytes a frame, a few MB
/// per relay, where a silent relay at 2 000 writes a second used to grow its queue by 0.5 MB a second for as long as
/// it stayed silent.
pub const MAX_PENDING_PER_RELAY: usize = 10_000;

/// Queues `frame` for a relay behind `pending`, dropping the older half when the queue is full (amortised: a frame
/// costs no copy of the whole queue).
pub fn queue_for_relay(pending: &mut Vec<PendingFrame>, frame: PendingFrame) {
    if pending.len() >= MAX_PENDING_PER_RELAY {
        pending.drain(..MAX_PENDING_PER_RELAY / 2);
    }
    pending.push(frame);
}

/// Relays for a competition of at most `max_participants` members when the deployment sets `members_per_relay`.
pub fn relays_for(max_participants: Option<i64>, members_per_relay: Option<u64>) -> u32 {
    match (max_participants, members_per_relay) {
        (Some(max), Some(per)) if max > 0 && per > 0 => {
            (max as u64).div_ceil(per).clamp(1, u64::from(MAX_RELAYS)) as u32
        }
        _ => 0,
    }
}

/// The relay (of `relays`, at least 1) that serves `user`: stable for the user, spread evenly over random ids.
pub fn relay_of(user: &Uuid, relays: u32) -> u32 {
    (user.as_u128() % u128::from(relays.max(1))) as u32
}

/// The object name of relay `index` of `competition`.
pub fn relay_name(competition: &Uuid, index: u32) -> String {
    format!("{competition}/relay/{index}")
}

/// Whether a kept frame's text is an `update` (the only kind `live::combine` joins).
pub fn is_update_text(text: &str) -> bool {
    text.starts_with(r#"{"type":"update""#)
}

/// Whether a frame's text is the competition's `finished`: it repeats the last update's `seq`, so it is not part of
/// the line; it goes out once, after every frame up to its `seq`.
pub fn is_finished_text(text: &str) -> bool {
    text.starts_with(r#"{"type":"finished""#)
}

/// A relay's place in the competition's stream: the last `seq` its sockets were sent, frames that arrived ahead of
/// a gap, the ring of recent frames, and the `finished` frame until the line reaches it.
#[derive(Debug, Default)]
pub struct RelayLine {
    through: u64,
    waiting: BTreeMap<u64, PendingFrame>,
    ring: VecDeque<(u64, String)>,
    finished: Option<PendingFrame>,
    finished_sent: bool,
}

impl RelayLine {
    /// A line whose sockets have been sent everything up to `through`.
    pub fn starting_at(through: u64) -> Self {
        Self { through, ..Self::default() }
    }

    /// The last `seq` the relay's sockets were sent.
    pub fn through(&self) -> u64 {
        self.through
    }

    /// Takes frames from the competition (in any order, repeats allowed) and returns those to send now, in order:
    /// the run that continues `through`. Frames ahead of a gap wait for it to be filled.
    pub fn receive(&mut self, frames: Vec<PendingFrame>) -> Vec<PendingFrame> {
        for frame in frames {
            if is_finished_text(&frame.2) {
                if !self.finished_sent {
                    self.finished = Some(frame);
                }
            } else if frame.0 > self.through {
                self.waiting.entry(frame.0).or_insert(frame);
            }
        }
        let mut ready = Vec::new();
        while let Some(frame) = self.waiting.remove(&(self.through + 1)) {
            self.through = frame.0;
            self.ring.push_back((frame.0, frame.2.clone()));
            if self.ring.len() > RELAY_RING {
                self.ring.pop_front();
            }
            ready.push(frame);
        }
        if self.finished.as_ref().is_some_and(|finished| finished.0 <= self.through) {
            ready.extend(self.finished.take());
            self.finished_sent = true;
        }
        ready
    }

    /// The missing run that holds back waiting frames or `finished`: `(since, until)`, i.e. `seq` in
    /// `since+1..=until`.
    pub fn gap(&self) -> Option<(u64, u64)> {
        match self.waiting.keys().next() {
            Some(first) => Some((self.through, first - 1)),
            None => self.finished.as_ref().filter(|finished| finished.0 > self.through).map(|f| (self.through, f.0)),
        }
    }

    /// Whether a `finished` frame waits for the line to reach its `seq` (it then goes to every socket).
    pub fn finished_pending(&self) -> bool {
        self.finished.is_some()
    }

    /// The last `seq` known to exist (delivered, waiting, or that of `finished`).
    pub fn newest(&self) -> u64 {
        let waiting = self.waiting.keys().next_back().copied().unwrap_or(self.through);
        waiting.max(self.through).max(self.finished.as_ref().map_or(0, |finished| finished.0))
    }

    /// Moves the line to `seq` without sending what lies between: when no socket is open (nobody to send to), or
    /// when the sockets were closed to resume elsewhere. The ring restarts, as it must stay gapless.
    pub fn skip_to(&mut self, seq: u64) {
        if seq > self.through {
            self.through = seq;
            self.ring.clear();
        }
        self.waiting = self.waiting.split_off(&(self.through + 1));
        // Nobody is left to send a `finished` the line has passed.
        if self.finished.as_ref().is_some_and(|finished| finished.0 <= self.through) {
            self.finished = None;
        }
    }

    /// Forgets the ring and the waiting frames, as when the relay's memory is lost; `through` is what was stored.
    pub fn forget(&mut self, through: u64) {
        *self = Self::starting_at(through);
    }

    /// The frames after `since` a resuming socket needs, if the ring holds all of them (`Some(empty)` when it is up
    /// to date); `None` sends the question on to the competition.
    pub fn replay(&self, since: u64) -> Option<Vec<String>> {
        if since == self.through {
            return Some(Vec::new());
        }
        let first = self.ring.front()?.0;
        if since > self.through || since + 1 < first {
            return None;
        }
        Some(self.ring.iter().filter(|(seq, _)| *seq > since).map(|(_, text)| text.clone()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frame(seq: u64) -> PendingFrame {
        (seq, true, format!(r#"{{"type":"update","seq":{seq}}}"#))
    }

    fn seqs(frames: &[PendingFrame]) -> Vec<u64> {
        frames.iter().map(|f| f.0).collect()
    }

    #[test]
    fn a_relays_queue_keeps_its_newest_frames_and_never_passes_its_bound() {
        let mut pending = Vec::new();
        for seq in 1..=(MAX_PENDING_PER_RELAY as u64) {
            queue_for_relay(&mut pending, frame(seq));
        }
        assert_eq!(pending.len(), MAX_PENDING_PER_RELAY, "a full queue loses nothing");
        queue_for_relay(&mut pending, frame(MAX_PENDING_PER_RELAY as u64 + 1));
        let kept = seqs(&pending);
        assert_eq!(kept.len(), MAX_PENDING_PER_RELAY / 2 + 1);
        assert_eq!(kept.first().copied(), Some(MAX_PENDING_PER_RELAY as u64 / 2 + 1), "the older half went");
        assert!(kept.windows(2).all(|w| w[1] == w[0] + 1), "the newest, in order, with no hole");
        for seq in 0..(10 * MAX_PENDING_PER_RELAY as u64) {
            queue_for_relay(&mut pending, frame(seq));
            assert!(pending.len() <= MAX_PENDING_PER_RELAY);
        }
    }

    #[test]
    fn a_relay_leaves_only_after_a_quiet_spell_and_only_its_own_join_ends() {
        // (busy, idle since, now, leave after) → leaves
        let cases = [
            (false, Some(0), 60_000, 60_000, true),
            (false, Some(1), 60_000, 60_000, false),
            (true, Some(0), 120_000, 60_000, false),
            (false, None, 120_000, 60_000, false),
            (false, Some(500), 500, 0, true),
        ];
        for (busy, idle, now, after, expected) in cases {
            assert_eq!(leaves(busy, idle, now, after), expected, "{busy} {idle:?} {now} {after}");
        }
        // (known join, left epoch) → the link ends
        for (known, left, expected) in [(None, 3, true), (Some(3), 3, true), (Some(4), 3, false), (Some(0), 0, true)] {
            assert_eq!(ends_link(known, left), expected, "{known:?} {left}");
        }
        assert_eq!(Published::read(b""), Published { left: None }, "an older relay answers nothing");
        assert_eq!(Published::read(br#"{"left":7}"#), Published { left: Some(7) });
        assert_eq!(serde_json::to_string(&Published::default()).ok().as_deref(), Some("{}"));
    }

    #[test]
    fn relay_counts_and_assignment() {
        let cases: [(Option<i64>, Option<u64>, u32); 7] = [
            (None, Some(100), 0),
            (Some(300), None, 0),
            (Some(300), Some(100), 3),
            (Some(301), Some(100), 4),
            (Some(10), Some(100), 1),
            (Some(1_000_000), Some(10), MAX_RELAYS),
            (Some(0), Some(100), 0),
        ];
        for (max, per, relays) in cases {
            assert_eq!(relays_for(max, per), relays, "{max:?} {per:?}");
        }
        let mut counts = [0u32; 3];
        for n in 0..3000u128 {
            let user = Uuid::from_u128(n.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835));
            assert_eq!(relay_of(&user, 3), relay_of(&user, 3), "stable");
            counts[relay_of(&user, 3) as usize] += 1;
        }
        assert!(counts.iter().all(|c| (800..1200).contains(c)), "{counts:?}");
        assert_eq!(relay_of(&Uuid::from_u128(5), 0), 0, "no relays: index 0, never a division by zero");
        assert!(is_update_text(&frame(3).2));
        assert!(!is_update_text(r#"{"type":"removed","seq":4}"#));
    }

    #[test]
    fn relay_requests_travel_and_come_back_the_same() {
        #[allow(unused_mut)] // extended in test builds only
        let mut requests = vec![RelayRequest::Publish { frames: vec![frame(1), (2, false, "{}".into())] }];
        #[cfg(feature = "test-routes")]
        requests.extend([RelayRequest::TestForget, RelayRequest::TestCloseAll, RelayRequest::TestStallNext { ms: 5 }]);
        for request in requests {
            let text = serde_json::to_string(&request).expect("json");
            assert_eq!(RelayRequest::parse(text.as_bytes()).expect("parses"), request, "{text}");
            let tag = format!("\"{}\"", request.name());
            assert!(text == tag || text.starts_with(&format!("{{{tag}:")), "{text}");
        }
        assert!(RelayRequest::parse(br#"{"publish":{"frames":[[1,"x"]]}}"#).is_err());
    }

    #[test]
    fn a_gap_holds_back_what_follows_until_it_is_filled() {
        let mut line = RelayLine::starting_at(10);
        assert_eq!(seqs(&line.receive(vec![frame(11), frame(12)])), [11, 12]);
        assert_eq!(seqs(&line.receive(vec![frame(15), frame(16)])), Vec::<u64>::new());
        assert_eq!(line.gap(), Some((12, 14)));
        assert_eq!(line.newest(), 16);
        assert_eq!(seqs(&line.receive(vec![frame(12), frame(13), frame(14)])), [13, 14, 15, 16], "repeats dropped");
        assert_eq!((line.gap(), line.through()), (None, 16));
        assert_eq!(line.replay(13).map(|f| f.len()), Some(3));
        assert_eq!(line.replay(16), Some(vec![]));
        assert_eq!(line.replay(9), None, "older than the ring: the competition answers");
        assert_eq!(line.replay(20), None, "from the future: the competition answers");
    }

    #[test]
    fn finished_goes_out_once_after_every_frame_up_to_its_seq() {
        let finished = |seq: u64| (seq, false, format!(r#"{{"type":"finished","seq":{seq},"prizes":[]}}"#));
        // In order: at once, after the frames of the same batch.
        let mut line = RelayLine::starting_at(0);
        let ready = line.receive(vec![frame(1), frame(2), finished(2)]);
        assert_eq!(
            ready.iter().map(|f| (f.0, is_finished_text(&f.2))).collect::<Vec<_>>(),
            [(1, false), (2, false), (2, true)]
        );
        assert_eq!((line.through(), line.gap()), (2, None), "not a frame of the line");
        assert!(line.receive(vec![finished(2)]).is_empty(), "a repeated batch sends it no second time");
        assert_eq!(line.replay(0).map(|f| f.len()), Some(2), "resume replays updates only");
        // Behind a gap: it waits, and the gap names the frames it waits for.
        let mut line = RelayLine::starting_at(3);
        assert!(line.receive(vec![finished(6)]).is_empty());
        assert_eq!((line.gap(), line.newest()), (Some((3, 6)), 6));
        assert_eq!(seqs(&line.receive(vec![frame(4), frame(5)])), [4, 5]);
        assert_eq!(seqs(&line.receive(vec![frame(6)])), [6, 6]);
        // The object's own frame is recognised.
        let text = serde_json::to_string(&crate::protocol::ServerFrame::Finished { seq: 9, prizes: Vec::new() });
        assert!(text.is_ok_and(|text| is_finished_text(&text)));
        // Skipped past with nobody to send to: dropped.
        let mut line = RelayLine::starting_at(0);
        line.receive(vec![frame(2), finished(2)]);
        line.skip_to(2);
        assert_eq!((line.gap(), line.receive(vec![frame(3)]).len()), (None, 1));
    }

    #[test]
    fn skipping_restarts_the_ring_and_drops_what_it_passed() {
        let mut line = RelayLine::starting_at(0);
        line.receive(vec![frame(1), frame(2), frame(5)]);
        line.skip_to(5);
        assert_eq!((line.through(), line.gap()), (5, None));
        assert_eq!(line.replay(2), None, "the ring no longer reaches back over the skip");
        assert_eq!(line.replay(5), Some(vec![]));
        assert_eq!(seqs(&line.receive(vec![frame(6)])), [6]);
        line.forget(6);
        assert_eq!((line.through(), line.replay(5)), (6, None));
    }

    #[test]
    fn the_ring_keeps_the_last_frames() {
        let mut line = RelayLine::starting_at(0);
        line.receive((1..=(RELAY_RING as u64 + 50)).map(frame).collect());
        assert_eq!(line.replay(49), None);
        assert_eq!(line.replay(50).map(|f| f.len()), Some(RELAY_RING));
    }

    proptest! {
        /// Against a naive model: frames arriving in any order, repeated, in batches, with each gap filled the way
        /// the relay fills it (the missing run asked for and received), are sent exactly once each, in `seq` order.
        #[test]
        fn every_frame_once_in_order(
            arrivals in proptest::collection::vec((1u64..60, 0usize..4), 1..80),
        ) {
            let mut line = RelayLine::starting_at(0);
            let mut sent = Vec::new();
            for (seq, extra) in arrivals {
                let batch: Vec<PendingFrame> = (seq..seq + extra as u64 + 1).map(frame).collect();
                sent.extend(seqs(&line.receive(batch)));
                while let Some((since, until)) = line.gap() {
                    sent.extend(seqs(&line.receive((since + 1..=until).map(frame).collect())));
                }
            }
            let newest = line.newest();
            let expected: Vec<u64> = (1..=newest).collect();
            prop_assert_eq!(sent, expected);
            prop_assert_eq!(line.through(), newest);
        }
    }
}
