#!/usr/bin/env bash
# `make build`: the seven Lambda bootstraps, release, arm64 (provided.al2023), with
# cargo-lambda (zig cross-links), and their sizes.
source "$(dirname "$0")/lib.sh"

ensure_deploy_tools
say "building release arm64 bootstraps (LTO, one codegen unit: several minutes)"
# Three builds, as sam build does one per function: features unify within a build, and the
# management functions must link neither the MCP stack nor the HTTPS client that the leak
# routes and the consent API read documents with.
cargo lambda build --release --arm64 --bin generate --bin list --bin revoke --bin policy
cargo lambda build --release --arm64 --bin mcp
cargo lambda build --release --arm64 --bin leaks --bin consent
limit=$((8 * 1024 * 1024))
for f in generate list revoke policy consent mcp leaks; do
  bootstrap="$ROOT/target/lambda/$f/bootstrap"
  size=$(stat -c %s "$bootstrap")
  awk -v f="$f" -v s="$size" -v p="$bootstrap" 'BEGIN { printf "%-9s %6.2f MB  %s\n", f, s / 1048576, p }'
  [ "$size" -lt "$limit" ] || die "$f is over 8 MB"
done
