//! Bulk ingestion of files: formats, gzip, directories, per-event refusals and rejects.

use std::io::Write;

use crate::{Fixture, event, ndjson, stdout};

#[test]
fn ingests_every_format_and_reports_refusals_by_code() {
    let fx = Fixture::new();
    let input = fx.path().join("input");
    let nested = input.join("nested");
    std::fs::create_dir_all(&nested).unwrap();
    ndjson(&input, "a.ndjson", 50, "2026-03-01T10:00:00Z");
    // gzip, in a subdirectory
    let gz = std::fs::File::create(nested.join("b.json.gz")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(gz, flate2::Compression::fast());
    for i in 0..20 {
        writeln!(enc, "{}", event(&format!("gz-{i}"), "2026-03-02T10:00:00Z")).unwrap();
    }
    enc.finish().unwrap();
    // a JSON array of eventData objects, pretty-printed
    let array: Vec<serde_json::Value> = (0..5)
        .map(|i| serde_json::from_str(&event(&format!("arr-{i}"), "2026-03-03T10:00:00Z")).unwrap())
        .collect();
    std::fs::write(
        input.join("c.json"),
        serde_json::to_string_pretty(&array).unwrap(),
    )
    .unwrap();
    // a PutAuditEvents request file with one bad checksum
    let request = serde_json::json!({"auditEvents": [
        {"id": "r1", "eventData": event("req-1", "2026-03-04T10:00:00Z")},
        {"id": "r2", "eventData": event("req-2", "2026-03-04T10:00:00Z"), "eventDataChecksum": "AAAA"},
    ]});
    std::fs::write(input.join("d.json"), request.to_string()).unwrap();
    // NDJSON with bad lines among good ones
    let bad = [
        event("bad-0", "2026-03-05T10:00:00Z"),
        "{not json".to_string(),
        event("bad-1", "2026-03-05 10:00:00"),
        event("bad-2", "2026-03-05T10:00:00Z").replace(r#""UID":"bad-2","#, ""),
        event("bad-3", "2026-03-05T10:00:00Z"),
    ];
    std::fs::write(input.join("e.ndjson"), bad.join("\n")).unwrap();
    std::fs::write(input.join("f.txt"), "this is not json").unwrap();

    let rejects = fx.path().join("rejects.ndjson");
    let out = fx
        .cmd()
        .args([
            "ingest",
            "--json",
            "--channel-arn",
            &fx.channel_arn,
            "--rejects",
        ])
        .arg(&rejects)
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["files"], 6);
    assert_eq!(summary["accepted"], 50 + 20 + 5 + 1 + 2);
    assert_eq!(summary["failed"]["InvalidData"], 2);
    assert_eq!(summary["failed"]["FieldNotFound"], 1);
    assert_eq!(summary["failed"]["InvalidChecksum"], 1);
    assert_eq!(summary["files_failed"].as_array().unwrap().len(), 1);
    assert!(
        summary["files_failed"][0][0]
            .as_str()
            .unwrap()
            .ends_with("f.txt")
    );

    let refused: Vec<serde_json::Value> = std::fs::read_to_string(&rejects)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(refused.len(), 4);
    let field_not_found = refused
        .iter()
        .find(|r| r["errorCode"] == "FieldNotFound")
        .unwrap();
    assert!(
        field_not_found["location"]
            .as_str()
            .unwrap()
            .ends_with("e.ndjson: line 4")
    );
    assert!(
        field_not_found["errorMessage"]
            .as_str()
            .unwrap()
            .contains("UID")
    );

    assert_eq!(fx.count(), 78);
    let rows = fx.query(&format!(
        "SELECT count(*) AS n FROM {} WHERE eventTime >= '2026-03-02 00:00:00' AND eventTime < '2026-03-03 00:00:00'",
        fx.eds_id
    ));
    assert_eq!(rows[0]["n"], 20);
}

#[test]
fn a_summary_for_people_by_default() {
    let fx = Fixture::new();
    let file = ndjson(fx.path(), "a.ndjson", 3, "2026-03-01T10:00:00Z");
    let text = stdout(
        fx.cmd()
            .args(["ingest", "--channel-arn", "app-channel"])
            .arg(&file),
    );
    assert!(text.contains("3 read, 3 accepted, 0 refused"), "{text}");
}

#[test]
fn cloudtrail_log_files_are_pointed_to_import() {
    let fx = Fixture::new();
    let file = fx.path().join("trail.json");
    std::fs::write(&file, r#"{"Records":[{"eventVersion":"1.08"}]}"#).unwrap();
    let out = fx
        .cmd()
        .args(["ingest", "--channel-arn", &fx.channel_arn])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("auditlake import"));
}
