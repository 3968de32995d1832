#!/usr/bin/env bash
# `make test`: unit tests, and integration tests against DynamoDB Local and moto's
# Secrets Manager, each started here on a free loopback port and stopped at exit.
source "$(dirname "$0")/lib.sh"

ensure_dynamodb_local
ensure_moto
ensure_mcp_clients
check_template
say "building"
cargo build --quiet --workspace --all-targets
DYNAMODB_PORT="$(free_port)"; start_dynamodb_local "$DYNAMODB_PORT"
MOTO_PORT="$(free_port)"; start_moto "$MOTO_PORT"
export KNOTIE_TEST_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT"
export KNOTIE_TEST_SECRETS="http://127.0.0.1:$MOTO_PORT"
export KNOTIE_LOCAL_BIN="$ROOT/target/debug/knotie-local"
export KNOTIE_BIN_DIR="${KNOTIE_BIN_DIR:-$ROOT/target/debug}"
export KNOTIE_PYTHON="$LOCAL/venv/bin/python"
export KNOTIE_CLIENTS="$ROOT/tests/clients"
say "running tests"
mkdir -p "$LOCAL/logs"
cargo test --workspace "$@" 2>&1 | tee "$LOCAL/logs/test.log"
# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { p += $4; f += $6 } END { printf "%d passed, %d failed\n", p, f }' "$LOCAL/logs/test.log"
