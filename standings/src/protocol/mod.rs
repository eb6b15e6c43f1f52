//! Requests and replies between the Worker and a Competition Durable Object.
//!
//! The Worker has already authenticated and validated the caller; the object trusts these messages. They travel as
//! JSON over the stub's `fetch` on a placeholder host, inside an `ObjectRequest` (`crate::requests`); only the live
//! upgrade goes to its own path.
//!
//! `orders` holds what the Worker asks an object to change, `replies` what it answers, `frames` the live socket's
//! messages; all of them are re-exported here, so `standings::protocol::X` names any of them.

mod frames;
mod orders;
mod replies;

pub use frames::*;
pub use orders::*;
pub use replies::*;

/// What a deleted account shows as on final standings.
pub const DELETED_PLAYER: &str = "deleted player";
/// The largest score (and prize pool) anywhere in the API: the engine's limit, exact as a JSON number (2^53 - 1).
pub const MAX_SCORE: i64 = crate::engine::key::MAX_SCORE as i64;
/// `GET /live` with `Upgrade: websocket`: subscribe to live updates.
pub const PATH_LIVE: &str = "/live";

/// Internal header naming the verified user of a `/live` request (set by the Worker, overwriting any client value).
pub const HEADER_USER: &str = "X-Leaderboard-User";
/// Internal header carrying the verified token's expiry (seconds since the epoch) of a `/live` request: the socket
/// closes when it passes, unless an `auth` frame extends it.
pub const HEADER_TOKEN_EXP: &str = "X-Leaderboard-Token-Exp";
/// Internal header asking the object to echo the `bearer` subprotocol on the upgrade.
pub const HEADER_SUBPROTOCOL: &str = "X-Leaderboard-Subprotocol";
/// Host used in URLs sent to the stub; the runtime ignores it, but a URL needs one.
pub const INTERNAL_ORIGIN: &str = "https://competition.internal";

/// `100 × (total − rank + 1) / total`, to one decimal: the share of the board at or below `rank`.
pub fn percentile(rank: u64, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    let exact = 100.0 * (total - rank.min(total) + 1) as f64 / total as f64;
    (exact * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::score::Score;

    #[test]
    fn settings_are_sound_with_a_known_metric_and_an_end_after_the_start() {
        let meta = |metric: &str, starts_ms, ends_ms| CompetitionMeta {
            competition_id: Uuid::from_u128(1),
            metric: metric.to_owned(),
            starts_ms,
            ends_ms,
            prize_pool: 0,
            payout: Vec::new(),
            fitness: false,
            grace_ms: 0,
            version: 0,
        };
        let cases = [("steps", 0, 1, true), ("steps", 1, 1, false), ("steps", 2, 1, false), ("laps", 0, 1, false)];
        for (metric, starts_ms, ends_ms, sound) in cases {
            assert_eq!(meta(metric, starts_ms, ends_ms).is_sound(), sound, "{metric} {starts_ms}..{ends_ms}");
        }
    }

    #[test]
    fn frames_have_the_contracts_shape() {
        let user = Uuid::from_u128(1);
        let update = ServerFrame::Update(UpdateFrame {
            seq: 3,
            user_id: user,
            display_name: "Ana".into(),
            score: Score::new(5).expect("a score"),
            rank: 1,
            display_rank: 1,
            previous_rank: None,
            total: 1,
        });
        let json = serde_json::to_value(&update).expect("json");
        assert_eq!((json["type"].as_str(), json["display_name"].as_str()), (Some("update"), Some("Ana")));
        assert_eq!(json["previous_rank"], serde_json::Value::Null);
        let snapshot = ServerFrame::Snapshot { seq: 0, total: 0, entries: vec![], me: None };
        assert_eq!(serde_json::to_value(&snapshot).expect("json")["type"], "snapshot");
        assert_eq!(serde_json::to_string(&ServerFrame::Pong).expect("json"), PONG_TEXT);
        assert_eq!(serde_json::from_str::<ClientFrame>(PING_TEXT).expect("ping"), ClientFrame::Ping);
        assert_eq!(
            serde_json::from_str::<ClientFrame>(r#"{"type":"resume","since":7}"#).expect("resume"),
            ClientFrame::Resume { since: 7 }
        );
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"shout"}"#).is_err());
        // An auth frame without a usable token is a bad token (refused and closed), not an unknown frame.
        for bad in [r#"{"type":"auth"}"#, r#"{"type":"auth","token":7}"#, r#"{"type":"auth","token":null}"#] {
            assert_eq!(
                serde_json::from_str::<ClientFrame>(bad).expect(bad),
                ClientFrame::Auth { token: String::new() },
                "{bad}"
            );
        }
    }

    #[test]
    fn a_batch_answers_each_write_in_order_as_written_or_refused() {
        let written = WriteOutcome::Written(ScoreWriteReply {
            competition_id: Uuid::from_u128(1),
            user_id: Uuid::from_u128(2),
            score: Score::new(40).expect("a score"),
            rank: 1,
            display_rank: 1,
            previous_rank: None,
            total: 1,
            seq: 9,
        });
        let refused = WriteOutcome::Refused(crate::object_error::ObjectError {
            code: crate::object_error::ErrorCode::NotAMember,
            message: "join first".into(),
        });
        let outcomes = vec![written, refused];
        let text = serde_json::to_string(&outcomes).expect("json");
        assert!(text.starts_with(r#"[{"written":{"competition_id""#), "{text}");
        assert!(text.ends_with(r#"{"refused":{"code":"not_a_member","message":"join first"}}]"#), "{text}");
        assert_eq!(serde_json::from_str::<Vec<WriteOutcome>>(&text).expect("parses"), outcomes);
    }

    #[test]
    fn relay_answers_read_across_a_deploy_with_or_without_the_finished_frame() {
        // An object of the previous version answers without `finished`; one of this version adds it only after the
        // end, and older relays read past fields they do not know.
        let old: SnapshotAt = serde_json::from_str(r#"{"seq":4,"text":"{}"}"#).expect("an older answer");
        assert_eq!(old.finished, None);
        let frames: FramesAt = serde_json::from_str(r#"{"frames":null}"#).expect("an older answer");
        assert_eq!(frames.finished, None);
        let running = SnapshotAt { seq: 4, text: "{}".into(), finished: None };
        assert_eq!(serde_json::to_string(&running).expect("json"), r#"{"seq":4,"text":"{}"}"#);
        let ended = FramesAt { frames: Some(vec![]), finished: Some(r#"{"type":"finished"}"#.into()) };
        let text = serde_json::to_string(&ended).expect("json");
        assert_eq!(serde_json::from_str::<FramesAt>(&text).expect("round trip"), ended);
    }

    #[test]
    fn default_display_names_use_the_first_eight_characters() {
        let id = Uuid::parse_str("5f0c1d9e-8a47-4a43-9d0e-3c1f2a4b5c6d").expect("uuid");
        assert_eq!(default_display_name(&id), "player-5f0c1d9e");
    }

    #[test]
    fn percentile_table() {
        for (rank, total, expected) in
            [(1, 1, 100.0), (1, 100, 100.0), (100, 100, 1.0), (50, 100, 51.0), (2, 3, 66.7), (1, 0, 0.0)]
        {
            assert_eq!(percentile(rank, total), expected, "rank {rank} of {total}");
        }
    }
}
