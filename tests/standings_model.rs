//! Ranks and prizes of client competitions against a model written from the contract alone (API.md, "Ranking
//! rules"): random posted scores with many ties, a random pool and payout, then the board's order (higher score
//! first, then who reached that score first, then user id) and the live prize split (place amounts by largest
//! remainders, tied players sharing their places' sum, the remainder one unit each to the earliest) must be the
//! model's. `STANDINGS_MODEL_SEED=<n>` replays one seed; otherwise five fresh seeds run, each printed for replay.

use std::collections::BTreeMap;

use e2e::{base_url, rfc3339, send, service_token, user_token, Reply};
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

fn run(seed: u64) {
    eprintln!("standings model: seed {seed} (STANDINGS_MODEL_SEED={seed} replays it)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let places = rng.usize(1..7);
    let payout: Vec<i64> = (0..places).map(|_| rng.i64(1..=10_000 / places as i64)).collect();
    let pool = [0, 1, 7, 999, 1_000, 123_457, 1_000_000_007][rng.usize(0..7)];
    let now = local::token::now();
    let body = json!({
        "name": "standings", "metric": "steps", "starts_at": rfc3339(now - 5 * 86_400), "ends_at": rfc3339(now + 86_400),
        "prize_pool": pool, "payout": payout, "score_source": "client",
    });
    let created = call("POST", "/api/v1/competitions", &service_token(), Some(&body));
    assert_eq!(created.status, 201, "{body}: {:?}", created.json);
    let competition = created.json["id"].as_str().unwrap_or_default().to_owned();
    let users: Vec<Uuid> = (0..rng.usize(1..10)).map(|_| Uuid::new_v4()).collect();
    for user in &users {
        let joined = call("POST", &format!("/api/v1/competitions/{competition}/join"), &user_token(user), None);
        assert_eq!(joined.status, 200, "{:?}", joined.json);
    }
    // user → (score, when they reached it: the number of the post that set it).
    let mut reached: BTreeMap<Uuid, (i64, usize)> = BTreeMap::new();
    for post in 0..rng.usize(5..30) {
        let user = users[rng.usize(0..users.len())];
        let score = [0, 100, 100, 250, 250, 500, 1_000, rng.i64(0..3_000)][rng.usize(0..8)];
        let body = json!({"competition_id": competition, "score": score});
        let reply = call("POST", "/api/v1/leaderboard/update", &user_token(&user), Some(&body));
        assert_eq!(reply.status, 200, "{body}: {:?}", reply.json);
        if reached.get(&user).map(|(s, _)| *s) != Some(score) {
            reached.insert(user, (score, post));
        }
    }
    let mut ranked: Vec<(Uuid, (i64, usize))> = reached.into_iter().collect();
    ranked.sort_by_key(|(user, (score, post))| (-score, *post, *user));
    let ranked: Vec<(Uuid, i64)> = ranked.into_iter().map(|(user, (score, _))| (user, score)).collect();
    let context = format!("pool {pool}, payout {payout:?}, ranked {ranked:?}");

    let page = call("GET", &format!("/api/v1/leaderboard/{competition}?limit=200"), &user_token(&users[0]), None);
    let order: Vec<(Uuid, i64)> = page.json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let user = e["user_id"].as_str().and_then(|id| Uuid::try_parse(id).ok()).expect("user id");
            (user, e["score"].as_i64().expect("score"))
        })
        .collect();
    assert_eq!(order, ranked, "the board's order: {context}");

    let listed = call("GET", &format!("/api/v1/leaderboard/{competition}/prizes"), &user_token(&users[0]), None);
    assert_eq!(listed.status, 200, "{:?}", listed.json);
    assert_eq!(listed.json["prize_pool"], json!(pool));
    assert_eq!(listed.json["final"], json!(false));
    let paid: BTreeMap<Uuid, i64> = listed.json["prizes"]
        .as_array()
        .expect("prizes")
        .iter()
        .map(|p| {
            let user = p["user_id"].as_str().and_then(|id| Uuid::try_parse(id).ok()).expect("user id");
            (user, p["amount"].as_i64().expect("amount"))
        })
        .filter(|(_, amount)| *amount > 0)
        .collect();
    let mut expected = prizes(&ranked, &place_amounts(pool, &payout));
    expected.retain(|_, amount| *amount > 0);
    assert_eq!(paid, expected, "the prize split: {context}");
}

#[test]
fn ranks_and_prizes_follow_the_contracts_rules_over_random_scores_and_ties() {
    match std::env::var("STANDINGS_MODEL_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(seed) => run(seed),
        None => (0..5).for_each(|_| run(fastrand::u64(..))),
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
