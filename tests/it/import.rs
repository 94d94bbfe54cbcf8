//! `auditlake import`: real CloudTrail logs, export trees, gzip, time filters, re-imports, damage.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{Fixture, json};

/// The invictus CloudTrail logs, or `None` (with a message) when ../shared is absent.
pub fn invictus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/datasets/invictus-aws-cloudtrail");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: {} is not present", dir.display());
        None
    }
}

/// Creates a Management event data store named `trail` in the fixture, keeping events for
/// ten years (the logs are from 2023); returns its ID.
pub fn trail_store(fx: &Fixture) -> String {
    let trail = json(fx.cmd().args([
        "create-event-data-store",
        "--name",
        "trail",
        "--retention-period",
        "3653",
        "--advanced-event-selectors",
        r#"[{"Name":"m","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]}]"#,
    ]));
    let arn = trail["EventDataStoreArn"].as_str().unwrap();
    arn.rsplit('/').next().unwrap().to_string()
}

/// Runs `auditlake import --json` into `trail` and returns its exit code and summary.
pub fn import(fx: &Fixture, args: &[&str], paths: &[&Path]) -> (i32, Value) {
    let out = fx
        .cmd()
        .args(["import", "--json", "--event-data-store", "trail"])
        .args(args)
        .args(paths)
        .output()
        .unwrap();
    let summary = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no JSON summary: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), summary)
}

/// Every record of the log files in `dir`, by eventID.
fn records(dir: &Path) -> HashMap<String, Value> {
    let mut all = HashMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            for r in doc["Records"].as_array().unwrap() {
                all.insert(r["eventID"].as_str().unwrap().to_string(), r.clone());
            }
        }
    }
    all
}

#[test]
fn the_invictus_logs_import_whole_and_only_once() {
    let Some(dir) = invictus() else { return };
    let fx = Fixture::new();
    let trail = trail_store(&fx);
    let (code, summary) = import(&fx, &[], &[&dir]);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["files"], 55);
    assert_eq!(summary["other_files_skipped"], 1, "the LICENSE file");
    assert_eq!(summary["records"], 2900);
    assert_eq!(summary["imported"], 2900);
    assert_eq!(summary["by_category"]["Management"], 2900);
    assert_eq!(summary["earliest"], "2023-07-10T11:42:18Z");

    let originals = records(&dir);
    let rows = fx.query(&format!(
        "SELECT eventid, eventjson, eventtime, readonly FROM {trail}"
    ));
    assert_eq!(rows.len(), 2900);
    for row in &rows {
        let id = row["eventid"].as_str().unwrap();
        let original = originals.get(id).unwrap_or_else(|| panic!("{id} is new"));
        let stored: Value = serde_json::from_str(row["eventjson"].as_str().unwrap()).unwrap();
        assert_eq!(&stored, original, "eventjson of {id}");
        assert_eq!(row["readonly"], original["readOnly"], "readonly of {id}");
    }
    // Nested structs, lists of structs and maps hold the record's values.
    let rows = fx.query(&format!(
        "SELECT useridentity.sessioncontext.sessionissuer.arn AS issuer, resources[1].arn AS arn, \
         element_at(additionaleventdata, 'bytesTransferredOut') AS out, tlsdetails.tlsversion AS tls \
         FROM {trail} WHERE eventid = '3c856bc0-1a07-4c18-89d9-4d9205856714'"
    ));
    assert_eq!(
        rows[0]["arn"],
        "arn:aws:s3:::baker221b-bucketssecuritylogsbef08b3e-13nrzhi7fcs7w"
    );
    assert_eq!(rows[0]["out"], "326");
    assert_eq!(rows[0]["tls"], "TLSv1.2");
    let issuers = fx.query(&format!(
        "SELECT count(useridentity.sessioncontext.sessionissuer.arn) AS n FROM {trail}"
    ));
    let want = originals
        .values()
        .filter(|r| r["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"].is_string())
        .count();
    assert_eq!(issuers[0]["n"], want);
    // Checksums match the stored text.
    crate::stdout(fx.cmd().args(["verify", "--event-data-store", "trail"]));

    let (code, again) = import(&fx, &[], &[&dir]);
    assert_eq!(code, 0);
    assert_eq!(again["imported"], 0);
    assert_eq!(again["duplicates"], 2900);
    let n = fx.query(&format!("SELECT count(*) AS n FROM {trail}"));
    assert_eq!(n[0]["n"], 2900);
}

fn gzip(from: &Path, to: &Path) {
    let file = std::fs::File::create(to).unwrap();
    let mut enc = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    enc.write_all(&std::fs::read(from).unwrap()).unwrap();
    enc.finish().unwrap();
}

#[test]
fn export_trees_gzip_time_filters_and_damaged_files() {
    let Some(dir) = invictus() else { return };
    let fx = Fixture::new();
    trail_store(&fx);
    let root = fx.path().join("export/AWSLogs");
    let logs = root.join("218007301253/CloudTrail/us-east-1/2023/07/10");
    let digests = root.join("218007301253/CloudTrail-Digest/us-east-1/2023/07/10");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::create_dir_all(&digests).unwrap();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    names.sort();
    for path in &names[..10] {
        let name = path.file_name().unwrap().to_string_lossy();
        gzip(path, &logs.join(format!("{name}.gz")));
    }
    std::fs::write(
        digests.join("218007301253_CloudTrail-Digest_us-east-1_x.json.gz"),
        b"{}",
    )
    .unwrap();
    // A file cut off inside its third record, and one with a record that is not JSON.
    // (Two files beyond the first ten with three records or more, and a readOnly.)
    let mut damageable = names[10..].iter().filter_map(|p| {
        let text = std::fs::read_to_string(p).unwrap();
        let third = text.match_indices("{\"eventVersion\"").nth(2)?.0;
        text.contains("\"readOnly\":true")
            .then_some((p, text, third))
    });
    let (_, text, third) = damageable.next().expect("a log file with three records");
    std::fs::write(logs.join("cut.json"), &text[..third + 40]).unwrap();
    let (bad_source, text, _) = damageable
        .next()
        .expect("another log file with three records");
    let bad = text.replacen("\"readOnly\":true", "\"readOnly\":tru", 1);
    assert_ne!(bad, text);
    std::fs::write(logs.join("bad.json"), bad).unwrap();

    // The records in the tree, and those in the time window.
    let in_tree: Vec<i64> = names[..10]
        .iter()
        .flat_map(|p| {
            let doc: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
            doc["Records"].as_array().unwrap().clone()
        })
        .map(|r| {
            let t = r["eventTime"].as_str().unwrap();
            chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp()
        })
        .collect();
    let (start, end) = ("2023-07-10T11:50:00Z", "2023-07-10 12:05:00");
    let (s, e) = (1_688_989_800, 1_688_990_700);
    let window = in_tree.iter().filter(|&&t| t >= s && t <= e).count();
    assert!(window > 0 && window < in_tree.len());

    let root_arg: &Path = &root;
    let (code, summary) = import(
        &fx,
        &["--start-time", start, "--end-time", end],
        &[root_arg],
    );
    assert_eq!(code, 3, "damaged files make a partial import: {summary}");
    assert_eq!(summary["files"], 12);
    assert_eq!(summary["digest_files_skipped"], 1);
    let failed = summary["files_failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{summary}");
    assert!(failed[0][0].as_str().unwrap().ends_with("cut.json"));
    assert!(
        failed[0][1].as_str().unwrap().contains("record 3"),
        "{summary}"
    );
    assert_eq!(summary["unreadable"], 1);
    let problem = summary["problems"][0].as_str().unwrap();
    assert!(problem.contains("bad.json: record 1 (line 1)"), "{problem}");
    let imported = summary["imported"].as_u64().unwrap();
    let outside = summary["outside_time_range"].as_u64().unwrap();
    assert!(imported as usize >= window, "{summary}");
    assert!(imported + outside == summary["records"].as_u64().unwrap() - 1);

    // Without the window, the rest of the tree comes in and nothing twice.
    let (_, all) = import(&fx, &[], &[root_arg]);
    assert_eq!(all["duplicates"].as_u64().unwrap(), imported);
    assert_eq!(all["imported"].as_u64().unwrap(), outside);
    let total = imported + outside;
    let n = fx.query("SELECT count(*) AS n FROM trail");
    assert_eq!(n[0]["n"], total);
    assert_eq!(
        total as usize,
        in_tree.len() + 2 + (bad_records(bad_source) - 1)
    );
}

fn bad_records(path: &Path) -> usize {
    let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    doc["Records"].as_array().unwrap().len()
}

#[test]
fn odd_records_keep_their_data() {
    let fx = Fixture::new();
    let trail = trail_store(&fx);
    let big = "x".repeat(300_000);
    let records = [
        r#"{"eventVersion":"1.02","eventTime":"2018-01-01T00:00:00Z","eventID":"00000000-0000-4000-8000-000000000001","eventName":"Old","requestParameters":{"Tag":"upper","tag":"lower"},"userIdentity":{}}"#.to_string(),
        format!(r#"{{"eventVersion":"1.11","eventTime":"2024-05-01T00:00:00.123Z","eventID":"00000000-0000-4000-8000-000000000002","requestParameters":{{"policy":"{big}","n":[1, 2]}},"brandNewField":{{"a":1}}}}"#),
        r#"{"eventVersion":"1.08","eventTime":"2024-05-01T01:00:00Z","eventID":"00000000-0000-4000-8000-000000000003","eventType":"AwsCloudTrailInsight","eventCategory":"Insight","insightDetails":{"state":"Start","insightContext":{"statistics":{"baseline":{"average":0.1}}}}}"#.to_string(),
        r#"{"eventTime":"2024-05-01T01:00:00Z","eventName":"NoId"}"#.to_string(),
    ];
    let ndjson = fx.path().join("records.ndjson");
    std::fs::write(&ndjson, records.join("\n") + "\n").unwrap();
    let (code, summary) = import(&fx, &[], &[&ndjson]);
    assert_eq!(code, 3);
    assert_eq!(summary["imported"], 3);
    assert_eq!(summary["by_category"]["Insight"], 1);
    assert_eq!(summary["by_category"]["Management"], 2);
    let problem = summary["problems"][0].as_str().unwrap();
    assert!(
        problem.contains("record 4 (line 4): no eventID"),
        "{problem}"
    );

    let rows = fx.query(&format!(
        "SELECT eventid, eventjson, element_at(requestparameters, 'Tag') AS upper, \
         element_at(requestparameters, 'tag') AS lower, element_at(requestparameters, 'n') AS n, \
         length(element_at(requestparameters, 'policy')) AS policy, \
         element_at(insightdetails, 'insightContext') AS insight, eventtime \
         FROM {trail} ORDER BY eventid"
    ));
    assert_eq!(rows.len(), 3);
    for (row, text) in rows.iter().zip(&records) {
        assert_eq!(
            row["eventjson"].as_str().unwrap(),
            text,
            "eventjson is the record's text"
        );
    }
    assert_eq!(
        (rows[0]["upper"].as_str(), rows[0]["lower"].as_str()),
        (Some("upper"), Some("lower"))
    );
    assert_eq!(rows[1]["n"], "[1,2]");
    assert_eq!(rows[1]["policy"], 300_000);
    assert_eq!(
        rows[2]["insight"],
        r#"{"statistics":{"baseline":{"average":0.1}}}"#
    );
}

#[test]
fn only_trail_stores_take_imports() {
    let fx = Fixture::new();
    let file = fx.path().join("r.json");
    std::fs::write(&file, r#"{"Records":[]}"#).unwrap();
    let out = fx
        .cmd()
        .args(["import", "--event-data-store", &fx.eds_id])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("InvalidEventDataStoreCategoryException"),
        "{err}"
    );
}
