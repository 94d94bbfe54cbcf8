#!/usr/bin/env bash
# Import benchmark: auditlake import vs DuckDB's read_json + unnest(Records) -> Parquet,
# over the same generated CloudTrail export tree, in the same run.
#
#   bash benches/import.sh [MB]      (default 1100: MB of uncompressed records, .json.gz files)
#
# The tree is built from the 2,900 real records of ../shared/datasets/invictus-aws-cloudtrail
# with new eventIDs and times (AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/*.json.gz, about
# 1,000 records a file, plus digest files that both sides must skip). Needs a release build
# (AUDITLAKE_BIN, else the shared target dir's, built if missing) and the duckdb Python
# package. Prints wall time, records/s and peak memory (max RSS) of each side, and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${1:-1100}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/auditlake-target}"
bin="${AUDITLAKE_BIN:-$CARGO_TARGET_DIR/release/auditlake}"
[ -x "$bin" ] || cargo build --release --quiet
dataset="${DATASET:-../shared/datasets/invictus-aws-cloudtrail}"
work="$(mktemp -d "${TMPDIR:-/tmp}/auditlake-import-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

tree="$work/AWSLogs"
python3 - "$dataset" "$tree" "$mb" <<'PY'
import glob, gzip, json, os, random, sys, uuid, datetime
dataset, tree, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
records = []
for f in sorted(glob.glob(os.path.join(dataset, "*.json"))):
    records += json.load(open(f))["Records"]
texts = [json.dumps(r, separators=(",", ":")) for r in records]
rng = random.Random(7)
start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
total, files, n = 0, 0, 0
while total < mb * 1_000_000:
    account = "1111222233%02d" % (files % 3)
    when = start + datetime.timedelta(minutes=5 * files)
    day = os.path.join(tree, account, "CloudTrail", "us-east-1", when.strftime("%Y/%m/%d"))
    os.makedirs(day, exist_ok=True)
    out = []
    for i in range(1000):
        j = rng.randrange(len(texts))
        t = (when + datetime.timedelta(seconds=rng.randrange(300))).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = texts[j].replace(records[j]["eventID"], str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        out.append(text.replace('"eventTime":"%s"' % records[j]["eventTime"], '"eventTime":"%s"' % t))
    body = ('{"Records":[' + ",".join(out) + "]}").encode()
    name = "%s_CloudTrail_us-east-1_%s_%04d.json.gz" % (account, when.strftime("%Y%m%dT%H%MZ"), files)
    with gzip.open(os.path.join(day, name), "wb", compresslevel=6) as g:
        g.write(body)
    if files % 50 == 0:
        digest = os.path.join(tree, account, "CloudTrail-Digest", "us-east-1", when.strftime("%Y/%m/%d"))
        os.makedirs(digest, exist_ok=True)
        with gzip.open(os.path.join(digest, name.replace("_CloudTrail_", "_CloudTrail-Digest_")), "wb") as g:
            g.write(b'{"digestStartTime":"x","logFiles":[]}')
    total += len(body)
    files += 1
    n += len(out)
print(f"input: {n} records in {files} .json.gz files, {total / 1e6:.0f} MB uncompressed, "
      f"{sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(tree) for f in fs) / 1e6:.0f} MB on disk")
open(os.path.join(os.path.dirname(tree), "records"), "w").write(str(n))
PY
records=$(cat "$work/records")

# Time a command: prints "seconds max_rss_kb".
measure() {
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" > "$work/out" 2> "$work/err" || {
    cat "$work/err" >&2; exit 1; }
  cat "$work/time"
}

store="$work/store"
"$bin" --store "$store" init > /dev/null
"$bin" --store "$store" create-event-data-store --name trail --advanced-event-selectors \
  '[{"Name":"m","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]}]' > /dev/null

sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
read -r al_s al_kb < <(measure "$bin" --store "$store" import --json --event-data-store trail "$tree")
imported=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["imported"])' "$work/out")
if [ "$imported" != "$records" ]; then echo "auditlake imported $imported of $records" >&2; exit 1; fi
al_mb=$(du -sm "$store/data" | cut -f1)

sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
read -r dd_s dd_kb < <(measure python3 -c "
import duckdb
duckdb.sql(\"\"\"COPY (SELECT r.* FROM (SELECT unnest(Records) AS r
    FROM read_json('$tree/*/CloudTrail/*/*/*/*/*.json.gz', maximum_object_size = 67108864)))
    TO '$work/duckdb.parquet' (FORMAT parquet, COMPRESSION zstd)\"\"\")
print(duckdb.sql(\"SELECT count(*) FROM '$work/duckdb.parquet'\").fetchall()[0][0])
")
dd_rows=$(tail -1 "$work/out")
dd_mb=$(( $(stat -c %s "$work/duckdb.parquet") / 1000000 ))

python3 - "$records" "$al_s" "$al_kb" "$al_mb" "$dd_s" "$dd_kb" "$dd_mb" "$dd_rows" <<'PY'
import sys
n = int(sys.argv[1]); al_s, al_kb, al_mb, dd_s, dd_kb, dd_mb, dd_rows = map(float, sys.argv[2:])
print(f"auditlake import : {al_s:7.2f} s  {n / al_s:9,.0f} records/s  peak RSS {al_kb / 1024:6.0f} MB  Parquet {al_mb:5.0f} MB")
print(f"duckdb COPY      : {dd_s:7.2f} s  {n / dd_s:9,.0f} records/s  peak RSS {dd_kb / 1024:6.0f} MB  Parquet {dd_mb:5.0f} MB ({dd_rows:.0f} rows)")
print(f"ratio (duckdb time / auditlake time): {dd_s / al_s:.2f}x")
PY
