# Sourced by the scripts: the environment that keeps builds and wrangler offline (../shared/TOOLCHAIN.md).
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

# The version Cargo.lock resolves for a crate (the one source of truth for tool versions that must match it).
lock_version() {
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

log() { printf '\033[1m[%s]\033[0m %s\n' "$(basename "$0")" "$*" >&2; }
