//! End-to-end harness: talks to a running `wrangler dev` + local stack, mints tokens, and can start its own
//! `wrangler dev` (in its own process group, stopped on drop, also when a test panics).
//!
//! `./scripts/test` starts the shared stack and Worker and exports:
//! `E2E_BASE_URL` (the shared Worker), `E2E_WORKER_VARS` (its settings file), `E2E_STACK_DIR`, `E2E_JWT_SECRET`.

pub mod openapi_check;

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use uuid::Uuid;

/// The security headers every response carries (`API.md`), lower-cased names.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("strict-transport-security", "max-age=63072000; includeSubDomains"),
    ("referrer-policy", "no-referrer"),
    ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
];

/// Reads a setting exported by `./scripts/test`, with a clear message when a test is run outside it.
pub fn setting(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the end-to-end tests through ./scripts/test (see TESTING_GUIDE.md)")
    })
}

/// Root of the repository.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// Base URL of the shared Worker.
pub fn base_url() -> String {
    setting("E2E_BASE_URL")
}

/// A user access token for `user_id`.
pub fn user_token(user_id: &Uuid) -> String {
    token_with_role(user_id, "authenticated")
}

/// An access token with a given role.
pub fn token_with_role(user_id: &Uuid, role: &str) -> String {
    let claims = local::token::access_claims(&user_id.to_string(), role, "authenticated", local::token::now(), 3600);
    local::token::sign(setting("E2E_JWT_SECRET").as_bytes(), &claims)
}

/// A response, whatever its status.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Lower-cased header names with values.
    pub headers: Vec<(String, String)>,
    /// Body parsed as JSON (`Value::Null` when empty or not JSON).
    pub json: Value,
    /// Body as text.
    pub text: String,
}

impl Reply {
    /// A header by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }
}

/// Sends a request; `headers` are extra headers, `body` is sent as JSON.
pub fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Reply {
    match body {
        Some(body) => {
            let mut with_type = headers.to_vec();
            with_type.push(("Content-Type", "application/json"));
            send_raw(method, url, &with_type, body.to_string().as_bytes())
        }
        None => send_raw(method, url, headers, b""),
    }
}

/// `GET {base}{path}` as `user`.
pub fn get_as(base: &str, path: &str, user: &Uuid) -> Reply {
    send("GET", &format!("{base}{path}"), &[("Authorization", &format!("Bearer {}", user_token(user)))], None)
}

/// `POST {base}{path}` with a JSON body as `user`.
pub fn post_as(base: &str, path: &str, user: &Uuid, body: &Value) -> Reply {
    send("POST", &format!("{base}{path}"), &[("Authorization", &format!("Bearer {}", user_token(user)))], Some(body))
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    free_ports::<1>()[0]
}

/// `N` distinct TCP ports nobody listens on right now. They are held together while picked: two ports picked one
/// after the other are the same one about once in 5 000 pairs (the kernel may hand out a port just released again).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let held: Vec<TcpListener> = (0..N).map(|_| TcpListener::bind("127.0.0.1:0").expect("free port")).collect();
    std::array::from_fn(|i| held[i].local_addr().expect("bound port").port())
}

/// Waits until `GET {base}/health/live` answers 200.
pub fn wait_live(base: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(2)).build();
    while Instant::now() < deadline {
        if matches!(agent.get(&format!("{base}/health/live")).call(), Ok(r) if r.status() == 200) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// A `wrangler dev` owned by a test: its own ports and persistence directory, in its own process group.
pub struct WranglerDev {
    child: Child,
    port: u16,
    persist_dir: PathBuf,
}

impl WranglerDev {
    /// Starts `scripts/worker-dev` with the shared settings file and waits until it serves.
    pub fn start(persist_dir: &Path) -> Self {
        Self::start_with(persist_dir, &[])
    }

    /// Like [`WranglerDev::start`], with some settings replaced (or added).
    pub fn start_with(persist_dir: &Path, overrides: &[(&str, &str)]) -> Self {
        Self::spawn(persist_dir, overrides, &[])
    }

    /// Two runtimes that share one set of objects, as two Cloudflare locations do: the first runs the Worker with
    /// its objects; the second runs the same Worker under another name, its `COMPETITION` and `RELAY` bindings
    /// pointing at the first's objects through wrangler's dev registry (a registry of their own, so no other test's
    /// `wrangler dev` answers for them). Each has its own isolate memory, caches and persistence.
    pub fn start_pair(dir: &Path) -> (Self, Self) {
        let owner = Self::spawn(&dir.join("owner"), &[], &[("WRANGLER_REGISTRY_PATH", &registry_in(dir))]);
        (owner, Self::spawn_reader(dir, &[]))
    }

    /// A Worker whose object bindings point at a runtime that is not running (the reader of [`WranglerDev::start_pair`]
    /// without its owner, in a registry of its own): every call to an object fails, as when objects are unavailable.
    pub fn start_without_objects(dir: &Path, overrides: &[(&str, &str)]) -> Self {
        Self::spawn_reader(dir, overrides)
    }

    /// The reader of a pair under `dir`: this Worker under another name, its object bindings pointing at the owner's
    /// through the pair's registry.
    fn spawn_reader(dir: &Path, overrides: &[(&str, &str)]) -> Self {
        let (registry, config) = (registry_in(dir), reader_config());
        Self::spawn(
            &dir.join("reader"),
            overrides,
            &[("WRANGLER_REGISTRY_PATH", &registry), ("WORKER_CONFIG", &config.to_string_lossy())],
        )
    }

    fn spawn(persist_dir: &Path, overrides: &[(&str, &str)], env: &[(&str, &str)]) -> Self {
        let shared = setting("E2E_WORKER_VARS");
        let vars_file = if overrides.is_empty() {
            PathBuf::from(shared)
        } else {
            let text = std::fs::read_to_string(&shared).unwrap_or_else(|e| panic!("read {shared}: {e}"));
            let mut lines: Vec<String> = text
                .lines()
                .filter(|line| !overrides.iter().any(|(name, _)| line.starts_with(&format!("{name}="))))
                .map(str::to_owned)
                .collect();
            lines.extend(overrides.iter().map(|(name, value)| format!("{name}={value}")));
            let path = persist_dir.with_extension("vars");
            std::fs::write(&path, lines.join("\n")).expect("write vars file");
            path
        };
        // Ports are picked free and released before wrangler and workerd bind them (theirs too), so a test starting
        // its own Worker at the same moment may take one first: such a start is tried again on new ports.
        for attempt in 1..=3 {
            let [port, inspector_port] = free_ports();
            let log_path = persist_dir.with_extension(format!("{port}.log"));
            // Its own folder of wrangler's log files (where workerd's reason for a failed start is).
            let wrangler_logs = persist_dir.with_extension(format!("{port}.wrangler-logs"));
            let log = std::fs::File::create(&log_path).expect("log file");
            let child = Command::new(repo_root().join("scripts/worker-dev"))
                .env("PORT", port.to_string())
                .env("INSPECTOR_PORT", inspector_port.to_string())
                .env("PERSIST_DIR", persist_dir)
                .env("WORKER_VARS_FILE", &vars_file)
                .env("WORKER_BUILD_SKIP", "1")
                .env("WRANGLER_LOG_PATH", &wrangler_logs)
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                .process_group(0)
                .spawn()
                .expect("spawn scripts/worker-dev");
            let mut dev = Self { child, port, persist_dir: persist_dir.to_path_buf() };
            if dev.wait_started(Duration::from_secs(90)) {
                return dev;
            }
            dev.kill9();
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            // workerd names the port it could not bind only in wrangler's own log file at times; the console then
            // says only that the runtime failed to start.
            let port_taken = text.contains("Address already in use") || text.contains("runtime failed to start");
            if !port_taken || attempt == 3 {
                panic!(
                    "wrangler dev on {port} did not become live (attempt {attempt}); its log: {}, wrangler's own: {}",
                    log_path.display(),
                    wrangler_logs.display()
                );
            }
        }
        unreachable!("the loop returns or panics")
    }

    /// Waits until this instance answers `GET /health/live`, or its process ended (a failed start), or `timeout`.
    fn wait_started(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if wait_live(&self.base_url(), Duration::from_millis(500)) {
                return true;
            }
            if !matches!(self.child.try_wait(), Ok(None)) {
                return false;
            }
        }
        false
    }

    /// This build's Worker with the Competition class exported as it was before RPC (`tests/fixtures/
    /// entry-before-rpc.mjs`): what the Worker meets while objects still run the previous deploy's code.
    pub fn start_with_objects_before_rpc(persist_dir: &Path) -> Self {
        let root = repo_root();
        let source = std::fs::read_to_string(root.join("wrangler.toml")).expect("read wrangler.toml");
        let mut lines = Vec::new();
        let mut skipping = false;
        for line in source.lines() {
            if line.starts_with('[') {
                skipping = line == "[build]";
            }
            if skipping {
                continue;
            }
            if line.starts_with("main = ") {
                lines.push("main = \"tests/fixtures/entry-before-rpc.mjs\"".to_owned());
                continue;
            }
            lines.push(line.to_owned());
        }
        let text = lines.join("\n") + "\n";
        assert!(text.contains("entry-before-rpc.mjs"), "wrangler.toml has a top-level main");
        let path = place_config(".wrangler-before-rpc.toml", &text);
        Self::spawn(persist_dir, &[], &[("WORKER_CONFIG", &path.to_string_lossy())])
    }

    /// Everything it printed so far (its access log included).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.persist_dir.with_extension(format!("{}.log", self.port))).unwrap_or_default()
    }

    /// Where it keeps its state (`--persist-to`).
    pub fn persist_dir(&self) -> &Path {
        &self.persist_dir
    }

    /// Where it serves.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `kill -9` of the whole process group (wrangler and its workerd), as a crash would.
    pub fn kill9(&mut self) {
        let pgid = self.child.id() as i32;
        let _ = Command::new("kill").args(["-9", "--", &format!("-{pgid}")]).status();
        let _ = self.child.wait();
    }

    /// Kills this instance and starts a new one on the same persistence directory.
    pub fn restart_after_crash(self) -> Self {
        self.restart_after_crash_with(&[])
    }

    /// Like [`WranglerDev::restart_after_crash`], the new instance with some settings replaced (or added).
    pub fn restart_after_crash_with(mut self, overrides: &[(&str, &str)]) -> Self {
        self.kill9();
        let persist_dir = self.persist_dir.clone();
        drop(self);
        Self::start_with(&persist_dir, overrides)
    }
}

/// Name of the Worker in `wrangler.toml`, whose objects [`WranglerDev::start_pair`]'s second runtime uses.
const WORKER_NAME: &str = "leaderboard-edge";

/// The wrangler dev registry of a pair of runtimes under `dir` (created when missing).
fn registry_in(dir: &Path) -> String {
    let registry = dir.join("registry");
    std::fs::create_dir_all(&registry).expect("registry dir");
    registry.to_string_lossy().into_owned()
}

/// `wrangler.toml` for [`WranglerDev::start_pair`]'s second runtime: another name, no build step, no migrations (it
/// defines no objects of its own), and the object bindings of the top level bound to [`WORKER_NAME`]'s objects. Kept
/// in the repository root (its paths are relative to it) and rewritten only when it changes: wrangler watches it.
fn reader_config() -> PathBuf {
    let root = repo_root();
    let source = std::fs::read_to_string(root.join("wrangler.toml")).expect("read wrangler.toml");
    let mut lines = Vec::new();
    let (mut skipping, mut top_level) = (false, true);
    for line in source.lines() {
        if line.starts_with('[') {
            top_level &= !line.starts_with("[env.") && !line.starts_with("[[env.");
            skipping = line == "[build]" || line == "[[migrations]]";
        }
        if skipping {
            continue;
        }
        if top_level && line == format!("name = \"{WORKER_NAME}\"") {
            lines.push(format!("name = \"{WORKER_NAME}-reader\""));
            continue;
        }
        lines.push(line.to_owned());
        if top_level && line.starts_with("class_name = ") {
            lines.push(format!("script_name = \"{WORKER_NAME}\""));
        }
    }
    let text = lines.join("\n") + "\n";
    assert!(text.contains(&format!("{WORKER_NAME}-reader")), "wrangler.toml names the Worker {WORKER_NAME}");
    place_config(".wrangler-reader.toml", &text)
}

/// Writes a wrangler config derived from `wrangler.toml` beside it (paths in it are relative to it), only when its
/// text changes: wrangler dev watches its config, so rewriting one that a running `wrangler dev` uses reloads it.
fn place_config(name: &str, text: &str) -> PathBuf {
    let path = repo_root().join(name);
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
        let staged = repo_root().join(format!("{name}.{}", std::process::id()));
        std::fs::write(&staged, text).unwrap_or_else(|e| panic!("write {name}: {e}"));
        std::fs::rename(&staged, &path).unwrap_or_else(|e| panic!("place {name}: {e}"));
    }
    path
}

impl Drop for WranglerDev {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill9();
        }
    }
}

/// A fresh scratch directory under the test stack's directory.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(setting("E2E_STACK_DIR")).join(format!("{name}-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Runs the Worker's cron trigger once, as the platform would (`wrangler dev --test-scheduled`'s `GET /__scheduled`,
/// which answers once the handler finished).
pub fn run_cron() {
    let reply = send("GET", &format!("{}/__scheduled?cron=*/10+*+*+*+*", base_url()), &[], None);
    assert_eq!(reply.status, 200, "the cron trigger: {:?}", reply.json);
}

/// The value of a one-value SQL query on the shared stack's database, as `psql -tA` prints it.
pub fn sql(query: &str) -> String {
    let (ok, text) = stack(&["psql", "-tA", "-c", query]);
    assert!(ok, "{query}: {text}");
    text.trim().to_owned()
}

/// The plans of every statement `query` runs on the shared stack's database, functions' statements included
/// (`auto_explain` at warning level), with sequential scans and sorts priced out: the test tables are small enough that
/// reading and sorting them whole would win anyway, and what a test asks is whether an index can serve the statement
/// (in its order).
pub fn sql_plans(query: &str) -> String {
    let settings = [
        "LOAD 'auto_explain'",
        "SET auto_explain.log_min_duration = 0",
        "SET auto_explain.log_nested_statements = on",
        "SET auto_explain.log_level = 'warning'",
        "SET enable_seqscan = off",
        "SET enable_sort = off",
    ];
    let mut args = vec!["psql", "-tA"];
    for statement in settings.iter().chain([&query]) {
        args.extend(["-c", statement]);
    }
    let (ok, text) = stack(&args);
    assert!(ok, "{query}: {text}");
    text
}

/// A setting of the shared Worker's vars file (`E2E_WORKER_VARS`), e.g. `SUPABASE_URL` pointing at this run's stack.
pub fn worker_var(name: &str) -> String {
    let path = setting("E2E_WORKER_VARS");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix('=').map(str::to_owned))
        .unwrap_or_else(|| panic!("{name} is not in {path}"))
}

/// Base of the local PostgREST gateway's API (`$SUPABASE_URL/rest/v1`).
pub fn rest_url() -> String {
    format!("{}/rest/v1", worker_var("SUPABASE_URL"))
}

/// The keys of every image `user`'s uploads left in the avatar bucket, sorted (the test route
/// `GET /__test/storage?owner=`: keys are one upload's each, partly random, so no test can compute them).
pub fn avatar_keys(user: &Uuid) -> Vec<String> {
    let url = format!("{}/__test/storage?owner={user}", base_url());
    let reply = send("GET", &url, &[("Authorization", &admin_auth())], None);
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    let keys = reply.json["keys"].as_array().expect("keys");
    keys.iter().map(|key| key.as_str().expect("a key").to_owned()).collect()
}

/// A valid 1×1 PNG (different bytes per `tag` via a trailing text chunk, so uploads get different keys).
pub fn png(tag: &str) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    bytes.extend_from_slice(tag.as_bytes());
    bytes
}

/// Uploads `body` as `user`'s avatar, sent as `content_type` (`POST /api/v1/me/avatar`).
pub fn upload_avatar(user: &Uuid, content_type: &str, body: &[u8]) -> Reply {
    let auth = format!("Bearer {}", user_token(user));
    let headers = [("Authorization", auth.as_str()), ("Content-Type", content_type)];
    send_raw("POST", &format!("{}/api/v1/me/avatar", base_url()), &headers, body)
}

/// Renames `user` straight through the database API with their own token (a user's one direct write there), round
/// the Worker: only the member-change log tells the boards.
pub fn rename_directly(user: &Uuid, name: &str) -> Reply {
    let anon = worker_var("SUPABASE_ANON_KEY");
    let bearer = format!("Bearer {}", user_token(user));
    let headers = [("apikey", anon.as_str()), ("Authorization", bearer.as_str())];
    let path = format!("{}/profiles?user_id=eq.{user}", rest_url());
    send("PATCH", &path, &headers, Some(&serde_json::json!({"display_name": name})))
}

/// The key an avatar URL names (its last path segment).
pub fn avatar_key(url: &str) -> String {
    url.rsplit('/').next().expect("an avatar URL").to_owned()
}

/// Sets a rule of the local PostgREST gateway's delay knob: the replies to the next `times` requests (all of them
/// without) whose path, query and body contain every text of `contains` wait `ms` after their statements ran; 0 ms
/// removes the rule. Name a test's own ids in `contains`, so the rule slows nobody else.
pub fn database_delay(contains: &[&str], ms: u64, times: Option<u64>) {
    set_database_delay(contains, ms, times, false);
}

/// Like [`database_delay`], but the matching requests wait before their statements run: a database that has not
/// made the write (or read) yet.
pub fn database_hold(contains: &[&str], ms: u64, times: Option<u64>) {
    set_database_delay(contains, ms, times, true);
}

fn set_database_delay(contains: &[&str], ms: u64, times: Option<u64>, before: bool) {
    let url = format!("{}/__delay", worker_var("SUPABASE_URL"));
    let body = serde_json::json!({"contains": contains, "ms": ms, "times": times, "before": before});
    let reply = send("POST", &url, &[("Authorization", &format!("Bearer {}", service_token()))], Some(&body));
    assert_eq!(reply.status, 200, "{:?}", reply.json);
}

/// Whether the delay knob's rule with `contains` is still waiting for requests.
pub fn database_delay_waiting(contains: &[&str]) -> bool {
    database_delay_rule(contains).is_some()
}

/// The delay knob's rule with `contains` (`{"contains", "ms", "times"}`, `times` counting down), while in force.
pub fn database_delay_rule(contains: &[&str]) -> Option<Value> {
    let url = format!("{}/__delay", worker_var("SUPABASE_URL"));
    let reply = send("GET", &url, &[("Authorization", &format!("Bearer {}", service_token()))], None);
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    let contains = serde_json::json!(contains);
    reply.json["rules"].as_array().expect("rules").iter().find(|rule| rule["contains"] == contains).cloned()
}

/// Removes a delay rule when dropped, so a failing test leaves the gateway as it found it.
pub struct DatabaseDelay(pub Vec<String>);

impl Drop for DatabaseDelay {
    fn drop(&mut self) {
        let texts: Vec<&str> = self.0.iter().map(String::as_str).collect();
        database_delay(&texts, 0, None);
    }
}

/// Runs `scripts/stack` on this run's stack; returns whether it succeeded and what it printed.
pub fn stack(args: &[&str]) -> (bool, String) {
    let output = Command::new(repo_root().join("scripts/stack"))
        .args(args)
        .env("STACK_DIR", setting("E2E_STACK_DIR"))
        .output()
        .expect("run scripts/stack");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// What wrangler dev's own proxy answers when it reloads the Worker while a request that it cannot retry (not a GET)
/// is on its way: a 503 that never reached the Worker.
const WRANGLER_RELOADED: &str = "Your worker restarted mid-request";

/// Sends a raw (non-JSON or pre-serialised) body.
pub fn send_raw(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    send_body(method, url, headers, body, false)
}

/// Sends a raw body with `Transfer-Encoding: chunked` (no declared length), as HTTP/2 clients and streaming uploads do.
pub fn send_chunked(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    send_body(method, url, headers, body, true)
}

fn send_body(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8], chunked: bool) -> Reply {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
    let send = || {
        let mut request = agent.request(method, url);
        for (name, value) in headers {
            request = request.set(name, value);
        }
        // Without a declared length ureq frames a reader's bytes in chunks.
        let sent = if chunked { request.send(std::io::Cursor::new(body)) } else { request.send_bytes(body) };
        let response = match sent {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("{method} {url}: {error}"),
        };
        let status = response.status();
        let headers: Vec<(String, String)> = response
            .headers_names()
            .into_iter()
            .map(|name| {
                let value = response.header(&name).unwrap_or_default().to_owned();
                (name.to_ascii_lowercase(), value)
            })
            .collect();
        let content_type = response.header("content-type").map(str::to_owned);
        (status, headers, content_type, response.into_string().unwrap_or_default())
    };
    let (mut status, mut headers, mut content_type, mut text) = send();
    if status == 503 && text.starts_with(WRANGLER_RELOADED) {
        // Only wrangler dev's reload answer is sent again (once, and said so): the Worker never saw the request.
        eprintln!("{method} {url}: wrangler dev reloaded the Worker mid-request; sending it again");
        std::thread::sleep(Duration::from_secs(1));
        (status, headers, content_type, text) = send();
    }
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    // Answers of the shared Worker must match docs/openapi.json (the other Workers some tests start are left alone).
    if let Some(path) = std::env::var("E2E_BASE_URL").ok().and_then(|base| url.strip_prefix(&base).map(str::to_owned)) {
        if let Err(drift) = openapi_check::check(method, &path, status, content_type.as_deref(), &headers, &json) {
            // The body too: a 503 that is not the Worker's (e.g. wrangler dev's proxy answering while it reloads)
            // says so only there.
            let body: String = text.chars().take(400).collect();
            panic!("the answer does not match docs/openapi.json: {drift}\nits body: {body}");
        }
    }
    Reply { status, headers, json, text }
}

/// `secs` since the epoch as an RFC 3339 UTC timestamp.
pub fn rfc3339(secs: i64) -> String {
    local::time::rfc3339(secs)
}

/// A service-role token (competition management, reading any row).
pub fn service_token() -> String {
    token_with_role(&Uuid::new_v4(), "service_role")
}

/// Supabase's service key as the Worker sees it: a service_role token without `sub` (it names nobody).
pub fn service_key_token() -> String {
    let mut claims = local::token::access_claims("-", "service_role", "authenticated", local::token::now(), 3600);
    if let Some(object) = claims.as_object_mut() {
        object.remove("sub");
    }
    local::token::sign(setting("E2E_JWT_SECRET").as_bytes(), &claims)
}

/// `Bearer <service-role token>`: the `Authorization` value of the test routes (`/__test/*`), which need one.
pub fn admin_auth() -> String {
    format!("Bearer {}", service_token())
}

/// Creates a client competition (members post their own scores) in Postgres (through the PostgREST gateway, as
/// service_role) running from `starts_in` to `ends_in` seconds from now, and returns its id.
pub fn create_competition(starts_in: i64, ends_in: i64) -> Uuid {
    create_competition_with(starts_in, ends_in, serde_json::json!({"score_source": "client"}))
}

/// Creates a competition like [`create_competition`] with `rules` (any columns: `score_source`, `scoring`,
/// `clock`, `grace_hours`, `allow_manual`, …) over the defaults: a fitness competition unless `rules` says client.
pub fn create_competition_with(starts_in: i64, ends_in: i64, rules: serde_json::Value) -> Uuid {
    let now = local::token::now();
    let mut body = serde_json::json!({
        "name": "e2e", "metric": "steps", "prize_pool": 1000, "payout": [6000, 4000],
        "starts_at": rfc3339(now + starts_in), "ends_at": rfc3339(now + ends_in),
    });
    for (key, value) in rules.as_object().into_iter().flatten() {
        body[key] = value.clone();
    }
    let reply = send(
        "POST",
        &format!("{}/competitions", rest_url()),
        &[("Authorization", &format!("Bearer {}", service_token())), ("Prefer", "return=representation")],
        Some(&body),
    );
    assert_eq!(reply.status, 201, "create competition: {:?}", reply.json);
    reply.json[0]["id"].as_str().and_then(|id| Uuid::try_parse(id).ok()).expect("competition id")
}

/// A fitness competition (scores from synced days) that started a day ago, ends in a week, and `members` joined.
pub fn fitness_competition_with(members: &[Uuid]) -> Uuid {
    let competition = create_competition_with(-86_400, 7 * 86_400, serde_json::json!({}));
    for member in members {
        join(&competition, member);
    }
    competition
}

/// A competition that started a day ago and ends in a week.
pub fn active_competition() -> Uuid {
    create_competition(-86_400, 7 * 86_400)
}

/// An active competition that `members` have joined.
pub fn competition_with(members: &[Uuid]) -> Uuid {
    let competition = active_competition();
    for member in members {
        join(&competition, member);
    }
    competition
}

/// Joins `user` to `competition` through the shared Worker, as the app does (Postgres, then the object's roster).
pub fn join(competition: &Uuid, user: &Uuid) {
    let path = format!("/api/v1/competitions/{competition}/join");
    let reply = send(
        "POST",
        &format!("{}{path}", base_url()),
        &[("Authorization", &format!("Bearer {}", user_token(user)))],
        None,
    );
    assert_eq!(reply.status, 200, "join: {:?}", reply.json);
}

/// The `scores` rows of a competition in Postgres, as `(user_id, score, seq)` sorted by user.
pub fn stored_scores(competition: &Uuid) -> Vec<(String, i64, i64)> {
    let reply = send(
        "GET",
        &format!("{}/scores?select=user_id,score,seq&competition_id=eq.{competition}&order=user_id", rest_url()),
        &[("Authorization", &format!("Bearer {}", service_token()))],
        None,
    );
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    reply
        .json
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    let user = r["user_id"].as_str().unwrap_or_default().to_owned();
                    (user, r["score"].as_i64().unwrap_or(-1), r["seq"].as_i64().unwrap_or(-1))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Polls `check` every 200 ms until it returns `Some` or `timeout` passes.
pub fn eventually<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A live-leaderboard WebSocket of the tests (blocking, like the rest of the harness).
pub type Socket = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

/// The next text frame of a live socket as JSON (protocol pings and pongs skipped; a close or a read timeout fails the
/// test).
pub fn next_json(socket: &mut Socket) -> Value {
    loop {
        match socket.read().expect("a frame within the read timeout") {
            tungstenite::Message::Text(text) => return serde_json::from_str(text.as_str()).expect("json frame"),
            tungstenite::Message::Ping(_) | tungstenite::Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Each of `writers` posts the scores `step * 10` for `steps` in order, all writers at once (threads), through the
/// Worker at `base`; every write must answer 200.
pub fn post_rising_scores(base: &str, competition: &Uuid, writers: &[Uuid], steps: std::ops::Range<i64>) {
    let threads: Vec<_> = writers
        .iter()
        .map(|writer| {
            let (writer, base, competition, steps) = (*writer, base.to_owned(), *competition, steps.clone());
            std::thread::spawn(move || {
                for step in steps {
                    let body = serde_json::json!({"competition_id": competition, "score": step * 10});
                    let reply = post_as(&base, "/api/v1/leaderboard/update", &writer, &body);
                    assert_eq!(reply.status, 200, "{:?}", reply.json);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("writer");
    }
}

/// `websocket_refusals_total{reason}` as the Worker at `base` reports it now (0 before the first).
pub fn socket_refusals(base: &str, reason: &str) -> f64 {
    let auth = format!("Bearer {}", worker_var("METRICS_TOKEN"));
    let reply = send("GET", &format!("{base}/metrics"), &[("Authorization", &auth)], None);
    assert_eq!(reply.status, 200, "{}", reply.text);
    let series = format!("websocket_refusals_total{{reason=\"{reason}\"}} ");
    reply.text.lines().find_map(|line| line.strip_prefix(&series)?.parse().ok()).unwrap_or(0.0)
}

/// Waits (at most 15 s: objects flush their counts about once a second) until [`socket_refusals`] reaches `least`.
pub fn until_socket_refusals(base: &str, reason: &str, least: f64) {
    let reached =
        eventually(std::time::Duration::from_secs(15), || (socket_refusals(base, reason) >= least).then_some(()));
    assert!(reached.is_some(), "{reason} refusals stayed below {least}: {}", socket_refusals(base, reason));
}

/// Checks a user's replay allowance (`standings::socket_rules::ReplayBook`) through live sockets opened by `open`
/// on a competition with more than a thousand changes: `reader` resumes 1 000 frames back five times at once and gets
/// four replays, then a snapshot; `other` still gets the replay.
pub fn check_replay_allowance(open: impl Fn(&Uuid) -> Socket, reader: &Uuid, other: &Uuid) {
    const GAP: u64 = 1_000;
    let mut socket = open(reader);
    let latest = next_json(&mut socket)["seq"].as_u64().expect("snapshot seq");
    assert!(latest > GAP, "{latest}");
    let resume = serde_json::json!({"type": "resume", "since": latest - GAP}).to_string();
    let replayed = |socket: &mut Socket| {
        let mut seqs: Vec<u64> = Vec::new();
        while seqs.len() < GAP as usize {
            seqs.extend(updates_in(&next_json(socket)).iter().map(|u| u["seq"].as_u64().expect("seq")));
        }
        assert_eq!(seqs, (latest - GAP + 1..=latest).collect::<Vec<u64>>());
    };
    for _ in 0..5 {
        socket.send(tungstenite::Message::Text(resume.clone().into())).expect("resume");
    }
    (0..4).for_each(|_| replayed(&mut socket));
    let fifth = next_json(&mut socket);
    assert_eq!((fifth["type"].as_str(), fifth["seq"].as_u64()), (Some("snapshot"), Some(latest)), "{fifth}");
    let mut theirs = open(other);
    assert_eq!(next_json(&mut theirs)["seq"].as_u64(), Some(latest));
    theirs.send(tungstenite::Message::Text(resume.into())).expect("resume");
    replayed(&mut theirs);
}

/// The updates a live frame carries, in order: itself for an `update`, the list of a combined `updates` (each an
/// `update`, the frame's `seq` the last one's); any other frame fails the test.
pub fn updates_in(frame: &Value) -> Vec<Value> {
    match frame["type"].as_str() {
        Some("update") => vec![frame.clone()],
        Some("updates") => {
            let inner = frame["updates"].as_array().expect("updates list").clone();
            assert!(inner.iter().all(|u| u["type"] == "update"), "{frame}");
            assert_eq!(frame["seq"], inner.last().expect("one at least")["seq"], "seq is the last one's");
            inner
        }
        other => panic!("unexpected frame {other:?}: {frame}"),
    }
}

/// A live socket on one competition, opened before a test's writes, and the board its frames add up to: each
/// `update` sets a member's score, each `removed` takes one off; each change's `seq` follows the one before (none
/// missing); the `finished` frame is kept.
/// Each frame's ranks and total are checked against the board the frames before it add up to.
pub struct LiveBoard {
    socket: Socket,
    last: u64,
    /// Each member's score as the frames so far say.
    pub scores: std::collections::BTreeMap<Uuid, i64>,
    /// Each member's `display_name` as their last frame (or the snapshot) says.
    pub names: std::collections::BTreeMap<Uuid, Value>,
    /// The `finished` frame, once read.
    pub finished: Option<Value>,
    /// The snapshot the socket opened with: its seq and board, where a resume from the start begins.
    start: (u64, std::collections::BTreeMap<Uuid, i64>, std::collections::BTreeMap<Uuid, Value>),
}

/// The `user_id` of a frame or an entry.
pub fn user_of(item: &Value) -> Uuid {
    item["user_id"].as_str().and_then(|id| Uuid::try_parse(id).ok()).expect("a user id")
}

/// A snapshot's entries as each member's score and `display_name`.
fn board_of_entries(
    entries: &[Value],
) -> (std::collections::BTreeMap<Uuid, i64>, std::collections::BTreeMap<Uuid, Value>) {
    let scores = entries.iter().map(|e| (user_of(e), e["score"].as_i64().expect("score"))).collect();
    let names = entries.iter().map(|e| (user_of(e), e["display_name"].clone())).collect();
    (scores, names)
}

impl LiveBoard {
    /// Opens the socket as `reader`; its snapshot (the whole board: at most 10 members) is the start.
    pub fn open(competition: &Uuid, reader: &Uuid) -> LiveBoard {
        let (mut socket, _) = connect_live(competition, reader, true);
        let snapshot = next_json(&mut socket);
        assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
        let entries = snapshot["entries"].as_array().expect("entries");
        assert_eq!(
            snapshot["total"],
            serde_json::json!(entries.len()),
            "the snapshot holds the whole board: {snapshot}"
        );
        let (scores, names) = board_of_entries(entries);
        let last = snapshot["seq"].as_u64().expect("seq");
        let start = (last, scores.clone(), names.clone());
        LiveBoard { socket, last, scores, names, finished: None, start }
    }

    /// A second socket that resumes from this one's start (`{"type":"resume","since":…}`): the missed frames
    /// replayed (or, when the start is too old, a fresh snapshot) must add up to the same `board` as the live ones.
    pub fn check_resumed(&self, competition: &Uuid, reader: &Uuid, board: &[(Uuid, i64)], what: &str) {
        let (mut socket, _) = connect_live(competition, reader, true);
        let newest = next_json(&mut socket)["seq"].as_u64().expect("seq");
        let since = self.start.0;
        socket
            .send(tungstenite::Message::text(serde_json::json!({"type": "resume", "since": since}).to_string()))
            .expect("resume");
        let (last, scores, names) = self.start.clone();
        let mut resumed = LiveBoard { socket, last, scores, names, finished: None, start: self.start.clone() };
        resumed.read_until(newest, what);
        let expected: std::collections::BTreeMap<Uuid, i64> = board.iter().copied().collect();
        assert_eq!(resumed.scores, expected, "{what}: resumed from {since}");
        let on_board = |names: &std::collections::BTreeMap<Uuid, Value>| {
            names
                .iter()
                .filter(|(user, _)| expected.contains_key(user))
                .map(|(u, n)| (*u, n.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(on_board(&resumed.names), on_board(&self.names), "{what}: the names resumed from {since}");
    }

    /// Reads frames until the socket has seen `seq`, or the `finished` frame once every change before it is in (a
    /// socket opened on final standings gets `finished` right after its snapshot, then a resume's replay).
    pub fn read_until(&mut self, seq: u64, what: &str) {
        while self.last < seq && self.finished.as_ref().is_none_or(|f| f["seq"].as_u64() > Some(self.last)) {
            let frame = next_json(&mut self.socket);
            let kind = frame["type"].as_str().unwrap_or_default();
            if kind == "finished" {
                self.finished = Some(frame);
                continue;
            }
            let seq = frame["seq"].as_u64().expect("seq");
            match kind {
                // A resume from further back than the object keeps: the board as of now.
                "snapshot" => {
                    let entries = frame["entries"].as_array().expect("entries");
                    assert_eq!(frame["total"], serde_json::json!(entries.len()), "{what}: the whole board: {frame}");
                    (self.scores, self.names) = board_of_entries(entries);
                    self.last = seq;
                }
                "update" | "updates" => {
                    for update in updates_in(&frame) {
                        let at = update["seq"].as_u64().expect("seq");
                        assert_eq!(at, self.last + 1, "{what}: every change, in order: {frame}");
                        self.last = at;
                        let score = update["score"].as_i64().expect("score");
                        self.scores.insert(user_of(&update), score);
                        self.names.insert(user_of(&update), update["display_name"].clone());
                        self.check_ranks(&update, score, what);
                    }
                }
                "removed" => {
                    assert_eq!(seq, self.last + 1, "{what}: every change, in order: {frame}");
                    self.last = seq;
                    assert!(self.scores.remove(&user_of(&frame)).is_some(), "{what}: removed off the board: {frame}");
                    assert_eq!(frame["total"], serde_json::json!(self.scores.len()), "{what}: the total: {frame}");
                }
                // An administrator's change of the competition names no member.
                "changed" => {
                    assert_eq!(seq, self.last + 1, "{what}: every change, in order: {frame}");
                    self.last = seq;
                }
                _ => panic!("{what}: unexpected frame {frame}"),
            }
        }
    }

    /// An update frame's ranks and total on the board as of its seq (the frames before it and itself, all applied):
    /// `display_rank` is 1 + the members strictly above (API.md, "Ranks for display"); `rank`, unique, falls among
    /// the members of the same score.
    fn check_ranks(&self, update: &Value, score: i64, what: &str) {
        let above = self.scores.values().filter(|s| **s > score).count() as u64;
        let level = self.scores.values().filter(|s| **s == score).count() as u64;
        assert_eq!(update["display_rank"].as_u64(), Some(above + 1), "{what}: display rank: {update}");
        let rank = update["rank"].as_u64().expect("rank");
        assert!((above + 1..=above + level).contains(&rank), "{what}: rank among its score's: {update}");
        assert_eq!(update["total"], serde_json::json!(self.scores.len()), "{what}: the total: {update}");
    }

    /// Reads up to the competition's newest change (a fresh socket's snapshot says which); the frames must add up to
    /// `board` (member and score pairs).
    pub fn check(&mut self, competition: &Uuid, reader: &Uuid, board: &[(Uuid, i64)], what: &str) {
        let (mut probe, _) = connect_live(competition, reader, true);
        let newest = next_json(&mut probe)["seq"].as_u64().expect("seq");
        self.read_until(newest, what);
        assert_eq!(self.scores, board.iter().copied().collect::<std::collections::BTreeMap<_, _>>(), "{what}");
    }
}

/// A live client that applies an update only when its seq follows the last one it applied (API.md's "in order"
/// lets it): the last seq, each user's last applied score, and how many updates it dropped.
struct OrderedClient {
    last: u64,
    scores: std::collections::BTreeMap<String, i64>,
    dropped: usize,
}

impl OrderedClient {
    fn read(&mut self, socket: &mut Socket) {
        for update in updates_in(&next_json(socket)) {
            let seq = update["seq"].as_u64().expect("seq");
            if seq == self.last + 1 {
                self.last = seq;
                let user = update["user_id"].as_str().unwrap_or_default().to_owned();
                self.scores.insert(user, update["score"].as_i64().unwrap_or(-1));
            } else {
                self.dropped += 1;
            }
        }
    }
}

/// While `writers` (members of `competition` at `base`) post rising scores, a socket joins mid-stream (its own
/// stream must have no gap), drops, and comes back with a resume: live updates may reach the new socket before the
/// resume is read, the replay repeats them, so a client applying only the next seq must reach the newest seq with
/// each writer's board score.
pub fn join_and_resume_while_writers_post(base: &str, competition: &Uuid, writers: &[Uuid]) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = writers
        .iter()
        .map(|writer| {
            let (writer, stop, base, competition) = (*writer, Arc::clone(&stop), base.to_owned(), *competition);
            std::thread::spawn(move || {
                let mut score = 0;
                while !stop.load(Ordering::Relaxed) {
                    score += 1;
                    let body = serde_json::json!({"competition_id": competition, "score": score});
                    let reply = post_as(&base, "/api/v1/leaderboard/update", &writer, &body);
                    assert_eq!(reply.status, 200, "{:?}", reply.json);
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        })
        .collect();

    let watcher = Uuid::new_v4();
    let (mut socket, _) = connect_live_at(base, competition, &watcher, true);
    let snapshot = next_json(&mut socket);
    assert_eq!(snapshot["type"], "snapshot");
    let mut client =
        OrderedClient { last: snapshot["seq"].as_u64().unwrap_or(0), scores: Default::default(), dropped: 0 };
    let joined_at = client.last;
    while client.last < joined_at + 40 {
        client.read(&mut socket);
    }
    assert_eq!(client.dropped, 0, "a socket's own stream is in seq order without gaps");

    drop(socket);
    std::thread::sleep(Duration::from_millis(300));
    let (mut socket, _) = connect_live_at(base, competition, &watcher, true);
    assert_eq!(next_json(&mut socket)["type"], "snapshot");
    let resume = serde_json::json!({"type": "resume", "since": client.last}).to_string();
    socket.send(tungstenite::Message::Text(resume.into())).expect("resume");
    let resumed_at = client.last;
    while client.last < resumed_at + 40 {
        client.read(&mut socket);
    }
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().expect("writer");
    }

    // The newest seq, from a fresh snapshot: the resumed socket reaches it, and the last update it applied of each
    // writer is their score on the board.
    let (mut probe, _) = connect_live_at(base, competition, &Uuid::new_v4(), true);
    let newest = next_json(&mut probe)["seq"].as_u64().expect("seq");
    while client.last < newest {
        client.read(&mut socket);
    }
    for writer in writers {
        let board = get_as(base, &format!("/api/v1/leaderboard/{competition}/users/{writer}"), writer);
        assert_eq!(client.scores.get(&writer.to_string()).copied(), board.json["score"].as_i64(), "{writer}");
    }
}

/// `ws://…/api/v1/competitions/{competition}/live` of the shared Worker.
pub fn live_url(competition: &Uuid) -> String {
    format!("{}/api/v1/competitions/{competition}/live", base_url().replacen("http", "ws", 1))
}

/// Opens a live socket as `user` on the shared Worker, authenticating through the subprotocol (as browsers must) or
/// the Authorization header; reads time out after 10 s so a missing frame fails the test instead of hanging it.
pub fn connect_live(
    competition: &Uuid,
    user: &Uuid,
    via_subprotocol: bool,
) -> (Socket, tungstenite::handshake::client::Response) {
    connect_live_at(&base_url(), competition, user, via_subprotocol)
}

/// [`connect_live`] on the Worker serving at `base` (a test's own `WranglerDev`).
pub fn connect_live_at(
    base: &str,
    competition: &Uuid,
    user: &Uuid,
    via_subprotocol: bool,
) -> (Socket, tungstenite::handshake::client::Response) {
    use tungstenite::client::IntoClientRequest;
    let url = format!("{}/api/v1/competitions/{competition}/live", base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().expect("request");
    let token = user_token(user);
    let (name, value) = if via_subprotocol {
        ("Sec-WebSocket-Protocol", format!("bearer, {token}"))
    } else {
        ("Authorization", format!("Bearer {token}"))
    };
    request.headers_mut().insert(name, value.parse().expect("header"));
    let (socket, response) = tungstenite::connect(request).expect("upgrade");
    if let tungstenite::stream::MaybeTlsStream::Plain(stream) = socket.get_ref() {
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    }
    (socket, response)
}

/// A JWKS endpoint on a free port: serves the current document and counts fetches.
pub struct KeyServer {
    /// Where the document is served.
    pub url: String,
    document: std::sync::Arc<std::sync::Mutex<String>>,
    fetches: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// The `traceparent` header of the latest fetch.
    traceparent: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl KeyServer {
    /// Serves `document` until the test process ends.
    pub fn start(document: String) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url =
            format!("http://127.0.0.1:{}/auth/v1/.well-known/jwks.json", listener.local_addr().expect("addr").port());
        let document = std::sync::Arc::new(std::sync::Mutex::new(document));
        let fetches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let traceparent = std::sync::Arc::new(std::sync::Mutex::new(None));
        let (doc, count, seen) =
            (std::sync::Arc::clone(&document), std::sync::Arc::clone(&fetches), std::sync::Arc::clone(&traceparent));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = std::io::BufReader::new(&stream);
                let mut line = String::new();
                // Request line and headers; the body of a GET is empty.
                while std::io::BufRead::read_line(&mut reader, &mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    if let Some((name, value)) = line.split_once(':') {
                        if name.eq_ignore_ascii_case("traceparent") {
                            *seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(value.trim().to_owned());
                        }
                    }
                    line.clear();
                }
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let body = doc.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: public, max-age=600\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = std::io::Write::write_all(&mut &stream, reply.as_bytes());
            }
        });
        Self { url, document, fetches, traceparent }
    }

    /// Serves `document` from now on.
    pub fn publish(&self, document: String) {
        *self.document.lock().unwrap_or_else(|e| e.into_inner()) = document;
    }

    /// The `traceparent` of the latest fetch.
    pub fn last_traceparent(&self) -> Option<String> {
        self.traceparent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many times the document was fetched.
    pub fn fetches(&self) -> usize {
        self.fetches.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A fitness competition's score from its counted days under its `scoring` (API.md, "Competitions: how a score is
/// made"): the sum, the sum of days capped, the days at or above the goal, or the best day.
pub fn scored(scoring: &Value, days: &[i64]) -> i64 {
    let field = |name: &str| scoring[name].as_i64().expect("a rule's number");
    match scoring["mode"].as_str() {
        Some("total") => days.iter().sum(),
        Some("daily_capped") => days.iter().map(|d| (*d).min(field("cap"))).sum(),
        Some("goal_days") => days.iter().filter(|d| **d >= field("goal")).count() as i64,
        Some("best_day") => days.iter().copied().max().unwrap_or(0),
        other => panic!("unknown mode {other:?}"),
    }
}

/// `user`'s `GET /api/v1/me/competitions` entries by competition id.
pub fn my_competitions(user: &Uuid) -> std::collections::BTreeMap<String, Value> {
    let reply = send(
        "GET",
        &format!("{}/api/v1/me/competitions", base_url()),
        &[("Authorization", &format!("Bearer {}", user_token(user)))],
        None,
    );
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    let entries = reply.json["competitions"].as_array().expect("competitions").iter();
    entries.map(|c| (c["competition"]["id"].as_str().unwrap_or_default().to_owned(), c.clone())).collect()
}
