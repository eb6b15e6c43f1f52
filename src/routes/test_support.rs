//! Routes that exist only in test builds (cargo feature `test-routes`, which the deployable build never turns on):
//! seeding and statistics for benchmarks, forced finalize and alarm, the panic guard, breaker states. Even there,
//! each needs a `service_role` token: a test stack is still reachable by whoever can reach its port.

use standings::protocol::ObjectStats;
use standings::requests::ObjectRequest;

use crate::error::ApiError;
use crate::http::reply::Reply;
use crate::router::RouteMatch;
use crate::routes::leaderboard::model::path_uuid;
use crate::runtime::{query_pairs, query_value, RequestContext};

fn enabled(ctx: &RequestContext<'_>) -> Result<(), ApiError> {
    ctx.require_admin("test routes need a service_role token").map(drop)
}

/// Sends `request` to the competition of the route's `{competition_id}` and answers with the object's statistics:
/// what every competition test route does once it has read its own parameters.
async fn ask_competition(
    ctx: &RequestContext<'_>,
    route: &RouteMatch,
    request: ObjectRequest,
) -> Result<Reply, ApiError> {
    let competition_id = path_uuid("competition_id", route.param("competition_id"))?;
    let stats: ObjectStats = ctx.competition(&competition_id)?.unbounded().call(&request).await?;
    Ok(Reply::json(200, &stats))
}

/// The query parameter `name` as a non-negative integer (required).
fn whole_number(req: &crate::http::incoming::Incoming, name: &str) -> Result<u64, ApiError> {
    optional_whole_number(req, name)?.ok_or_else(|| not_a_whole_number(name))
}

/// The query parameter `name` as a non-negative integer, `None` when it is absent.
fn optional_whole_number(req: &crate::http::incoming::Incoming, name: &str) -> Result<Option<u64>, ApiError> {
    query_value(&query_pairs(req)?, name).map(|value| value.parse().map_err(|_| not_a_whole_number(name))).transpose()
}

/// The refusal of a query parameter `name` that is not a non-negative integer.
fn not_a_whole_number(name: &str) -> ApiError {
    ApiError::BadRequest(format!("{name} must be a non-negative integer"))
}

/// `GET /__test/breakers`: the breakers' states without probing anything (observing half-open needs that).
pub fn breakers(ctx: &RequestContext<'_>) -> Result<Reply, ApiError> {
    enabled(ctx)?;
    let states: serde_json::Map<String, serde_json::Value> = ctx
        .services
        .breakers
        .states()
        .into_iter()
        .map(|(dependency, state)| (dependency.name().to_owned(), state.as_str().into()))
        .collect();
    Ok(Reply::json(200, &states))
}

/// `POST /__test/storage?hang_ms=N[&writes_only=1]`: from now on every call this isolate makes to the avatar bucket
/// (or only its writes: a put or a removal) waits N ms before it starts (0: none), as a bucket that hangs would;
/// answers with the setting.
pub fn storage(ctx: &RequestContext<'_>, req: &crate::http::incoming::Incoming) -> Result<Reply, ApiError> {
    enabled(ctx)?;
    let pairs = query_pairs(req)?;
    let ms = query_value(&pairs, "hang_ms")
        .and_then(|ms| ms.parse::<u64>().ok())
        .ok_or_else(|| ApiError::BadRequest("hang_ms=N (milliseconds) expected".to_owned()))?;
    let writes_only = query_value(&pairs, "writes_only") == Some("1");
    crate::adapters::avatar_store::fault::hang(ms, writes_only);
    Ok(Reply::json(200, &serde_json::json!({"hang_ms": ms, "writes_only": writes_only})))
}

/// `GET /__test/storage?owner={user_id}`: the keys of every image the user's uploads left in the avatar bucket
/// (`{"keys":[…]}`, sorted), which tests cannot predict: a key is one upload's, partly random.
pub async fn storage_keys(ctx: &RequestContext<'_>, req: &crate::http::incoming::Incoming) -> Result<Reply, ApiError> {
    enabled(ctx)?;
    let owner = query_value(&query_pairs(req)?, "owner")
        .and_then(|owner| owner.parse::<uuid::Uuid>().ok())
        .ok_or_else(|| ApiError::BadRequest("owner={user_id} expected".to_owned()))?;
    let prefix = crate::routes::avatars::model::owner_prefix(&owner);
    let mut keys = ctx.avatars()?.keys_under(&prefix).await?;
    keys.sort();
    Ok(Reply::json(200, &serde_json::json!({ "keys": keys })))
}

/// `GET /__test/panic[?after=wait]`: panics, to prove the panic guard: in the call that received the request, or
/// (`after=wait`) in a later poll, after a timer, when the request's promise is already with the runtime.
pub async fn panic(ctx: &RequestContext<'_>, req: &crate::http::incoming::Incoming) -> Result<Reply, ApiError> {
    enabled(ctx)?;
    if query_pairs(req)?.iter().any(|(key, value)| key == "after" && value == "wait") {
        worker::Delay::from(std::time::Duration::from_millis(1)).await;
    }
    panic!("deliberate panic to test the panic guard");
}

/// `POST /__test/competitions/{competition_id}/seed?n=N[&score=S]`: adds N synthetic members to a competition (all at
/// score S, tied, when it is given).
pub async fn seed(
    ctx: &RequestContext<'_>,
    route: &RouteMatch,
    req: &crate::http::incoming::Incoming,
) -> Result<Reply, ApiError> {
    enabled(ctx)?;
    let members = whole_number(req, "n")?;
    let score = optional_whole_number(req, "score")?;
    ask_competition(ctx, route, ObjectRequest::TestSeed { members, score }).await
}

/// `GET /__test/competitions/{competition_id}/stats`: members and the last rebuild time of the object.
pub async fn stats(ctx: &RequestContext<'_>, route: &RouteMatch) -> Result<Reply, ApiError> {
    enabled(ctx)?;
    ask_competition(ctx, route, ObjectRequest::Stats).await
}

/// `POST /__test/competitions/{competition_id}/finalize[?fail_after=N]`: finalizes the competition now (or fails
/// half-way after N rows), to prove the end-of-competition handler is idempotent.
pub async fn finalize(
    ctx: &RequestContext<'_>,
    route: &RouteMatch,
    req: &crate::http::incoming::Incoming,
) -> Result<Reply, ApiError> {
    enabled(ctx)?;
    let fail_after = optional_whole_number(req, "fail_after")?
        .map(|n| usize::try_from(n).map_err(|_| not_a_whole_number("fail_after")))
        .transpose()?;
    ask_competition(ctx, route, ObjectRequest::TestFinalize { fail_after }).await
}

/// `POST /__test/competitions/{competition_id}/alarm`: runs the object's alarm handler now.
pub async fn alarm(ctx: &RequestContext<'_>, route: &RouteMatch) -> Result<Reply, ApiError> {
    enabled(ctx)?;
    ask_competition(ctx, route, ObjectRequest::TestAlarm).await
}

/// `POST /__test/competitions/{competition_id}/abort`: discards the competition's object instance as the runtime does
/// when it evicts one; the next call wakes a new instance. Answers with the object's error.
pub async fn abort(ctx: &RequestContext<'_>, route: &RouteMatch) -> Result<Reply, ApiError> {
    enabled(ctx)?;
    ask_competition(ctx, route, ObjectRequest::TestAbort).await
}

/// `POST /__test/competitions/{competition_id}/stall?ms=N`: the competition's object waits N ms before each later
/// operation and live upgrade starts (0: no more), as an object queued behind a long operation would.
pub async fn stall(
    ctx: &RequestContext<'_>,
    route: &RouteMatch,
    req: &crate::http::incoming::Incoming,
) -> Result<Reply, ApiError> {
    enabled(ctx)?;
    let ms = whole_number(req, "ms")?;
    ask_competition(ctx, route, ObjectRequest::TestStall { ms }).await
}

/// `POST /__test/competitions/{competition_id}/rescore_budget?pages=N&page_size=M`: from now on this isolate rescores
/// the competition's moved ends `pages` pages of `page_size` members at a time (`pages=0`: the configured budget
/// again), so a test proves a rescore that goes on where it stopped without thousands of members.
pub fn rescore_budget(
    ctx: &RequestContext<'_>,
    route: &RouteMatch,
    req: &crate::http::incoming::Incoming,
) -> Result<Reply, ApiError> {
    enabled(ctx)?;
    let competition_id = path_uuid("competition_id", route.param("competition_id"))?;
    let pages = whole_number(req, "pages")? as usize;
    let page_size = optional_whole_number(req, "page_size")?.unwrap_or(200) as usize;
    if !(1..=200).contains(&page_size) {
        return Err(ApiError::BadRequest("page_size must be 1..200".to_owned()));
    }
    let budget = (pages > 0).then_some(crate::scoring::spans::RescoreBudget { pages, page_size });
    crate::scoring::spans::test_budget::set(competition_id, budget);
    Ok(Reply::json(200, &serde_json::json!({"pages": pages, "page_size": page_size})))
}

/// `POST /__test/competitions/{competition_id}/corrupt?key=K`: stores a member row the board cannot load and reloads
/// the board, to prove a corrupt row is reported and repaired while everyone else is served.
pub async fn corrupt(
    ctx: &RequestContext<'_>,
    route: &RouteMatch,
    req: &crate::http::incoming::Incoming,
) -> Result<Reply, ApiError> {
    enabled(ctx)?;
    let key = query_pairs(req)?.into_iter().find(|(k, _)| k == "key").map(|(_, v)| v).unwrap_or_default();
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(ApiError::BadRequest("key must be letters, digits and dashes".into()));
    }
    ask_competition(ctx, route, ObjectRequest::TestCorrupt { key }).await
}

/// `POST /__test/competitions/{competition_id}/members/{user_id}[?as=rename&name=N&version=V]`: sends the object
/// what a request the database answered earlier would send it late: a join's roster entry (by default), or
/// (`as=rename`) a name change, named `N` (default `late`) at person version `V` (default 0). To prove that one
/// arriving after the account's deletion, or after a newer change, changes nothing.
pub async fn late_announcement(
    ctx: &RequestContext<'_>,
    route: &RouteMatch,
    req: &crate::http::incoming::Incoming,
) -> Result<Reply, ApiError> {
    use standings::protocol::{Person, RosterAdd};
    enabled(ctx)?;
    let competition_id = path_uuid("competition_id", route.param("competition_id"))?;
    let user_id = path_uuid("user_id", route.param("user_id"))?;
    let pairs = query_pairs(req)?;
    let display_name = query_value(&pairs, "name").unwrap_or("late").to_owned();
    let version = query_value(&pairs, "version")
        .map_or(Ok(0), str::parse)
        .map_err(|_| ApiError::BadRequest("version must be an integer".into()))?;
    let person = Person { user_id, display_name, avatar_url: None, version };
    let client = ctx.competition(&competition_id)?;
    if query_value(&pairs, "as") == Some("rename") {
        let _: standings::protocol::Announced = client.call(&ObjectRequest::SetPerson(person)).await?;
    } else {
        client.call_empty(&ObjectRequest::AddMember(RosterAdd { user_id, person: Some(person) })).await?;
    }
    Ok(Reply::json(200, &serde_json::json!({"sent": true})))
}

/// `POST /__test/competitions/{competition_id}/relays/{index}/{action}`: `forget` makes relay `index` lose what it
/// holds in memory (as eviction does), `close` makes it close every socket (as a deploy does), `stall?ms=N` makes its
/// next batch wait N ms before it is taken (as a busy or stuck relay would).
pub async fn relay(
    ctx: &RequestContext<'_>,
    route: &RouteMatch,
    req: &crate::http::incoming::Incoming,
) -> Result<Reply, ApiError> {
    use standings::relay::RelayRequest;
    enabled(ctx)?;
    let competition_id = path_uuid("competition_id", route.param("competition_id"))?;
    let index = route
        .param("index")
        .and_then(|i| i.parse::<u32>().ok())
        .ok_or_else(|| ApiError::BadRequest("index must be a relay number".into()))?;
    let request = match route.param("action") {
        Some("forget") => RelayRequest::TestForget,
        Some("close") => RelayRequest::TestCloseAll,
        Some("stall") => RelayRequest::TestStallNext { ms: whole_number(req, "ms")? },
        _ => return Err(ApiError::BadRequest("action must be forget, close or stall".into())),
    };
    let client = ctx.relay(&competition_id, index)?.unbounded();
    client.call_relay(&request).await?;
    Ok(Reply::json(200, &serde_json::json!({"relay": index, "done": route.param("action")})))
}
