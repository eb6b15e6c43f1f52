# Sourced by the scripts: the environment that keeps builds and wrangler offline (docs/TOOLCHAIN.md).
# Paths are absolute so wrangler's [build] command and tests see the same tools from any directory.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
export ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$ROOT/node_modules/binaryen/bin/wasm-opt"
export CLOUDFLARE_CF_FETCH_ENABLED=false
export WRANGLER_SEND_METRICS=false
export WRANGLER_LOG_PATH="${WRANGLER_LOG_PATH:-$ROOT/.local/wrangler-logs}"
export PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
# The workerd that wrangler pins, run directly by scripts/workerd-serve and scripts/bench-fanout.
WORKERD_BIN="$ROOT/node_modules/@cloudflare/workerd-linux-64/bin/workerd"

# The Worker's compatibility date, as wrangler.toml sets it (for workerd configs written by the scripts).
compatibility_date() { sed -n 's/^compatibility_date = "\(.*\)"/\1/p' "$ROOT/wrangler.toml"; }

# The version Cargo.lock resolves for a crate (the one source of truth for tool versions that must match it).
lock_version() {
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

log() { printf '\033[1m[%s]\033[0m %s\n' "$(basename "$0")" "$*" >&2; }

# A TCP port nobody listens on right now.
free_port() { free_ports 1; }

# $1 distinct TCP ports nobody listens on right now, on one line. Taken together: two ports picked one after the other
# are the same one about once in 5 000 pairs (the kernel may hand out a port just released again).
free_ports() {
  python3 -c 'import socket, sys
held = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in held: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))' "$1"
}

# Whether $1/health/live answers 200 within 90 s while process $2 lives.
came_up() {
  local url="$1" pid="$2" i
  for i in $(seq 180); do
    curl -fsS "$url/health/live" >/dev/null 2>&1 && return 0
    if ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.5
  done
  return 1
}

# Waits until $1/health/live answers 200 while process $2 lives; prints log file $3 and fails otherwise.
wait_live() {
  came_up "$1" "$2" && return 0
  cat "$3" >&2
  log "wrangler dev at $1 did not come up"
  return 1
}

# Starts scripts/worker-dev (settings from the caller's environment) in its own process group on a free port,
# writing its output to $1 and its process group to $2, and waits until it serves; sets WORKER_PORT.
# Ports are picked free and released before wrangler and workerd bind them (theirs too), so another process may take
# one first and the runtime then fails to start: such a start is tried again on new ports, three times in all. A
# failed try prints what wrangler said and the end of its own log file, where the runtime's reason is.
start_worker_dev() {
  local logfile="$1" pgid_file="$2" attempt port inspector_port pgid logs newest
  for attempt in 1 2 3; do
    read -r port inspector_port < <(free_ports 2)
    # Its own folder of wrangler's log files: another wrangler dev (scripts/dev) may be writing the shared one.
    logs="$logfile.wrangler-logs.$attempt"
    PORT="$port" INSPECTOR_PORT="$inspector_port" WRANGLER_LOG_PATH="$logs" \
      setsid "$ROOT/scripts/worker-dev" > "$logfile" 2>&1 &
    pgid=$!
    echo "$pgid" > "$pgid_file"
    if came_up "http://127.0.0.1:$port" "$pgid"; then
      WORKER_PORT="$port"
      return 0
    fi
    kill -KILL -- "-$pgid" 2>/dev/null || true
    wait "$pgid" 2>/dev/null || true
    cat "$logfile" >&2
    newest="$(ls -t "$logs"/*.log 2>/dev/null | head -n 1 || true)"
    if [[ -n "$newest" ]]; then
      log "the end of $newest:"
      tail -n 40 "$newest" >&2
    fi
    log "wrangler dev on port $port did not come up (try $attempt of 3)"
  done
  return 1
}

# CPU time (user + system) process $1 has used, in nanoseconds.
cpu_ns() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f", ($14 + $15) * 1000000000 / hz }' "/proc/$1/stat"; }

# A private local stack (Postgres, Redis, both gateways) on free ports under $1, for benchmarks. Sets
# PRIVATE_STACK_DIR and PRIVATE_STACK_VARS (the Worker settings pointing at it, test routes on); stop it with
# private_stack_stop (also safe to call twice).
private_stack_start() {
  local dir="$1"
  mkdir -p "$dir"
  PRIVATE_STACK_DIR="$dir/stack"
  local ports
  read -r -a ports < <(free_ports 4)
  PG_PORT="${ports[0]}" REDIS_PORT="${ports[1]}" POSTGREST_PORT="${ports[2]}" UPSTASH_PORT="${ports[3]}" \
    STACK_DIR="$PRIVATE_STACK_DIR" "$ROOT/scripts/stack" start >/dev/null
  # shellcheck disable=SC1091
  source "$PRIVATE_STACK_DIR/ports.env"
  PRIVATE_STACK_VARS="$dir/worker.vars"
  sed -e "s|^SUPABASE_URL=.*|SUPABASE_URL=http://127.0.0.1:$POSTGREST_PORT|" \
      -e "s|^UPSTASH_REDIS_REST_URL=.*|UPSTASH_REDIS_REST_URL=http://127.0.0.1:$UPSTASH_PORT|" \
      "$ROOT/.dev.vars.example" > "$PRIVATE_STACK_VARS"
}

private_stack_stop() {
  if [[ -n "${PRIVATE_STACK_DIR:-}" ]]; then
    STACK_DIR="$PRIVATE_STACK_DIR" "$ROOT/scripts/stack" wipe >/dev/null 2>&1 || true
  fi
  PRIVATE_STACK_DIR=""
}

# A private `wrangler dev` for benchmarks: test routes on, its own state under $1, a free port; it uses the private
# stack's settings when private_stack_start ran, else .dev.vars.example.
# Sets PRIVATE_WORKER_URL and PRIVATE_WORKER_PGID; stop it with private_worker_stop (also safe to call twice).
private_worker_start() {
  local dir="$1"
  mkdir -p "$dir"
  if [[ -n "${PRIVATE_STACK_VARS:-}" ]]; then
    cp "$PRIVATE_STACK_VARS" "$dir/worker.vars"
  else
    cp "$ROOT/.dev.vars.example" "$dir/worker.vars"
  fi
  [[ -f "$ROOT/build/worker/shim.mjs" ]] || WORKER_BUILD_FAST=1 WORKER_TEST_ROUTES=1 "$ROOT/scripts/build-worker" >/dev/null 2>&1
  PERSIST_DIR="$dir/state" WORKER_VARS_FILE="$dir/worker.vars" WORKER_BUILD_SKIP=1 WRANGLER_LOG_LEVEL=${WRANGLER_LOG_LEVEL:-warn} \
    start_worker_dev "$dir/wrangler.log" "$dir/wrangler.pgid"
  PRIVATE_WORKER_PGID="$(cat "$dir/wrangler.pgid")"
  PRIVATE_WORKER_URL="http://127.0.0.1:$WORKER_PORT"
}

private_worker_stop() {
  if [[ -n "${PRIVATE_WORKER_PGID:-}" ]]; then
    kill -9 -- "-$PRIVATE_WORKER_PGID" 2>/dev/null || true
    wait "$PRIVATE_WORKER_PGID" 2>/dev/null || true
  fi
  PRIVATE_WORKER_PGID=""
}
