#!/usr/bin/env bash
# `make test`: unit tests, and integration tests against DynamoDB Local and moto's
# Secrets Manager, each started here on a free loopback port and stopped at exit.
source "$(dirname "$0")/lib.sh"

ensure_dynamodb_local
ensure_moto
ensure_mcp_clients
ensure_chromium
build_web
check_template
say "building"
build_workspace_debug
DYNAMODB_PORT="$(free_port)"; start_dynamodb_local "$DYNAMODB_PORT"
MOTO_PORT="$(free_port)"; start_moto "$MOTO_PORT"
export KNOTIE_TEST_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT"
export KNOTIE_TEST_SECRETS="http://127.0.0.1:$MOTO_PORT"
export KNOTIE_LOCAL_BIN="$ROOT/target/debug/knotie-local"
export KNOTIE_BIN_DIR="${KNOTIE_BIN_DIR:-$ROOT/target/debug}"
export KNOTIE_PYTHON="$LOCAL/venv/bin/python"
export KNOTIE_CLIENTS="$ROOT/tests/clients"
export KNOTIE_WEB_DIR="$ROOT/web/dist"
say "running tests"
mkdir -p "$LOCAL/logs"
cargo test --workspace "$@" 2>&1 | tee "$LOCAL/logs/test.log"
if [ $# -eq 0 ]; then
  say "running the Settings page's browser tests (headless Chromium)"
  (cd "$ROOT/web" && node --test --test-reporter=spec tests/) 2>&1 | tee -a "$LOCAL/logs/test.log"
fi
# One closing line for the whole run (cargo prints one per test binary, node its own).
awk '/^test result:/ { p += $4; f += $6 } /^ℹ pass / { p += $3 } /^ℹ fail / { f += $3 }
     END { printf "%d passed, %d failed\n", p, f }' "$LOCAL/logs/test.log"
