//! The Worker's fetch entry: the request pipeline in one place, in the order of the design.
//!
//! request id and trace context → route → config → auth → rate limit → handler → error envelope → security
//! headers → metrics and analytics → access log.

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use worker::{event, web_sys, Context, Env, Response};

use crate::adapters::{analytics, metrics_totals};
use crate::auth::UserContext;
use crate::error::ApiError;
use crate::http::access_log::{level_for, AccessLog};
use crate::http::reply::Reply;
use crate::metrics;
use crate::platform;
use crate::router::{self, Endpoint};
use crate::services;
use durable_objects::ready_now::{self, FirstPoll};

mod arrival;
mod dispatch;
mod guards;
mod respond;

use arrival::Arrival;
use dispatch::{serve, LimitHeaders};
use guards::{limit_unrouted, verify_for_object};
use respond::into_response;

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
    // Competition objects in this isolate deliver their outbox through the Worker's database adapter, report their
    // sockets and frames into this isolate's metrics, and check live sockets' tokens with the Worker's verifier.
    durable_objects::worker_link::install(durable_objects::worker_link::WorkerLink {
        record_sink: crate::adapters::score_history::factory,
        verify: verify_for_object,
        add_metric: metrics::add_for_object,
        flush_if_due: object_flush_if_due,
    });
}

/// The cron trigger (`wrangler.toml`, `[triggers]`): removes avatar images no profile shows any more and finishes
/// rescores a moved end left pending (`maintenance/`), and says what it did in one log line.
#[event(scheduled)]
async fn scheduled(_event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    let services = services::of(&env);
    let line = match services {
        Ok(services) => {
            // Independent: a bucket that is down does not keep the boards waiting, nor the other way round.
            let (avatars, rescores) = futures_util::future::join(
                crate::maintenance::remove_unused_avatars(services, &env),
                crate::maintenance::finish_pending_rescores(services, &env),
            )
            .await;
            scheduled_line(platform::now_ms(), avatars.map_err(|e| e.to_string()), rescores.map_err(|e| e.to_string()))
        }
        Err(error) => {
            let error = format!("configuration: {error}");
            scheduled_line(platform::now_ms(), Err(error.clone()), Err(error))
        }
    };
    worker::console_log!("{line}");
}

/// The cron trigger's log line at `now_ms`, one JSON object like the access log's: `error` level when a part could
/// not run, `warn` when one stopped or failed for a competition, `info` otherwise.
fn scheduled_line(
    now_ms: i64,
    avatars: Result<crate::maintenance::Removals, String>,
    rescores: Result<crate::maintenance::Rescores, String>,
) -> serde_json::Value {
    let mut line = serde_json::json!({ "ts": crate::time::format_ms_exact(now_ms), "event": "scheduled" });
    let mut level = "info";
    match avatars {
        Ok(done) => {
            line["avatars_removed"] = done.removed.into();
            line["avatar_removals_stopped"] = done.stopped.into();
            if done.stopped {
                level = "warn";
            }
        }
        Err(error) => {
            line["avatars_error"] = error.into();
            level = "error";
        }
    }
    match rescores {
        Ok(done) => {
            line["rescores_finished"] = done.competitions.into();
            line["rescores_unfinished"] = done.unfinished.into();
            line["members_rescored"] = done.members.into();
            line["rescores_failed"] = done.failed.into();
            if done.failed > 0 && level == "info" {
                level = "warn";
            }
        }
        Err(error) => {
            line["rescores_error"] = error.into();
            level = "error";
        }
    }
    line["level"] = level.into();
    line
}

/// The metrics flush a Competition object hands to its own `wait_until`, when one is due in this isolate.
fn object_flush_if_due(env: &Env) -> Option<durable_objects::telemetry::Flush> {
    metrics_totals::flush_if_due(services::of(env).ok()?, platform::now_ms())
}

/// The runtime's `fetch` handler. Not workers-rs's `#[event(fetch)]`, which always answers with a promise: the
/// pipeline is polled here first, so a request that needs no wait gets its response back from this call
/// (`ready_now`); only one that waits becomes a promise. `src/js/entry.mjs` takes either.
#[wasm_bindgen(js_name = fetch)]
pub fn fetch_handler(req: web_sys::Request, env: Env, ctx: worker::worker_sys::Context) -> JsValue {
    let answer = async move {
        match fetch(req, env, Context::new(ctx)).await {
            Ok(response) => response,
            Err(error) => {
                // Only a header the runtime refuses gets here; the reply is what `#[event(fetch)]` gave.
                worker::console_error!("{error}");
                let fallback = Response::error("INTERNAL SERVER ERROR", 500).map(web_sys::Response::from);
                fallback.unwrap_or_else(|_| web_sys::Response::error())
            }
        }
    };
    match ready_now::poll_once(answer) {
        FirstPoll::Ready(response) => response.into(),
        FirstPoll::Pending(rest) => {
            worker::wasm_bindgen_futures::future_to_promise(async move { Ok(rest.await.into()) }).into()
        }
    }
}

async fn fetch(raw: web_sys::Request, env: Env, ctx: Context) -> worker::Result<web_sys::Response> {
    let (mut req, arrival) = Arrival::read(raw);
    let origin = arrival.origin.as_deref();
    // The isolate's configured policy, borrowed (no per-request copy); none outside /api or without configuration.
    static NO_CORS: crate::http::cors::CorsPolicy = crate::http::cors::CorsPolicy::NONE;
    let cors = match services::of(&env) {
        Ok(services) if crate::router::is_api_path(req.path()) => &services.config.cors,
        _ => &NO_CORS,
    };
    if arrival.preflight && cors.enabled() {
        // A browser's preflight carries no token: answered before any route, but like every /api request it spends
        // a token of its address's bucket and carries the rate-limit headers (API.md).
        let (_, limit_headers, limited) = limit_unrouted(&req, &ctx, &env, &arrival).await;
        let mut reply = match &limited {
            Some(error) => error_reply(error, &arrival.request_id),
            None => Reply { status: 204, body: Vec::new(), headers: Vec::new() },
        };
        reply.headers.extend(limit_headers);
        reply.headers.extend(cors.preflight_headers(origin.unwrap_or_default()));
        let finished = Finished { route: "preflight", status: reply.status, bytes: reply.body.len() as u64 };
        finish(&env, &ctx, &arrival, finished, None, limited.as_ref());
        return into_response(reply, &arrival.request_id);
    }
    let mut conditional = false;
    let (template, user, limit_headers, served) = match router::resolve(&arrival.method, req.path()) {
        Ok(route) => {
            let template = route.template;
            conditional = matches!(
                route.endpoint,
                Endpoint::LeaderboardPage | Endpoint::CompetitionGet | Endpoint::CompetitionList
            );
            let (user, limit_headers, served) = serve(&route, &mut req, &env, &ctx, &arrival).await;
            (template, user, limit_headers, served)
        }
        Err((error, template)) => {
            // Every /api response carries the rate-limit headers, 404s and 405s included, and spends a token.
            let (user, limit_headers, limited) = if crate::router::is_api_path(req.path()) {
                limit_unrouted(&req, &ctx, &env, &arrival).await
            } else {
                (None, Vec::new(), None)
            };
            (template, user, limit_headers, Err(limited.unwrap_or(error)))
        }
    };

    let (reply, error, streamed) = match served {
        Ok(Served::Upgrade(response)) => {
            let status = response.status_code();
            finish(&env, &ctx, &arrival, Finished { route: template, status, bytes: 0 }, user, None);
            // The object's handshake answer, with what every response of the API carries (API.md).
            let mut ours = limit_headers;
            ours.extend(cors.response_headers(origin));
            return respond::with_api_headers(web_sys::Response::from(response), ours, &arrival.request_id);
        }
        // A streamed reply's body is the runtime's stream, of the size it says; its own `reply.body` is empty.
        Ok(Served::Streamed(image)) => (image.reply, None, Some((image.stream, image.bytes))),
        Ok(Served::Reply(reply)) => (reply, None, None),
        Err(error) => (error_reply(&error, &arrival.request_id), Some(error), None),
    };

    let mut reply = reply;
    reply.headers.extend(limit_headers);
    reply.headers.extend(cors.response_headers(origin));
    if conditional && reply.status == 200 {
        // Reads that repeat often answer 304 without a body when the client already holds this version.
        let tag = crate::http::etag::of(&reply.body);
        if arrival.if_none_match.as_deref().is_some_and(|value| crate::http::etag::matches(value, &tag)) {
            reply.status = 304;
            reply.body.clear();
            reply.headers.retain(|(name, _)| !name.eq_ignore_ascii_case("Content-Type"));
        }
        reply.headers.push(("ETag".to_owned(), tag));
    }
    let bytes = streamed.as_ref().map_or(reply.body.len() as u64, |(_, bytes)| *bytes);
    finish(&env, &ctx, &arrival, Finished { route: template, status: reply.status, bytes }, user, error.as_ref());
    match streamed {
        Some((stream, _)) => respond::into_streamed_response(reply, stream, &arrival.request_id),
        None => into_response(reply, &arrival.request_id),
    }
}

/// The envelope of `API.md` for `error`, with the headers it owes (`Retry-After`, `Allow`, …).
fn error_reply(error: &ApiError, request_id: &str) -> Reply {
    let mut reply = Reply::json(error.status(), &error.envelope(request_id));
    reply.headers.extend(error.headers().into_iter().map(|(k, v)| (k.to_owned(), v)));
    reply
}

/// How a request ended, for its metrics, analytics point and access-log line.
struct Finished<'a> {
    route: &'a str,
    status: u16,
    /// The response body's size.
    bytes: u64,
}

/// Records a finished request: metrics and analytics, then its access-log line, with one reading of the clock.
fn finish(
    env: &Env,
    ctx: &Context,
    arrival: &Arrival,
    finished: Finished<'_>,
    user: Option<UserContext>,
    error: Option<&ApiError>,
) {
    let now = platform::now_ms();
    observe(env, ctx, arrival, &finished, error.map(ApiError::code), now);
    log_request(arrival, finished.route, finished.status, user, error, now);
}

/// Metrics and the analytics data point of one request; the metrics flush (when due) runs after the response, in
/// `wait_until`, so the request never waits on it.
fn observe(env: &Env, ctx: &Context, arrival: &Arrival, finished: &Finished<'_>, error_code: Option<&str>, now: i64) {
    let &Finished { route, status, bytes: response_bytes } = finished;
    let seconds = (now - arrival.started) as f64 / 1000.0;
    let method = arrival.method.as_str();
    metrics::record_request(method, route, status, seconds, arrival.request_bytes, response_bytes);
    analytics::write(
        env,
        &analytics::RequestPoint {
            route,
            method,
            status,
            colo: arrival.colo.as_deref().unwrap_or(""),
            error_code: error_code.unwrap_or(""),
            duration_ms: seconds * 1000.0,
            response_bytes: response_bytes as f64,
        },
    );
    let flush = services::of(env).ok().and_then(|services| metrics_totals::flush_if_due(services, now));
    if let Some(flush) = flush {
        ctx.wait_until(flush);
    }
}

/// What a handler produced: a reply the pipeline finishes, or a runtime response passed through untouched (the
/// 101 of a WebSocket upgrade, which carries the socket).
pub(super) enum Served {
    Reply(Reply),
    Upgrade(Response),
    /// A reply whose body the runtime streams from storage (an avatar).
    Streamed(crate::routes::avatars::Image),
}

fn log_request(
    arrival: &Arrival,
    route: &str,
    status: u16,
    user: Option<UserContext>,
    error: Option<&ApiError>,
    now: i64,
) {
    let (user_id, role) = crate::http::access_log::caller_fields(user.as_ref());
    let log = AccessLog {
        ts: crate::time::format_ms_exact(arrival.started),
        level: level_for(status),
        request_id: &arrival.request_id,
        trace_id: arrival.trace.trace_id_hex(),
        method: &arrival.method,
        route,
        status,
        duration_ms: (now - arrival.started) as f64,
        user_id,
        role,
        colo: arrival.colo.clone(),
        error: error.map(ApiError::code),
        detail: match error {
            Some(ApiError::Internal(detail)) => Some(detail.clone()),
            Some(ApiError::DependencyUnavailable { dependency, cause, .. }) => Some(format!("{dependency}: {cause}")),
            _ => None,
        },
    };
    worker::console_log!("{}", log.to_line());
}

#[cfg(test)]
mod tests {
    use super::scheduled_line;
    use crate::maintenance::{Removals, Rescores};
    use serde_json::json;

    #[test]
    fn the_cron_line_reports_both_parts_and_takes_the_worse_level() {
        let removed = |removed, stopped| Ok(Removals { removed, stopped });
        let rescored =
            |competitions, failed| Ok(Rescores { competitions, unfinished: 0, members: competitions * 3, failed });
        let unfinished = Ok(Rescores { competitions: 0, unfinished: 2, members: 400, failed: 0 });
        let cases = [
            (removed(2, false), rescored(1, 0), "info"),
            (removed(0, false), unfinished, "info"),
            (removed(2, true), rescored(1, 0), "warn"),
            (removed(0, false), rescored(0, 1), "warn"),
            (Err("bucket".to_owned()), rescored(1, 1), "error"),
            (removed(1, true), Err("database".to_owned()), "error"),
        ];
        for (avatars, rescores, level) in cases {
            let what = format!("{avatars:?} {rescores:?}");
            let line = scheduled_line(1_796_000_000_123, avatars.clone(), rescores.clone());
            assert_eq!((line["event"].clone(), line["level"].clone()), (json!("scheduled"), json!(level)), "{what}");
            assert_eq!(line["ts"], json!("2026-11-30T00:53:20.123Z"), "{what}");
            match avatars {
                Ok(done) => {
                    assert_eq!(line["avatars_removed"], json!(done.removed), "{what}");
                    assert_eq!(line["avatar_removals_stopped"], json!(done.stopped), "{what}");
                }
                Err(error) => assert_eq!(line["avatars_error"], json!(error), "{what}"),
            }
            match rescores {
                Ok(done) => {
                    let fields = ["rescores_finished", "rescores_unfinished", "members_rescored", "rescores_failed"]
                        .map(|field| line[field].clone());
                    assert_eq!(
                        fields,
                        [json!(done.competitions), json!(done.unfinished), json!(done.members), json!(done.failed)],
                        "{what}"
                    );
                }
                Err(error) => assert_eq!(line["rescores_error"], json!(error), "{what}"),
            }
        }
    }
}
