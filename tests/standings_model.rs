//! Ranks, names and prizes of client competitions against a model written from the contract alone (API.md,
//! "Ranking rules", "People on the board", "Reviews and disqualification", "Competition lifecycle"): random posted
//! scores with many ties, renames, disqualifications, deleted accounts and edits of the pool and payout. After every
//! step the board's order (higher score first, then who reached that score first, then user id), its names and total,
//! and the live prize split (place amounts by largest remainders, tied players sharing their places' sum, the
//! remainder one unit each to the earliest) must be the model's; at the end, a live socket opened with the competition
//! must have frames that add up to the board. `STANDINGS_MODEL_SEED=<n>` replays one seed;
//! otherwise `STANDINGS_MODEL_RUNS` (5) fresh seeds run, each printed for replay. A second test plays three short
//! competitions to their end and checks the final standings the same way.

use std::collections::BTreeMap;

use e2e::{base_url, rfc3339, send, service_token, user_of, user_token, LiveBoard, Reply};
use serde_json::{json, Value};
use uuid::Uuid;

fn call(method: &str, path: &str, token: &str, body: Option<&Value>) -> Reply {
    send(method, &format!("{}{path}", base_url()), &[("Authorization", &format!("Bearer {token}"))], body)
}

/// Place amounts: each place's floor share, then the units still missing to the covered pool one each to the places
/// with the largest fractional remainders (earlier place first on equal remainders).
fn place_amounts(pool: i64, payout: &[i64]) -> Vec<i64> {
    let covered = pool * payout.iter().sum::<i64>() / 10_000;
    let mut amounts: Vec<i64> = payout.iter().map(|bps| pool * bps / 10_000).collect();
    let missing = (covered - amounts.iter().sum::<i64>()) as usize;
    let mut by_remainder: Vec<usize> = (0..payout.len()).collect();
    by_remainder.sort_by_key(|&place| (-((pool * payout[place]) % 10_000), place));
    for place in by_remainder.into_iter().take(missing) {
        amounts[place] += 1;
    }
    amounts
}

/// Each ranked player's amount: players tied on score share the sum of the places they occupy, the indivisible
/// remainder one unit each to the earliest of them.
fn prizes(ranked: &[(Uuid, i64)], amounts: &[i64]) -> BTreeMap<Uuid, i64> {
    let mut prizes = BTreeMap::new();
    let mut first = 0;
    while first < ranked.len() {
        let score = ranked[first].1;
        let last = (first..ranked.len()).take_while(|&i| ranked[i].1 == score).last().unwrap_or(first);
        let players = (last - first + 1) as i64;
        let sum: i64 = (first..=last).map(|place| amounts.get(place).copied().unwrap_or(0)).sum();
        for (k, (user, _)) in ranked[first..=last].iter().enumerate() {
            prizes.insert(*user, sum / players + i64::from((k as i64) < sum % players));
        }
        first = last + 1;
    }
    prizes
}

/// A member as the model keeps them.
#[derive(Debug, Clone)]
struct Member {
    /// Score and when they reached it (the number of the operation that set it); `None` before their first post.
    reached: Option<(i64, usize)>,
    name: String,
    /// Disqualified or deleted: off the board, for good.
    gone: bool,
    /// Deleted their account: their token, still valid, is refused where a profile would be made again.
    deleted: bool,
}

/// A client competition that started five days ago and ends in `ends_in` seconds; its id.
fn client_competition(pool: i64, payout: &[i64], ends_in: i64) -> String {
    let now = local::token::now();
    let body = json!({
        "name": "standings", "metric": "steps", "prize_pool": pool, "payout": payout, "score_source": "client",
        "starts_at": rfc3339(now - 5 * 86_400), "ends_at": rfc3339(now + ends_in),
    });
    let created = call("POST", "/api/v1/competitions", &service_token(), Some(&body));
    assert_eq!(created.status, 201, "{body}: {:?}", created.json);
    created.json["id"].as_str().unwrap_or_default().to_owned()
}

/// The model's board: members still on it with a score, by score, then who reached it first, then user id.
fn ranked(members: &BTreeMap<Uuid, Member>) -> Vec<(Uuid, i64)> {
    let mut ranked: Vec<(Uuid, (i64, usize))> =
        members.iter().filter(|(_, m)| !m.gone).filter_map(|(user, m)| Some((*user, m.reached?))).collect();
    ranked.sort_by_key(|(user, (score, at))| (-score, *at, *user));
    ranked.into_iter().map(|(user, (score, _))| (user, score)).collect()
}

/// A reply's entries as (user, score), in its order.
fn entries_of(list: &Value) -> Vec<(Uuid, i64)> {
    list.as_array().expect("entries").iter().map(|e| (user_of(e), e["score"].as_i64().expect("score"))).collect()
}

/// The prizes route's positive amounts by user, checking its pool and whether it says the split is final.
fn paid(competition: &str, reader: &Uuid, pool: i64, is_final: bool) -> BTreeMap<Uuid, i64> {
    let listed = call("GET", &format!("/api/v1/leaderboard/{competition}/prizes"), &user_token(reader), None);
    assert_eq!(listed.status, 200, "{:?}", listed.json);
    assert_eq!((listed.json["prize_pool"].clone(), listed.json["final"].clone()), (json!(pool), json!(is_final)));
    listed.json["prizes"]
        .as_array()
        .expect("prizes")
        .iter()
        .map(|p| (user_of(p), p["amount"].as_i64().expect("amount")))
        .filter(|(_, amount)| *amount > 0)
        .collect()
}

/// The model's split of `ranked`, positive amounts only.
fn positive_prizes(ranked: &[(Uuid, i64)], pool: i64, payout: &[i64]) -> BTreeMap<Uuid, i64> {
    let mut expected = prizes(ranked, &place_amounts(pool, payout));
    expected.retain(|_, amount| *amount > 0);
    expected
}

/// Checks the board's order and names and the live prize split against the model.
fn check(competition: &str, members: &BTreeMap<Uuid, Member>, pool: i64, payout: &[i64], reader: &Uuid, op: usize) {
    let ranked = ranked(members);
    let context = format!("after operation {op}: pool {pool}, payout {payout:?}, ranked {ranked:?}");

    let page = call("GET", &format!("/api/v1/leaderboard/{competition}?limit=200"), &user_token(reader), None);
    assert_eq!(page.status, 200, "{:?}", page.json);
    assert_eq!(entries_of(&page.json["entries"]), ranked, "the board's order: {context}");
    for entry in page.json["entries"].as_array().expect("entries") {
        let name = members.get(&user_of(entry)).map(|m| m.name.as_str());
        assert_eq!(entry["display_name"].as_str(), name, "{context}");
    }
    assert_eq!(page.json["total"], json!(ranked.len()), "{context}");

    // Pages of a few entries, followed by their cursors, add up to the same board.
    let limit = 1 + op % 3;
    let (mut paged, mut cursor): (Vec<(Uuid, i64)>, Option<String>) = (Vec::new(), None);
    loop {
        let query = cursor.as_ref().map_or(String::new(), |c| format!("&cursor={c}"));
        let path = format!("/api/v1/leaderboard/{competition}?limit={limit}{query}");
        let part = call("GET", &path, &user_token(reader), None);
        assert_eq!(part.status, 200, "{path}: {:?}", part.json);
        paged.extend(entries_of(&part.json["entries"]));
        match part.json["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(paged.len() <= ranked.len(), "cursors run past the board: {context}");
    }
    assert_eq!(paged, ranked, "pages of {limit}: {context}");

    // A ranked member's own window: their rank and score, and the board around them.
    if let Some(position) = (!ranked.is_empty()).then(|| op % ranked.len()) {
        let (user, score) = ranked[position];
        let around = op % 4;
        let path = format!("/api/v1/leaderboard/{competition}/me?around={around}");
        let me = call("GET", &path, &user_token(&user), None);
        assert_eq!(me.status, 200, "{path}: {:?}", me.json);
        assert_eq!(
            (me.json["rank"].clone(), me.json["score"].clone(), me.json["total"].clone()),
            (json!(position + 1), json!(score), json!(ranked.len())),
            "me of {user}: {context}"
        );
        let window = entries_of(&me.json["entries"]);
        let from = position.saturating_sub(around);
        let to = (position + around + 1).min(ranked.len());
        assert_eq!(window, ranked[from..to], "me?around={around} of {user}: {context}");
    }

    let expected = positive_prizes(&ranked, pool, payout);
    assert_eq!(paid(competition, reader, pool, false), expected, "the prize split: {context}");
}

fn random_payout(rng: &mut fastrand::Rng) -> Vec<i64> {
    let places = rng.usize(1..7);
    (0..places).map(|_| rng.i64(1..=10_000 / places as i64)).collect()
}

fn run(seed: u64) {
    eprintln!("standings model: seed {seed} (STANDINGS_MODEL_SEED={seed} replays it)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let pools = [0, 1, 7, 999, 1_000, 123_457, 1_000_000_007];
    let mut payout = random_payout(&mut rng);
    let mut pool = pools[rng.usize(0..pools.len())];
    let competition = client_competition(pool, &payout, 86_400);
    let id = Uuid::try_parse(&competition).expect("a competition id");
    let mut live = LiveBoard::open(&id, &Uuid::new_v4());
    let mut members: BTreeMap<Uuid, Member> = BTreeMap::new();
    for _ in 0..rng.usize(2..10) {
        let user = Uuid::new_v4();
        let joined = call("POST", &format!("/api/v1/competitions/{competition}/join"), &user_token(&user), None);
        assert_eq!(joined.status, 200, "{:?}", joined.json);
        let name = format!("player-{}", &user.to_string()[..8]);
        members.insert(user, Member { reached: None, name, gone: false, deleted: false });
    }
    // Reads go through a member who never leaves.
    let reader = *members.keys().next().expect("a member");
    let users: Vec<Uuid> = members.keys().copied().collect();
    for op in 0..rng.usize(10..40) {
        let user = users[rng.usize(0..users.len())];
        let member = members.get_mut(&user).expect("a member of the model");
        match rng.u8(0..100) {
            // A rename shows on the next read.
            0..=7 => {
                let name = format!("walker {op}");
                let reply = call("PATCH", "/api/v1/me", &user_token(&user), Some(&json!({"display_name": name})));
                if member.deleted {
                    assert_eq!((reply.status, reply.json["error"]["code"].as_str()), (401, Some("invalid_token")));
                    continue;
                }
                assert_eq!(reply.status, 200, "{:?}", reply.json);
                if !member.gone {
                    member.name = name;
                }
            }
            // Disqualified: off the board at once, everyone behind moves up; their posts are refused.
            8..=13 if user != reader && !member.gone => {
                let path = format!("/api/v1/competitions/{competition}/members/{user}/disqualify");
                let reply = call("POST", &path, &service_token(), Some(&json!({"reason": "model"})));
                assert_eq!(reply.status, 200, "{:?}", reply.json);
                member.gone = true;
            }
            // Deleted: off every board that is not final.
            14..=16 if user != reader && !member.gone => {
                let reply = call("DELETE", "/api/v1/me", &user_token(&user), None);
                assert_eq!(reply.status, 204, "{:?}", reply.json);
                member.gone = true;
                member.deleted = true;
            }
            // The organiser changes the pool and the payout: the live split follows.
            17..=24 => {
                pool = pools[rng.usize(0..pools.len())];
                payout = random_payout(&mut rng);
                let path = format!("/api/v1/competitions/{competition}");
                let edit = json!({"prize_pool": pool, "payout": payout});
                let reply = call("PATCH", &path, &service_token(), Some(&edit));
                assert_eq!(reply.status, 200, "{edit}: {:?}", reply.json);
            }
            _ if !member.gone => {
                let score = [0, 100, 100, 250, 250, 500, 1_000, rng.i64(0..3_000)][rng.usize(0..8)];
                let body = json!({"competition_id": competition, "score": score});
                let reply = call("POST", "/api/v1/leaderboard/update", &user_token(&user), Some(&body));
                assert_eq!(reply.status, 200, "{body}: {:?}", reply.json);
                if member.reached.map(|(s, _)| s) != Some(score) {
                    member.reached = Some((score, op));
                }
            }
            _ => continue,
        }
        check(&competition, &members, pool, &payout, &reader, op);
    }
    // A socket open from the start got every change: its frames add up to the board, and so do the frames a socket
    // resuming from that start is sent.
    live.check(&id, &reader, &ranked(&members), "the live frames");
    live.check_resumed(&id, &reader, &ranked(&members), "the resumed frames");
}

#[test]
fn ranks_names_and_prizes_follow_the_contracts_rules_over_random_scores_ties_and_departures() {
    match std::env::var("STANDINGS_MODEL_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(seed) => run(seed),
        // A deeper search when changing the rules: STANDINGS_MODEL_RUNS=60.
        None => {
            let runs = std::env::var("STANDINGS_MODEL_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
            (0..runs).for_each(|_| run(fastrand::u64(..)))
        }
    }
}

#[test]
fn the_models_prize_split_matches_the_contracts_example() {
    // Independent of the service: the model itself on cases worked by hand from API.md's rules.
    assert_eq!(place_amounts(1_000, &[5_000, 3_000, 2_000]), [500, 300, 200]);
    // 7 over three 3333s: 2.3331 each; covered floor(6.9993) = 6, which the floors already pay.
    assert_eq!(place_amounts(7, &[3_333, 3_333, 3_333]), [2, 2, 2]);
    // 10 over 3333/3333/3334: floors 3, 3, 3, covered 10: the missing unit to the largest remainder (0.334).
    assert_eq!(place_amounts(10, &[3_333, 3_333, 3_334]), [3, 3, 4]);
    // 1 unit over 60/40: covered 1; the larger remainder (0.6) takes it.
    assert_eq!(place_amounts(1, &[6_000, 4_000]), [1, 0]);
    let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
    // Two tied for first share 1st + 2nd (5 + 3 = 8): 4 each; third alone gets the 3rd place.
    assert_eq!(prizes(&[(a, 9), (b, 9), (c, 1)], &[5, 3, 2]), BTreeMap::from([(a, 4), (b, 4), (c, 2)]));
    // Three tied share 5 + 3 + 2 = 10: 3 each and the remainder unit to the earliest.
    assert_eq!(prizes(&[(a, 9), (b, 9), (c, 9)], &[5, 3, 2]), BTreeMap::from([(a, 4), (b, 3), (c, 3)]));
}

/// Final standings: random scores, ties and a disqualification before the end of a short competition; once final,
/// the prizes (`final: true`), each member's `final_amount` in `GET /api/v1/me/competitions` and, after a winner
/// deletes their account, the board (same places, `deleted player`) and the prizes (unchanged) are the model's.
fn run_to_the_end(seed: u64) {
    eprintln!("standings model, to the end: seed {seed} (STANDINGS_MODEL_SEED={seed} replays it)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let payout = random_payout(&mut rng);
    let pool = [1, 7, 999, 1_000, 123_457][rng.usize(0..5)];
    let competition = client_competition(pool, &payout, 8);
    let users: Vec<Uuid> = (0..rng.usize(2..8)).map(|_| Uuid::new_v4()).collect();
    let mut members: BTreeMap<Uuid, Member> = BTreeMap::new();
    for user in &users {
        let joined = call("POST", &format!("/api/v1/competitions/{competition}/join"), &user_token(user), None);
        assert_eq!(joined.status, 200, "{:?}", joined.json);
        members.insert(
            *user,
            Member { reached: None, name: format!("player-{}", &user.to_string()[..8]), gone: false, deleted: false },
        );
    }
    for op in 0..rng.usize(5..20) {
        let user = users[rng.usize(0..users.len())];
        let score = [0, 100, 100, 250, 250, 500, 1_000][rng.usize(0..7)];
        let body = json!({"competition_id": competition, "score": score});
        let reply = call("POST", "/api/v1/leaderboard/update", &user_token(&user), Some(&body));
        assert_eq!(reply.status, 200, "posted before the end: {:?}", reply.json);
        let member = members.get_mut(&user).expect("member");
        if member.reached.map(|(s, _)| s) != Some(score) {
            member.reached = Some((score, op));
        }
    }
    let reader = users[0];
    if users.len() > 2 && rng.bool() {
        let path = format!("/api/v1/competitions/{competition}/members/{}/disqualify", users[1]);
        assert_eq!(call("POST", &path, &service_token(), Some(&json!({"reason": "model"}))).status, 200);
        members.get_mut(&users[1]).expect("member").gone = true;
    }
    let finished = e2e::eventually(std::time::Duration::from_secs(40), || {
        let reply = call("GET", &format!("/api/v1/competitions/{competition}"), &user_token(&reader), None);
        (reply.json["status"] == "finished").then_some(())
    });
    assert!(finished.is_some(), "the competition never became final");

    let ranked = ranked(&members);
    let expected = prizes(&ranked, &place_amounts(pool, &payout));
    let context = format!("pool {pool}, payout {payout:?}, ranked {ranked:?}");
    let positive = positive_prizes(&ranked, pool, &payout);
    assert_eq!(paid(&competition, &reader, pool, true), positive, "final prizes: {context}");
    for (user, _) in &ranked {
        let mine = call("GET", "/api/v1/me/competitions", &user_token(user), None);
        let entry = mine.json["competitions"]
            .as_array()
            .and_then(|list| list.iter().find(|c| c["competition"]["id"] == json!(competition)).cloned())
            .expect("the competition among mine");
        assert_eq!(entry["final_amount"].as_i64(), expected.get(user).copied(), "{user}: {context}");
    }

    // A winner leaves after the end: their place, score and amount stay, under "deleted player".
    if let Some((leaver, _)) = ranked.iter().find(|(user, _)| *user != reader) {
        assert_eq!(call("DELETE", "/api/v1/me", &user_token(leaver), None).status, 204);
        let page = call("GET", &format!("/api/v1/leaderboard/{competition}?limit=200"), &user_token(&reader), None);
        assert_eq!(entries_of(&page.json["entries"]), ranked, "the final board after a departure: {context}");
        let entries = page.json["entries"].as_array().expect("entries");
        let left = entries.iter().find(|e| user_of(e) == *leaver).expect("still on the final board");
        assert_eq!((left["display_name"].as_str(), left["avatar_url"].clone()), (Some("deleted player"), Value::Null));
        assert_eq!(paid(&competition, &reader, pool, true), positive, "final prizes after a departure: {context}");
    }
}

#[test]
fn final_standings_pay_the_models_prizes_and_keep_them_after_departures() {
    let seeds: Vec<u64> = match std::env::var("STANDINGS_MODEL_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(seed) => vec![seed],
        None => (0..3).map(|_| fastrand::u64(..)).collect(),
    };
    // The competitions end together: one wait for all of them.
    std::thread::scope(|scope| {
        for seed in seeds {
            scope.spawn(move || run_to_the_end(seed));
        }
    });
}
