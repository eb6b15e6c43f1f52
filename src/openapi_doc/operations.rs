//! What each endpoint is, for the document: its name, group, summary, who may call it, the body it reads, what it
//! answers and every error status its handler can return. The match is exhaustive, so a new endpoint does not
//! compile until it is described here.

use serde_json::json;

use super::operation::{Access, Content, Operation};
use super::Schemas;
use crate::router::Endpoint;
use crate::routes::admin::audit::AuditPage;
use crate::routes::admin::holds::{DecisionBody, HoldDecided, HoldList};
use crate::routes::admin::Rescoring;
use crate::routes::avatars::model::AvatarReply;
use crate::routes::competitions::model::{
    Competition, CompetitionList, CreateBody, Disqualified, DisqualifyBody, Membership, PatchBody as CompetitionPatch,
};
use crate::routes::fitness::model::{SyncBody, SyncReply};
use crate::routes::health::report::{Detailed, Readiness};
use crate::routes::health::Health;
use crate::routes::leaderboard::model::{
    LeaderboardPage, UpdateBody, Window, DEFAULT_AROUND, DEFAULT_LIMIT, MAX_AROUND, MAX_LIMIT,
};
use crate::routes::profile::competitions::MyCompetitions;
use crate::routes::profile::model::{PatchBody as ProfilePatch, Profile};
use standings::protocol::{
    ClientFrame, ObjectStats, OutboxReport, OutboxRetried, Prizes, Repair, ScoreWriteReply, ServerFrame, Standing,
};

/// Why a route acting for the caller refuses a token without `sub` (`RequestContext::require_person`).
const NO_USER: &str = "A token without sub (the service key) names no user to act for";

/// The operation of `endpoint`; `None` for the test routes, which are not part of the API.
pub fn describe(endpoint: Endpoint, s: &mut Schemas) -> Option<Operation> {
    use Access::{Bearer, Operator, Public};
    use Endpoint as E;
    let operation = match endpoint {
        E::Health => Operation::new("getHealth", "health", "Version and liveness", Public).ok(s.json::<Health>()),
        E::HealthLive => {
            Operation::new("getLiveness", "health", "Liveness; touches no dependency", Public).ok(s.json::<Health>())
        }
        E::HealthReady => {
            Operation::new("getReadiness", "health", "Readiness: the database API and Redis answer", Public)
                .ok(s.json::<Readiness>())
                .answer(503, "Not ready", s.json::<Readiness>())
        }
        E::HealthDetailed => {
            Operation::new("getHealthDetailed", "health", "Every component, breaker states (cached 5 s)", Public)
                .ok(s.json::<Detailed>())
                .answer(503, "Unhealthy: a required component is down", s.json::<Detailed>())
        }
        E::Metrics => Operation::new(
            "getMetrics",
            "operations",
            "Prometheus text format 0.0.4 (Bearer METRICS_TOKEN when set)",
            Operator,
        )
        .answer(200, "Exposition", Content::Text(&["text/plain"]))
        .error(401, "Wrong or missing metrics token"),
        E::OpenApi => Operation::new("getOpenApiDocument", "meta", "This document", Public).answer(
            200,
            "OpenAPI 3.1",
            Content::Json(json!({ "type": "object" })),
        ),
        E::LivePage => {
            Operation::new("getLivePage", "live", "Live top-10 page (HTML; token from #token=… or a form)", Public)
                .answer(200, "The page", Content::Text(&["text/html"]))
                .error(404, "Not a competition id")
        }
        E::Asset => Operation::new(
            "getLivePageAsset",
            "live",
            "The live page's script, style and icon (live.js, live.css, favicon.svg)",
            Public,
        )
        .answer(200, "The file", Content::Text(&["text/javascript", "text/css", "image/svg+xml"]))
        .error(404, "No such asset"),
        E::ProfileGet => Operation::api("getMe", "profile", "The caller's profile (created on first use)", Bearer)
            .ok(s.json::<Profile>())
            .error(403, NO_USER),
        E::ProfilePatch => {
            Operation::api(
                "updateMe",
                "profile",
                "Rename the caller and/or set their time zone (a new zone rescores their fitness competitions on \
                 their own clock)",
                Bearer,
            )
                .json_body(s.json::<ProfilePatch>())
                .ok(s.json::<Profile>())
                .error(403, NO_USER)
        }
        E::ProfileDelete => Operation::api(
            "deleteMe",
            "profile",
            "Delete the caller's account: profile, memberships, fitness days, holds and avatar go; the caller leaves \
             every board not yet final (frame `removed`); final standings show `deleted player`",
            Bearer,
        )
        .answer(204, "Deleted", Content::Empty)
        .error(403, "A service_role token has no account to delete"),
        E::MyCompetitions => Operation::api(
            "listMyCompetitions",
            "profile",
            "Every competition the caller joined, newest join first (at most 100), with their standing",
            Bearer,
        )
        .ok(s.json::<MyCompetitions>())
        .error(403, NO_USER),
        E::AvatarUpload => Operation::api(
            "uploadAvatar",
            "profile",
            "Upload the caller's avatar (PNG, JPEG or WebP by magic bytes, ≤ 2 MiB)",
            Bearer,
        )
        .image_body()
        .ok(s.json::<AvatarReply>())
        .error(403, NO_USER)
        .error(413, "Over 2 MiB")
        .error(415, "Not PNG, JPEG or WebP"),
        E::AvatarGet => Operation::api("getAvatar", "profile", "A stored avatar (public, immutable, ETag)", Public)
            .answer(200, "The image", Content::Binary(&["image/png", "image/jpeg", "image/webp"]))
            .answer(304, "Not modified", Content::Empty)
            .error(404, "No such avatar"),
        E::CompetitionList => Operation::api(
            "listCompetitions",
            "competitions",
            "Active and upcoming competitions by start (at most 100)",
            Bearer,
        )
        .ok(s.json::<CompetitionList>()),
        E::CompetitionCreate => {
            Operation::api("createCompetition", "competitions", "Create a competition (service_role)", Bearer)
                .json_body(s.json::<CreateBody>())
                .answer(201, "Created", s.json::<Competition>())
                .admin()
        }
        E::CompetitionGet => Operation::api("getCompetition", "competitions", "One competition", Bearer)
            .ok(s.json::<Competition>())
            .versioned()
            .id_in_path()
            .error(404, "No such competition"),
        E::CompetitionPatch => Operation::api(
            "updateCompetition",
            "competitions",
            "Edit a competition: name, end (extend, or end early but not before now), prizes, capacity \
             (service_role); subscribers get a `changed` frame. A new end of a fitness competition rescores its \
             members from their stored days (which days count depends on the end); when that fails (503 after the end \
             was stored) a retry of the same edit, or the cron trigger, finishes it",
            Bearer,
        )
        .json_body(s.json::<CompetitionPatch>())
        .ok(s.json::<Competition>())
        .id_in_path()
        .admin()
        .error(404, "No such competition")
        .error(409, "Final or cancelled"),
        E::CompetitionCancel => Operation::api(
            "cancelCompetition",
            "competitions",
            "Cancel a competition: final without prizes, writes and joins 409 (service_role)",
            Bearer,
        )
        .ok(s.json::<Competition>())
        .id_in_path()
        .admin()
        .error(404, "No such competition")
        .error(409, "The standings were already final"),
        E::CompetitionJoin => Operation::api(
            "joinCompetition",
            "competitions",
            "Join (idempotent); in a running fitness competition the days the caller synced before count at once",
            Bearer,
        )
            .ok(s.json::<Membership>())
            .id_in_path()
            .error(403, "Disqualified from this competition, or a token without sub (it names no user)")
            .error(404, "No such competition")
            .error(409, "Finished, cancelled or full"),
        E::CompetitionDisqualify => Operation::api(
            "disqualifyMember",
            "reviews",
            "Disqualify a member: off the board at once (frame `removed`), no rejoining (service_role)",
            Bearer,
        )
        .json_body(s.json::<DisqualifyBody>())
        .ok(s.json::<Disqualified>())
        .id_in_path()
        .admin()
        .error(404, "No such competition or member")
        .error(409, "The standings are final"),
        E::CompetitionLive => {
            let mut live = Operation::api(
                "subscribeLive",
                "live",
                "Live leaderboard WebSocket (Upgrade: websocket; token in Sec-WebSocket-Protocol `bearer, <jwt>` or \
                 Authorization); frames snapshot, update(s), changed, removed, finished, pong",
                Bearer,
            )
            .answer(101, "Switching protocols", Content::Empty)
            .error(400, "Not an upgrade, or the id is not a UUID")
            .error(404, "No such competition");
            live.frames = Some((s.add::<ServerFrame>(), s.add::<ClientFrame>()));
            live
        }
        E::AdminStats => Operation::api(
            "getCompetitionStats",
            "operations",
            "The competition object's state: members, rebuild time, outbox, dead letters and corrupt stored rows \
             (service_role)",
            Bearer,
        )
        .ok(s.json::<ObjectStats>())
        .id_in_path()
        .admin()
        .error(404, "No such competition"),
        E::AdminOutbox => Operation::api(
            "getCompetitionOutbox",
            "operations",
            "The competition's outbox: pending rows and the dead letters the database refused for good (service_role)",
            Bearer,
        )
        .ok(s.json::<OutboxReport>())
        .id_in_path()
        .admin()
        .error(404, "No such competition"),
        E::AdminOutboxRetry => Operation::api(
            "retryCompetitionOutbox",
            "operations",
            "Put every dead letter back into the outbox (service_role)",
            Bearer,
        )
        .ok(s.json::<OutboxRetried>())
        .id_in_path()
        .admin()
        .error(404, "No such competition"),
        E::AdminRepair => Operation::api(
            "repairCompetition",
            "operations",
            "Drop a stored member row the board could not load, by the key its stats report (service_role)",
            Bearer,
        )
        .json_body(s.json::<Repair>())
        .ok(s.json::<ObjectStats>())
        .id_in_path()
        .admin()
        .error(404, "No such competition or corrupt row"),
        E::AdminRescore => Operation::api(
            "rescoreCompetition",
            "operations",
            "Rescore every member of a fitness competition with a stored day in its window from their days, as a \
             sync would: a repair after a failed edit of the end, or to undo corrections (service_role)",
            Bearer,
        )
        .ok(s.json::<Rescoring>())
        .id_in_path()
        .admin()
        .error(404, "No such competition")
        .error(409, "A client competition, or a cancelled one"),
        E::AdminAudit => Operation::api(
            "listAuditTrail",
            "operations",
            "The audit trail of administrators' decisions (competitions created, edited, cancelled; \
             disqualifications; review decisions; score corrections; operators' rescores), newest first (service_role)",
            Bearer,
        )
        .query("competition_id", json!({ "type": "string", "format": "uuid" }))
        .query("user_id", json!({ "type": "string", "format": "uuid" }))
        .query("before", json!({ "type": "integer", "minimum": 1, "maximum": i64::MAX }))
        .query("limit", json!({ "type": "integer", "minimum": 1, "maximum": 200, "default": 50 }))
        .ok(s.json::<AuditPage>())
        .admin(),
        E::AdminHolds => Operation::api(
            "listHolds",
            "reviews",
            "Held days awaiting (or past) review, by date then user, at most 500 (service_role)",
            Bearer,
        )
        .query("status", json!({ "type": "string", "enum": ["pending", "approved", "rejected"], "default": "pending" }))
        .ok(s.json::<HoldList>())
        .admin(),
        E::AdminHoldDecide => Operation::api(
            "decideHold",
            "reviews",
            "Approve (counts in full) or reject (counts 0) a held user-day; rescoring every affected competition live \
             (service_role)",
            Bearer,
        )
        .json_body(s.json::<DecisionBody>())
        .ok(s.json::<HoldDecided>())
        .error(400, "The user id is not a UUID or the date not YYYY-MM-DD")
        .admin()
        .error(404, "No hold for this user and date"),
        E::LeaderboardUpdate => Operation::api("updateScore", "leaderboard", "Set the caller's absolute score", Bearer)
            .json_body(s.json::<UpdateBody>())
            .idempotent()
            .ok(s.json::<ScoreWriteReply>())
            .error(403, "Not a member, disqualified, or another user's score")
            .error(422, "Validation failed (details name each field): e.g. an implausible score, or no user_id from a token without sub")
            .error(404, "No such competition")
            .error(409, "Not running, the standings are final, or the same Idempotency-Key is in flight"),
        E::LeaderboardPage => Operation::api("getLeaderboard", "leaderboard", "A page of the leaderboard", Bearer)
            .query("limit", json!({ "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT }))
            .query(
                "cursor",
                json!({ "type": "string", "minLength": 1, "description": "next_cursor of the page before, exactly" }),
            )
            .ok(s.json::<LeaderboardPage>())
            .versioned()
            .error(400, "The id is not a UUID, or the cursor is spelled otherwise than it was handed out")
            .error(404, "No such competition"),
        E::LeaderboardMe => {
            Operation::api("getMyStanding", "leaderboard", "The caller's rank and the entries around it", Bearer)
                .query(
                    "around",
                    json!({ "type": "integer", "minimum": 0, "maximum": MAX_AROUND, "default": DEFAULT_AROUND }),
                )
                .ok(s.json::<Window>())
                .id_in_path()
                .error(403, NO_USER)
                .error(404, "No such competition, or the caller has no score")
        }
        E::LeaderboardUser => Operation::api("getUserStanding", "leaderboard", "A user's rank and score", Bearer)
            .ok(s.json::<Standing>())
            .id_in_path()
            .error(404, "No such competition, or the user has no score"),
        E::LeaderboardPrizes => Operation::api(
            "getPrizes",
            "leaderboard",
            "Prizes (provisional while running, final after the end)",
            Bearer,
        )
        .ok(s.json::<Prizes>())
        .id_in_path()
        .error(404, "No such competition"),
        E::FitnessSync => Operation::api(
            "syncFitness",
            "fitness",
            "Upsert daily samples of one source and rescore joined active competitions",
            Bearer,
        )
        .json_body(s.json::<SyncBody>())
        .idempotent()
        .ok(s.json::<SyncReply>())
        .error(403, NO_USER),
        E::TestBreakers
        | E::TestStorage
        | E::TestStorageKeys
        | E::TestPanic
        | E::TestSeed
        | E::TestStats
        | E::TestFinalize
        | E::TestAlarm
        | E::TestAbort
        | E::TestCorrupt
        | E::TestStall
        | E::TestRescoreBudget
        | E::TestRelay
        | E::TestLateAnnouncement => return None,
    };
    Some(operation)
}
