#!/usr/bin/env bash
# `make sam-local`: DynamoDB Local and moto's Secrets Manager where `sam local` containers
# reach them (host.docker.internal, at the ports local/sam-env.json names), the table with
# the demo data and the pepper secret that file names; then the sam commands to run, and
# wait (Ctrl-C stops both).
source "$(dirname "$0")/lib.sh"

ENV_FILE="$ROOT/local/sam-env.json"
# The file is the one place the ports and names are written; every function uses the same.
setting() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["GenerateFunction"][sys.argv[2]])' "$ENV_FILE" "$1"
}
DYNAMODB_PORT="$(setting AWS_ENDPOINT_URL_DYNAMODB)"; DYNAMODB_PORT="${DYNAMODB_PORT##*:}"
MOTO_PORT="$(setting AWS_ENDPOINT_URL_SECRETS_MANAGER)"; MOTO_PORT="${MOTO_PORT##*:}"
TABLE="$(setting TABLE_NAME)"
SECRET="$(setting PEPPER_SECRET_ID)"

for port in "$DYNAMODB_PORT" "$MOTO_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is taken (an earlier make sam-local?): stop it, or change the port in local/sam-env.json"
  fi
done

ensure_dynamodb_local
ensure_moto
say "building the local server (it creates the table and the demo data)"
cargo build --quiet -p knotie-local
mkdir -p "$LOCAL/logs" "$LOCAL/sam-local"

# -sharedDb: one database whatever the credentials and region, since sam local passes the
# functions your AWS profile's (or placeholder) credentials, not the seed's.
say "starting DynamoDB Local on *:$DYNAMODB_PORT (-sharedDb)"
(cd "$LOCAL/dynamodb" && exec java -Xmx512m -Djava.library.path=./DynamoDBLocal_lib \
  -jar DynamoDBLocal.jar -inMemory -sharedDb -port "$DYNAMODB_PORT") >"$LOCAL/logs/sam-dynamodb.log" 2>&1 &
PIDS+=("$!")
wait_for_port "$DYNAMODB_PORT" "DynamoDB Local"
# On Linux a container reaches the host through Docker's bridge, not its loopback, so
# both listen on every interface (DynamoDB Local always does); they hold only demo data
# and this run's pepper.
say "starting moto (Secrets Manager) on *:$MOTO_PORT"
"$LOCAL/venv/bin/moto_server" -H 0.0.0.0 -p "$MOTO_PORT" >"$LOCAL/logs/sam-moto.log" 2>&1 &
PIDS+=("$!")
wait_for_port "$MOTO_PORT" "moto_server"

# A pepper for this run only, in moto under the file's PEPPER_SECRET_ID (in us-east-1:
# moto keeps secrets per region, hence --region us-east-1 below), and given to the local
# server too, so that the token it makes is one the functions recognize.
PEPPER="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
PEPPER="$PEPPER" "$LOCAL/venv/bin/python" - "http://127.0.0.1:$MOTO_PORT" "$SECRET" <<'EOF'
import os, sys
import boto3
url, name = sys.argv[1:]
boto3.client("secretsmanager", endpoint_url=url, region_name="us-east-1",
             aws_access_key_id="local", aws_secret_access_key="local") \
    .create_secret(Name=name, SecretString=os.environ["PEPPER"])
EOF

say "creating table $TABLE with the demo data, and a token for acct_demo"
SEED_PORT="$(free_port)"
DYNAMODB_ENDPOINT="http://127.0.0.1:$DYNAMODB_PORT" TABLE_NAME="$TABLE" DEV_PEPPER="$PEPPER" PORT="$SEED_PORT" \
  "$ROOT/target/debug/knotie-local" >/dev/null 2>"$LOCAL/logs/sam-seed.log" &
seed=$!
PIDS+=("$seed")
wait_for_port "$SEED_PORT" "the local server"
# The token goes into a copy of the MCP sample event, not onto the screen.
curl -sf -X POST "http://127.0.0.1:$SEED_PORT/mcp-tokens" -H 'content-type: application/json' \
  -d '{"name": "sam local"}' | python3 -c '
import json, sys
token = json.load(sys.stdin)["token"]
event = json.load(open(sys.argv[1]))
event["headers"]["authorization"] = "Bearer " + token
json.dump(event, open(sys.argv[2], "w"), indent=2)
print("kmcp_…" + token[-4:])' "$ROOT/events/mcp-tools-list.json" "$LOCAL/sam-local/mcp-tools-list.json" >"$LOCAL/sam-local/hint" \
  || die "the local server made no token (see $LOCAL/logs/sam-seed.log)"
kill "$seed"; wait "$seed" 2>/dev/null || true
unset 'PIDS[-1]'

flags="--env-vars local/sam-env.json --region us-east-1"
# Docker Engine on Linux has no host.docker.internal of its own; host-gateway is the host.
[ "$(uname -s)" = Linux ] && flags="$flags --add-host host.docker.internal:host-gateway"
cat <<EOF

sam local against DynamoDB Local (:$DYNAMODB_PORT, table $TABLE: acct_demo's demo data)
and moto (:$MOTO_PORT, secret $SECRET). In another terminal, at the repository root
(Docker, SAM CLI and cargo-lambda; \`make test\` installs the last two in .local/deploy-venv/bin):

  sam build
  sam local invoke ListFunction     $flags -e events/list.json
  sam local invoke GenerateFunction $flags -e events/generate.json
  sam local invoke PolicyFunction   $flags -e events/policy-get.json
  sam local invoke RevokeFunction   $flags -e events/revoke.json
  sam local invoke LeaksFunction    $flags -e events/credentials-revoke.json
  # tools/list with a token for acct_demo ($(cat "$LOCAL/sam-local/hint")), made just now:
  sam local invoke McpFunction      $flags -e .local/sam-local/mcp-tools-list.json
  # the HTTP API on 127.0.0.1:3000:
  sam local start-api $flags

The sample events carry the JWT claims API Gateway's authorizer would add. sam local
start-api runs no JWT authorizer (SAM CLI emulates only Lambda authorizers), so there the
/mcp-tokens routes answer 401 and only the public leak routes work; the MCP endpoint is a
function URL, which start-api does not serve.

Ctrl-C stops DynamoDB Local and moto.
EOF
wait "${PIDS[0]}"
