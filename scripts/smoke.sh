#!/usr/bin/env bash
# `make smoke MCP_URL=… TOKEN=… [API_URL=… [SESSION_JWT=…] | REVOKED_TOKEN=…]`: a stack
# checked after a deploy with the official Python MCP SDK (tests/clients/smoke.py); exits
# non-zero if a step fails.
source "$(dirname "$0")/lib.sh"

[ -n "${MCP_URL:-}" ] && [ -n "${TOKEN:-}" ] \
  || die "usage: make smoke MCP_URL=https://…/mcp TOKEN=kmcp_… [API_URL=… [SESSION_JWT=…] | REVOKED_TOKEN=kmcp_…]"
ensure_mcp_clients
"$LOCAL/venv/bin/python" "$ROOT/tests/clients/smoke.py"
