#!/usr/bin/env bash
# PutAuditEvents endpoint benchmark: `auditlake serve` on loopback, several clients sending
# 100-event requests on keep-alive connections, each waiting for its durable (committed,
# fsynced) answer. Prints requests/s, events/s and p50/p99 latency, the server's CPU time per
# request while under load (steadier than requests/s on a shared machine), then the stored count.
#
#   bash benches/serve.sh [CLIENTS] [SECONDS]      (defaults: 8 clients, 20 s)
#
# Builds auditlake and the load generator examples/serve_load.rs (release; PROFILE=debug for
# a debug build) unless AUDITLAKE_BIN and SERVE_LOAD_BIN name prebuilt ones. Events come
# from `auditlake sample`.
set -euo pipefail
cd "$(dirname "$0")/.."
clients="${1:-8}"
seconds="${2:-20}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/auditlake-target}"
profile="${PROFILE:-release}"
[ "$profile" = release ] || profile=debug
build=(--bin auditlake --example serve_load)
[ "$profile" = release ] && build+=(--release)
if [ -z "${AUDITLAKE_BIN:-}" ] || [ -z "${SERVE_LOAD_BIN:-}" ]; then
  cargo build --quiet "${build[@]}"
fi
bin="${AUDITLAKE_BIN:-$CARGO_TARGET_DIR/$profile/auditlake}"
load="${SERVE_LOAD_BIN:-$CARGO_TARGET_DIR/$profile/examples/serve_load}"
work="$(mktemp -d "${TMPDIR:-/tmp}/auditlake-serve-bench.XXXXXX")"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

store="$work/store"
al() { "$bin" --store "$store" "$@"; }
al init --account-id 123456789012 >/dev/null
eds_arn=$(al create-event-data-store --name bench-events | sed -n 's/.*"EventDataStoreArn": *"\([^"]*\)".*/\1/p')
channel=$(al create-channel --name bench-channel --source Custom \
  --destinations "Type=EVENT_DATA_STORE,Location=$eds_arn" | sed -n 's/.*"ChannelArn": *"\([^"]*\)".*/\1/p')
al sample --events $((clients * 2000)) --out "$work/events.ndjson"

export AWS_ACCESS_KEY_ID=AKIABENCHMARK AWS_SECRET_ACCESS_KEY=bench-secret
"$bin" --store "$store" serve --listen 127.0.0.1:0 2>"$work/serve.log" &
server=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/serve.log" && break
  sleep 0.1
done
url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/serve.log")
echo "auditlake serve at $url ($profile build, $(nproc) cores), $clients clients for ${seconds} s"

ticks() { awk '{print $14 + $15}' "/proc/$server/stat" 2>/dev/null || echo 0; }
before=$(ticks)
"$load" --url "$url" --channel-arn "$channel" --events "$work/events.ndjson" \
  --clients "$clients" --seconds "$seconds" --batch 100 | tee "$work/load.txt"
# The server's CPU time (user + system) while under load, from /proc where there is one:
# what a request costs, steadier on a shared machine than requests per second.
after=$(ticks)
requests=$(sed -n 's/.* requests \([0-9]*\) .*/\1/p' "$work/load.txt")
if [ "$after" -gt 0 ] && [ "${requests:-0}" -gt 0 ]; then
  awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
    'BEGIN { printf "server CPU under load: %.1f s, %.2f ms per request\n", t / hz, 1000 * t / hz / n }'
fi

kill -TERM "$server"
wait "$server"
server=""
grep -E "stopped|compacted|merged|failed|skipped" "$work/serve.log" | cut -c1-300 || true
eds_id="${eds_arn##*/}"
echo "stored: $(al query --format csv "SELECT count(*) AS n FROM $eds_id" | tail -1) events in" \
  "$(ls "$store/data/"*/ | grep -c parquet) Parquet files"
