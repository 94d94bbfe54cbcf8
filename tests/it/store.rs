//! Store invariants seen from outside: verification, compaction, retention, crash leftovers.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::{Fixture, ndjson, stdout};

fn parquet_files(fx: &Fixture) -> Vec<std::path::PathBuf> {
    let dir = fx.path().join("data").join(&fx.eds_id);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    files.sort();
    files
}

fn ingest(fx: &Fixture, name: &str, n: usize, time: &str) {
    let file = ndjson(fx.path(), name, n, time);
    stdout(
        fx.cmd()
            .args(["ingest", "--channel-arn", &fx.channel_arn])
            .arg(&file),
    );
}

#[test]
fn verify_finds_a_tampered_event() {
    let fx = Fixture::new();
    ingest(&fx, "a.ndjson", 10, "2026-03-01T10:00:00Z");
    let text = stdout(fx.cmd().arg("verify"));
    assert!(text.contains("10 events checked, 0 mismatched"), "{text}");

    // Rewrite the file with one eventjson changed, as an attacker editing the store would.
    let path = parquet_files(&fx).remove(0);
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let schema = batches[0].schema();
    let idx = schema.index_of("eventjson").unwrap();
    let mut columns: Vec<ArrayRef> = batches[0].columns().to_vec();
    let json = columns[idx].as_any().downcast_ref::<StringArray>().unwrap();
    let changed: StringArray = (0..json.len())
        .map(|i| {
            Some(if i == 3 {
                json.value(i).replace("alice", "mallory")
            } else {
                json.value(i).to_string()
            })
        })
        .collect();
    columns[idx] = Arc::new(changed);
    let tampered = RecordBatch::try_new(Arc::clone(&schema), columns).unwrap();
    let ids = tampered
        .column_by_name("eventid")
        .unwrap()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    let victim = ids.value(3).to_string();
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None).unwrap();
    writer.write(&tampered).unwrap();
    writer.close().unwrap();

    let out = fx.cmd().arg("verify").output().unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&victim), "{text}");
    assert!(text.contains("1 mismatched"), "{text}");
}

#[test]
fn compaction_merges_small_files_without_losing_events() {
    let fx = Fixture::new();
    for i in 0..5 {
        ingest(
            &fx,
            &format!("f{i}.ndjson"),
            7,
            &format!("2026-03-0{}T10:00:00Z", 5 - i),
        );
    }
    assert_eq!(parquet_files(&fx).len(), 5);
    let before = fx.query(&format!(
        "SELECT eventid FROM {} ORDER BY eventid",
        fx.eds_id
    ));
    let text = stdout(fx.cmd().arg("compact"));
    assert!(
        text.contains("5 files (35 events) -> 1 files (35 events)"),
        "{text}"
    );
    assert_eq!(parquet_files(&fx).len(), 1);
    let after = fx.query(&format!(
        "SELECT eventid FROM {} ORDER BY eventid",
        fx.eds_id
    ));
    assert_eq!(before, after);
    // The merged file is sorted by eventtime.
    let times = fx.query(&format!(
        "SELECT eventdata.eventtime AS t FROM {}",
        fx.eds_id
    ));
    let times: Vec<&str> = times.iter().map(|r| r["t"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[test]
fn events_past_retention_are_hidden_then_removed() {
    let fx = Fixture::with_retention(Some(7));
    let now = chrono::Utc::now();
    let recent = (now - chrono::Duration::days(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let old = (now - chrono::Duration::days(30))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    ingest(&fx, "recent.ndjson", 4, &recent);
    ingest(&fx, "old.ndjson", 6, &old);
    assert_eq!(fx.count(), 4, "expired events are not returned");
    let text = stdout(fx.cmd().arg("compact"));
    assert!(text.contains("6 events past retention removed"), "{text}");
    assert_eq!(parquet_files(&fx).len(), 1);
    assert_eq!(fx.count(), 4);
}

#[test]
fn leftovers_of_an_interrupted_write_are_never_read_and_are_cleaned() {
    let fx = Fixture::new();
    ingest(&fx, "a.ndjson", 3, "2026-03-01T10:00:00Z");
    let dir = fx.path().join("data").join(&fx.eds_id);
    // What a kill -9 can leave: a partial file and a renamed file that missed the manifest.
    std::fs::write(dir.join(".20260101-x.parquet.partial"), b"PAR1 half").unwrap();
    std::fs::copy(&parquet_files(&fx)[0], dir.join("20260101-orphan.parquet")).unwrap();
    assert_eq!(fx.count(), 3);
    ingest(&fx, "b.ndjson", 2, "2026-03-01T10:00:00Z");
    assert_eq!(fx.count(), 5);
    assert!(!dir.join(".20260101-x.parquet.partial").exists());
    assert!(!dir.join("20260101-orphan.parquet").exists());
}

#[test]
fn files_are_plain_parquet_sorted_by_time() {
    let fx = Fixture::new();
    let path = fx.path().join("mixed.ndjson");
    let text: String = [5, 1, 4, 2, 3]
        .iter()
        .map(|d| crate::event(&format!("u{d}"), &format!("2026-03-0{d}T10:00:00Z")) + "\n")
        .collect();
    std::fs::write(&path, text).unwrap();
    stdout(
        fx.cmd()
            .args(["ingest", "--channel-arn", &fx.channel_arn])
            .arg(&path),
    );
    let file = parquet_files(&fx).remove(0);
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&file).unwrap()).unwrap();
    let meta = Arc::clone(builder.metadata());
    let chunk = |path: &str| {
        let columns = meta.row_group(0).columns();
        columns
            .iter()
            .find(|c| c.column_path().string() == path)
            .unwrap()
            .clone()
    };
    // The event's JSON is ZSTD-compressed; short repeating values and times are not.
    assert_eq!(
        chunk("eventjson").compression().to_string(),
        "ZSTD(ZstdLevel(1))"
    );
    let column = chunk("eventtime");
    assert_eq!(column.compression().to_string(), "UNCOMPRESSED");
    assert!(
        column.statistics().is_some(),
        "eventtime has statistics for pruning"
    );
    let batch = builder.build().unwrap().next().unwrap().unwrap();
    let uids = batch.column_by_name("eventdata").unwrap();
    let uids = uids
        .as_any()
        .downcast_ref::<arrow::array::StructArray>()
        .unwrap();
    let uids = uids
        .column_by_name("uid")
        .unwrap()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    let got: Vec<&str> = (0..uids.len()).map(|i| uids.value(i)).collect();
    assert_eq!(got, ["u1", "u2", "u3", "u4", "u5"]);
}

#[test]
fn a_store_pending_deletion_for_over_7_days_is_removed_for_good() {
    let fx = Fixture::new();
    ingest(&fx, "a.ndjson", 3, "2026-03-01T10:00:00Z");
    stdout(
        fx.cmd()
            .args(["delete-channel", "--channel", &fx.channel_arn]),
    );
    stdout(fx.cmd().args([
        "update-event-data-store",
        "--event-data-store",
        &fx.eds_id,
        "--no-termination-protection-enabled",
    ]));
    stdout(
        fx.cmd()
            .args(["delete-event-data-store", "--event-data-store", &fx.eds_id]),
    );
    let data = fx.path().join("data").join(&fx.eds_id);
    // Six days later it can still be restored; move the clock by editing the catalog.
    let backdate = |days: i64| {
        let path = fx.path().join("catalog.json");
        let mut catalog: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let when = chrono::Utc::now() - chrono::Duration::days(days);
        let eds = &mut catalog["event_data_stores"][0];
        assert!(eds.get("pending_deletion_since").is_some(), "{eds}");
        eds["pending_deletion_since"] = serde_json::json!(when.to_rfc3339());
        std::fs::write(&path, catalog.to_string()).unwrap();
    };
    backdate(6);
    stdout(fx.cmd().arg("list-event-data-stores"));
    assert!(data.exists());
    backdate(8);
    let listed = crate::json(fx.cmd().arg("list-event-data-stores"));
    assert_eq!(
        listed["EventDataStores"].as_array().unwrap().len(),
        0,
        "{listed}"
    );
    assert!(!data.exists(), "its files are gone");
}

#[test]
fn a_killed_ingest_keeps_what_it_committed_and_nothing_else() {
    let fx = Fixture::new();
    let file = ndjson(fx.path(), "big.ndjson", 60_000, "2026-03-01T10:00:00Z");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("auditlake"))
        .arg("--store")
        .arg(fx.path())
        .args([
            "ingest",
            "--commit-every",
            "1000",
            "--channel-arn",
            &fx.channel_arn,
        ])
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let manifest = fx
        .path()
        .join("data")
        .join(&fx.eds_id)
        .join("_manifest.json");
    let started = std::time::Instant::now();
    while !manifest.exists() && started.elapsed() < std::time::Duration::from_secs(120) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the ingest was still running when killed"
    );

    let committed: u64 =
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&manifest).unwrap())
            .unwrap()["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rows"].as_u64().unwrap())
            .sum();
    assert!(committed > 0 && committed < 60_000, "{committed}");
    assert_eq!(
        fx.count(),
        committed,
        "readers see exactly the committed rows"
    );
    assert!(stdout(fx.cmd().arg("verify")).contains("0 mismatched"));
    let distinct = fx.query(&format!(
        "SELECT count(DISTINCT eventdata.uid) AS n FROM {}",
        fx.eds_id
    ));
    assert_eq!(distinct[0]["n"].as_u64().unwrap(), committed);
    ingest(&fx, "after.ndjson", 5, "2026-03-02T10:00:00Z");
    assert_eq!(fx.count(), committed + 5);
    let leftovers = std::fs::read_dir(fx.path().join("data").join(&fx.eds_id))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .count();
    assert_eq!(leftovers, 0);
}
