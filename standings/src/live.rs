//! Rules of the live socket protocol that need no runtime: what a `resume` gets, and how many sockets an object
//! takes.

/// Hibernatable sockets the runtime allows one object; past it, accepting throws (and workers-rs's accept panics,
/// which would crash the object and drop every subscriber).
pub const RUNTIME_SOCKET_LIMIT: u64 = 32_768;
/// Sockets an object accepts unless configured otherwise: under the runtime's limit, with room for sockets that are
/// closing but not yet gone.
pub const DEFAULT_LIVE_SOCKETS: u64 = 32_000;
/// Seconds a subscriber refused for a full live feed is asked to wait.
pub const LIVE_FULL_RETRY_SECS: u64 = 30;

/// The live socket capacity from the `LIVE_SOCKETS_PER_COMPETITION` setting: the default when unset or not a
/// number, never above the runtime's limit.
pub fn socket_capacity(setting: Option<&str>) -> u64 {
    setting.and_then(|value| value.trim().parse::<u64>().ok()).unwrap_or(DEFAULT_LIVE_SOCKETS).min(RUNTIME_SOCKET_LIMIT)
}

/// Sockets from which on an object combines its frames (`LIVE_COALESCE_FROM_SOCKETS`): below it every frame goes out
/// inside the write that published it; from it on the write is acknowledged first and frames published while a pass
/// is pending leave together. Off unless set: measured at 10 000 sockets (BENCHMARKS.md), combining carried 55 % more
/// updates with four concurrent writers but tripled a lone writer's delivery p50, because the deferred pass starts
/// late under workerd; until that is understood, an operator turns it on for competitions with many writers.
pub const DEFAULT_COALESCE_FROM_SOCKETS: u64 = u64::MAX;

/// The coalescing threshold from its setting: the default (off) when unset or not a number.
pub fn coalesce_from(setting: Option<&str>) -> u64 {
    setting.and_then(|value| value.trim().parse::<u64>().ok()).unwrap_or(DEFAULT_COALESCE_FROM_SOCKETS)
}

/// A frame published but not yet sent: its sequence, whether it is an `update`, and its text.
pub type PendingFrame = (u64, bool, String);

/// The texts one send pass sends for `pending` (in `seq` order): a run of two or more consecutive `update` frames
/// becomes one `{"type":"updates","seq":last,"updates":[…]}` (API.md, live socket limits); a single update and every
/// other frame go as they are, in their place.
pub fn combine(pending: Vec<PendingFrame>) -> Vec<String> {
    let mut texts = Vec::new();
    let mut run: Vec<(u64, String)> = Vec::new();
    let close_run = |run: &mut Vec<(u64, String)>, texts: &mut Vec<String>| match run.len() {
        0 => {}
        1 => texts.extend(run.drain(..).map(|(_, text)| text)),
        _ => {
            let last = run.last().map_or(0, |(seq, _)| *seq);
            let frames: Vec<String> = run.drain(..).map(|(_, text)| text).collect();
            texts.push(format!("{{\"type\":\"updates\",\"seq\":{last},\"updates\":[{}]}}", frames.join(",")));
        }
    };
    for (seq, is_update, text) in pending {
        if is_update {
            run.push((seq, text));
        } else {
            close_run(&mut run, &mut texts);
            texts.push(text);
        }
    }
    close_run(&mut run, &mut texts);
    texts
}

/// An update frame kept for resume, with its sequence.
pub type KeptFrame = (u64, String);

/// What to send a client that resumes after `since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// Exactly these kept update frames, in order (possibly none: the client is up to date).
    Frames(Vec<String>),
    /// A fresh snapshot: the client missed updates that are no longer kept.
    Snapshot,
}

/// Whether a resume needs the kept frames read at all: only a client behind the latest change does. One up to date,
/// one on an empty board and one "from the future" (any `since` above the latest, however large) are answered by
/// [`plan`] without them — a `since` past 2^63, read as a negative sequence, once selected every kept frame on each
/// resume and without touching the user's replay allowance.
pub fn needs_kept_frames(since: u64, latest: Option<u64>) -> bool {
    latest.is_some_and(|latest| since < latest)
}

/// Decides a resume: `latest` is the sequence of the last change, `oldest_kept` the oldest update still stored,
/// `kept` the stored frames after `since` in order.
pub fn plan(since: u64, latest: Option<u64>, oldest_kept: Option<u64>, kept: Vec<KeptFrame>) -> Resume {
    let Some(latest) = latest else {
        // Nothing ever happened: nothing to replay, unless the client claims a future it cannot have seen.
        return if since == 0 { Resume::Frames(Vec::new()) } else { Resume::Snapshot };
    };
    if since > latest {
        return Resume::Snapshot;
    }
    if since == latest {
        return Resume::Frames(Vec::new());
    }
    // The next frame the client needs is since + 1; it must still be kept, and the kept run must be gapless.
    let complete = oldest_kept.is_some_and(|oldest| oldest <= since + 1)
        && kept.first().map(|(seq, _)| *seq) == Some(since + 1)
        && kept.windows(2).all(|w| w[1].0 == w[0].0 + 1)
        && kept.last().map(|(seq, _)| *seq) == Some(latest);
    if complete {
        Resume::Frames(kept.into_iter().map(|(_, frame)| frame).collect())
    } else {
        Resume::Snapshot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_updates_leave_as_one_frame_and_everything_else_keeps_its_place() {
        let update = |seq: u64| (seq, true, format!("{{\"type\":\"update\",\"seq\":{seq}}}"));
        let removed = (4, false, r#"{"type":"removed","seq":4}"#.to_owned());
        let texts = combine(vec![update(1), update(2), update(3), removed, update(5)]);
        assert_eq!(texts.len(), 3, "{texts:?}");
        let batch: serde_json::Value = serde_json::from_str(&texts[0]).expect("valid JSON");
        assert_eq!((batch["type"].as_str(), batch["seq"].as_u64()), (Some("updates"), Some(3)));
        let seqs: Vec<u64> =
            batch["updates"].as_array().expect("list").iter().filter_map(|u| u["seq"].as_u64()).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(texts[1], r#"{"type":"removed","seq":4}"#);
        assert_eq!(texts[2], r#"{"type":"update","seq":5}"#, "a lone update goes as it is");
        assert!(combine(Vec::new()).is_empty());
        assert_eq!(coalesce_from(Some("0")), 0);
        assert_eq!(coalesce_from(None), u64::MAX, "off unless set");
    }

    #[test]
    fn socket_capacity_settings() {
        let cases = [
            (None, DEFAULT_LIVE_SOCKETS),
            (Some(""), DEFAULT_LIVE_SOCKETS),
            (Some("many"), DEFAULT_LIVE_SOCKETS),
            (Some("-1"), DEFAULT_LIVE_SOCKETS),
            (Some(" 3 "), 3),
            (Some("0"), 0),
            (Some("100000"), RUNTIME_SOCKET_LIMIT),
        ];
        for (setting, capacity) in cases {
            assert_eq!(socket_capacity(setting), capacity, "{setting:?}");
        }
    }

    fn frames(range: std::ops::RangeInclusive<u64>) -> Vec<KeptFrame> {
        range.map(|s| (s, format!("f{s}"))).collect()
    }

    #[test]
    fn resume_table() {
        type Case = (&'static str, u64, Option<u64>, Option<u64>, Vec<KeptFrame>, Resume);
        let cases: Vec<Case> = vec![
            ("empty board, fresh client", 0, None, None, vec![], Resume::Frames(vec![])),
            ("empty board, client from the future", 5, None, None, vec![], Resume::Snapshot),
            ("up to date", 9, Some(9), Some(0), vec![], Resume::Frames(vec![])),
            ("missed two", 7, Some(9), Some(0), frames(8..=9), Resume::Frames(vec!["f8".into(), "f9".into()])),
            (
                "missed everything since the start",
                0,
                Some(2),
                Some(0),
                frames(1..=2),
                Resume::Frames(vec!["f1".into(), "f2".into()]),
            ),
            ("older than the window", 1, Some(3000), Some(1977), frames(1977..=3000), Resume::Snapshot),
            (
                "gap in kept frames",
                5,
                Some(9),
                Some(0),
                vec![(6, "f6".into()), (8, "f8".into()), (9, "f9".into())],
                Resume::Snapshot,
            ),
            ("kept frames end early", 5, Some(9), Some(0), frames(6..=8), Resume::Snapshot),
            ("client from the future", 12, Some(9), Some(0), vec![], Resume::Snapshot),
        ];
        for (name, since, latest, oldest, kept, expected) in cases {
            if !needs_kept_frames(since, latest) {
                assert_eq!(plan(since, latest, None, Vec::new()), expected, "{name}, decided without kept frames");
            }
            assert_eq!(plan(since, latest, oldest, kept), expected, "{name}");
        }
        let needs = [(7, Some(9), true), (9, Some(9), false), (12, Some(9), false), (u64::MAX, Some(9), false)];
        for (since, latest, expected) in needs.into_iter().chain([(0, None, false)]) {
            assert_eq!(needs_kept_frames(since, latest), expected, "since {since}, latest {latest:?}");
        }
    }
}
