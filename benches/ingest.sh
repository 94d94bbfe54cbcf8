#!/usr/bin/env bash
# Ingest benchmark: auditlake ingest vs DuckDB's read_json_auto -> Parquet, same file, same run.
#
#   bash benches/ingest.sh [EVENTS]        (default 1000000, about 680 MB of NDJSON)
#
# Needs a release build (built here if missing) and the duckdb Python package
# (`pip install duckdb`). Prints each side's wall time, events/s and peak memory (max RSS),
# and the ratio. Timings vary on a shared machine: compare the ratio within one run.
set -euo pipefail
cd "$(dirname "$0")/.."
events="${1:-1000000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/auditlake-target}"
# AUDITLAKE_BIN names a prebuilt binary; otherwise the release build is made here.
[ -n "${AUDITLAKE_BIN:-}" ] || cargo build --release --quiet
bin="${AUDITLAKE_BIN:-$CARGO_TARGET_DIR/release/auditlake}"
work="$(mktemp -d "${TMPDIR:-/tmp}/auditlake-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

input="$work/events.ndjson"
"$bin" sample --events "$events" --seed 7 --out "$input"
size_mb=$(( $(stat -c %s "$input") / 1000000 ))
echo "input: $events events, $size_mb MB of NDJSON"

# Time a command: prints "seconds max_rss_kb".
measure() {
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" > "$work/out" 2> "$work/err" || {
    cat "$work/err" >&2; exit 1; }
  cat "$work/time"
}

store="$work/store"
"$bin" --store "$store" init > /dev/null
eds_arn=$("$bin" --store "$store" create-event-data-store --name bench \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["EventDataStoreArn"])')
channel=$("$bin" --store "$store" create-channel --name bench --source Custom \
  --destinations "Type=EVENT_DATA_STORE,Location=$eds_arn" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["ChannelArn"])')

read -r al_s al_kb < <(measure "$bin" --store "$store" ingest --json --channel-arn "$channel" "$input")
accepted=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accepted"])' "$work/out")
if [ "$accepted" != "$events" ]; then echo "auditlake accepted $accepted of $events" >&2; exit 1; fi

read -r dd_s dd_kb < <(measure python3 -c "
import duckdb, sys
duckdb.sql(\"COPY (SELECT * FROM read_json_auto('$input')) TO '$work/duckdb.parquet' (FORMAT parquet, COMPRESSION zstd)\")
")

python3 - "$events" "$al_s" "$al_kb" "$dd_s" "$dd_kb" <<'PY'
import sys
n, al_s, al_kb, dd_s, dd_kb = int(sys.argv[1]), *map(float, sys.argv[2:])
print(f"auditlake ingest : {al_s:7.2f} s  {n / al_s:10,.0f} events/s  peak RSS {al_kb / 1024:6.0f} MB")
print(f"duckdb COPY      : {dd_s:7.2f} s  {n / dd_s:10,.0f} events/s  peak RSS {dd_kb / 1024:6.0f} MB")
print(f"ratio (duckdb time / auditlake time): {dd_s / al_s:.2f}x")
PY
