#!/usr/bin/env bash
# Store commit benchmark: what one commit of N events costs (file, encoding and ZSTD,
# fsyncs, manifest), with each row group's columns encoded on one thread and on one per
# core. `auditlake serve` makes one such commit per group of requests.
#
#   bash benches/commit.sh [REPEAT]      (default 40 commits per size)
#
# Builds examples/commit_cost.rs in release unless COMMIT_COST_BIN names a prebuilt one.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat="${1:-40}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/auditlake-target}"
if [ -z "${COMMIT_COST_BIN:-}" ]; then
  cargo build --quiet --release --example commit_cost
fi
bin="${COMMIT_COST_BIN:-$CARGO_TARGET_DIR/release/examples/commit_cost}"
echo "one thread per row group:"
"$bin" --repeat "$repeat" --threads 1
echo "one thread per core ($(nproc)), as the store writes:"
"$bin" --repeat "$repeat"
