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
export WRANGLER_LOG_PATH="$ROOT/.local/wrangler-logs"
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
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits until $1/health/live answers 200 while process $2 lives; prints log file $3 and fails otherwise.
wait_live() {
  local url="$1" pid="$2" logfile="$3" i
  for i in $(seq 180); do
    curl -fsS "$url/health/live" >/dev/null 2>&1 && return 0
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.5
  done
  cat "$logfile" >&2
  log "wrangler dev at $url did not come up"
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
  PG_PORT="$(free_port)" REDIS_PORT="$(free_port)" POSTGREST_PORT="$(free_port)" UPSTASH_PORT="$(free_port)" \
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
  local dir="$1" port
  mkdir -p "$dir"
  if [[ -n "${PRIVATE_STACK_VARS:-}" ]]; then
    cp "$PRIVATE_STACK_VARS" "$dir/worker.vars"
  else
    cp "$ROOT/.dev.vars.example" "$dir/worker.vars"
  fi
  [[ -f "$ROOT/build/worker/shim.mjs" ]] || WORKER_BUILD_FAST=1 WORKER_TEST_ROUTES=1 "$ROOT/scripts/build-worker" >/dev/null 2>&1
  port="${PRIVATE_WORKER_PORT:-$(free_port)}"
  PRIVATE_WORKER_PORT="$port"
  PORT="$port" INSPECTOR_PORT="$(free_port)" PERSIST_DIR="$dir/state" WORKER_VARS_FILE="$dir/worker.vars" \
    WORKER_BUILD_SKIP=1 WRANGLER_LOG_LEVEL=warn setsid "$ROOT/scripts/worker-dev" > "$dir/wrangler.log" 2>&1 &
  PRIVATE_WORKER_PGID=$!
  PRIVATE_WORKER_URL="http://127.0.0.1:$port"
  wait_live "$PRIVATE_WORKER_URL" "$PRIVATE_WORKER_PGID" "$dir/wrangler.log"
}

private_worker_stop() {
  if [[ -n "${PRIVATE_WORKER_PGID:-}" ]]; then
    kill -9 -- "-$PRIVATE_WORKER_PGID" 2>/dev/null || true
    wait "$PRIVATE_WORKER_PGID" 2>/dev/null || true
  fi
  PRIVATE_WORKER_PGID=""
}
