//! Leaderboard pages in isolate memory, each with the board's update sequence it was built at. A read asks the
//! competition's object for the page *unless* its sequence is still the one held: the object (the one authority on
//! the board, whichever isolate asks) answers with a few bytes when nothing changed and with the page otherwise. So
//! a reader never gets a page older than an update acknowledged before its read began, in any isolate, and a page
//! read costs no Redis command. Final standings take no new sequence when a name changes, so their object always
//! sends the page (`object::reads::read_page`). An entry also expires after `PAGE_TTL_MS`, which bounds what an
//! isolate holds for boards nobody reads any more.

use std::cell::RefCell;

use uuid::Uuid;

use crate::isolate_cache::TtlCache;

/// How long a held page is trusted without a new sequence.
pub const PAGE_TTL_MS: i64 = 15_000;
/// Pages one isolate holds at most.
pub const CAPACITY: usize = 2_000;
/// The most page bytes one isolate holds. A page of 200 members with long names and avatars is ≈ 80 KB, so 2 000 of
/// them would take 160 MB of an isolate limited to 128 MB (and wasm memory, once grown, never shrinks): any user can
/// ask for that many distinct pages (each size and cursor is its own) within a page's 15 s. Pages of 50 ordinary
/// members are ≈ 10 KB, so the budget still holds hundreds of them.
pub const BUDGET_BYTES: usize = 8 << 20;

/// What identifies a page: its competition, its size and where it starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    /// The competition.
    pub competition: Uuid,
    /// Rows asked for.
    pub limit: usize,
    /// The cursor it continues from, if any.
    pub cursor: Option<String>,
}

/// A page's body and the sequence it was built at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPage {
    /// The board's update sequence of the page.
    pub seq: u64,
    /// The reply body.
    pub body: String,
}

thread_local! {
    static PAGES: RefCell<TtlCache<PageKey, HeldPage>> =
        RefCell::new(TtlCache::weighted(PAGE_TTL_MS, CAPACITY, BUDGET_BYTES, weigh));
}

/// What a held page costs the isolate: its body, and a little for its key and the map's slot.
fn weigh(page: &HeldPage) -> usize {
    page.body.len() + 128
}

/// The page held for `key`, unless it expired by `now_ms`.
pub fn held(key: &PageKey, now_ms: i64) -> Option<HeldPage> {
    PAGES.with(|pages| pages.borrow().get(key, now_ms))
}

/// Holds `page` for `key` as of `now_ms`.
pub fn hold(key: PageKey, page: HeldPage, now_ms: i64) {
    PAGES.with(|pages| pages.borrow_mut().put(key, page, now_ms));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_held_per_competition_size_and_cursor_until_it_expires() {
        let key = |competition: u128, limit: usize, cursor: Option<&str>| PageKey {
            competition: Uuid::from_u128(competition),
            limit,
            cursor: cursor.map(str::to_owned),
        };
        let page = HeldPage { seq: 7, body: "{}".into() };
        hold(key(1, 50, None), page.clone(), 1_000);
        assert_eq!(held(&key(1, 50, None), 1_000 + PAGE_TTL_MS - 1), Some(page));
        assert_eq!(held(&key(1, 50, None), 1_000 + PAGE_TTL_MS), None, "expired");
        for other in [key(2, 50, None), key(1, 20, None), key(1, 50, Some("1f.2"))] {
            assert_eq!(held(&other, 1_000), None, "{other:?}");
        }
    }

    #[test]
    fn large_pages_are_held_within_the_byte_budget_newest_first() {
        let key = |n: usize| PageKey { competition: Uuid::from_u128(9), limit: 200, cursor: Some(format!("{n}.x")) };
        // Pages of 200 members with 40-character names and avatars, as many as the cache holds by count.
        let body = "x".repeat(80_000);
        let at = |n: usize| 5_000 + n as i64;
        for n in 0..CAPACITY {
            hold(key(n), HeldPage { seq: n as u64, body: body.clone() }, at(n));
        }
        let now = at(CAPACITY);
        let held_bytes = PAGES.with(|pages| pages.borrow().weight());
        assert!(held_bytes <= BUDGET_BYTES, "{held_bytes} bytes held");
        assert!(held_bytes > BUDGET_BYTES / 2, "the budget is used: {held_bytes} bytes held");
        assert_eq!(held(&key(CAPACITY - 1), now).map(|page| page.seq), Some(CAPACITY as u64 - 1), "the newest");
        assert_eq!(held(&key(0), now).map(|page| page.seq), None, "the oldest went first");
    }
}
