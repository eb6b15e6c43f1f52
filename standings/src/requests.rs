//! Every operation the Worker asks of a Competition object, as one serde enum: the Worker sends its JSON as the one
//! argument of the object's RPC method `order` (the reply comes back as one string, [`encode_reply`]); a relay sends
//! the same JSON as the body of `POST {INTERNAL_ORIGIN}/{name}`. The object parses it back and matches on it. Only the
//! live socket's upgrade (`GET /live`, which carries headers, not a body) travels otherwise.
//!
//! Each variant's reply type is named on it; the limits both sides apply are the constants below.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::protocol::{CompetitionMeta, Disqualify, Forget, Person, Repair, RosterAdd, ScoreWrite, Settings};

/// Largest page of the board (`limit`).
pub const MAX_PAGE_LIMIT: usize = 200;
/// Rows of a page when the caller names no `limit`.
pub const DEFAULT_PAGE_LIMIT: usize = 50;
/// Most writes of one `WriteScores` batch.
pub const MAX_BATCH_WRITES: usize = 200;
/// Largest radius of a member's window (`around`).
pub const MAX_AROUND: u64 = 50;
/// Radius of a member's window when the caller names none.
pub const DEFAULT_AROUND: u64 = 5;

/// One operation of a Competition object.
///
/// Externally tagged (`"cancel"`, `{"page":{…}}`): serde's adjacently tagged form (`{"op":…,"args":…}`) buffered
/// the body when `args` came first and its parser was 34 KB of the bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ObjectRequest {
    /// Sets a member's score. Reply: `ScoreWriteReply`.
    WriteScore(ScoreWrite),
    /// Sets several members' scores in one call (at most [`MAX_BATCH_WRITES`]), each as `WriteScore` would, in
    /// order. Reply: a `WriteOutcome` per write.
    WriteScores(Vec<ScoreWrite>),
    /// The competition's settings from Postgres. Reply: empty.
    SetMeta(CompetitionMeta),
    /// A user joined. Reply: empty.
    AddMember(RosterAdd),
    /// A member's new name or avatar. Reply: `Announced`.
    SetPerson(Person),
    /// A member deleted their account. Reply: `Announced`.
    Forget(Forget),
    /// An administrator's edit of the settings. Reply: `Announced`.
    ChangeSettings(Settings),
    /// The competition is called off. Reply: `Announced`.
    Cancel,
    /// A member leaves the board for good. Reply: `Disqualified`.
    Disqualify(Disqualify),
    /// Drops a stored member row that cannot be loaded. Reply: `ObjectStats`.
    Repair(Repair),
    /// Puts the dead letters back into the outbox. Reply: `OutboxRetried`.
    RetryOutbox,
    /// The prize split. Reply: `Prizes`.
    Prizes,
    /// A page of the board: `limit` rows (clamped to `1..=MAX_PAGE_LIMIT`) after `cursor`. Reply: `PageAt`,
    /// without the rows when the board's update sequence is still `unless_seq` (the asker holds that page).
    Page {
        /// Rows wanted.
        limit: usize,
        /// Where to continue (a `next_cursor` handed out before).
        cursor: Option<String>,
        /// The sequence of the page the asker already holds, if any.
        #[serde(default)]
        unless_seq: Option<u64>,
    },
    /// A member's standing. Reply: `Standing`.
    Standing {
        /// The member.
        user_id: Uuid,
    },
    /// A member's window of the board (`radius` at most `MAX_AROUND`). Reply: `Around`.
    Around {
        /// The member.
        user_id: Uuid,
        /// Rows on each side.
        radius: u64,
    },
    /// A relay object serves some of this competition's sockets: publish every frame to it from now on (until it
    /// answers a batch with `relay::Published::left`). Reply: empty.
    RelayJoin {
        /// The relay's object name (`relay::relay_name`).
        name: String,
        /// Counts this relay's joins, so a late "left" of an earlier join does not undo this one.
        #[serde(default)]
        epoch: u64,
    },
    /// A subscriber's snapshot, for a relay to send. Reply: `SnapshotAt`.
    Snapshot {
        /// The subscriber (the snapshot's `me`).
        user_id: Uuid,
    },
    /// The kept frames after `since` up to `through` (a relay's gap, or a resume it cannot answer). Reply: `FramesAt`.
    Frames {
        /// The last sequence the asker has.
        since: u64,
        /// The last sequence wanted.
        through: u64,
    },
    /// Members, rebuild time, outbox and corrupt rows. Reply: `ObjectStats`.
    Stats,
    /// The outbox and its dead letters. Reply: `OutboxReport`.
    Outbox,
    /// Adds `members` synthetic members (test builds). Reply: `ObjectStats`.
    #[cfg(feature = "test-routes")]
    TestSeed {
        /// How many.
        members: u64,
        /// One score for all of them (tied); without it, scores spread below 100 000.
        #[serde(default)]
        score: Option<u64>,
    },
    /// Stores a member row that cannot be loaded, then reloads the board (test builds). Reply: `ObjectStats`.
    #[cfg(feature = "test-routes")]
    TestCorrupt {
        /// The row's key.
        key: String,
    },
    /// Finalizes now, or stores `fail_after` rows and fails as a crash would (test builds). Reply: `ObjectStats`.
    #[cfg(feature = "test-routes")]
    TestFinalize {
        /// Rows stored before the simulated failure.
        fail_after: Option<usize>,
    },
    /// Runs the alarm now (test builds). Reply: `ObjectStats`.
    #[cfg(feature = "test-routes")]
    TestAlarm,
    /// Resets the object as the runtime does when it evicts it (test builds): this instance is discarded and the next
    /// call wakes a new one. Reply: none (the call fails).
    #[cfg(feature = "test-routes")]
    TestAbort,
    /// Makes every later operation and live upgrade wait `ms` before it starts, as an object queued behind a long
    /// operation would (0: none; test builds). Reply: `ObjectStats`.
    #[cfg(feature = "test-routes")]
    TestStall {
        /// The wait, in milliseconds.
        ms: u64,
    },
}

impl ObjectRequest {
    /// The operation's name: the path the Worker posts it to, so traces and logs say what was asked.
    pub fn name(&self) -> &'static str {
        match self {
            Self::WriteScore(_) => "write_score",
            Self::WriteScores(_) => "write_scores",
            Self::SetMeta(_) => "set_meta",
            Self::AddMember(_) => "add_member",
            Self::SetPerson(_) => "set_person",
            Self::Forget(_) => "forget",
            Self::ChangeSettings(_) => "change_settings",
            Self::Cancel => "cancel",
            Self::Disqualify(_) => "disqualify",
            Self::Repair(_) => "repair",
            Self::RetryOutbox => "retry_outbox",
            Self::Prizes => "prizes",
            Self::Page { .. } => "page",
            Self::Standing { .. } => "standing",
            Self::Around { .. } => "around",
            Self::RelayJoin { .. } => "relay_join",
            Self::Snapshot { .. } => "snapshot",
            Self::Frames { .. } => "frames",
            Self::Stats => "stats",
            Self::Outbox => "outbox",
            #[cfg(feature = "test-routes")]
            Self::TestSeed { .. } => "test_seed",
            #[cfg(feature = "test-routes")]
            Self::TestCorrupt { .. } => "test_corrupt",
            #[cfg(feature = "test-routes")]
            Self::TestFinalize { .. } => "test_finalize",
            #[cfg(feature = "test-routes")]
            Self::TestAlarm => "test_alarm",
            #[cfg(feature = "test-routes")]
            Self::TestAbort => "test_abort",
            #[cfg(feature = "test-routes")]
            Self::TestStall { .. } => "test_stall",
        }
    }

    /// Parses a request body as the object receives it.
    pub fn parse(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

/// An object's reply to an RPC order as one string, so it crosses each boundary (wasm → JS → the Worker's isolate →
/// wasm) as one value: the HTTP status as three digits, then the body (JSON, or nothing).
pub fn encode_reply(status: u16, body: &str) -> String {
    let mut text = String::with_capacity(3 + body.len());
    // A status outside 100..=999 cannot be written in three digits: the runtime's own range (100–599) always fits.
    text.push_str(&status.clamp(100, 999).to_string());
    text.push_str(body);
    text
}

/// The status and body of an [`encode_reply`] string; `None` when it does not start with a three-digit status.
pub fn decode_reply(text: &str) -> Option<(u16, &str)> {
    let status = text.get(..3)?;
    if !status.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((status.parse().ok()?, &text[3..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_request() -> Vec<ObjectRequest> {
        let user_id = Uuid::from_u128(7);
        let competition_id = Uuid::from_u128(1);
        let meta = CompetitionMeta {
            competition_id,
            metric: "steps".into(),
            starts_ms: 1,
            ends_ms: 2,
            prize_pool: 100,
            payout: vec![10_000],
            fitness: true,
            grace_ms: 0,
            version: 0,
        };
        let person = Person { user_id, display_name: "Ana".into(), avatar_url: None, version: 3 };
        let write = ScoreWrite {
            competition_id,
            user_id,
            score: crate::score::Score::new(5).expect("a score"),
            at_ms: 3,
            days_version: Some(2),
            correction: false,
        };
        #[allow(unused_mut)]
        let mut requests = vec![
            ObjectRequest::WriteScore(write.clone()),
            ObjectRequest::WriteScores(vec![write.clone(), ScoreWrite { user_id: Uuid::from_u128(8), ..write }]),
            ObjectRequest::WriteScores(vec![]),
            ObjectRequest::SetMeta(meta.clone()),
            ObjectRequest::AddMember(RosterAdd { user_id, person: Some(person.clone()) }),
            ObjectRequest::SetPerson(person),
            ObjectRequest::Forget(Forget { user_id }),
            ObjectRequest::ChangeSettings(Settings { meta, competition: serde_json::json!({"name": "x"}) }),
            ObjectRequest::Cancel,
            ObjectRequest::Disqualify(Disqualify { user_id, reason: "doping".into() }),
            ObjectRequest::Repair(Repair { key: "k".into() }),
            ObjectRequest::RetryOutbox,
            ObjectRequest::Prizes,
            ObjectRequest::Page { limit: 50, cursor: Some("1f.2".into()), unless_seq: Some(7) },
            ObjectRequest::Page { limit: 1, cursor: None, unless_seq: None },
            ObjectRequest::Standing { user_id },
            ObjectRequest::Around { user_id, radius: 5 },
            ObjectRequest::RelayJoin { name: "c/relay/1".into(), epoch: 2 },
            ObjectRequest::Snapshot { user_id },
            ObjectRequest::Frames { since: 3, through: 9 },
            ObjectRequest::Stats,
            ObjectRequest::Outbox,
        ];
        #[cfg(feature = "test-routes")]
        requests.extend([
            ObjectRequest::TestSeed { members: 3, score: None },
            ObjectRequest::TestCorrupt { key: "not-a-uuid".into() },
            ObjectRequest::TestFinalize { fail_after: Some(2) },
            ObjectRequest::TestFinalize { fail_after: None },
            ObjectRequest::TestAlarm,
            ObjectRequest::TestAbort,
            ObjectRequest::TestStall { ms: 1_500 },
        ]);
        requests
    }

    #[test]
    fn every_request_travels_and_comes_back_the_same() {
        for request in every_request() {
            let text = serde_json::to_string(&request).expect("json");
            assert_eq!(ObjectRequest::parse(text.as_bytes()).expect("parses"), request, "{text}");
            let tag = format!("\"{}\"", request.name());
            assert!(text == tag || text.starts_with(&format!("{{{tag}:")), "{text}");
        }
    }

    #[test]
    fn replies_travel_as_status_then_body() {
        for (status, body) in [(200, r#"{"rank":1}"#), (409, r#"{"code":"conflict","message":"é"}"#), (204, "")] {
            let text = encode_reply(status, body);
            assert_eq!(decode_reply(&text), Some((status, body)), "{text}");
        }
        for text in ["", "20", "2x0{}", "{\"rank\":1}"] {
            assert_eq!(decode_reply(text), None, "{text}");
        }
    }

    #[test]
    fn malformed_requests_are_refused() {
        for text in [
            r#""drop_table""#,
            r#"{"page":{"limit":"many"}}"#,
            r#"{"standing":{"user_id":"nope"}}"#,
            r#"{"write_score":{"score":1}}"#,
            r#"{"page":{"limit":1,"cursor":null,"extra":1}}"#,
            r#"{"stats":null,"page":{"limit":1}}"#,
            "not json",
        ] {
            assert!(ObjectRequest::parse(text.as_bytes()).is_err(), "{text}");
        }
    }
}
