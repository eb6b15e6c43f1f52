//! This isolate's competition instances, by object id. The runtime discards an instance it evicts (idle, or
//! hibernating with its sockets open) without telling it, and its Rust state — the whole board — is freed only when
//! JavaScript's garbage collector collects the instance's wrapper, which a Worker's small JavaScript heap may not do
//! for a long time. Every wake of the same object meanwhile built its board again beside the old one: under `wrangler
//! dev` each wake of a 200 000-member competition kept another 16 MB, five wakes 100 MB, where the isolate's limit is
//! 128 MB. A new instance of an id proves the one before it is gone for good, so the new one releases it first.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

/// What an instance gives back when a newer instance of its object replaces it.
pub(super) trait Release {
    /// Drops what the instance holds in memory; it answers nothing from then on.
    fn release(&self);
}

thread_local! {
    /// Each object's latest instance; the one before it was released when it came.
    static CURRENT: RefCell<HashMap<String, Weak<dyn Release>>> = RefCell::new(HashMap::new());
}

/// Releases the instance that held object `id` before, if it is still in memory (call before loading the new one,
/// so its memory is free for the new board).
pub(super) fn release_previous(id: &str) {
    let previous = CURRENT.with(|current| current.borrow_mut().remove(id));
    if let Some(previous) = previous.and_then(|weak| weak.upgrade()) {
        previous.release();
    }
}

/// Records `instance` as object `id`'s current one, and forgets the ids whose instances are gone.
pub(super) fn record(id: String, instance: &Rc<impl Release + 'static>) {
    let weak: Weak<dyn Release> = Rc::downgrade(instance) as Weak<dyn Release>;
    CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        current.retain(|_, weak| weak.strong_count() > 0);
        current.insert(id, weak);
    });
}

/// How many boards this isolate holds in memory: each object's latest instance still in memory (live, or evicted and
/// not collected yet); every earlier one was released.
pub(super) fn boards_held() -> u64 {
    CURRENT.with(|current| current.borrow().values().filter(|weak| weak.strong_count() > 0).count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    struct Instance {
        released: Cell<bool>,
    }

    impl Release for Instance {
        fn release(&self) {
            self.released.set(true);
        }
    }

    #[test]
    fn a_new_instance_releases_the_one_before_it_and_no_other() {
        let first = Rc::new(Instance { released: Cell::new(false) });
        let other = Rc::new(Instance { released: Cell::new(false) });
        release_previous("a");
        record("a".to_owned(), &first);
        release_previous("b");
        record("b".to_owned(), &other);
        assert_eq!(boards_held(), 2);
        release_previous("a");
        assert!(first.released.get(), "the instance of the same object is released");
        assert!(!other.released.get(), "another object's is not");
        assert_eq!(boards_held(), 1, "a released board is not counted");
        let second = Rc::new(Instance { released: Cell::new(false) });
        record("a".to_owned(), &second);
        drop(second);
        release_previous("a");
        assert!(!other.released.get());
        // A collected instance leaves nothing to release, and its entry goes with the next record.
        record("c".to_owned(), &other);
        assert!(CURRENT.with(|current| !current.borrow().contains_key("a")));
    }
}
