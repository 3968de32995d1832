#!/usr/bin/env bash
# `make dev`: DynamoDB Local, the demo accounts, and the management API on localhost.
source "$(dirname "$0")/lib.sh"

DYNAMODB_PORT="${DYNAMODB_PORT:-8000}"
ensure_dynamodb_local
build_web
say "building the local server"
cargo build --quiet -p knotie-local
start_dynamodb_local "$DYNAMODB_PORT"
export DYNAMODB_ENDPOINT="http://127.0.0.1:$DYNAMODB_PORT"
"$ROOT/target/debug/knotie-local" &
PIDS+=("$!")
# Ctrl-C reaches the whole foreground group; the EXIT trap stops what is left.
wait "$!"
