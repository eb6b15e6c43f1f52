//! Operations on the same members at once. Each round sends a handful of requests together, most of them about one
//! member — syncs from several sources (some days held), review decisions, renames (through the API, and round it: the
//! user's own write to the database API, which reaches the boards within seconds), new avatars, profile zone changes,
//! moved ends, administrators' edits (name, prize pool, payout), late joins, a disqualification, account deletions
//! (each account replaced by a newcomer) — over three fitness competitions (participant and fixed clocks, several
//! scoring modes) and a game-style one (posted scores and administrators' corrections of them). When the round's
//! replies are in, every fitness board must be what the database's stored state makes it under the contract's rules
//! (API.md, "Fitness sync, extended", "Reviews and disqualification", "People on the board"): a member with a score
//! above 0 is on it with that score, nobody disqualified or deleted is, every entry shows its member's current name and
//! avatar. One fitness competition ends for good half-way (its end moved to a moment later): its final standings must
//! then not move, whatever reaches its members (syncs, decisions, renames, deletions, which leave `deleted player` in
//! place), and joins and disqualifications get 409. Another is called off in a later round, racing that round's
//! requests: from then on its standings, as its board held them then, must not move either. The game-style board holds
//! only members in good standing, each with a score of the last round in which a write of theirs was taken. Each
//! member's `GET /api/v1/me/competitions` agrees with the boards (so do one member's `me` and `users/{id}` reads), and
//! each competition's `participants` with its memberships; at the end the database's copy of the scores
//! (`public.scores`) catches up with every board, and a socket opened on each board at the start has frames adding up
//! to it (so has one resuming from that start). Whatever order the requests took, the last write must leave the last
//! state: an older total arriving late, or a write racing a removal, shows here. `FITNESS_RACES_SEED=<n>` replays one
//! seed; otherwise `FITNESS_RACES_RUNS` (2) fresh seeds run, each printed.

use std::collections::{BTreeMap, BTreeSet};

use e2e::{base_url, rfc3339, send, service_token, user_token, Reply};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{json, Value};
use uuid::Uuid;

const DAY: i64 = 86_400;
/// Per metric: name, review threshold, manual cap (API.md, "Per-day limits per metric").
const METRICS: [(&str, i64, i64); 4] = [
    ("steps", 60_000, 20_000),
    ("active_minutes", 600, 240),
    ("distance_m", 60_000, 15_000),
    ("calories", 8_000, 2_000),
];
const ZONES: [&str; 5] = ["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Asia/Kolkata", "America/Chicago"];
const SOURCES: [&str; 4] = ["healthkit", "garmin", "fitbit", "manual"];
/// When a competition called off in the current round became final: not known until the round is over.
const CLOSING: i64 = i64::MAX;
/// Payouts an edit picks from (basis points of the pool per place).
const PAYOUTS: [&[i64]; 3] = [&[10_000], &[6_000, 4_000], &[5_000, 3_000, 2_000]];

fn call(method: &str, path: &str, token: &str, body: Option<&Value>) -> Reply {
    send(method, &format!("{}{path}", base_url()), &[("Authorization", &format!("Bearer {token}"))], body)
}

/// One request of a round.
#[derive(Debug, Clone)]
enum Op {
    Sync {
        user: Uuid,
        body: Value,
    },
    Decide {
        user: Uuid,
        date: String,
        decision: &'static str,
    },
    Zone {
        user: Uuid,
        zone: &'static str,
    },
    MoveEnd {
        competition: Uuid,
        ends: i64,
    },
    /// An administrator's edit of the competition's name, prize pool and payout (subscribers get `changed`).
    Edit {
        competition: Uuid,
        body: Value,
    },
    /// Called off: final at once without prizes.
    Cancel {
        competition: Uuid,
    },
    Disqualify {
        competition: Uuid,
        user: Uuid,
    },
    Join {
        competition: Uuid,
        user: Uuid,
    },
    Rename {
        user: Uuid,
        name: String,
    },
    /// A rename round the Worker: the user's own write to their profile through the database API, which only the
    /// member-change log tells the boards (within seconds, not on the next read).
    RenameDirectly {
        user: Uuid,
        name: String,
    },
    /// A new avatar image (a PNG whose bytes differ per upload, so each gets its own key).
    Avatar {
        user: Uuid,
        tag: String,
    },
    Delete {
        user: Uuid,
    },
    /// A posted score on the client competition: the member's own, or an administrator's correction of it.
    Post {
        competition: Uuid,
        user: Uuid,
        score: i64,
        correction: bool,
    },
}

impl Op {
    /// Sends it; a reply outside what the contract allows for it (given who was deleted this round, who was a
    /// member of the client competition throughout it, and which competitions are final: since when, or
    /// [`CLOSING`] for one called off in this very round) fails the run. The status and the request as text.
    fn run(&self, deleted: &BTreeSet<Uuid>, steady: &BTreeSet<Uuid>, finished: &BTreeMap<Uuid, i64>) -> (u16, String) {
        let admin = service_token();
        // Before or after the competition is called off in this round: either answer.
        let closing = |competition: &Uuid| finished.get(competition) == Some(&CLOSING);
        let open_or_closing: &[u16] = &[200, 409];
        let (reply, allowed): (Reply, &[u16]) = match self {
            // A member's syncs have their own limit (30 a minute): one refused writes nothing, as the contract says.
            Op::Sync { user, body } => {
                (call("POST", "/api/v1/fitness/sync", &user_token(user), Some(body)), &[200, 429])
            }
            Op::Decide { user, date, decision } => {
                let path = format!("/api/v1/admin/holds/{user}/{date}");
                (call("POST", &path, &admin, Some(&json!({"decision": decision}))), &[200, 404])
            }
            Op::Rename { user, name } => {
                (call("PATCH", "/api/v1/me", &user_token(user), Some(&json!({"display_name": name}))), &[200])
            }
            Op::RenameDirectly { user, name } => (e2e::rename_directly(user, name), &[200, 204]),
            // The avatar route has its own limit per user (a refused upload changes nothing).
            Op::Avatar { user, tag } => (e2e::upload_avatar(user, "image/png", &e2e::png(tag)), &[200, 429]),
            Op::Zone { user, zone } => {
                (call("PATCH", "/api/v1/me", &user_token(user), Some(&json!({"time_zone": zone}))), &[200])
            }
            Op::MoveEnd { competition, ends } => {
                let body = json!({"ends_at": rfc3339(*ends)});
                let allowed: &[u16] = if closing(competition) { open_or_closing } else { &[200] };
                (call("PATCH", &format!("/api/v1/competitions/{competition}"), &admin, Some(&body)), allowed)
            }
            Op::Edit { competition, body } => {
                let allowed: &[u16] = if closing(competition) { open_or_closing } else { &[200] };
                (call("PATCH", &format!("/api/v1/competitions/{competition}"), &admin, Some(body)), allowed)
            }
            Op::Cancel { competition } => {
                (call("POST", &format!("/api/v1/competitions/{competition}/cancel"), &admin, None), &[200])
            }
            Op::Disqualify { competition, user } => {
                let path = format!("/api/v1/competitions/{competition}/members/{user}/disqualify");
                // 404: not a member (yet).
                // After the standings are final: 409 (404 still for someone who never joined).
                let allowed: &[u16] = match finished.contains_key(competition) {
                    true if closing(competition) => &[200, 404, 409],
                    true => &[404, 409],
                    false => &[200, 404],
                };
                (call("POST", &path, &admin, Some(&json!({"reason": "races"}))), allowed)
            }
            Op::Join { competition, user } => {
                // 200 again for a member (even after the end: the membership it made stands); 403 for the
                // disqualified; 409 for anyone else once the competition has ended.
                let reply = call("POST", &format!("/api/v1/competitions/{competition}/join"), &user_token(user), None);
                if let (Some(ended), 200) = (finished.get(competition), reply.status) {
                    let joined = reply.json["joined_at"].as_str().and_then(|t| t.parse::<Timestamp>().ok());
                    let joined = joined.map(|t| t.as_second()).expect("joined_at");
                    assert!(joined < *ended, "{self:?}: a new member of an ended competition: {:?}", reply.json);
                }
                (reply, if finished.contains_key(competition) { &[200, 403, 409] } else { &[200, 403] })
            }
            Op::Delete { user } => (call("DELETE", "/api/v1/me", &user_token(user), None), &[204]),
            Op::Post { competition, user, score, correction } => {
                let (token, body) = match correction {
                    true => (admin, json!({"competition_id": competition, "score": score, "user_id": user})),
                    false => (user_token(user), json!({"competition_id": competition, "score": score})),
                };
                // A member all round long is written; anyone else (joining, disqualified, never joined) may not be.
                let allowed: &[u16] = if steady.contains(user) { &[200] } else { &[200, 403, 404] };
                (call("POST", "/api/v1/leaderboard/update", &token, Some(&body)), allowed)
            }
        };
        let user = match self {
            Op::Sync { user, .. } | Op::Decide { user, .. } | Op::Zone { user, .. } | Op::Rename { user, .. } => {
                Some(user)
            }
            Op::Avatar { user, .. } | Op::RenameDirectly { user, .. } => Some(user),
            Op::Disqualify { user, .. } | Op::Join { user, .. } | Op::Delete { user } | Op::Post { user, .. } => {
                Some(user)
            }
            Op::MoveEnd { .. } | Op::Edit { .. } | Op::Cancel { .. } => None,
        };
        // A request of a member deleted in the same round may come before or after the deletion: any 2xx/4xx.
        let gone = user.is_some_and(|u| deleted.contains(u)) && !matches!(self, Op::Delete { .. });
        let fine = if gone { reply.status < 500 } else { allowed.contains(&reply.status) };
        assert!(fine, "{self:?}: {} {:?}", reply.status, reply.json);
        (reply.status, format!("{self:?} → {}", reply.status))
    }
}

/// A sync of 1–3 days around today (some above the review threshold, some typed in) from one source.
fn random_sync(rng: &mut fastrand::Rng, user: Uuid, today: Date) -> Op {
    let source = SOURCES[rng.usize(0..SOURCES.len())];
    let mut samples = Vec::new();
    let mut dates = BTreeSet::new();
    for _ in 0..rng.usize(1..4) {
        let date = today.checked_add(jiff::Span::new().days(rng.i64(-3..=0))).expect("a date in range");
        if !dates.insert(date) {
            continue;
        }
        let mut sample = json!({"date": date.to_string()});
        for (name, review, _) in METRICS {
            sample[name] = json!(match rng.u8(0..6) {
                0 => review + 1 + rng.i64(0..review / 4),
                1 => review,
                _ => rng.i64(0..review / 2),
            });
        }
        if source != "manual" && rng.u8(0..6) == 0 {
            sample["user_entered"] = json!(true);
        }
        samples.push(sample);
    }
    let mut body = json!({"source": source, "samples": samples});
    if rng.u8(0..5) == 0 {
        body["time_zone"] = json!(ZONES[rng.usize(0..ZONES.len())]);
    }
    Op::Sync { user, body }
}

/// What the database holds for one competition: its rules and each member's zone, days and decisions.
struct Stored {
    metric: usize,
    starts: i64,
    ends: i64,
    clock: String,
    scoring: Value,
    allow_manual: bool,
    /// Every member, disqualified ones included.
    members: BTreeMap<Uuid, Member>,
}

/// A member as the database holds them: standing, name, zone, days (date, typed in, values) and decisions by date.
struct Member {
    disqualified: bool,
    /// The profile's name and avatar, which every board must show.
    name: String,
    avatar: Option<String>,
    zone: String,
    days: Vec<(Date, bool, [i64; 4])>,
    decisions: BTreeMap<Date, String>,
}

const STORED: &str = "SELECT json_build_object(
  'competition', (SELECT json_build_object('metric', metric, 'starts', floor(extract(epoch FROM starts_at))::bigint,
       'ends', floor(extract(epoch FROM ends_at))::bigint, 'clock', clock, 'scoring', scoring,
       'allow_manual', allow_manual) FROM public.competitions WHERE id = '{id}'),
  'members', (SELECT coalesce(json_agg(json_build_object('user_id', m.user_id,
       'disqualified', m.disqualified_at IS NOT NULL, 'zone', p.time_zone, 'name', p.display_name,
       'avatar', p.avatar_url,
       'days', (SELECT coalesce(json_agg(json_build_array(f.day::text, f.source = 'manual' OR f.user_entered,
                  json_build_array(f.steps, f.active_minutes, f.distance_m, f.calories))), '[]')
                FROM public.fitness_days f WHERE f.user_id = m.user_id),
       'decisions', (SELECT coalesce(json_object_agg(h.day::text, h.status), '{}')
                FROM public.fitness_holds h WHERE h.user_id = m.user_id))), '[]')
     FROM public.memberships m JOIN public.profiles p ON p.user_id = m.user_id WHERE m.competition_id = '{id}'))";

fn stored(id: &Uuid) -> Stored {
    let (ok, text) = e2e::stack(&["psql", "-tAc", &STORED.replace("{id}", &id.to_string())]);
    assert!(ok, "{text}");
    let all: Value = serde_json::from_str(text.trim()).expect("the stored state as JSON");
    let c = &all["competition"];
    let number = |v: &Value| v.as_i64().expect("a number");
    let date = |v: &Value| v.as_str().and_then(|d| d.parse::<Date>().ok()).expect("a date");
    let members = all["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            let days = m["days"].as_array().expect("days").iter().map(|d| {
                let values = [0, 1, 2, 3].map(|i| number(&d[2][i]));
                (date(&d[0]), d[1].as_bool().expect("typed in"), values)
            });
            let decisions = m["decisions"]
                .as_object()
                .expect("decisions")
                .iter()
                .map(|(day, status)| (date(&json!(day)), status.as_str().expect("a status").to_owned()));
            let member = Member {
                disqualified: m["disqualified"].as_bool().expect("disqualified"),
                name: m["name"].as_str().expect("name").to_owned(),
                avatar: m["avatar"].as_str().map(str::to_owned),
                zone: m["zone"].as_str().expect("zone").to_owned(),
                days: days.collect(),
                decisions: decisions.collect(),
            };
            (e2e::user_of(m), member)
        })
        .collect();
    Stored {
        metric: METRICS.iter().position(|(name, _, _)| c["metric"] == *name).expect("a metric"),
        starts: number(&c["starts"]),
        ends: number(&c["ends"]),
        clock: c["clock"].as_str().expect("clock").to_owned(),
        scoring: c["scoring"].clone(),
        allow_manual: c["allow_manual"].as_bool().expect("allow_manual"),
        members,
    }
}

/// The member's score by the contract: per local date overlapping the window on the competition's clock, the manual
/// cap on typed-in values (counted only where allowed), the largest value across sources, a held day (a value of a
/// source that was not typed in above the review threshold) at the threshold while pending, in full once approved, 0
/// once rejected; then the scoring mode.
fn score(competition: &Stored, member: &Member) -> i64 {
    let (_, review, manual) = METRICS[competition.metric];
    let zone = if competition.clock == "participant" { &member.zone } else { &competition.clock };
    let zone = TimeZone::get(zone).expect("a zone");
    let start = |d: Date| d.to_zoned(zone.clone()).expect("a day in range").timestamp().as_second();
    let mut by_date: BTreeMap<Date, (i64, bool)> = BTreeMap::new();
    for (date, typed_in, values) in &member.days {
        if *typed_in && !competition.allow_manual {
            continue;
        }
        let raw = values[competition.metric];
        let value = if *typed_in { raw.min(manual) } else { raw };
        let day = by_date.entry(*date).or_default();
        *day = (day.0.max(value), day.1 || (!typed_in && raw > review));
    }
    let days: Vec<i64> = by_date
        .into_iter()
        .filter(|(date, _)| {
            start(*date) < competition.ends && start(date.tomorrow().expect("a day")) > competition.starts
        })
        .map(|(date, (value, held))| match (held, member.decisions.get(&date).map(String::as_str)) {
            (false, _) | (true, Some("approved")) => value,
            (true, Some("rejected")) => 0,
            (true, _) => value.min(review),
        })
        .collect();
    e2e::scored(&competition.scoring, &days)
}

/// A competition's board, read as `reader`: (member, score) in rank order, each entry's name and avatar checked
/// against the member's profile (every board shows the current ones: API.md, "People on the board").
fn read_board(id: &Uuid, reader: &Uuid, members: &BTreeMap<Uuid, Member>, what: &str) -> Vec<(Uuid, i64)> {
    let page = call("GET", &format!("/api/v1/leaderboard/{id}?limit=200"), &user_token(reader), None);
    assert_eq!(page.status, 200, "{what}: {:?}", page.json);
    let entries = page.json["entries"].as_array().expect("entries");
    for entry in entries {
        // No longer a member: only a deleted account keeps its place, on final standings, as `deleted player`.
        let (name, avatar) = members
            .get(&e2e::user_of(entry))
            .map_or((json!("deleted player"), Value::Null), |m| (json!(m.name), json!(m.avatar)));
        let shown = (&entry["display_name"], &entry["avatar_url"]);
        assert_eq!(shown, (&name, &avatar), "{what}: the name or avatar on {id}: {entry}");
    }
    entries.iter().map(|e| (e2e::user_of(e), e["score"].as_i64().expect("score"))).collect()
}

/// A board in rank order (member, score) and the competition's disqualified members.
type Board = (Vec<(Uuid, i64)>, BTreeSet<Uuid>);

/// Everyone on the board `ranked` is a member in good standing; the board with the disqualified members.
fn in_good_standing(id: &Uuid, ranked: Vec<(Uuid, i64)>, members: &BTreeMap<Uuid, Member>, what: &str) -> Board {
    for (user, _) in &ranked {
        let member = members.get(user).unwrap_or_else(|| panic!("{what}: {user} is on {id} but no member of it"));
        assert!(!member.disqualified, "{what}: disqualified {user} is on {id}");
    }
    (ranked, disqualified_of(members))
}

/// The members the competition disqualified.
fn disqualified_of(members: &BTreeMap<Uuid, Member>) -> BTreeSet<Uuid> {
    members.iter().filter(|(_, m)| m.disqualified).map(|(u, _)| *u).collect()
}

/// Waits (at most 20 s) until every board shows its members' current names: a rename round the Worker reaches a
/// board through the member-change log, which the object reads every few seconds while its board is read.
fn await_names(competitions: &[Uuid], reader: &Uuid, what: &str) {
    let names_of = |id: &Uuid| {
        let query = format!(
            "SELECT coalesce(json_object_agg(p.user_id, p.display_name), '{{}}') FROM public.memberships m \
             JOIN public.profiles p ON p.user_id = m.user_id WHERE m.competition_id = '{id}'"
        );
        let (ok, text) = e2e::stack(&["psql", "-tAc", &query]);
        assert!(ok, "{text}");
        serde_json::from_str::<BTreeMap<String, String>>(text.trim()).expect("names as JSON")
    };
    for id in competitions {
        let shown = e2e::eventually(std::time::Duration::from_secs(20), || {
            let names = names_of(id);
            let page = call("GET", &format!("/api/v1/leaderboard/{id}?limit=200"), &user_token(reader), None);
            let entries = page.json["entries"].as_array()?.clone();
            entries
                .iter()
                .all(|e| names.get(&e2e::user_of(e).to_string()).is_none_or(|name| e["display_name"] == json!(name)))
                .then_some(())
        });
        assert!(shown.is_some(), "{what}: a rename round the Worker never reached {id}");
    }
}

/// Every board against the stored state; a board in `frozen` (final standings) against itself as it was when it
/// became final, whatever was synced, decided or deleted since; the board of the competition `closing` (called off
/// while the round's requests ran, so the stored state may have moved on after it) only for who is on it.
fn check_boards(
    competitions: &[Uuid],
    reader: &Uuid,
    frozen: &BTreeMap<Uuid, Board>,
    closing: Option<Uuid>,
    what: &str,
) -> Vec<Board> {
    let mut boards = Vec::new();
    for id in competitions {
        let competition = stored(id);
        let ranked = read_board(id, reader, &competition.members, what);
        let board: BTreeMap<Uuid, i64> = ranked.iter().copied().collect();
        // Its member count, as the competition route shows it (a cached row: joins and deletions must reach it).
        let shown = call("GET", &format!("/api/v1/competitions/{id}"), &user_token(reader), None);
        assert_eq!(shown.json["participants"], json!(competition.members.len()), "{what}: {id}'s participants");
        if let Some(standings) = frozen.get(id) {
            assert_eq!(ranked, standings.0, "{what}: the final standings of {id} moved");
            boards.push(standings.clone());
            continue;
        }
        if closing == Some(*id) {
            // A deletion after the call-off leaves `deleted player` in place (`read_board` checked the names).
            let disqualified = disqualified_of(&competition.members);
            assert!(ranked.iter().all(|(u, _)| !disqualified.contains(u)), "{what}: disqualified on {id}: {ranked:?}");
            boards.push((ranked, disqualified));
            continue;
        }
        let (ranked, disqualified) = in_good_standing(id, ranked, &competition.members, what);
        for (user, score) in &board {
            let member = &competition.members[user];
            assert_eq!(*score, self::score(&competition, member), "{what}: {user} on {id}, zone {}", member.zone);
        }
        for (user, member) in &competition.members {
            let expected = self::score(&competition, member);
            if !member.disqualified && expected > 0 {
                assert_eq!(board.get(user), Some(&expected), "{what}: {user} with {expected} is not on {id}");
            }
        }
        boards.push((ranked, disqualified));
    }
    boards
}

/// Each member's `GET /api/v1/me/competitions` against the boards just read: disqualified where they were, else a
/// member with the score and rank their board gives them (null off it), and `final_amount` null until the standings
/// are final, then what the prizes route pays them (`paid`: per final competition, each prize winner's amount).
fn check_my_competitions(
    user: &Uuid,
    competitions: &[Uuid],
    boards: &[Board],
    paid: &BTreeMap<Uuid, BTreeMap<Uuid, i64>>,
    what: &str,
) {
    let listed = e2e::my_competitions(user);
    for (id, (board, disqualified)) in competitions.iter().zip(boards) {
        let Some(shown) = listed.get(&id.to_string()) else { continue };
        let context = format!("{what}: {user} in {id}: {shown}");
        if disqualified.contains(user) {
            assert_eq!((&shown["status"], &shown["rank"]), (&json!("disqualified"), &Value::Null), "{context}");
            continue;
        }
        let place = board.iter().position(|(u, _)| u == user);
        let score = place.map(|position| board[position].1);
        assert_eq!(shown["status"], json!("member"), "{context}");
        assert_eq!((&shown["score"], &shown["rank"]), (&json!(score), &json!(place.map(|p| p + 1))), "{context}");
        match paid.get(id) {
            None => assert_eq!(shown["final_amount"], Value::Null, "{context}"),
            Some(prizes) if place.is_some() => {
                assert_eq!(shown["final_amount"], json!(prizes.get(user).copied().unwrap_or(0)), "{context}");
            }
            Some(_) => {}
        }
    }
}

/// Per final competition, what its prizes route pays each winner.
fn prizes_paid(finished: &BTreeMap<Uuid, i64>, reader: &Uuid) -> BTreeMap<Uuid, BTreeMap<Uuid, i64>> {
    let paid = |id: &Uuid| {
        let reply = call("GET", &format!("/api/v1/leaderboard/{id}/prizes"), &user_token(reader), None);
        assert_eq!(reply.json["final"], json!(true), "{:?}", reply.json);
        let prizes = reply.json["prizes"].as_array().expect("prizes").iter();
        prizes.map(|p| (e2e::user_of(p), p["amount"].as_i64().expect("amount"))).collect()
    };
    finished.keys().map(|id| (*id, paid(id))).collect()
}

/// `user`'s own view of each board just read (`me`: rank, display rank, score, total, the entries around them with
/// their current names and avatars) and another reader's (`users/{id}`) agree with the page; off it, both are 404.
fn check_member_views(user: &Uuid, competitions: &[Uuid], boards: &[Board], reader: &Uuid, what: &str) {
    let mut around_of = Vec::new();
    for (id, (board, _)) in competitions.iter().zip(boards) {
        let me = call("GET", &format!("/api/v1/leaderboard/{id}/me?around=2"), &user_token(user), None);
        let other = call("GET", &format!("/api/v1/leaderboard/{id}/users/{user}"), &user_token(reader), None);
        let context = format!("{what}: {user}'s views of {id}: {:?} {:?}", me.json, other.json);
        let Some(place) = board.iter().position(|(u, _)| u == user) else {
            assert_eq!((me.status, other.status), (404, 404), "{context}");
            continue;
        };
        let score = board[place].1;
        let shown = (json!(place + 1), json!(1 + board.iter().filter(|(_, s)| *s > score).count()), json!(score));
        for view in [&me.json, &other.json] {
            assert_eq!((view["rank"].clone(), view["display_rank"].clone(), view["score"].clone()), shown, "{context}");
        }
        assert_eq!(me.json["total"], json!(board.len()), "{context}");
        let entries = me.json["entries"].as_array().expect("entries").clone();
        let around: Vec<(Uuid, i64)> =
            entries.iter().map(|e| (e2e::user_of(e), e["score"].as_i64().expect("score"))).collect();
        assert_eq!(around, board[place.saturating_sub(2)..board.len().min(place + 3)].to_vec(), "{context}");
        around_of.extend(entries.into_iter().map(|entry| (context.clone(), entry)));
    }
    // The names and avatars the entries show, against the profiles (one query for all of them).
    let users: Vec<String> = around_of.iter().map(|(_, entry)| format!("'{}'", e2e::user_of(entry))).collect();
    if users.is_empty() {
        return;
    }
    let query = format!(
        "SELECT json_object_agg(user_id, json_build_array(display_name, avatar_url)) FROM public.profiles \
         WHERE user_id IN ({})",
        users.join(",")
    );
    let (ok, text) = e2e::stack(&["psql", "-tAc", &query]);
    assert!(ok, "{text}");
    let profiles: Value = serde_json::from_str(text.trim()).expect("the profiles as JSON");
    for (context, entry) in around_of {
        // A deleted account (its profile gone) keeps its place on final standings as `deleted player`.
        let profile = match &profiles[e2e::user_of(&entry).to_string()] {
            Value::Null => json!(["deleted player", null]),
            profile => profile.clone(),
        };
        assert_eq!([&entry["display_name"], &entry["avatar_url"]], [&profile[0], &profile[1]], "{context}: {entry}");
    }
}

/// A new user with a profile. An account is deleted for good only once it exists: the local stack signs a user up on
/// their first request (Supabase's users exist before they have a token), so a deletion before it would be followed
/// by a fresh sign-up of the same id.
fn signed_up() -> Uuid {
    let user = Uuid::new_v4();
    let reply = call("GET", "/api/v1/me", &user_token(&user), None);
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    user
}

fn run(seed: u64, rounds: usize) {
    println!("fitness races seed {seed} (FITNESS_RACES_SEED={seed} replays it)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let specs = [
        json!({"metric": "steps", "scoring": {"mode": "total"}, "clock": "participant", "allow_manual": true}),
        json!({"metric": "active_minutes", "scoring": {"mode": "daily_capped", "cap": 300}, "clock": "America/Chicago"}),
        json!({"metric": "steps", "scoring": {"mode": "best_day"}, "clock": "participant"}),
    ];
    let competitions: Vec<Uuid> = specs
        .iter()
        .map(|spec| {
            let mut rules = spec.clone();
            rules["grace_hours"] = json!(0);
            e2e::create_competition_with(-2 * DAY - rng.i64(0..DAY), DAY + rng.i64(0..DAY), rules)
        })
        .collect();
    // And a game-style one, where members post their own scores.
    let client = e2e::create_competition_with(-2 * DAY, 2 * DAY, json!({"score_source": "client", "grace_hours": 0}));
    let all: Vec<Uuid> = competitions.iter().copied().chain([client]).collect();
    let mut users: Vec<Uuid> = (0..7).map(|_| signed_up()).collect();
    // Some join later, during the rounds, with the days they stored meanwhile.
    let mut steady = BTreeSet::new();
    for user in &users {
        for id in all.iter().filter(|_| rng.u8(0..5) < 3) {
            let reply = call("POST", &format!("/api/v1/competitions/{id}/join"), &user_token(user), None);
            assert_eq!(reply.status, 200, "{:?}", reply.json);
            if *id == client {
                steady.insert(*user);
            }
        }
    }
    // Per member of the client competition, the scores of the last round in which a write of theirs was taken.
    let mut posted: BTreeMap<Uuid, BTreeSet<i64>> = BTreeMap::new();
    let reader = Uuid::new_v4();
    // A socket on each board from the start: whatever order the writes took, its frames add up to the board.
    let mut watchers: Vec<e2e::LiveBoard> = all.iter().map(|id| e2e::LiveBoard::open(id, &reader)).collect();
    let mut disqualified = false;
    // The third competition ends for good after one round in the middle (its end moved to a moment later): from then
    // on its final standings must not move, whatever reaches its members.
    let (ending, ending_round) = (competitions[2], rng.usize(rounds / 3..2 * rounds / 3));
    // The ended competitions and when each ended (epoch seconds).
    let (mut finished, mut frozen) = (BTreeMap::new(), BTreeMap::new());
    // The second is called off in a later round, racing that round's requests: from then on its standings, as its
    // board held them then, must not move either.
    let (cancelled, cancel_round) = (competitions[1], rng.usize(2 * rounds / 3..rounds - 2));
    let mut renamed_directly_at = None;
    for round in 0..rounds {
        let today = Timestamp::now().to_zoned(TimeZone::UTC).date();
        let mut ops = Vec::new();
        let mut deleted = BTreeSet::new();
        // Most of a round's requests are about one member, so they race each other.
        let hot = users[rng.usize(0..users.len())];
        for _ in 0..rng.usize(4..9) {
            let user = if rng.bool() { hot } else { users[rng.usize(0..users.len())] };
            let competition = all[rng.usize(0..all.len())];
            let op = match rng.u8(0..22) {
                0..=9 if competition == client => {
                    // Scores near each other, so ties and overtakes happen.
                    Op::Post { competition, user, score: rng.i64(0..40) * 100, correction: rng.u8(0..5) == 0 }
                }
                0..=9 => random_sync(&mut rng, user, today),
                19 | 20 => Op::Join { competition, user },
                10..=13 => {
                    let date = today.checked_add(jiff::Span::new().days(rng.i64(-3..=0))).expect("a date in range");
                    let decision = if rng.bool() { "approve" } else { "reject" };
                    Op::Decide { user, date: date.to_string(), decision }
                }
                14 => Op::Zone { user, zone: ZONES[rng.usize(0..ZONES.len())] },
                15 if rng.bool() => Op::Rename { user, name: format!("racer {round}.{}", rng.u8(..)) },
                15 if rng.bool() => Op::RenameDirectly { user, name: format!("direct {round}.{}", rng.u8(..)) },
                15 => Op::Avatar { user, tag: format!("{seed}.{round}.{}", rng.u32(..)) },
                16 | 17 if finished.contains_key(&competition) => random_sync(&mut rng, user, today),
                16 | 17 if rng.bool() => {
                    Op::MoveEnd { competition, ends: local::token::now() + 3_600 + rng.i64(0..2 * DAY) }
                }
                16 | 17 => {
                    let payout = PAYOUTS[rng.usize(0..PAYOUTS.len())];
                    let body =
                        json!({"name": format!("race {round}"), "prize_pool": rng.i64(0..5) * 1000, "payout": payout});
                    Op::Edit { competition, body }
                }
                18 if !disqualified => {
                    disqualified = true;
                    Op::Disqualify { competition, user }
                }
                _ if deleted.is_empty() => {
                    deleted.insert(user);
                    Op::Delete { user }
                }
                _ => random_sync(&mut rng, user, today),
            };
            ops.push(op);
        }
        if round == cancel_round {
            ops.insert(rng.usize(0..=ops.len()), Op::Cancel { competition: cancelled });
            finished.insert(cancelled, CLOSING);
        }
        // Who stays a member of the client competition throughout the round (no join, removal or deletion in it).
        let moving: BTreeSet<Uuid> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Join { competition, user } | Op::Disqualify { competition, user } if *competition == client => {
                    Some(*user)
                }
                Op::Delete { user } => Some(*user),
                _ => None,
            })
            .collect();
        let round_steady: BTreeSet<Uuid> = steady.difference(&moving).copied().collect();
        let done: Vec<(u16, String)> = std::thread::scope(|scope| {
            let (deleted, round_steady, finished) = (&deleted, &round_steady, &finished);
            let handles: Vec<_> =
                ops.iter().map(|op| scope.spawn(move || op.run(deleted, round_steady, finished))).collect();
            handles.into_iter().map(|h| h.join().expect("a request thread")).collect()
        });
        let mut taken: BTreeMap<Uuid, BTreeSet<i64>> = BTreeMap::new();
        for (op, (status, _)) in ops.iter().zip(&done) {
            match op {
                Op::Post { user, score, .. } if *status == 200 => {
                    taken.entry(*user).or_default().insert(*score);
                }
                Op::Join { competition, user } if *competition == client && *status == 200 => {
                    steady.insert(*user);
                }
                _ => {}
            }
        }
        // A disqualification stands whichever came first, a join of the same round or it.
        for (op, (status, _)) in ops.iter().zip(&done) {
            if let Op::Disqualify { competition, user } = op {
                if *competition == client && *status == 200 {
                    steady.remove(user);
                }
            }
        }
        posted.extend(taken);
        for user in &deleted {
            steady.remove(user);
            posted.remove(user);
        }
        users.retain(|u| !deleted.contains(u));
        // Someone new for each account deleted, a member of nothing yet: they join in later rounds.
        users.extend(deleted.iter().map(|_| signed_up()));
        let done: Vec<&String> = done.iter().map(|(_, text)| text).collect();
        let what = format!("seed {seed} round {round}: {done:#?}");
        // A rename round the Worker reaches a board within seconds (the member-change log is read at most every 5 s
        // while the board is read), also when it was made rounds ago for a member who only now gets on the board.
        if ops.iter().any(|op| matches!(op, Op::RenameDirectly { .. })) {
            renamed_directly_at = Some(std::time::Instant::now());
        }
        if renamed_directly_at.is_some_and(|at| at.elapsed() < std::time::Duration::from_secs(12)) {
            await_names(&all, &reader, &what);
        }
        if round == ending_round {
            finished.insert(ending, end_for_good(&ending, &reader));
        }
        let closing = (round == cancel_round).then_some(cancelled);
        if closing.is_some() {
            // Any membership made before this moment predates the cancellation.
            finished.insert(cancelled, local::token::now() + 1);
        }
        let mut boards = check_boards(&competitions, &reader, &frozen, closing, &what);
        if round == ending_round {
            frozen.insert(ending, boards[2].clone());
        }
        if round == cancel_round {
            frozen.insert(cancelled, boards[1].clone());
        }
        boards.push(check_client_board(&client, &reader, &posted, &what));
        let paid = prizes_paid(&finished, &reader);
        for user in &users {
            check_my_competitions(user, &all, &boards, &paid, &what);
        }
        if !deleted.contains(&hot) {
            check_member_views(&hot, &all, &boards, &reader, &what);
        }
        if round + 1 == rounds {
            check_delivered(&all, &boards, &what);
            for ((id, (board, _)), watcher) in all.iter().zip(&boards).zip(&mut watchers) {
                watcher.check(id, &reader, board, &format!("{what}: the live frames of {id}"));
                // A rename shows "in every later frame": the last frame of each member on the board names them now
                // (final standings get no frames after `finished`).
                let members = stored(id).members;
                for (user, _) in board.iter().filter(|_| !finished.contains_key(id)) {
                    let name = members.get(user).map(|m| json!(m.name));
                    assert_eq!(watcher.names.get(user), name.as_ref(), "{what}: {user}'s name in the frames of {id}");
                }
                watcher.check_resumed(id, &reader, board, &format!("{what}: the resumed frames of {id}"));
            }
        }
    }
}

/// Moves the competition's end (no grace period) to a moment from now and waits until its standings are final; the
/// end (epoch seconds).
fn end_for_good(id: &Uuid, reader: &Uuid) -> i64 {
    let ends = local::token::now() + 2;
    let body = json!({"ends_at": rfc3339(ends)});
    let moved = call("PATCH", &format!("/api/v1/competitions/{id}"), &service_token(), Some(&body));
    assert_eq!(moved.status, 200, "{:?}", moved.json);
    let prizes = format!("/api/v1/leaderboard/{id}/prizes");
    let fin = e2e::eventually(std::time::Duration::from_secs(30), || {
        (call("GET", &prizes, &user_token(reader), None).json["final"] == json!(true)).then_some(())
    });
    assert!(fin.is_some(), "the standings of {id} never became final");
    ends
}

/// The client competition's board: only members in good standing, each with a score of the last round in which one
/// of their writes was answered 200 (of those, whichever the object took last), and every such member on it.
fn check_client_board(id: &Uuid, reader: &Uuid, posted: &BTreeMap<Uuid, BTreeSet<i64>>, what: &str) -> Board {
    let members = stored(id).members;
    let (ranked, disqualified) = in_good_standing(id, read_board(id, reader, &members, what), &members, what);
    for (user, score) in &ranked {
        let last = posted.get(user).unwrap_or_else(|| panic!("{what}: {user} is on {id} without a write"));
        assert!(last.contains(score), "{what}: {user} has {score} on {id}, the last round's writes were {last:?}");
    }
    for (user, member) in &members {
        if !member.disqualified && posted.contains_key(user) {
            assert!(
                ranked.iter().any(|(u, _)| u == user),
                "{what}: {user} wrote {:?} but is not on {id}",
                posted[user]
            );
        }
    }
    (ranked, disqualified)
}

/// The database's copy of each board (`public.scores`, written by each object's outbox) catches up with the board
/// for every member still in the competition.
fn check_delivered(competitions: &[Uuid], boards: &[Board], what: &str) {
    for (id, (board, disqualified)) in competitions.iter().zip(boards) {
        // Final standings keep a deleted account's place; the database's copy went with the account.
        let members = stored(id).members;
        let expected: BTreeMap<String, i64> = board
            .iter()
            .filter(|(user, _)| members.contains_key(user))
            .map(|(user, score)| (user.to_string(), *score))
            .collect();
        let query = format!(
            "SELECT coalesce(json_object_agg(s.user_id, s.score), '{{}}') FROM public.scores s \
             JOIN public.memberships m ON m.competition_id = s.competition_id AND m.user_id = s.user_id \
             WHERE s.competition_id = '{id}' AND m.disqualified_at IS NULL"
        );
        let mut last = BTreeMap::new();
        let caught_up = e2e::eventually(std::time::Duration::from_secs(20), || {
            let (ok, text) = e2e::stack(&["psql", "-tAc", &query]);
            last = if ok { serde_json::from_str(text.trim()).unwrap_or_default() } else { BTreeMap::new() };
            (last == expected).then_some(())
        });
        assert!(
            caught_up.is_some(),
            "{what}: public.scores of {id} {last:?}, the board {expected:?}; {disqualified:?}"
        );
    }
}

#[test]
fn every_board_is_what_the_stored_days_make_it_whatever_order_requests_take() {
    match std::env::var("FITNESS_RACES_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(seed) => run(seed, 25),
        None => {
            let runs = std::env::var("FITNESS_RACES_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(2);
            for _ in 0..runs {
                run(fastrand::u64(..), 25);
            }
        }
    }
}
