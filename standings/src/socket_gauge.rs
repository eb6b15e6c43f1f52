//! The global `websocket_connections` gauge, kept right by every object across its lives. An object reports the
//! difference between its open sockets and the count it last reported (stored with the object), rather than ±1 per
//! event: a deploy or eviction drops sockets without close events, and the next wake, counting what is really
//! open, takes them off the gauge.

/// One object's open sockets and what it last reported of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketGauge {
    open: u64,
    reported: u64,
}

/// A move of the global gauge, due once the new count is stored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    /// The count to store as reported.
    pub count: u64,
    /// How far the global gauge moves.
    pub delta: f64,
}

impl SocketGauge {
    /// An object that woke with `open` sockets really open and `reported` stored as last reported.
    pub fn woke(open: u64, reported: u64) -> Self {
        Self { open, reported }
    }

    /// Open sockets now.
    pub fn open(&self) -> u64 {
        self.open
    }

    /// The sockets really open, counted when the object woke (the only O(n) pass).
    pub fn recount(&mut self, open: u64) {
        self.open = open;
    }

    /// A socket opened (`+1`) or closed (`-1`).
    pub fn changed(&mut self, by: i64) {
        self.open = self.open.saturating_add_signed(by);
    }

    /// The report due, if the open count moved since the last one.
    pub fn due(&self) -> Option<Report> {
        (self.open != self.reported)
            .then_some(Report { count: self.open, delta: self.open as f64 - self.reported as f64 })
    }

    /// The report was stored (and the gauge moved); until then it stays due, whole.
    pub fn reported(&mut self, report: Report) {
        self.reported = report.count;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What happens to one object: sockets open and close, the object is evicted (its sockets drop without close
    /// events) and wakes again, and a store of the reported count fails now and then.
    #[derive(Debug, Clone)]
    enum Event {
        Open,
        Close,
        Evict { survivors: u8 },
        FailedStore,
    }

    fn event() -> impl Strategy<Value = Event> {
        prop_oneof![
            4 => Just(Event::Open),
            3 => Just(Event::Close),
            1 => (0u8..4).prop_map(|survivors| Event::Evict { survivors }),
            1 => Just(Event::FailedStore),
        ]
    }

    proptest! {
        /// After every successful report the global gauge (the sum of all moves) equals the sockets really open,
        /// whatever was dropped without a close event or failed to store in between.
        #[test]
        fn the_gauge_equals_the_open_sockets_after_every_report(events in prop::collection::vec(event(), 1..80)) {
            let (mut global, mut stored, mut really_open) = (0.0_f64, 0_u64, 0_u64);
            let mut gauge = SocketGauge::woke(0, 0);
            for event in events {
                let store_fails = matches!(event, Event::FailedStore);
                match event {
                    Event::Open => {
                        really_open += 1;
                        gauge.changed(1);
                    }
                    Event::Close if really_open > 0 => {
                        really_open -= 1;
                        gauge.changed(-1);
                    }
                    Event::Close | Event::FailedStore => {}
                    Event::Evict { survivors } => {
                        // Hibernatable sockets may survive an eviction; the others are gone without events.
                        really_open = really_open.min(u64::from(survivors));
                        gauge = SocketGauge::woke(really_open, stored);
                    }
                }
                if let Some(report) = gauge.due() {
                    if !store_fails {
                        stored = report.count;
                        global += report.delta;
                        gauge.reported(report);
                        prop_assert_eq!(global, really_open as f64);
                    }
                }
                prop_assert_eq!(gauge.open(), really_open);
            }
        }
    }

    #[test]
    fn an_unstored_report_stays_due_whole() {
        let mut gauge = SocketGauge::woke(0, 5);
        gauge.changed(1);
        let report = gauge.due().expect("due");
        assert_eq!((report.count, report.delta), (1, -4.0));
        gauge.changed(1);
        assert_eq!(gauge.due().map(|r| (r.count, r.delta)), Some((2, -3.0)));
        gauge.reported(gauge.due().expect("due"));
        assert_eq!(gauge.due(), None);
    }
}
