#!/usr/bin/env bash
# `make bench`: the Rust MCP endpoint against its Node.js peer on loopback, against the
# same DynamoDB Local (see bench/src/main.rs), then the Criterion benchmark of the auth
# hot path. BENCH_SMOKE=1 runs a few iterations of everything on debug builds, for CI.
# PEER=<another build's knotie-bench-server> takes the Node.js peer's place: two builds of
# this server compared in one run (results in a temporary directory, not bench/).
source "$(dirname "$0")/lib.sh"

ensure_dynamodb_local
ensure_moto
ensure_npm
if [ ! -d "$ROOT/bench/peers/node/node_modules/@modelcontextprotocol" ]; then
  say "installing the Node.js peer (npm ci)"
  (cd "$ROOT/bench/peers/node" && npm ci --silent --no-audit --no-fund >/dev/null)
fi

if [ "${BENCH_SMOKE:-0}" = 1 ]; then
  profile=dev; dir=debug
  export COLD_STARTS=2 WARM_CALLS=60 FLOOR_WARMUP=50 OUT_DIR="${OUT_DIR:-$(mktemp -d)}"
else
  profile=release; dir=release
  # A comparison of two builds is not this build's result: it does not replace bench/'s.
  if [ -n "${PEER:-}" ]; then default_out="$(mktemp -d)"; else default_out="$ROOT/bench"; fi
  export OUT_DIR="${OUT_DIR:-$default_out}"
fi
say "building the mcp bootstrap, the Rust server and the harness ($profile)"
if [ "${BENCH_SMOKE:-0}" = 1 ]; then
  build_workspace_debug
else
  # The bootstrap alone, as `sam build` builds it: features unify within one build, and
  # the harness's would add the local stack's to the measured binary.
  cargo build --quiet --profile "$profile" -p mcp
  cargo build --quiet --profile "$profile" -p knotie-bench
fi

DYNAMODB_PORT="$(free_port)"; start_dynamodb_local "$DYNAMODB_PORT"
MOTO_PORT="$(free_port)"; start_moto "$MOTO_PORT"
export DYNAMODB_ENDPOINT="http://127.0.0.1:$DYNAMODB_PORT" TABLE_NAME="knotie-bench"
export SECRETS_ENDPOINT="http://127.0.0.1:$MOTO_PORT" MCP_BOOTSTRAP="$ROOT/target/$dir/mcp"
export RUST_SERVER="$ROOT/target/$dir/knotie-bench-server" NODE_PEER="${PEER:-$ROOT/bench/peers/node/server.mjs}"
# The other build's bootstrap, beside its server, for the cold starts.
if [ -n "${PEER:-}" ] && [ -x "$(dirname "$PEER")/mcp" ]; then export PEER_BOOTSTRAP="$(dirname "$PEER")/mcp"; fi
say "measuring (results in $OUT_DIR)"
"$ROOT/target/$dir/knotie-bench"

if [ "${BENCH_SMOKE:-0}" = 1 ]; then
  say "auth hot path: each Criterion benchmark once"
  cargo test --quiet --workspace --bench auth
else
  say "auth hot path (Criterion)"
  cargo bench -p knotie --bench auth
fi
