#!/usr/bin/env bash
# `make soak`: a bounded mixed load on the local stack (see bench/src/bin/knotie-soak.rs),
# ending with its invariants; exits non-zero if any fails. SOAK_SECONDS (180) and
# SOAK_CLIENTS (32) size it; SOAK_SMOKE=1 runs a short one on a debug build, for CI.
source "$(dirname "$0")/lib.sh"

ensure_dynamodb_local
if [ "${SOAK_SMOKE:-0}" = 1 ]; then
  profile=dev; dir=debug
  export SOAK_SECONDS="${SOAK_SECONDS:-20}"
else
  profile=release; dir=release
  export OUT_DIR="${OUT_DIR:-$ROOT/bench}"
fi
say "building the server and the load ($profile)"
if [ "${SOAK_SMOKE:-0}" = 1 ]; then
  build_workspace_debug
else
  cargo build --quiet --profile "$profile" -p knotie-bench
fi
DYNAMODB_PORT="$(free_port)"; start_dynamodb_local "$DYNAMODB_PORT"
export DYNAMODB_ENDPOINT="http://127.0.0.1:$DYNAMODB_PORT" TABLE_NAME="knotie-soak"
# The load's clients share tokens and call far faster than a person's assistant: the soak
# measures the service, so the limiter counts every call but is set not to refuse any.
export MCP_RATE_LIMIT_PER_MINUTE=1000000000
export RUST_SERVER="$ROOT/target/$dir/knotie-bench-server"
say "soaking"
"$ROOT/target/$dir/knotie-soak"
