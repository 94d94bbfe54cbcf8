#!/usr/bin/env bash
# Replay benchmark: 100,000 sample events replayed with `auditlake replay` (the real AWS SDK)
# to a local `auditlake serve`, then a --max-rps run.
#
#   bash benches/replay.sh [EVENTS] [CONCURRENCY]     (defaults 100000 and 8)
#
# Uses AUDITLAKE_BIN, else the shared target dir's release binary (built if missing; set
# PROFILE=debug to use the debug one). Prints batch fill, events/s without a rate limit
# (target >= 20,000/s), and the requests/s achieved with --max-rps 100 (target within 5%).
set -euo pipefail
cd "$(dirname "$0")/.."
events="${1:-100000}"
concurrency="${2:-8}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/auditlake-target}"
profile="${PROFILE:-release}"
bin="${AUDITLAKE_BIN:-$CARGO_TARGET_DIR/$profile/auditlake}"
if [ ! -x "$bin" ]; then
  if [ "$profile" = release ]; then cargo build --release --quiet; else cargo build --quiet; fi
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/auditlake-replay-bench.XXXXXX")"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# Credentials and region from the environment only: nothing leaves the machine.
export AWS_ACCESS_KEY_ID=AKIAAUDITLAKEBENCH AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE="$work/none" AWS_SHARED_CREDENTIALS_FILE="$work/none"
unset AWS_PROFILE AWS_SESSION_TOKEN AUDITLAKE_STORE

field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

make_store() { # DIR -> prints the channel ARN
  "$bin" --store "$1" init --account-id 123456789012 >/dev/null
  local eds
  eds=$("$bin" --store "$1" create-event-data-store --name events | field '["EventDataStoreArn"]')
  "$bin" --store "$1" create-channel --name bench-channel --source Custom \
    --destinations "Type=EVENT_DATA_STORE,Location=$eds" | field '["ChannelArn"]'
}

src="$work/source" dst="$work/target"
src_channel=$(make_store "$src")
dst_channel=$(make_store "$dst")
"$bin" sample --events "$events" --out "$work/events.ndjson"
"$bin" --store "$src" ingest --channel-arn "$src_channel" "$work/events.ndjson" >/dev/null

"$bin" --store "$dst" serve --listen 127.0.0.1:0 2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 1 200); do
  grep -q "listening on" "$work/serve.log" 2>/dev/null && break
  sleep 0.1
done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" | head -1)
[ -n "$url" ] || { cat "$work/serve.log"; exit 1; }

echo "binary: $bin ($profile); $events events; concurrency $concurrency; endpoint $url"
"$bin" --store "$src" replay --json --channel-arn "$dst_channel" --endpoint-url "$url" \
  --event-data-store events --concurrency "$concurrency" >"$work/full.json"
python3 - "$work/full.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
rate = s["sent"] / s["sending_seconds"]
print(f"full replay: sent {s['sent']} of {s['selected']} in {s['batches']} batches, "
      f"{s['requests']} requests; batch fill {100 * s['batched_events'] / (100 * s['batches']):.1f}%; "
      f"{s['sending_seconds']:.2f} s sending ({s['seconds']:.2f} s in all, selection and journal included); "
      f"{rate:,.0f} events/s; failed {s['failed']}")
PY
stored=$("$bin" --store "$dst" query --format csv "SELECT count(*) AS n FROM events" | tail -1)
echo "target holds $stored events"

# --max-rps 100: 50,000 events (500 requests, about 5 s) to a second, empty target, so that
# the figure measures the limiter rather than the endpoint's load.
rps_store="$work/target-rps"
rps_channel=$(make_store "$rps_store")
"$bin" --store "$rps_store" serve --listen 127.0.0.1:0 2>"$work/serve-rps.log" &
rps_pid=$!
for _ in $(seq 1 200); do
  grep -q "listening on" "$work/serve-rps.log" 2>/dev/null && break
  sleep 0.1
done
rps_url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve-rps.log" | head -1)
"$bin" --store "$src" replay --json --channel-arn "$rps_channel" --endpoint-url "$rps_url" \
  --query "SELECT eventid, eventjson, eventjsonchecksum FROM events LIMIT 50000" \
  --max-rps 100 --concurrency 16 >"$work/rps.json"
kill "$rps_pid" 2>/dev/null || true
python3 - "$work/rps.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
rps = s["requests"] / s["sending_seconds"]
print(f"--max-rps 100: {s['requests']} requests in {s['sending_seconds']:.2f} s = {rps:.1f} requests/s "
      f"({100 * (rps - 100) / 100:+.1f}% from 100)")
PY
