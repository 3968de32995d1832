.PHONY: dev test lint build bench soak smoke sam-local
# Run the service locally: DynamoDB Local, demo accounts, the API on 127.0.0.1:3000.
dev:
	@bash scripts/dev.sh
# The whole test suite, with its local dependencies started and stopped.
test:
	@bash scripts/test.sh
# Formatting and lints, as CI checks them.
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
# Release arm64 bootstraps for Lambda (cargo-lambda), with their sizes.
build:
	@bash scripts/build.sh
# Rust vs the Node.js peer, measured side by side: writes bench/results.json and RESULTS.md.
bench:
	@bash scripts/bench.sh
# A bounded mixed load (32 clients, 3 minutes) on the local stack, then its invariants.
soak:
	@bash scripts/soak.sh
# A deployed stack checked with a real MCP client: make smoke MCP_URL=… TOKEN=… [API_URL=… [SESSION_JWT=…] | REVOKED_TOKEN=…]
smoke:
	@bash scripts/smoke.sh
# DynamoDB Local and moto for `sam local` (local/sam-env.json), with the demo data; prints the sam commands.
sam-local:
	@bash scripts/sam-local.sh
