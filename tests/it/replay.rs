//! `auditlake replay` with the real AWS SDK against `auditlake serve` on loopback.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::serve::{ACCESS_KEY_ID, SECRET_ACCESS_KEY, Server, start_server};
use crate::{Fixture, json, stdout};

/// A source store holding `n` sample events in its integration event data store.
fn source(n: u64) -> Fixture {
    let fx = Fixture::new();
    let file = fx.path().join("sample.ndjson");
    stdout(
        fx.cmd()
            .args(["sample", "--events", &n.to_string(), "--out"])
            .arg(&file),
    );
    stdout(
        fx.cmd()
            .args(["ingest", "--channel-arn", &fx.channel_arn])
            .arg(&file),
    );
    assert_eq!(fx.count(), n);
    fx
}

/// `auditlake replay` from `source` to `target`'s channel at `url`, with credentials and
/// region from the environment only: nothing is looked up outside the test.
fn replay_cmd(source: &Fixture, channel_arn: &str, url: &str, args: &[&str]) -> Command {
    let nowhere = source.path().join("no-such-aws-file");
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("auditlake"));
    cmd.arg("--store")
        .arg(source.path())
        .args(["replay", "--json", "--channel-arn", channel_arn])
        .args(["--endpoint-url", url])
        .args(args)
        .env_remove("AUDITLAKE_STORE")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", &nowhere)
        .env("AWS_SHARED_CREDENTIALS_FILE", &nowhere)
        .stdin(Stdio::null());
    cmd
}

fn summary(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "no JSON summary (exit {:?}):\n{}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Runs a replay that must deliver everything; returns its summary.
fn replay_ok(source: &Fixture, target: &Fixture, server: &Server, args: &[&str]) -> Value {
    let out = replay_cmd(source, &target.channel_arn, &server.url, args)
        .output()
        .unwrap();
    let s = summary(&out);
    assert!(
        out.status.success(),
        "replay failed: {s}\n{}\nserver: {}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    s
}

/// eventjson of every event in a store's integration event data store, with how often it occurs.
fn payloads(fx: &Fixture) -> BTreeMap<String, usize> {
    let mut all = BTreeMap::new();
    for row in query_live(fx.path(), &format!("SELECT eventjson FROM {}", fx.eds_id)) {
        *all.entry(row["eventjson"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    all
}

/// Every source payload arrived exactly once, byte for byte, and nothing else arrived.
fn assert_exactly_once(source: &Fixture, target: &Fixture) {
    let sent = payloads(source);
    let got = payloads(target);
    let twice: Vec<&String> = got
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(p, _)| p)
        .collect();
    assert!(
        twice.is_empty(),
        "{} events arrived more than once",
        twice.len()
    );
    let missing = sent.keys().filter(|p| !got.contains_key(*p)).count();
    let extra = got.keys().filter(|p| !sent.contains_key(*p)).count();
    assert_eq!((missing, extra), (0, 0), "missing / unexpected payloads");
    // The target recomputed the checksum of what it received: it is the source's.
    let checks = query_live(
        target.path(),
        &format!(
            "SELECT count(*) AS n FROM {} WHERE eventjsonchecksum IS NULL",
            target.eds_id
        ),
    );
    assert_eq!(checks[0]["n"], 0);
}

/// Runs SQL on a store that a running `serve` writes to (and compacts): a query that
/// planned with files the server just compacted away is run again.
fn query_live(store: &Path, sql: &str) -> Vec<Value> {
    for _ in 0..10 {
        let out = crate::auditlake(store)
            .args(["query", "--format", "ndjson", sql])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() && err.contains("not found") {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        assert!(out.status.success(), "query failed: {err}");
        return String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    }
    panic!("the query kept racing the server's compaction: {sql}");
}

fn journal_statuses(fx: &Fixture) -> BTreeMap<String, u64> {
    fx.query("SELECT status, count(*) AS n FROM replay_journal GROUP BY status")
        .into_iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap().to_string(),
                r["n"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn replays_every_event_once_with_identical_payloads_and_resumes_from_the_journal() {
    let src = source(450);
    let target = Fixture::new();
    let server = start_server(target.path(), &[], &[]);

    let first = replay_ok(
        &src,
        &target,
        &server,
        &["--event-data-store", "app-events"],
    );
    assert_eq!(first["selected"], 450);
    assert_eq!(first["sent"], 450);
    assert_eq!(first["batches"], 5, "batches are filled: {first}");
    assert_eq!(first["failed"], serde_json::json!({}));
    assert_exactly_once(&src, &target);

    let again = replay_ok(
        &src,
        &target,
        &server,
        &["--event-data-store", &src.eds_arn],
    );
    assert_eq!(again["sent"], 0);
    assert_eq!(again["skipped_delivered"], 450);
    assert_eq!(again["requests"], 0);
    assert_exactly_once(&src, &target);

    let statuses = journal_statuses(&src);
    assert_eq!(statuses.get("delivered"), Some(&450));
    assert_eq!(statuses.get("skipped"), Some(&450));
    // Every delivered row names the eventID the target assigned.
    let target_ids: HashSet<String> = query_live(
        target.path(),
        &format!("SELECT eventid FROM {}", target.eds_id),
    )
    .into_iter()
    .map(|r| r["eventid"].as_str().unwrap().to_string())
    .collect();
    let journaled = src
        .query("SELECT event_id, source_event_id FROM replay_journal WHERE status = 'delivered'");
    assert!(
        journaled
            .iter()
            .all(|r| target_ids.contains(r["event_id"].as_str().unwrap()))
    );
}

#[test]
fn a_where_predicate_and_a_query_select_what_is_sent() {
    let src = source(300);
    let target = Fixture::new();
    let server = start_server(target.path(), &[], &[]);
    let pick = "eventData.eventSource = 'github.audit.streaming'";
    let expected = src.query(&format!(
        "SELECT count(*) AS n FROM {} WHERE {pick}",
        src.eds_id
    ))[0]["n"]
        .as_u64()
        .unwrap();
    assert!(
        expected > 0 && expected < 300,
        "sample has {expected} such events"
    );
    let s = replay_ok(
        &src,
        &target,
        &server,
        &["--event-data-store", "app-events", "--where", pick],
    );
    assert_eq!(s["sent"].as_u64(), Some(expected));
    let n = query_live(
        target.path(),
        &format!("SELECT count(*) AS n FROM {}", target.eds_id),
    );
    assert_eq!(n[0]["n"].as_u64(), Some(expected));

    // The rest, by a query that returns only eventjson (the checksum is the journal key).
    let query = format!("SELECT eventjson FROM {} WHERE NOT ({pick})", src.eds_id);
    let s = replay_ok(&src, &target, &server, &["--query", &query]);
    assert_eq!(s["sent"].as_u64(), Some(300 - expected));
    assert_exactly_once(&src, &target);

    let out = replay_cmd(
        &src,
        &target.channel_arn,
        &server.url,
        &["--query", &format!("SELECT eventid FROM {}", src.eds_id)],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("eventjson"));
}

#[test]
fn retries_throttled_events_failed_requests_and_dropped_connections() {
    let src = source(1500);
    let target = Fixture::new();
    let server = start_server(
        target.path(),
        &[
            "--fault-events",
            "0.2",
            "--fault-requests",
            "0.25",
            "--fault-seed",
            "11",
        ],
        &[],
    );
    let s = replay_ok(
        &src,
        &target,
        &server,
        &["--event-data-store", "app-events", "--concurrency", "6"],
    );
    assert_eq!(s["sent"], 1500);
    assert!(s["retried_events"].as_u64().unwrap() > 0, "{s}");
    assert!(s["retried_requests"].as_u64().unwrap() > 0, "{s}");
    assert!(s["requests"].as_u64().unwrap() > 15, "{s}");
    assert_exactly_once(&src, &target);
    let retries = src.query("SELECT count(*) AS n FROM replay_journal WHERE status = 'retry'");
    assert!(retries[0]["n"].as_u64().unwrap() > 0);
}

/// Starts a replay, signals it after a random delay, waits for it to exit.
fn interrupted_run(src: &Fixture, target: &Fixture, server: &Server, signal: &str) -> Output {
    let child = replay_cmd(
        src,
        &target.channel_arn,
        &server.url,
        &["--event-data-store", "app-events", "--max-rps", "25"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // 3000 events at 25 requests/s take over a second: the signal lands mid-run (or,
    // on a very slow machine, during start-up: then the re-run does all the work).
    let delay = Duration::from_millis(rand::random_range(300..1200));
    std::thread::sleep(delay);
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    child.wait_with_output().unwrap()
}

#[test]
fn a_replay_stopped_by_sigterm_resumes_and_sends_nothing_twice() {
    let src = source(3000);
    let target = Fixture::new();
    let server = start_server(
        target.path(),
        &["--fault-events", "0.1", "--fault-requests", "0.2"],
        &[],
    );
    for _ in 0..2 {
        let out = interrupted_run(&src, &target, &server, "-TERM");
        eprintln!("stopped run: {}", String::from_utf8_lossy(&out.stdout));
        assert!(
            matches!(out.status.code(), Some(0 | 130)),
            "exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let statuses = journal_statuses(&src);
    assert_eq!(
        statuses.get("unconfirmed"),
        None,
        "a clean stop leaves nothing in doubt"
    );
    let s = replay_ok(
        &src,
        &target,
        &server,
        &["--event-data-store", "app-events"],
    );
    let delivered_before = s["skipped_delivered"].as_u64().unwrap();
    assert_eq!(delivered_before + s["sent"].as_u64().unwrap(), 3000, "{s}");
    assert_exactly_once(&src, &target);
}

#[test]
fn a_replay_killed_with_sigkill_never_sends_an_event_twice() {
    let src = source(3000);
    let target = Fixture::new();
    let server = start_server(target.path(), &["--fault-requests", "0.2"], &[]);
    let out = interrupted_run(&src, &target, &server, "-KILL");
    assert_eq!(out.status.code(), None, "killed by the signal");
    eprintln!("killed run: {}", String::from_utf8_lossy(&out.stderr));

    // The re-run recovers the killed run's log; what was in flight is unconfirmed.
    let s = replay_ok_or_partial(&src, &target, &server, &[]);
    eprintln!("re-run after kill -9: {s}");
    let unconfirmed: HashSet<String> = src
        .query("SELECT source_event_id FROM replay_journal WHERE status = 'unconfirmed'")
        .into_iter()
        .map(|r| r["source_event_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        s["skipped_unconfirmed"].as_u64(),
        Some(unconfirmed.len() as u64)
    );
    // Nothing arrived twice; what is missing is exactly what was in doubt and not stored.
    let got = payloads(&target);
    assert!(got.values().all(|n| *n == 1), "an event arrived twice");
    let missing: HashSet<String> = src
        .query(&format!("SELECT eventid, eventjson FROM {}", src.eds_id))
        .into_iter()
        .filter(|r| !got.contains_key(r["eventjson"].as_str().unwrap()))
        .map(|r| r["eventid"].as_str().unwrap().to_string())
        .collect();
    assert!(
        missing.is_subset(&unconfirmed),
        "only unconfirmed events may be missing"
    );
    assert_eq!(
        s["sent"].as_u64().unwrap()
            + s["skipped_delivered"].as_u64().unwrap()
            + unconfirmed.len() as u64,
        3000,
        "{s}"
    );

    // --resend-unconfirmed completes the set; only events that were in doubt may now be
    // there twice (those the server had stored before the kill).
    let s = replay_ok_or_partial(&src, &target, &server, &["--resend-unconfirmed"]);
    assert_eq!(s["sent"].as_u64(), Some(unconfirmed.len() as u64), "{s}");
    let ids: BTreeMap<String, String> = src
        .query(&format!("SELECT eventid, eventjson FROM {}", src.eds_id))
        .into_iter()
        .map(|r| {
            let payload = r["eventjson"].as_str().unwrap().to_string();
            (payload, r["eventid"].as_str().unwrap().to_string())
        })
        .collect();
    let got = payloads(&target);
    assert!(
        ids.keys().all(|p| got.contains_key(p)),
        "every event arrived"
    );
    for (payload, n) in &got {
        assert!(
            *n == 1 || unconfirmed.contains(&ids[payload]),
            "an event that was not in doubt arrived twice"
        );
    }
}

/// Runs a replay of the whole source store; exit 0 or 3 (some events unconfirmed).
fn replay_ok_or_partial(src: &Fixture, target: &Fixture, server: &Server, args: &[&str]) -> Value {
    let out = replay_cmd(src, &target.channel_arn, &server.url, &[])
        .args(["--event-data-store", "app-events"])
        .args(args)
        .output()
        .unwrap();
    let s = summary(&out);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{s}");
    assert_eq!(
        out.status.code() == Some(0),
        s["skipped_unconfirmed"] == 0,
        "{s}"
    );
    s
}

#[test]
fn recipient_account_id_rewrites_only_that_field() {
    let src = source(120);
    // A target store in another account, with its own channel.
    let other = "444455556666";
    let target = tempfile::tempdir().unwrap();
    json(crate::auditlake(target.path()).args(["init", "--account-id", other]));
    let eds = json(crate::auditlake(target.path()).args([
        "create-event-data-store",
        "--name",
        "partner",
    ]));
    let eds_arn = eds["EventDataStoreArn"].as_str().unwrap();
    let channel = json(crate::auditlake(target.path()).args([
        "create-channel",
        "--name",
        "partner-channel",
        "--source",
        "Custom",
        "--destinations",
        &format!("Type=EVENT_DATA_STORE,Location={eds_arn}"),
    ]));
    let channel_arn = channel["ChannelArn"].as_str().unwrap();
    assert!(channel_arn.contains(other), "{channel_arn}");
    let server = start_server(target.path(), &[], &[]);

    // Without the rewrite every event is refused before sending, by code.
    let out = replay_cmd(
        &src,
        channel_arn,
        &server.url,
        &["--event-data-store", "app-events"],
    )
    .output()
    .unwrap();
    let s = summary(&out);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(s["failed"]["InvalidRecipient"], 120, "{s}");
    assert_eq!(s["requests"], 0);

    let out = replay_cmd(
        &src,
        channel_arn,
        &server.url,
        &[
            "--event-data-store",
            "app-events",
            "--recipient-account-id",
            other,
        ],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", summary(&out));
    let eds_id = eds_arn.rsplit('/').next().unwrap();
    let sql = format!("SELECT eventjson FROM {eds_id}");
    let got: HashSet<String> = query_live(target.path(), &sql)
        .into_iter()
        .map(|r| r["eventjson"].as_str().unwrap().to_string())
        .collect();
    let expected: HashSet<String> = payloads(&src)
        .into_keys()
        .map(|p| {
            p.replace(
                "\"recipientAccountId\":\"123456789012\"",
                "\"recipientAccountId\":\"444455556666\"",
            )
        })
        .collect();
    assert_eq!(got.len(), 120);
    assert_eq!(got, expected);
}

#[test]
fn management_events_are_mapped_and_replayed() {
    let src = Fixture::new();
    let trail = crate::import::trail_store(&src);
    let logs = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/datasets/invictus-aws-cloudtrail");
    let (code, _) = crate::import::import(&src, &[], &[&logs]);
    assert_eq!(code, 0);
    // The logs are from 2023: the target keeps events for ten years so queries see them.
    let target = Fixture::with_retention(Some(3653));
    let server = start_server(target.path(), &[], &[]);
    let where_ = "eventName = 'ListBuckets'";
    let n = src.query(&format!("SELECT count(*) AS n FROM {trail} WHERE {where_}"))[0]["n"]
        .as_u64()
        .unwrap();
    assert!(n > 0);
    let s = replay_ok(
        &src,
        &target,
        &server,
        &[
            "--event-data-store",
            "trail",
            "--where",
            where_,
            "--recipient-account-id",
            "123456789012",
        ],
    );
    assert_eq!(s["sent"].as_u64(), Some(n), "{s}");
    let rows = query_live(
        target.path(),
        &format!(
            "SELECT eventData.eventName AS name, eventData.eventSource AS source, \
         eventData.uid AS uid FROM {}",
            target.eds_id
        ),
    );
    assert_eq!(rows.len() as u64, n);
    assert!(
        rows.iter()
            .all(|r| r["name"] == "ListBuckets" && r["source"] == "s3.amazonaws.com")
    );
    let request_ids: HashSet<String> = src
        .query(&format!("SELECT requestid FROM {trail} WHERE {where_}"))
        .into_iter()
        .filter_map(|r| r["requestid"].as_str().map(str::to_string))
        .collect();
    assert!(
        rows.iter()
            .all(|r| request_ids.contains(r["uid"].as_str().unwrap()))
    );
}

#[test]
fn dry_run_checks_every_event_and_prints_batches_without_network() {
    let src = source(250);
    // Nothing listens there: a dry run must not try.
    let closed = "http://127.0.0.1:9";
    let foreign =
        "arn:aws:cloudtrail:eu-west-1:999988887777:channel/0a1b2c3d-aaaa-bbbb-cccc-000000000001";
    let out = replay_cmd(
        &src,
        foreign,
        closed,
        &["--event-data-store", "app-events", "--dry-run"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let s = summary(&out);
    assert_eq!(s["failed"]["InvalidRecipient"], 250);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("InvalidRecipient: recipientAccountId 123456789012")
    );

    let cmd = replay_cmd(
        &src,
        foreign,
        closed,
        &[
            "--event-data-store",
            "app-events",
            "--dry-run",
            "--recipient-account-id",
            "999988887777",
        ],
    );
    let args: Vec<_> = cmd
        .get_args()
        .filter(|a| *a != "--json")
        .map(|a| a.to_owned())
        .collect();
    let mut plain = Command::new(cmd.get_program());
    plain.args(args);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => plain.env(k, v),
            None => plain.env_remove(k),
        };
    }
    let out = plain.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("batch ")).count(),
        3,
        "{text}"
    );
    assert!(text.contains("batch 3: 50 events"), "{text}");
    assert!(text.contains("would send: 250 in 3 batches"), "{text}");
    assert!(
        !src.path().join("replay/wal").exists() || dir_is_empty(&src.path().join("replay/wal"))
    );
    assert_eq!(
        src.query("SELECT count(*) AS n FROM replay_journal")[0]["n"],
        0
    );
}

fn dir_is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none())
}
