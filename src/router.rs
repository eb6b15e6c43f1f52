//! The route table: every route template of `API.md`, matched once per request.
//!
//! Matching is plain Rust (`matchit`, the radix-tree matcher axum uses), so 404/405 behaviour is tested natively.
//! Handlers receive an [`Endpoint`] and its path parameters, never the raw path.

use std::sync::OnceLock;

use crate::error::ApiError;

/// What a request asked for, independent of the HTTP details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /health`
    Health,
    /// `GET /health/live`
    HealthLive,
    HealthReady,
    Metrics,
    /// `GET /openapi.json`
    OpenApi,
    /// `GET /live/{competition_id}`
    LivePage,
    /// `GET /assets/{file}`
    Asset,
    HealthDetailed,
    TestBreakers,
    /// `POST /api/v1/leaderboard/update`
    LeaderboardUpdate,
    /// `GET /api/v1/leaderboard/{competition_id}/users/{user_id}`
    LeaderboardUser,
    /// `GET /api/v1/leaderboard/{competition_id}`
    LeaderboardPage,
    /// `GET /api/v1/leaderboard/{competition_id}/me`
    LeaderboardMe,
    LeaderboardPrizes,
    /// `GET /api/v1/competitions/{competition_id}/live` (WebSocket)
    CompetitionLive,
    /// `POST /api/v1/competitions/{competition_id}/members/{user_id}/disqualify`
    CompetitionDisqualify,
    /// `PATCH /api/v1/competitions/{competition_id}`
    CompetitionPatch,
    /// `POST /api/v1/competitions/{competition_id}/cancel`
    CompetitionCancel,
    /// `GET /api/v1/admin/competitions/{competition_id}/stats`
    AdminStats,
    /// `GET /api/v1/admin/competitions/{competition_id}/outbox`
    AdminOutbox,
    /// `POST /api/v1/admin/competitions/{competition_id}/outbox/retry`
    AdminOutboxRetry,
    /// `POST /api/v1/admin/competitions/{competition_id}/repair`
    AdminRepair,
    /// `POST /api/v1/admin/competitions/{competition_id}/rescore`
    AdminRescore,
    /// `GET /api/v1/admin/audit`
    AdminAudit,
    /// `GET /api/v1/admin/holds`
    AdminHolds,
    /// `POST /api/v1/admin/holds/{user_id}/{date}`
    AdminHoldDecide,
    ProfileGet,
    ProfilePatch,
    /// `DELETE /api/v1/me`
    ProfileDelete,
    /// `GET /api/v1/me/competitions`
    MyCompetitions,
    CompetitionCreate,
    CompetitionList,
    CompetitionGet,
    CompetitionJoin,
    FitnessSync,
    AvatarUpload,
    AvatarGet,
    TestPanic,
    /// `POST /__test/competitions/{competition_id}/seed?n=N` (test routes only)
    TestSeed,
    /// `GET /__test/competitions/{competition_id}/stats` (test routes only)
    TestStats,
    TestFinalize,
    TestAlarm,
    /// `POST /__test/competitions/{competition_id}/abort` (test routes only)
    TestAbort,
    TestCorrupt,
    /// `POST /__test/competitions/{competition_id}/stall?ms=N` (test routes only)
    TestStall,
    /// `POST /__test/competitions/{competition_id}/rescore_budget?pages=N&page_size=M` (test routes only)
    TestRescoreBudget,
    /// `POST /__test/competitions/{competition_id}/relays/{index}/{action}` (test routes only)
    TestRelay,
    /// `POST /__test/competitions/{competition_id}/members/{user_id}[?as=rename…]` (test routes only)
    TestLateAnnouncement,
    /// `POST /__test/storage?hang_ms=N` (test routes only)
    TestStorage,
    /// `GET /__test/storage?owner={user_id}` (test routes only)
    TestStorageKeys,
}

/// One route template with the methods it serves.
struct RouteSpec {
    template: &'static str,
    methods: &'static [(&'static str, Endpoint)],
}

/// The table. Adding a route means one line here and one `match` arm in the dispatcher.
const ROUTES: &[RouteSpec] = &[
    RouteSpec { template: "/health", methods: &[("GET", Endpoint::Health)] },
    RouteSpec { template: "/health/live", methods: &[("GET", Endpoint::HealthLive)] },
    RouteSpec { template: "/health/ready", methods: &[("GET", Endpoint::HealthReady)] },
    RouteSpec { template: "/metrics", methods: &[("GET", Endpoint::Metrics)] },
    RouteSpec { template: "/openapi.json", methods: &[("GET", Endpoint::OpenApi)] },
    RouteSpec { template: "/live/{competition_id}", methods: &[("GET", Endpoint::LivePage)] },
    RouteSpec { template: "/assets/{file}", methods: &[("GET", Endpoint::Asset)] },
    RouteSpec { template: "/health/detailed", methods: &[("GET", Endpoint::HealthDetailed)] },
    RouteSpec { template: "/api/v1/leaderboard/update", methods: &[("POST", Endpoint::LeaderboardUpdate)] },
    RouteSpec {
        template: "/api/v1/admin/competitions/{competition_id}/stats",
        methods: &[("GET", Endpoint::AdminStats)],
    },
    RouteSpec {
        template: "/api/v1/admin/competitions/{competition_id}/outbox",
        methods: &[("GET", Endpoint::AdminOutbox)],
    },
    RouteSpec {
        template: "/api/v1/admin/competitions/{competition_id}/outbox/retry",
        methods: &[("POST", Endpoint::AdminOutboxRetry)],
    },
    RouteSpec {
        template: "/api/v1/admin/competitions/{competition_id}/repair",
        methods: &[("POST", Endpoint::AdminRepair)],
    },
    RouteSpec {
        template: "/api/v1/admin/competitions/{competition_id}/rescore",
        methods: &[("POST", Endpoint::AdminRescore)],
    },
    RouteSpec { template: "/api/v1/admin/audit", methods: &[("GET", Endpoint::AdminAudit)] },
    RouteSpec { template: "/api/v1/admin/holds", methods: &[("GET", Endpoint::AdminHolds)] },
    RouteSpec { template: "/api/v1/admin/holds/{user_id}/{date}", methods: &[("POST", Endpoint::AdminHoldDecide)] },
    RouteSpec {
        template: "/api/v1/me",
        methods: &[
            ("GET", Endpoint::ProfileGet),
            ("PATCH", Endpoint::ProfilePatch),
            ("DELETE", Endpoint::ProfileDelete),
        ],
    },
    RouteSpec {
        template: "/api/v1/competitions",
        methods: &[("GET", Endpoint::CompetitionList), ("POST", Endpoint::CompetitionCreate)],
    },
    RouteSpec {
        template: "/api/v1/competitions/{competition_id}",
        methods: &[("GET", Endpoint::CompetitionGet), ("PATCH", Endpoint::CompetitionPatch)],
    },
    RouteSpec {
        template: "/api/v1/competitions/{competition_id}/cancel",
        methods: &[("POST", Endpoint::CompetitionCancel)],
    },
    RouteSpec {
        template: "/api/v1/competitions/{competition_id}/join",
        methods: &[("POST", Endpoint::CompetitionJoin)],
    },
    RouteSpec {
        template: "/api/v1/competitions/{competition_id}/members/{user_id}/disqualify",
        methods: &[("POST", Endpoint::CompetitionDisqualify)],
    },
    RouteSpec { template: "/api/v1/fitness/sync", methods: &[("POST", Endpoint::FitnessSync)] },
    RouteSpec { template: "/api/v1/me/avatar", methods: &[("POST", Endpoint::AvatarUpload)] },
    RouteSpec { template: "/api/v1/me/competitions", methods: &[("GET", Endpoint::MyCompetitions)] },
    RouteSpec { template: "/api/v1/avatars/{key}", methods: &[("GET", Endpoint::AvatarGet)] },
    RouteSpec { template: "/api/v1/leaderboard/{competition_id}", methods: &[("GET", Endpoint::LeaderboardPage)] },
    RouteSpec { template: "/api/v1/leaderboard/{competition_id}/me", methods: &[("GET", Endpoint::LeaderboardMe)] },
    RouteSpec {
        template: "/api/v1/leaderboard/{competition_id}/prizes",
        methods: &[("GET", Endpoint::LeaderboardPrizes)],
    },
    RouteSpec {
        template: "/api/v1/competitions/{competition_id}/live",
        methods: &[("GET", Endpoint::CompetitionLive)],
    },
    RouteSpec {
        template: "/api/v1/leaderboard/{competition_id}/users/{user_id}",
        methods: &[("GET", Endpoint::LeaderboardUser)],
    },
];

/// Routes of test builds only (feature `test-routes`): absent from the deployable bundle.
#[cfg(feature = "test-routes")]
const TEST_ROUTES: &[RouteSpec] = &[
    RouteSpec { template: "/__test/breakers", methods: &[("GET", Endpoint::TestBreakers)] },
    RouteSpec { template: "/__test/panic", methods: &[("GET", Endpoint::TestPanic)] },
    RouteSpec {
        template: "/__test/storage",
        methods: &[("POST", Endpoint::TestStorage), ("GET", Endpoint::TestStorageKeys)],
    },
    RouteSpec { template: "/__test/competitions/{competition_id}/seed", methods: &[("POST", Endpoint::TestSeed)] },
    RouteSpec { template: "/__test/competitions/{competition_id}/stats", methods: &[("GET", Endpoint::TestStats)] },
    RouteSpec {
        template: "/__test/competitions/{competition_id}/finalize",
        methods: &[("POST", Endpoint::TestFinalize)],
    },
    RouteSpec { template: "/__test/competitions/{competition_id}/alarm", methods: &[("POST", Endpoint::TestAlarm)] },
    RouteSpec { template: "/__test/competitions/{competition_id}/abort", methods: &[("POST", Endpoint::TestAbort)] },
    RouteSpec { template: "/__test/competitions/{competition_id}/stall", methods: &[("POST", Endpoint::TestStall)] },
    RouteSpec {
        template: "/__test/competitions/{competition_id}/rescore_budget",
        methods: &[("POST", Endpoint::TestRescoreBudget)],
    },
    RouteSpec {
        template: "/__test/competitions/{competition_id}/corrupt",
        methods: &[("POST", Endpoint::TestCorrupt)],
    },
    RouteSpec {
        template: "/__test/competitions/{competition_id}/relays/{index}/{action}",
        methods: &[("POST", Endpoint::TestRelay)],
    },
    RouteSpec {
        template: "/__test/competitions/{competition_id}/members/{user_id}",
        methods: &[("POST", Endpoint::TestLateAnnouncement)],
    },
];
#[cfg(not(feature = "test-routes"))]
const TEST_ROUTES: &[RouteSpec] = &[];

/// A matched route: the endpoint, its template (for logs and metrics) and the path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// Which handler serves it.
    pub endpoint: Endpoint,
    /// The route template, e.g. `/api/v1/leaderboard/{competition_id}/users/{user_id}`.
    pub template: &'static str,
    params: Vec<(String, String)>,
}

impl RouteMatch {
    /// A path parameter by name; the router guarantees the template's parameters are present.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// Every route of this build: the product's, then the test routes when the build has them.
fn specs() -> impl Iterator<Item = &'static RouteSpec> {
    ROUTES.iter().chain(TEST_ROUTES)
}

/// Every (template, method) the router serves, test routes included (in builds that have them).
pub fn routes() -> impl Iterator<Item = (&'static str, &'static str)> {
    specs().flat_map(|spec| spec.methods.iter().map(move |(method, _)| (spec.template, *method)))
}

/// Every (template, method, endpoint) of the product, test routes left out: what the OpenAPI document describes.
pub fn product_routes() -> impl Iterator<Item = (&'static str, &'static str, Endpoint)> {
    ROUTES
        .iter()
        .flat_map(|spec| spec.methods.iter().map(move |(method, endpoint)| (spec.template, *method, *endpoint)))
}

fn table() -> &'static matchit::Router<&'static RouteSpec> {
    static TABLE: OnceLock<matchit::Router<&'static RouteSpec>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut router = matchit::Router::new();
        for spec in specs() {
            // The table is a constant; a conflict is a programming error caught by the unit tests.
            router.insert(spec.template, spec).expect("route templates do not conflict");
        }
        router
    })
}

/// Whether `path` is the API's (`/api` itself or below it): what every such response carries (the rate-limit headers,
/// CORS) applies to its 404s too.
pub fn is_api_path(path: &str) -> bool {
    path.strip_prefix("/api").is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Resolves a method and path to a route, or the 404/405 error of `API.md`.
///
/// The returned template is also given for errors, so logs and metrics can label unmatched paths without
/// exploding label cardinality.
pub fn resolve(method: &str, path: &str) -> Result<RouteMatch, (ApiError, &'static str)> {
    let matched = table().at(path).map_err(|_| (ApiError::NotFound(format!("no route for {path}")), "unmatched"))?;
    let spec = *matched.value;
    // HEAD is answered like GET by the runtime's response handling; accept it where GET exists.
    let wanted = if method == "HEAD" { "GET" } else { method };
    match spec.methods.iter().find(|(m, _)| *m == wanted) {
        Some((_, endpoint)) => Ok(RouteMatch {
            endpoint: *endpoint,
            template: spec.template,
            params: matched.params.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
        }),
        None => {
            let allow = spec.methods.iter().map(|(m, _)| *m).collect();
            Err((ApiError::MethodNotAllowed { allow }, spec.template))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_are_api_itself_and_below_it() {
        for (path, api) in [
            ("/api", true),
            ("/api/", true),
            ("/api/v1/me", true),
            ("/api/v2", true),
            ("/apiv1", false),
            ("/apis/v1", false),
            ("/health", false),
            ("/", false),
            ("/v1/api", false),
        ] {
            assert_eq!(is_api_path(path), api, "{path}");
        }
    }

    #[test]
    fn the_openapi_document_lists_exactly_the_public_routes() {
        use std::collections::BTreeSet;
        let document: serde_json::Value =
            serde_json::from_str(crate::routes::openapi::DOCUMENT).expect("docs/openapi.json is JSON");
        assert_eq!(document["openapi"], "3.1.0");
        let documented: BTreeSet<(String, String)> = document["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .flat_map(|(path, item)| {
                item.as_object().expect("path item").keys().map(move |m| (path.clone(), m.to_ascii_uppercase()))
            })
            .collect();
        let served: BTreeSet<(String, String)> = routes()
            .filter(|(template, _)| !template.starts_with("/__test/"))
            .map(|(template, method)| (template.to_owned(), method.to_owned()))
            .collect();
        assert_eq!(documented, served, "docs/openapi.json and the router disagree (run scripts/openapi)");
        // Every schema reference resolves.
        let text = crate::routes::openapi::DOCUMENT;
        for reference in text.split("\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap_or_default();
            assert!(document["components"]["schemas"].get(name).is_some(), "dangling $ref {name}");
        }
    }

    #[test]
    fn every_template_is_reachable() {
        for spec in specs() {
            let path =
                spec.template.replace("{competition_id}", "c1").replace("{user_id}", "u1").replace("{key}", "k1");
            for (method, endpoint) in spec.methods {
                let matched = resolve(method, &path).expect("route resolves");
                assert_eq!(matched.endpoint, *endpoint);
                assert_eq!(matched.template, spec.template);
            }
        }
    }

    #[test]
    #[cfg(not(feature = "test-routes"))]
    fn builds_without_the_feature_have_no_test_routes() {
        for (method, path) in [("GET", "/__test/panic"), ("POST", "/__test/competitions/c1/finalize")] {
            let (error, _) = resolve(method, path).expect_err("no test routes");
            assert_eq!(error.status(), 404, "{method} {path}");
        }
        assert!(routes().all(|(template, _)| !template.starts_with("/__test/")));
    }

    #[test]
    fn path_parameters_are_extracted() {
        let matched = resolve("GET", "/api/v1/leaderboard/abc/users/def").expect("match");
        assert_eq!(matched.param("competition_id"), Some("abc"));
        assert_eq!(matched.param("user_id"), Some("def"));
        assert_eq!(matched.param("nope"), None);
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
        let cases: &[(&str, &str, u16)] = &[
            ("GET", "/nope", 404),
            ("GET", "/api/v1", 404),
            ("GET", "/health/live/extra", 404),
            ("POST", "/health", 405),
            ("DELETE", "/health/live", 405),
            ("GET", "/api/v1/leaderboard/update", 405),
        ];
        for (method, path, status) in cases {
            let (error, _) = resolve(method, path).expect_err("must not match");
            assert_eq!(error.status(), *status, "{method} {path}");
            if *status == 405 {
                assert!(error.headers().iter().any(|(name, _)| *name == "Allow"));
            }
        }
    }

    #[test]
    fn head_is_served_where_get_is() {
        assert_eq!(resolve("HEAD", "/health").expect("match").endpoint, Endpoint::Health);
    }
}
