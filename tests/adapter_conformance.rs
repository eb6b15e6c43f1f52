//! Conformance of the Worker's own database adapter (`leaderboard_worker::adapters::postgrest::Database`, on the
//! `postgrest` crate) with the local PostgREST gateway: every method, hence every request shape the adapter emits,
//! runs natively against the gateway and must get the answer the Worker relies on.

use leaderboard_worker::adapters::breaker::BreakerConfig;
use leaderboard_worker::adapters::guard::Breakers;
use leaderboard_worker::adapters::postgrest::{Caller, Database};
use leaderboard_worker::adapters::rows::{FitnessDayArg, NewCompetitionRow, ScoreEntryArg};
use leaderboard_worker::adapters::AdapterError;
use serde_json::json;
use uuid::Uuid;

use e2e::{rfc3339, user_token, worker_var};

/// The adapter with the project's keys in either of Supabase's styles: legacy JWTs, or `sb_publishable_…` /
/// `sb_secret_…` keys (sent as `apikey` only).
fn database(new_style_keys: bool) -> Database {
    let (anon, service) = if new_style_keys {
        (worker_var("LOCAL_SUPABASE_PUBLISHABLE_KEY"), worker_var("LOCAL_SUPABASE_SECRET_KEY"))
    } else {
        (worker_var("SUPABASE_ANON_KEY"), worker_var("SUPABASE_SERVICE_ROLE_KEY"))
    };
    assert_eq!(leaderboard_worker::adapters::postgrest::is_api_key_style(&service), new_style_keys);
    let breakers = std::rc::Rc::new(Breakers::new(BreakerConfig::default()));
    Database::new(&worker_var("SUPABASE_URL"), &anon, &service, 5_000, breakers)
}

fn run<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(future)
}

#[test]
fn every_adapter_call_works_against_the_gateway_with_legacy_jwt_keys() {
    every_adapter_call_works(false);
}

#[test]
fn every_adapter_call_works_against_the_gateway_with_new_style_api_keys() {
    every_adapter_call_works(true);
}

fn every_adapter_call_works(new_style_keys: bool) {
    run(async {
        let db = database(new_style_keys);
        db.ping().await.expect("ping as anon");
        let now = local::token::now();
        let new = NewCompetitionRow {
            name: "adapter conformance".into(),
            metric: "steps".into(),
            starts_at: rfc3339(now - 86_400),
            ends_at: rfc3339(now + 86_400),
            prize_pool: 100,
            payout: vec![10_000],
            max_participants: None,
            score_source: "fitness".into(),
            scoring: Default::default(),
            clock: "participant".into(),
            grace_hours: 24,
            allow_manual: false,
        };
        let created = db.create_competition(&new).await.expect("create as service role");
        assert_eq!((created.name.as_str(), created.participants), ("adapter conformance", 0));

        let user = Uuid::new_v4();
        let token = user_token(&user);
        let profile = db.ensure_profile(&user).await.expect("ensure_profile");
        assert_eq!((profile.user_id, profile.display_name), (user, format!("player-{}", &user.to_string()[..8])));
        let renamed = db.update_profile(&user, &json!({"display_name": "Renamed"})).await.expect("update");
        assert_eq!(renamed.map(|p| p.display_name).as_deref(), Some("Renamed"));
        let other = db.update_profile(&Uuid::new_v4(), &json!({"display_name": "x"})).await.expect("no such row");
        assert_eq!(other, None, "a profile that does not exist is not created by an update");
        // The user's own images (the two runs of this test share the database).
        let avatar =
            |n: u8| format!("http://127.0.0.1/api/v1/avatars/{}{}.png", user.simple(), format!("{n:x}").repeat(32));
        let first = db.set_avatar(&user, &avatar(1)).await.expect("set_avatar").expect("profile");
        assert_eq!((first.profile.avatar_url, first.replaced), (Some(avatar(1)), None));
        let second = db.set_avatar(&user, &avatar(2)).await.expect("set_avatar").expect("profile");
        assert_eq!(
            (second.profile.avatar_url, second.replaced),
            (Some(avatar(2)), Some(avatar(1))),
            "it says what went"
        );
        assert_eq!(second.profile.display_name, "Renamed");
        assert_eq!(db.set_avatar(&Uuid::new_v4(), &avatar(1)).await.expect("no such profile"), None);
        // The image the profile let go of waits for the cron trigger, as does one an upload queued; one shown does not.
        assert!(!db.queue_avatar_removal(&avatar(2)).await.expect("queue"), "a shown image is not queued");
        assert!(db.queue_avatar_removal(&avatar(3)).await.expect("queue"), "an image nobody shows is");
        let due = db.avatar_removals_due(0, 1_000).await.expect("due");
        assert!(due.contains(&avatar(1)) && due.contains(&avatar(3)) && !due.contains(&avatar(2)), "{due:?}");
        let later = db.avatar_removals_due(3_600, 1_000).await.expect("due in an hour");
        assert!(!later.contains(&avatar(1)), "queued just now: not due after an hour's wait");
        assert_eq!(db.avatar_removals_done(&[avatar(1), avatar(3)]).await.expect("done"), 2);
        assert!(!db.avatar_removals_due(0, 1_000).await.expect("due").contains(&avatar(1)), "off the queue");

        let caller = Caller::User(&token);
        assert!(!db.is_member(caller, &created.id, &user).await.expect("is_member"));
        let joined = db.join_competition(&user, &created.id).await.expect("join");
        assert_eq!((joined.membership.user_id, joined.membership.competition_id), (user, created.id));
        // The join reads what introducing the member to the object needs: the competition (the member counted),
        // the profile, and for a started fitness competition the rescore inputs, the days version raised.
        assert_eq!((joined.competition.id, joined.competition.participants), (created.id, 1));
        assert_eq!((joined.profile.user_id, joined.profile.display_name.as_str()), (user, "Renamed"));
        let inputs = joined.rescore.expect("a started fitness competition's join rescores");
        assert_eq!(inputs.competitions.iter().map(|rules| rules.id).collect::<Vec<_>>(), [created.id]);
        let again = db.join_competition(&user, &created.id).await.expect("join again");
        assert_eq!(again.membership, joined.membership, "a second join changes nothing");
        assert_eq!(again.competition.participants, 1);
        assert_eq!(again.rescore.map(|rescore| rescore.version), Some(inputs.version + 1));
        assert!(db.is_member(caller, &created.id, &user).await.expect("is_member"));
        assert_eq!(db.competitions_of(&user).await.expect("competitions_of"), [created.id]);
        let fetched = db.competition(caller, &created.id).await.expect("get").expect("exists");
        assert_eq!(fetched.participants, 1);
        assert_eq!(db.competition(caller, &Uuid::new_v4()).await.expect("get"), None);
        let listed = db.list_competitions(caller, &rfc3339(now), &rfc3339(now - 72 * 3_600), 100).await.expect("list");
        assert!(listed.len() <= 100);

        let today = rfc3339(now)[..10].to_owned();
        let day = FitnessDayArg {
            index: 0,
            day: today,
            steps: Some(1234),
            active_minutes: None,
            distance_m: None,
            calories: None,
            user_entered: false,
            held_metrics: vec![],
        };
        let synced = db.sync_fitness_days(&user, "healthkit", std::slice::from_ref(&day), None).await.expect("sync");
        assert_eq!(synced.rescore.version, inputs.version + 2, "joins and syncs share the days version");
        let rescored = synced.rescore.scores();
        assert!(rescored.iter().any(|r| r.competition_id == created.id && r.score.get() == 1234), "{rescored:?}");
        // Every sync moves the user's days version on, so the object can order concurrent syncs.
        let again = db.sync_fitness_days(&user, "healthkit", &[day], Some("Europe/Berlin")).await.expect("sync again");
        assert_eq!(again.rescore.version, synced.rescore.version + 1);
        assert_eq!(again.rescore.time_zone, "Europe/Berlin", "a zone given with a sync is the profile's from then on");

        let entry =
            ScoreEntryArg { competition_id: created.id, user_id: user, score: 1234, seq: 1, updated_at: rfc3339(now) };
        assert_eq!(db.apply_score_outbox(std::slice::from_ref(&entry)).await.expect("outbox"), 1);
        assert_eq!(db.apply_score_outbox(&[entry]).await.expect("replay"), 0);

        // Errors keep PostgREST's code for the routes that map them.
        let finished =
            NewCompetitionRow { starts_at: rfc3339(now - 7200), ends_at: rfc3339(now - 3600), ..new.clone() };
        let ended = db.create_competition(&finished).await.expect("create ended");
        match db.join_competition(&user, &ended.id).await {
            Err(AdapterError::Upstream { status: 409, code, .. }) => assert_eq!(code, "PT409"),
            other => panic!("expected 409 PT409, got {other:?}"),
        }
        match db.join_competition(&user, &Uuid::new_v4()).await {
            Err(AdapterError::Upstream { status: 404, code, .. }) => assert_eq!(code, "PT404"),
            other => panic!("expected 404 PT404, got {other:?}"),
        }
        // A client competition's join has nothing to rescore.
        let client = NewCompetitionRow { score_source: "client".into(), grace_hours: 0, ..new.clone() };
        let client = db.create_competition(&client).await.expect("create a client competition");
        let joined = db.join_competition(&user, &client.id).await.expect("join a client competition");
        assert_eq!((joined.competition.score_source.as_str(), joined.rescore), ("client", None));
        // Nor has an upcoming fitness competition's: its start rescores its members.
        let upcoming = NewCompetitionRow { starts_at: rfc3339(now + 3600), ..new };
        let upcoming = db.create_competition(&upcoming).await.expect("create an upcoming competition");
        let joined = db.join_competition(&user, &upcoming.id).await.expect("join an upcoming competition");
        assert_eq!((joined.competition.id, joined.rescore), (upcoming.id, None));

        // A rename and a deleted account each leave one numbered change in every competition the user is in, for
        // the objects to read: the profile as it is now, or none once the account is gone. A read deletes the
        // changes it is told were applied, by number, and lists what is left.
        let earlier: Vec<i64> =
            db.member_changes(&client.id, &[], 10).await.expect("changes").iter().map(|c| c.id).collect();
        db.update_profile(&user, &json!({"display_name": "Renamed again"})).await.expect("rename");
        let renamed = db.member_changes(&client.id, &earlier, 10).await.expect("after the rename");
        assert_eq!(renamed.len(), 1, "{renamed:?}");
        let person = renamed[0].person.as_ref().expect("the profile as it is now");
        assert_eq!((renamed[0].user_id, person.display_name.as_str()), (user, "Renamed again"));
        // Not acknowledged yet: listed again.
        assert_eq!(db.member_changes(&client.id, &[], 10).await.expect("again"), renamed, "kept until applied");
        // Renamed again before the first change was applied: still one change waits (a renaming account does not
        // grow the table), under a new number, so the number read before it does not take the newer name away.
        db.update_profile(&user, &json!({"display_name": "Renamed once more"})).await.expect("rename");
        let coalesced = db.member_changes(&client.id, &[], 10).await.expect("after a second rename");
        assert_eq!(coalesced.len(), 1, "{coalesced:?}");
        assert!(coalesced[0].id > renamed[0].id, "{coalesced:?}");
        let person = coalesced[0].person.as_ref().expect("the profile as it is now");
        assert_eq!(person.display_name, "Renamed once more");
        let acknowledged = db.member_changes(&client.id, &[renamed[0].id], 10).await.expect("the first acknowledged");
        assert_eq!(acknowledged, coalesced, "the number read before the second change does not take it away");
        db.update_profile(&user, &json!({"time_zone": "Europe/Paris"})).await.expect("a new zone");
        assert_eq!(db.member_changes(&client.id, &[coalesced[0].id], 10).await.expect("zone").len(), 0, "not shown");
        db.delete_account(&user).await.expect("delete the account");
        let deleted = db.member_changes(&client.id, &[], 10).await.expect("after the deletion");
        assert_eq!(deleted.iter().map(|c| (c.user_id, c.person.is_none())).collect::<Vec<_>>(), [(user, true)]);
        // A number not applied is not deleted, whatever its order: only the named ones go.
        assert_eq!(db.member_changes(&client.id, &[deleted[0].id - 1], 10).await.expect("unrelated"), deleted);
        assert!(db.member_changes(&client.id, &[deleted[0].id], 10).await.expect("after the last").is_empty());
        assert!(db.member_changes(&client.id, &[], 10).await.expect("from the start").is_empty(), "deleted");
        let elsewhere = db.member_changes(&upcoming.id, &[], 10).await.expect("another competition's");
        assert_eq!(elsewhere.last().map(|c| (c.user_id, c.person.is_none())), Some((user, true)));
    });
}
