#!/usr/bin/env bash
# Query benchmark: typical audit queries over a 1,000,000-event store, auditlake vs DuckDB
# reading the very same Parquet files, in the same run.
#
#   bash benches/query.sh [EVENTS]        (default 1000000)
#
# Needs a release build (built here if missing) and the duckdb Python package
# (`pip install duckdb`). After one warm-up, each query runs in QUERY_ROUNDS (default 3)
# rounds that alternate the two sides: a REPL session timing 3 runs, then 3 DuckDB runs; the
# best time of each side counts. A separate `auditlake query` process per run is timed 3
# times too. auditlake's time is the engine's own figure (`query --timing`: planning, reading
# and writing the result as CSV to /dev/null); DuckDB runs the same query as
# COPY (...) TO '/dev/null' (FORMAT csv). Both exclude process start. Timings vary on a
# shared machine: compare the ratios within one run.
#
# BASELINE_BIN=<another auditlake build> adds that build's session time for each query, run
# alternately with this one on the same store (for before/after figures of a change).
set -euo pipefail
cd "$(dirname "$0")/.."
events="${1:-1000000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/auditlake-target}"
# AUDITLAKE_BIN names a prebuilt binary; otherwise the release build is made here.
[ -n "${AUDITLAKE_BIN:-}" ] || cargo build --release --quiet
bin="${AUDITLAKE_BIN:-$CARGO_TARGET_DIR/release/auditlake}"
work="$(mktemp -d "${TMPDIR:-/tmp}/auditlake-qbench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

store="$work/store"
"$bin" --store "$store" init > /dev/null
eds_arn=$("$bin" --store "$store" create-event-data-store --name bench \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["EventDataStoreArn"])')
channel=$("$bin" --store "$store" create-channel --name bench --source Custom \
  --destinations "Type=EVENT_DATA_STORE,Location=$eds_arn" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["ChannelArn"])')
"$bin" sample --events "$events" --seed 7 --out "$work/events.ndjson"
"$bin" --store "$store" ingest --json --channel-arn "$channel" "$work/events.ndjson" > /dev/null
"$bin" --store "$store" compact > /dev/null
rm "$work/events.ndjson"
eds_id="${eds_arn##*/}"

python3 - "$bin" "$store" "$eds_id" "${BASELINE_BIN:-}" <<'PY'
import os, re, subprocess, sys, time
import duckdb

bin, store, eds, baseline = sys.argv[1:]
rounds = int(os.environ.get("QUERY_ROUNDS", "3"))
files = f"{store}/data/{eds}/*.parquet"
con = duckdb.connect()
con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{files}')")

# Parameters picked from the data (not timed): a principal with a few thousand events,
# a busy day, one UID, and a requestParameters key with a common value.
principal = con.execute("""SELECT eventdata.useridentity.principalid FROM events
    GROUP BY 1 HAVING count(*) BETWEEN 1000 AND 20000 ORDER BY count(*) DESC LIMIT 1""").fetchone()[0]
day = con.execute("SELECT CAST(date_trunc('day', eventtime) AS DATE) FROM events GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
uid = con.execute("SELECT eventdata.uid FROM events LIMIT 1 OFFSET 123457").fetchone()[0]
key, value = con.execute("""SELECT k, v FROM (SELECT unnest(map_keys(eventdata.requestparameters)) AS k,
    unnest(map_values(eventdata.requestparameters)) AS v FROM events LIMIT 200000)
    WHERE v NOT LIKE '{%' GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1""").fetchone()

# (name, Lake SQL for auditlake, the same query in DuckDB's dialect)
queries = [
    ("counts by event name",
     f"SELECT eventData.eventName, count(*) AS n FROM {eds} GROUP BY 1 ORDER BY n DESC",
     "SELECT eventdata.eventname, count(*) AS n FROM events GROUP BY 1 ORDER BY n DESC"),
    ("one principal's activity",
     f"SELECT eventTime, eventData.eventSource, eventData.eventName, eventData.sourceIPAddress FROM {eds} "
     f"WHERE eventData.userIdentity.principalId = '{principal}' ORDER BY eventTime",
     f"SELECT eventtime, eventdata.eventsource, eventdata.eventname, eventdata.sourceipaddress FROM events "
     f"WHERE eventdata.useridentity.principalid = '{principal}' ORDER BY eventtime"),
    ("errors by source",
     f"SELECT eventData.eventSource, eventData.errorCode, count(*) AS n FROM {eds} "
     f"WHERE eventData.errorCode IS NOT NULL GROUP BY 1, 2 ORDER BY n DESC",
     "SELECT eventdata.eventsource, eventdata.errorcode, count(*) AS n FROM events "
     "WHERE eventdata.errorcode IS NOT NULL GROUP BY 1, 2 ORDER BY n DESC"),
    ("one day",
     f"SELECT eventData.eventName, count(*) AS n FROM {eds} WHERE eventTime >= '{day} 00:00:00' "
     f"AND eventTime < date_add('day', 1, TIMESTAMP '{day} 00:00:00') GROUP BY 1 ORDER BY n DESC",
     f"SELECT eventdata.eventname, count(*) AS n FROM events WHERE eventtime >= TIMESTAMP '{day} 00:00:00' "
     f"AND eventtime < TIMESTAMP '{day} 00:00:00' + INTERVAL 1 DAY GROUP BY 1 ORDER BY n DESC"),
    ("hourly histogram",
     f"SELECT date_trunc('hour', eventTime) AS hour, count(*) AS n FROM {eds} GROUP BY 1 ORDER BY 1",
     "SELECT date_trunc('hour', eventtime) AS hour, count(*) AS n FROM events GROUP BY 1 ORDER BY 1"),
    ("distinct IPs per principal",
     f"SELECT eventData.userIdentity.principalId, count(DISTINCT eventData.sourceIPAddress) AS ips "
     f"FROM {eds} GROUP BY 1 ORDER BY ips DESC LIMIT 20",
     "SELECT eventdata.useridentity.principalid, count(DISTINCT eventdata.sourceipaddress) AS ips "
     "FROM events GROUP BY 1 ORDER BY ips DESC LIMIT 20"),
    ("filter in requestParameters",
     f"SELECT count(*) FROM {eds} WHERE element_at(eventData.requestParameters, '{key}') = '{value}'",
     f"SELECT count(*) FROM events WHERE eventdata.requestparameters['{key}'] = '{value}'"),
    ("lookup of one UID",
     f"SELECT * FROM {eds} WHERE eventData.UID = '{uid}'",
     f"SELECT * FROM events WHERE eventdata.uid = '{uid}'"),
]

def auditlake(sql):
    out = subprocess.run([bin, "--store", store, "query", "--timing", "--format", "csv",
                          "--output", "/dev/null", sql], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"auditlake failed: {out.stderr}")
    m = re.search(r"(\d+) rows? in ([0-9.]+) s", out.stderr)
    return float(m.group(2)), int(m.group(1))

def auditlake_session(sql, binary=bin):
    """One REPL session (statements on stdin): a warm-up and three runs, like DuckDB's
    connection, whose metadata cache is warm too. Returns the best of the three."""
    script = "\\format csv\n" + (sql + ";\n") * 4
    out = subprocess.run([binary, "--store", store], input=script, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    runs = re.findall(r"(\d+) rows? in ([0-9.]+) s", out.stderr)
    if out.returncode != 0 or len(runs) != 4:
        sys.exit(f"auditlake session failed: {out.stderr}")
    return min((float(t), int(n)) for n, t in runs[1:])

def duck(sql):
    # The same work as auditlake's side: run the query and write its rows as CSV to
    # /dev/null (no Python objects, no pyarrow needed).
    start = time.perf_counter()
    rows = con.execute(f"COPY ({sql}) TO '/dev/null' (FORMAT csv, HEADER)").fetchone()[0]
    return time.perf_counter() - start, rows

print(f"{'query':30} {'rows':>8} {'process':>9} {'session':>9} {'duckdb':>9} "
      f"{'ratio':>6} {'ratio':>6}" + (f" {'baseline':>9} {'speed-up':>8}" if baseline else ""))
for name, lake_sql, duck_sql in queries:
    auditlake(lake_sql); duck(duck_sql)  # warm-up: page cache, DuckDB's metadata cache
    a = min(auditlake(lake_sql) for _ in range(3))
    # Sessions and DuckDB take turns, so that a slow spell of the machine hits both sides.
    s, d = (9e9, 0), (9e9, 0)
    for _ in range(rounds):
        s = min(s, auditlake_session(lake_sql))
        d = min(d, min(duck(duck_sql) for _ in range(3)))
    if not a[1] == s[1] == d[1]:
        sys.exit(f"{name}: auditlake returned {a[1]} / {s[1]} rows, duckdb {d[1]}")
    line = (f"{name:30} {a[1]:8} {a[0]:8.3f}s {s[0]:8.3f}s {d[0]:8.3f}s "
            f"{d[0] / a[0]:5.2f}x {d[0] / s[0]:5.2f}x")
    if baseline:
        # Alternate the two builds so that a slow spell of the machine hits both.
        runs = [auditlake_session(lake_sql, b) for b in (baseline, bin, baseline, bin)]
        if any(rows != s[1] for _, rows in runs):
            sys.exit(f"{name}: the baseline build returned other row counts: {runs}")
        before = min(t for t, _ in runs[0::2])
        after = min(min(t for t, _ in runs[1::2]), s[0])
        line += f" {before:8.3f}s {before / after:7.2f}x"
    print(line)
print("process: one `auditlake query` per run (cold metadata); session: one REPL session, warm")
print("ratios = duckdb time / auditlake time, process then session (above 1: auditlake is faster)")
if baseline:
    print("baseline: BASELINE_BIN's best session time; speed-up = baseline / this build's best "
          "session time, its runs alternated with the baseline's included")
PY
