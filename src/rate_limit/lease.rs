//! Token leases (plain Rust): an isolate takes several tokens from a shared bucket in one Redis call and spends them
//! locally, so a busy subject costs far less than one Redis command per request. Leases are small (at most a
//! twentieth of the burst), sized to the subject's recent rate, short-lived (unused tokens lapse after a second, so
//! they are lost rather than hoarded), and shrink to one token — an exact check per request — when the shared
//! bucket is nearly empty, which keeps the global limit tight where it matters.
//!
//! A busy subject's lease is renewed ahead: when half of it is left, one renewal is taken in the background while
//! requests keep spending what is left, so a steady subject's requests never wait on Redis. (Waiting for the renewal
//! in the request that emptied the lease was the tail of score writes: one write in ten waited on a Redis round trip
//! behind the isolate's queue, BENCHMARKS.md session 24.) At most one renewal per subject is in flight, so an isolate
//! holds at most one and a half leases of a subject, and what it does not spend lapses as before.
//!
//! A subject with no lease left is served at once, its token taken in the background, when the shared bucket had
//! at least half its burst at the last grant this isolate saw (or this isolate has not seen the subject yet): most
//! users send a request now and then, and each of those used to wait a Redis round trip (from the edge to Upstash's
//! primary region) for a token their full bucket was sure to give. One such unconfirmed token per subject is in
//! flight at a time; below half the burst, or after a failed take, requests are checked before they are served, so
//! an isolate admits at most one request more than the bucket held, and only while it believed the bucket half full.

use std::collections::HashMap;

/// How long leased tokens may be spent.
pub const LEASE_MS: i64 = 1_000;
/// Below this share of the burst left in the shared bucket, every request is checked exactly.
pub const EXACT_BELOW: f64 = 0.1;
/// Most subjects tracked per isolate before lapsed entries are dropped.
pub const MAX_SUBJECTS: usize = 10_000;
/// A renewal in flight for longer than this is taken as lost (its reply never recorded), so another may start.
pub const RENEWAL_LOST_MS: i64 = 2_000;

#[derive(Debug, Clone, Default)]
struct Lease {
    tokens: u32,
    expires_ms: i64,
    /// Shared-bucket tokens left when this lease was granted.
    shared_remaining: f64,
    /// Requests seen in the current one-second window, and in the previous one.
    window_start_ms: i64,
    in_window: u32,
    last_window: u32,
    /// When the take in flight for this subject (a renewal, or an admitted request's token), if any, started.
    renewing_since_ms: Option<i64>,
}

impl Lease {
    /// Whether a take started for this subject is still awaited (one that never answered is given up after
    /// [`RENEWAL_LOST_MS`]).
    fn take_in_flight(&self, now_ms: i64) -> bool {
        self.renewing_since_ms.is_some_and(|since| now_ms - since < RENEWAL_LOST_MS)
    }
}

/// The leases of one isolate.
#[derive(Debug, Default)]
pub struct LeaseBook {
    leases: HashMap<String, Lease>,
}

impl LeaseBook {
    fn entry(&mut self, key: &str, now_ms: i64) -> &mut Lease {
        if self.leases.len() >= MAX_SUBJECTS && !self.leases.contains_key(key) {
            self.leases.retain(|_, lease| lease.expires_ms > now_ms);
        }
        let lease = self.leases.entry(key.to_owned()).or_default();
        if now_ms - lease.window_start_ms >= 1_000 {
            lease.last_window = if now_ms - lease.window_start_ms < 2_000 { lease.in_window } else { 0 };
            lease.window_start_ms = now_ms;
            lease.in_window = 0;
        }
        lease
    }

    /// Spends one leased token of `key`, if a valid one is left; returns the estimated tokens left to the subject.
    pub fn spend(&mut self, key: &str, now_ms: i64) -> Option<f64> {
        let lease = self.entry(key, now_ms);
        lease.in_window += 1;
        if lease.tokens == 0 || now_ms >= lease.expires_ms {
            lease.tokens = 0;
            return None;
        }
        lease.tokens -= 1;
        Some(lease.shared_remaining + f64::from(lease.tokens))
    }

    /// How many tokens to ask the shared bucket for now (the request itself included).
    pub fn lease_size(&mut self, key: &str, now_ms: i64, burst: u32) -> u32 {
        Self::size_of(self.entry(key, now_ms), burst)
    }

    fn size_of(lease: &Lease, burst: u32) -> u32 {
        let known_low = lease.expires_ms > 0 && lease.shared_remaining < f64::from(burst) * EXACT_BELOW;
        if known_low {
            return 1;
        }
        let rate = lease.last_window.max(lease.in_window);
        (rate / 2).clamp(1, (burst / 20).max(1))
    }

    /// After a token was spent: how many tokens to renew `key`'s lease by in the background, when half of a lease or
    /// less is left and no renewal is in flight (the renewal is then marked in flight). Never for a subject checked
    /// exactly (a quiet one, or a shared bucket nearly empty): each of its requests asks Redis itself.
    pub fn renew_ahead(&mut self, key: &str, now_ms: i64, burst: u32) -> Option<u32> {
        let lease = self.leases.get_mut(key)?;
        let size = Self::size_of(lease, burst);
        if size < 2 || lease.take_in_flight(now_ms) || lease.tokens > size / 2 {
            return None;
        }
        lease.renewing_since_ms = Some(now_ms);
        Some(size)
    }

    /// Whether `key`'s request, finding no leased token, may be served now with its token taken in the background:
    /// the shared bucket held at least half the burst at the last grant (or the subject is new to this isolate) and
    /// no take is in flight for it. Returns how many tokens to take (the request's own included) and the tokens the
    /// subject is estimated to have left, and marks the take in flight.
    pub fn admit_ahead(&mut self, key: &str, now_ms: i64, burst: u32) -> Option<(u32, f64)> {
        let lease = self.entry(key, now_ms);
        let seen = lease.expires_ms > 0;
        if lease.take_in_flight(now_ms) || (seen && lease.shared_remaining < f64::from(burst) / 2.0) {
            return None;
        }
        lease.renewing_since_ms = Some(now_ms);
        let left = if seen { lease.shared_remaining } else { f64::from(burst) };
        Some((Self::size_of(lease, burst), (left - 1.0).max(0.0)))
    }

    /// Records the grant of a take made for a request already served ([`LeaseBook::admit_ahead`]): its token is
    /// spent, the rest joins the lease. A grant of nothing means the bucket was empty after all: the shared
    /// remainder it reports keeps the subject's next requests checked first.
    pub fn record_admitted(&mut self, key: &str, now_ms: i64, granted: u32, shared_remaining: f64) {
        self.add(key, now_ms, granted.saturating_sub(1), shared_remaining).renewing_since_ms = None;
    }

    /// A take for a request already served failed (Redis slow, down or behind an open breaker): the subject's next
    /// requests are checked before they are served (and fall back to this isolate's bucket while Redis is away).
    pub fn admitted_unconfirmed(&mut self, key: &str, now_ms: i64) {
        let lease = self.entry(key, now_ms);
        lease.renewing_since_ms = None;
        lease.shared_remaining = 0.0;
        // A lease that has had a grant (expires_ms > 0) with almost nothing left in the shared bucket is "known low":
        // checked exactly until a grant says otherwise.
        lease.expires_ms = lease.expires_ms.max(1);
    }

    /// Records a background renewal's grant: every granted token joins the lease (no request spends one of them
    /// now), and another renewal may start.
    pub fn record_ahead(&mut self, key: &str, now_ms: i64, granted: u32, shared_remaining: f64) {
        self.add(key, now_ms, granted, shared_remaining).renewing_since_ms = None;
    }

    /// A background renewal ended without a grant (Redis slow, down or behind an open breaker): another may start;
    /// until then requests that find the lease empty ask Redis themselves, and fall back as before.
    pub fn renewal_failed(&mut self, key: &str) {
        if let Some(lease) = self.leases.get_mut(key) {
            lease.renewing_since_ms = None;
        }
    }

    /// Records a grant of `granted` tokens (one is spent by the current request) with `shared_remaining` left in
    /// the shared bucket. Concurrent requests of one subject may each have asked for a lease; their grants add up
    /// rather than replace each other, so no granted token goes unused.
    pub fn record(&mut self, key: &str, now_ms: i64, granted: u32, shared_remaining: f64) {
        self.add(key, now_ms, granted.saturating_sub(1), shared_remaining);
    }

    /// Adds `tokens` to `key`'s lease (what is still valid of it kept) and starts its second of life now.
    fn add(&mut self, key: &str, now_ms: i64, tokens: u32, shared_remaining: f64) -> &mut Lease {
        let lease = self.entry(key, now_ms);
        let still_valid = if now_ms < lease.expires_ms { lease.tokens } else { 0 };
        lease.tokens = still_valid + tokens;
        lease.expires_ms = now_ms + LEASE_MS;
        lease.shared_remaining = shared_remaining;
        lease
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_subject_checks_every_request_and_a_busy_one_leases() {
        let mut book = LeaseBook::default();
        assert_eq!(book.lease_size("u", 0, 200), 1, "no history: one token");
        // 40 requests in one second, each with an exact check.
        for i in 0..40 {
            assert_eq!(book.spend("u", i * 25), None);
            book.record("u", i * 25, 1, 150.0);
        }
        assert_eq!(book.lease_size("u", 1_000, 200), 10, "rate 40/s: half a second's worth, capped at burst/20");
        book.record("u", 1_000, 10, 140.0);
        let spent: Vec<Option<f64>> = (0..10).map(|i| book.spend("u", 1_001 + i)).collect();
        assert_eq!(spent.iter().filter(|s| s.is_some()).count(), 9, "nine leased tokens left after the first");
        assert_eq!(spent[0], Some(148.0));
    }

    #[test]
    fn concurrent_grants_add_up() {
        let mut book = LeaseBook::default();
        book.record("u", 0, 5, 100.0);
        book.record("u", 1, 5, 95.0);
        let spent = (0..10).filter(|i| book.spend("u", 2 + i).is_some()).count();
        assert_eq!(spent, 8, "4 + 4 leased tokens; each grant's first token went to its own request");
    }

    /// A subject at 40 requests a second for a second, each checked exactly: its next lease is 10 tokens.
    fn busy_book() -> LeaseBook {
        let mut book = LeaseBook::default();
        for i in 0..40 {
            assert_eq!(book.spend("u", i * 25), None);
            book.record("u", i * 25, 1, 150.0);
        }
        book
    }

    #[test]
    fn a_busy_lease_is_renewed_once_when_half_is_left_and_the_grant_joins_it_whole() {
        let mut book = busy_book();
        book.record("u", 1_000, 10, 140.0);
        let mut asked = Vec::new();
        for i in 0..9 {
            assert!(book.spend("u", 1_001 + i).is_some(), "token {i}");
            asked.push(book.renew_ahead("u", 1_001 + i, 200));
        }
        // Nine tokens leased after the first request's: renewal asked once, when five were left.
        assert_eq!(asked.iter().filter(|a| a.is_some()).count(), 1, "{asked:?}");
        assert_eq!(asked[3], Some(10), "{asked:?}");
        book.record_ahead("u", 1_020, 10, 130.0);
        let spendable = (0..30).filter(|i| book.spend("u", 1_021 + i).is_some()).count();
        assert_eq!(spendable, 10, "the whole grant joined the lease");
        assert_eq!(book.renew_ahead("u", 1_060, 200), Some(10), "recorded: the next renewal may start");
    }

    #[test]
    fn an_empty_lease_is_served_first_and_checked_after_while_the_bucket_was_half_full() {
        let mut book = LeaseBook::default();
        assert_eq!(book.spend("u", 0), None);
        assert_eq!(book.admit_ahead("u", 0, 200), Some((1, 199.0)), "new here: served, one token taken after");
        assert_eq!(book.spend("u", 1), None);
        assert_eq!(book.admit_ahead("u", 1, 200), None, "one unconfirmed take at a time: the next is checked first");
        book.record_admitted("u", 5, 1, 150.0);
        assert_eq!(book.spend("u", 6), None, "the granted token was the served request's");
        assert_eq!(book.admit_ahead("u", 6, 200), Some((1, 149.0)), "150 of 200 left at the last grant");
        book.record_admitted("u", 9, 1, 99.0);
        assert_eq!(book.admit_ahead("u", 10, 200), None, "below half the burst: checked before it is served");
        book.record("u", 12, 1, 120.0);
        assert!(book.admit_ahead("u", 13, 200).is_some(), "back above half");
        book.record_admitted("u", 14, 0, 0.0);
        assert_eq!(book.admit_ahead("u", 15, 200), None, "the bucket was empty after all");
    }

    #[test]
    fn a_failed_unconfirmed_take_makes_the_next_requests_wait_for_their_check() {
        let mut book = LeaseBook::default();
        assert!(book.admit_ahead("u", 0, 200).is_some());
        book.admitted_unconfirmed("u", 250);
        assert_eq!(book.admit_ahead("u", 251, 200), None, "Redis away: checked (or the isolate's bucket) first");
        assert_eq!(book.lease_size("u", 251, 200), 1, "and exactly");
        assert!(book.admit_ahead("v", 251, 200).is_some(), "other subjects are not affected");
    }

    #[test]
    fn a_lost_unconfirmed_take_lets_the_next_one_start() {
        let mut book = LeaseBook::default();
        assert!(book.admit_ahead("u", 0, 200).is_some());
        assert_eq!(book.admit_ahead("u", RENEWAL_LOST_MS - 1, 200), None);
        assert!(book.admit_ahead("u", RENEWAL_LOST_MS, 200).is_some(), "never answered: taken as lost");
    }

    #[test]
    fn a_failed_or_lost_renewal_lets_the_next_one_start() {
        let mut book = busy_book();
        book.record("u", 1_000, 2, 140.0);
        assert!(book.spend("u", 1_001).is_some());
        assert_eq!(book.renew_ahead("u", 1_001, 200), Some(10));
        assert_eq!(book.renew_ahead("u", 1_002, 200), None, "one in flight");
        book.renewal_failed("u");
        assert_eq!(book.renew_ahead("u", 1_003, 200), Some(10), "failed: another may start");
        assert_eq!(book.renew_ahead("u", 1_003 + RENEWAL_LOST_MS - 1, 200), None);
        assert_eq!(book.renew_ahead("u", 1_003 + RENEWAL_LOST_MS, 200), Some(10), "never answered: taken as lost");
    }

    #[test]
    fn exactly_checked_subjects_are_never_renewed_ahead() {
        let mut book = LeaseBook::default();
        book.record("quiet", 0, 1, 150.0);
        assert_eq!(book.spend("quiet", 1), None);
        assert_eq!(book.renew_ahead("quiet", 1, 200), None, "a quiet subject: one token a request");
        let mut book = busy_book();
        book.record("u", 1_000, 10, 15.0);
        assert!(book.spend("u", 1_001).is_some());
        assert_eq!(book.renew_ahead("u", 1_001, 200), None, "the shared bucket is nearly empty: exact checks");
        assert_eq!(book.renew_ahead("unknown", 1_001, 200), None);
    }

    #[test]
    fn leases_lapse_and_shrink_to_one_near_empty() {
        let mut book = LeaseBook::default();
        book.record("u", 0, 5, 100.0);
        assert!(book.spend("u", 999).is_some());
        assert_eq!(book.spend("u", 1_000), None, "unused tokens lapse after a second");
        book.record("u", 1_000, 1, 10.0);
        assert_eq!(book.lease_size("u", 1_001, 200), 1, "shared bucket below a tenth: exact checks");
    }
}
