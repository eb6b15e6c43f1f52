//! The limits a live socket lives under (`API.md`, "Live socket limits"): at most 10 client frames a second with a
//! burst of 20, at most 5 sockets per user and competition (the oldest gives way), and a socket's life ends when the
//! token it was opened (or last refreshed) with expires, with the same 30 s clock leeway as HTTP tokens. Pure Rust;
//! the object applies these decisions to its sockets.

use std::collections::HashMap;

use uuid::Uuid;

/// Client frames a socket may send per second, on average.
pub const FRAMES_PER_SECOND: f64 = 10.0;
/// Client frames a socket may send at once.
pub const FRAME_BURST: f64 = 20.0;
/// Live sockets one user may hold on one competition.
pub const SOCKETS_PER_USER: usize = 5;
/// Clock leeway on token expiry, as for HTTP tokens.
pub const LEEWAY_MS: i64 = 30_000;
/// Close code of a socket that broke a limit (policy violation).
pub const CLOSE_POLICY: u16 = 1008;
/// Close code of a socket whose token expired (the client reconnects with a fresh one).
pub const CLOSE_TOKEN_EXPIRED: u16 = 4001;
/// The longest client frame an object takes, in UTF-16 code units (JavaScript's `length`): the largest the protocol
/// needs is an `auth` frame with a token of the Worker's largest size (8 KiB). The check runs in the objects' JS
/// entry (`src/js/entry.mjs`, `MAX_CLIENT_FRAME_CHARS`) before a frame is copied into wasm memory, which never
/// shrinks: the runtime delivers frames of up to 32 MiB, and one such frame grew an object's isolate by 32 MB.
pub const MAX_CLIENT_FRAME_CHARS: usize = 16 * 1024;
/// Close code of a socket that sent a frame longer than [`MAX_CLIENT_FRAME_CHARS`] (RFC 6455: message too big).
pub const CLOSE_TOO_BIG: u16 = 1009;
/// What the JS entry hands the object instead of a frame longer than [`MAX_CLIENT_FRAME_CHARS`] (`TOO_LONG_FRAME`
/// there): one NUL, which no frame of the protocol is. A client that sends it itself is closed as if it had sent a
/// long frame, which is what it asked for.
pub const TOO_LONG_FRAME: &str = "\u{0}";

/// A token bucket: `tokens` at `at_ms`, refilled at a rate up to a burst the caller states.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

impl Bucket {
    /// Refills at `per_second` up to `burst` by `now_ms`, then spends `cost` if the bucket holds it.
    fn take(&mut self, cost: f64, burst: f64, per_second: f64, now_ms: i64) -> bool {
        self.refill(burst, per_second, now_ms);
        if self.tokens >= cost {
            self.tokens -= cost;
            true
        } else {
            false
        }
    }

    fn refill(&mut self, burst: f64, per_second: f64, now_ms: i64) {
        let elapsed = (now_ms - self.at_ms).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * per_second).min(burst);
        self.at_ms = self.at_ms.max(now_ms);
    }
}

/// A socket's frame allowance: a token bucket, full when the socket opens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameBudget(Bucket);

impl FrameBudget {
    /// A full bucket at `now_ms`.
    pub fn full(now_ms: i64) -> Self {
        Self(Bucket { tokens: FRAME_BURST, at_ms: now_ms })
    }

    /// Spends one frame at `now_ms`; `false` when the socket sent more than its allowance.
    pub fn take(&mut self, now_ms: i64) -> bool {
        self.0.take(1.0, FRAME_BURST, FRAMES_PER_SECOND, now_ms)
    }
}

/// Frames `resume`s may replay to one user at once: four full resume windows (a user's devices all resuming after a
/// deploy closed their sockets).
pub const REPLAY_BURST: f64 = 4_096.0;
/// Frames a user's replay allowance regains per second: a full resume window (1 024 frames) every 10 s.
pub const REPLAY_PER_SECOND: f64 = 102.4;
/// Users an object remembers replay allowances for before it forgets the full ones.
const REPLAY_BOOK_PRUNE_FROM: usize = 1_024;

/// What `resume`s replay to each user, so a resume cannot cost the object a thousand times what it cost the client:
/// the frame budget lets a socket send ten `resume`s a second, and each may ask for the whole resume window (about a
/// thousand frames). Four accounts' sockets resuming that way kept an object busy enough that other members' score
/// writes took a second. A user past the allowance gets a snapshot instead, as when the frames are no longer kept:
/// as complete, and small. Keyed by user, not socket, so new sockets do not bring new allowances; a user whose
/// allowance is full again is forgotten (it would be full if asked anew), so the book holds only recent replays.
#[derive(Debug, Default)]
pub struct ReplayBook {
    budgets: HashMap<Uuid, Bucket>,
    prune_from: usize,
}

impl ReplayBook {
    /// Whether `frames` may be replayed to `user_id` at `now_ms`; if so they are spent.
    pub fn may_replay(&mut self, user_id: Uuid, frames: u64, now_ms: i64) -> bool {
        if frames == 0 {
            // Nothing to replay (the common reconnect): no entry to keep.
            return true;
        }
        if self.budgets.len() >= self.prune_from.max(REPLAY_BOOK_PRUNE_FROM) {
            self.budgets.retain(|_, bucket| {
                bucket.refill(REPLAY_BURST, REPLAY_PER_SECOND, now_ms);
                bucket.tokens < REPLAY_BURST
            });
            // Pruning again only once the book doubled keeps the cost per replay constant however many remain.
            self.prune_from = self.budgets.len() * 2;
        }
        let bucket = self.budgets.entry(user_id).or_insert(Bucket { tokens: REPLAY_BURST, at_ms: now_ms });
        bucket.take(frames as f64, REPLAY_BURST, REPLAY_PER_SECOND, now_ms)
    }

    /// Users with an allowance not yet forgotten.
    pub fn users(&self) -> usize {
        self.budgets.len()
    }
}

/// "Never", as a time a socket closes: the largest integer a JavaScript number holds exactly (socket attachments
/// travel through the runtime as JavaScript values).
pub const NEVER_MS: i64 = (1 << 53) - 1;

/// When a socket opened with a token expiring at `exp_secs` must close (epoch ms).
pub fn closes_at_ms(exp_secs: i64) -> i64 {
    exp_secs.saturating_mul(1000).saturating_add(LEEWAY_MS).min(NEVER_MS)
}

/// The earliest time one of an object's sockets must close for its token, as far as the object knows. Sockets
/// outlive the object's memory (hibernation), so after a wake nothing is known until the sockets are read once; a
/// socket opened then does not make it known, since one of an earlier life may close sooner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpiryWatch {
    /// `None`: unknown; `NEVER_MS`: no socket's token expires.
    next: Option<i64>,
}

impl ExpiryWatch {
    /// Whether the sockets must be read at `now_ms`: one may have expired, or nothing is known.
    pub fn scan_due(&self, now_ms: i64) -> bool {
        self.next.is_none_or(|next| next <= now_ms)
    }

    /// A socket was opened or extended to close at `closes_at_ms`.
    pub fn noted(&mut self, closes_at_ms: i64) {
        if let Some(next) = self.next {
            self.next = Some(next.min(closes_at_ms));
        }
    }

    /// Every socket was read (the expired ones closed): `next` is the earliest closing still ahead.
    pub fn scanned(&mut self, next: i64) {
        self.next = Some(next);
    }

    /// When the next socket must close, when that is known and not never.
    pub fn next(&self) -> Option<i64> {
        self.next.filter(|next| *next < NEVER_MS)
    }
}

/// Which of a user's open sockets must close so a new one fits: the oldest first, until `SOCKETS_PER_USER - 1`
/// remain. `opened` holds each socket's opening order (any increasing number: the object numbers its sockets as it
/// accepts them, so two sockets opened in the same millisecond still have an order). Returns indexes into it.
pub fn make_room(opened: &[u64]) -> Vec<usize> {
    let excess = (opened.len() + 1).saturating_sub(SOCKETS_PER_USER);
    let mut order: Vec<usize> = (0..opened.len()).collect();
    order.sort_by_key(|&i| (opened[i], i));
    order.truncate(excess);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_js_entry_stands_long_frames_in_at_the_same_length_with_the_same_marker() {
        let entry = include_str!("../../src/js/entry.mjs");
        assert!(entry.contains(&format!("const MAX_CLIENT_FRAME_CHARS = {MAX_CLIENT_FRAME_CHARS};")), "frame limit");
        assert!(entry.contains(r#"const TOO_LONG_FRAME = "\u0000";"#) && TOO_LONG_FRAME == "\u{0}", "marker");
    }

    #[test]
    fn a_socket_bursts_twenty_frames_then_ten_a_second() {
        let mut budget = FrameBudget::full(0);
        assert!((0..20).all(|_| budget.take(0)), "the burst");
        assert!(!budget.take(0), "the 21st frame at once");
        assert!(!budget.take(99), "less than a tenth of a second later");
        assert!(budget.take(100), "one frame back every 100 ms");
        assert!(!budget.take(100));
        // A quiet second refills ten frames, never more than the burst.
        let mut rested = FrameBudget::full(0);
        (0..20).for_each(|_| {
            rested.take(0);
        });
        assert_eq!((0..30).filter(|_| rested.take(1_000)).count(), 10);
        let mut idle = FrameBudget::full(0);
        assert_eq!((0..30).filter(|_| idle.take(60_000)).count(), 20);
    }

    #[test]
    fn a_user_is_replayed_four_windows_at_once_then_one_every_ten_seconds() {
        let (user, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut book = ReplayBook::default();
        // (at ms, user, frames, allowed)
        let cases: &[(i64, Uuid, u64, bool)] = &[
            (0, user, 1_024, true),
            (0, user, 1_024, true),
            (0, user, 1_024, true),
            (0, user, 1_024, true),
            (0, user, 1, false),
            (0, other, 1_024, true),
            (9_000, user, 1_024, false),
            (10_000, user, 1_024, true),
            (10_000, user, 0, true),
            (60_000, user, 4_096, true),
            (60_000, user, 4_097, false),
        ];
        for (i, &(at, who, frames, allowed)) in cases.iter().enumerate() {
            assert_eq!(book.may_replay(who, frames, at), allowed, "case {i}: {frames} frames at {at} ms");
        }
        let mut fresh = ReplayBook::default();
        assert!(!fresh.may_replay(user, 4_097, 0), "more than the burst is never allowed at once");
        assert!(fresh.may_replay(user, 4_096, 0), "and a refusal spends nothing");
    }

    #[test]
    fn the_replay_book_forgets_users_whose_allowance_is_full_again() {
        let mut book = ReplayBook::default();
        for n in 0..2_000u128 {
            assert!(book.may_replay(Uuid::from_u128(n), 10, 0));
        }
        assert_eq!(book.users(), 2_000, "recent replays are remembered");
        // 100 ms later the first users are still owed their frames; a second later all are full again.
        assert!(book.may_replay(Uuid::from_u128(5_000), 10, 100));
        assert_eq!(book.users(), 2_001, "nothing full yet to forget");
        for n in 0..2_000u128 {
            assert!(book.may_replay(Uuid::from_u128(10_000 + n), 10, 1_000));
        }
        assert!(book.users() < 2_100, "the full ones are forgotten: {}", book.users());
        let mut spent = ReplayBook::default();
        assert!(spent.may_replay(Uuid::from_u128(1), 4_096, 0));
        assert!(spent.may_replay(Uuid::from_u128(9_999), 0, 0), "nothing to replay is always allowed");
        assert_eq!(spent.users(), 1, "and leaves no entry");
        for n in 2..5_000u128 {
            spent.may_replay(Uuid::from_u128(n), 1, 1_000);
        }
        assert!(!spent.may_replay(Uuid::from_u128(1), 4_096, 1_000), "an allowance still owed is kept through pruning");
    }

    #[test]
    fn ten_frames_a_second_forever_is_fine() {
        let mut budget = FrameBudget::full(0);
        assert!((0..1_000).all(|i| budget.take(i * 100)));
    }

    #[test]
    fn the_oldest_sockets_give_way() {
        let cases: &[(&[u64], &[usize])] = &[
            (&[], &[]),
            (&[5, 3, 9], &[]),
            (&[5, 3, 9, 1], &[]),
            (&[5, 3, 9, 1, 7], &[3]),
            (&[5, 3, 9, 1, 7, 2, 8], &[3, 5, 1]),
        ];
        for (opened, expected) in cases {
            assert_eq!(make_room(opened), *expected, "{opened:?}");
        }
    }

    #[test]
    fn expiry_has_the_http_leeway() {
        assert_eq!(closes_at_ms(1_000), 1_030_000);
        assert_eq!(closes_at_ms(i64::MAX), NEVER_MS);
    }

    #[test]
    fn expiries_are_unknown_after_a_wake_until_the_sockets_are_read() {
        let mut watch = ExpiryWatch::default();
        assert!(watch.scan_due(0), "nothing known after a wake");
        watch.noted(5_000);
        assert!(watch.scan_due(0), "a new socket does not speak for the older ones");
        assert_eq!(watch.next(), None);
        watch.scanned(5_000);
        assert!(!watch.scan_due(4_999));
        assert!(watch.scan_due(5_000), "due at the closing time itself");
        watch.noted(3_000);
        assert_eq!(watch.next(), Some(3_000), "an earlier closing moves it");
        watch.noted(9_000);
        assert_eq!(watch.next(), Some(3_000), "a later one does not");
        watch.scanned(NEVER_MS);
        assert!(!watch.scan_due(i64::from(u32::MAX)), "no socket expires: no reading on every send");
        assert_eq!(watch.next(), None, "and no alarm for it");
    }
}
