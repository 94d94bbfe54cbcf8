//! Control-plane commands and PutAuditEvents through the command line, checked by query.

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::{Fixture, event, json};

fn checksum(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

#[test]
fn put_audit_events_answers_per_event_and_stores_the_good_ones() {
    let fx = Fixture::new();
    let good = event("u-1", "2026-03-01T10:00:00Z");
    let bad_ip = event("u-2", "2026-03-01T10:00:01Z").replace("2001:db8::7", "999.1.1.1");
    let wrong_account =
        event("u-3", "2026-03-01T10:00:02Z").replace("123456789012", "210987654321");
    let events = serde_json::json!([
        {"id": "ok", "eventData": good, "eventDataChecksum": checksum(&good)},
        {"id": "badip", "eventData": bad_ip},
        {"id": "recipient", "eventData": wrong_account},
        {"id": "sum", "eventData": good, "eventDataChecksum": checksum("something else")},
    ]);
    let response = json(fx.cmd().args([
        "put-audit-events",
        "--channel-arn",
        &fx.channel_arn,
        "--audit-events",
        &events.to_string(),
    ]));
    assert_eq!(response["successful"].as_array().unwrap().len(), 1);
    assert_eq!(response["successful"][0]["id"], "ok");
    let codes: Vec<(&str, &str)> = response["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap(), f["errorCode"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        [
            ("badip", "InvalidData"),
            ("recipient", "InvalidRecipient"),
            ("sum", "InvalidChecksum")
        ]
    );

    let event_id = response["successful"][0]["eventID"].as_str().unwrap();
    let rows = fx.query(&format!(
        "SELECT eventid, eventcategory, eventtype, eventjson, eventjsonchecksum, metadata.channelarn AS channel, \
         eventData.userIdentity.principalId AS who, element_at(eventdata.requestparameters, 'mfa') AS mfa \
         FROM {} WHERE eventTime > '2026-02-28 00:00:00'",
        fx.eds_id
    ));
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["eventid"], event_id);
    assert_eq!(row["eventcategory"], "ActivityAuditLog");
    assert_eq!(row["eventtype"], "ActivityLog");
    assert_eq!(row["eventjson"], good, "the payload is kept byte for byte");
    assert_eq!(row["eventjsonchecksum"], checksum(&good));
    assert_eq!(row["channel"], fx.channel_arn);
    assert_eq!(row["who"], "alice");
    assert_eq!(row["mfa"], r#"{"used":true}"#);
}

#[test]
fn request_level_errors_fail_the_whole_request() {
    let fx = Fixture::new();
    let e = event("u-1", "2026-03-01T10:00:00Z");
    let dup = serde_json::json!([{"id": "a", "eventData": e}, {"id": "a", "eventData": e}]);
    let out = fx
        .cmd()
        .args([
            "put-audit-events",
            "--channel-arn",
            &fx.channel_arn,
            "--audit-events",
            &dup.to_string(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("DuplicatedAuditEventId"));

    let one = serde_json::json!([{"id": "a", "eventData": e}]).to_string();
    let missing = fx
        .channel_arn
        .replace(&fx.channel_arn[fx.channel_arn.len() - 4..], "0000");
    let out = fx
        .cmd()
        .args([
            "put-audit-events",
            "--channel-arn",
            &missing,
            "--audit-events",
            &one,
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("ChannelNotFound"));

    let out = fx
        .cmd()
        .args([
            "put-audit-events",
            "--channel-arn",
            "arn:aws:nope",
            "--audit-events",
            &one,
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("InvalidChannelARN"));

    let out = fx
        .cmd()
        .args([
            "put-audit-events",
            "--channel-arn",
            &fx.channel_arn,
            "--caller-account-id",
            "210987654321",
            "--audit-events",
            &one,
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("ChannelInsufficientPermission"));
    assert_eq!(fx.count(), 0, "nothing of a refused request is stored");
}

#[test]
fn a_resource_policy_lets_another_account_in_with_its_external_id() {
    let fx = Fixture::new();
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "partner",
            "Effect": "Allow",
            "Principal": {"AWS": ["210987654321"]},
            "Action": "cloudtrail-data:PutAuditEvents",
            "Resource": fx.channel_arn,
            "Condition": {"StringEquals": {"cloudtrail:ExternalId": "s3cret"}}
        }]
    });
    json(fx.cmd().args([
        "put-resource-policy",
        "--resource-arn",
        &fx.channel_arn,
        "--resource-policy",
        &policy.to_string(),
    ]));
    let e = event("u-1", "2026-03-01T10:00:00Z");
    let one = serde_json::json!([{"id": "a", "eventData": e}]).to_string();
    let put = |external: Option<&str>| {
        let mut cmd = fx.cmd();
        cmd.args([
            "put-audit-events",
            "--channel-arn",
            &fx.channel_arn,
            "--caller-account-id",
            "210987654321",
            "--audit-events",
            &one,
        ]);
        if let Some(x) = external {
            cmd.args(["--external-id", x]);
        }
        cmd.output().unwrap()
    };
    assert!(String::from_utf8_lossy(&put(None).stderr).contains("ChannelInsufficientPermission"));
    assert!(
        String::from_utf8_lossy(&put(Some("wrong")).stderr)
            .contains("ChannelInsufficientPermission")
    );
    let ok = put(Some("s3cret"));
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(fx.count(), 1);
}

#[test]
fn a_stopped_store_takes_no_events_until_started() {
    let fx = Fixture::new();
    json(fx.cmd().args([
        "stop-event-data-store-ingestion",
        "--event-data-store",
        &fx.eds_id,
    ]));
    let request = serde_json::json!({
        "channelArn": fx.channel_arn,
        "auditEvents": [{"id": "a", "eventData": event("u-1", "2026-03-01T10:00:00Z")}]
    });
    let file = fx.path().join("request.json");
    std::fs::write(&file, request.to_string()).unwrap();
    let input = format!("file://{}", file.display());
    let out = fx
        .cmd()
        .args(["put-audit-events", "--cli-input-json", &input])
        .output()
        .unwrap();
    assert!(!out.status.success());
    json(fx.cmd().args([
        "start-event-data-store-ingestion",
        "--event-data-store",
        "app-events",
    ]));
    json(
        fx.cmd()
            .args(["put-audit-events", "--cli-input-json", &input]),
    );
    assert_eq!(fx.count(), 1);
}

#[test]
fn from_takes_the_bare_id_the_name_and_the_arn() {
    let fx = Fixture::new();
    let e = event("u-1", "2026-03-01T10:00:00Z");
    let one = serde_json::json!([{"id": "a", "eventData": e}]).to_string();
    json(fx.cmd().args([
        "put-audit-events",
        "--channel-arn",
        &fx.channel_arn,
        "--audit-events",
        &one,
    ]));
    for table in [
        fx.eds_id.clone(),
        fx.eds_id.to_uppercase(),
        "app-events".to_string(),
        fx.eds_arn.clone(),
    ] {
        let rows = fx.query(&format!(
            "SELECT eventData.eventName AS name FROM {table} WHERE eventdata.useridentity.principalid = 'alice'"
        ));
        assert_eq!(rows.len(), 1, "FROM {table}");
        assert_eq!(rows[0]["name"], "Login");
    }
}

#[test]
fn deleting_a_store_follows_lakes_rules() {
    let fx = Fixture::new();
    let out = fx
        .cmd()
        .args(["delete-event-data-store", "--event-data-store", &fx.eds_id])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("TerminationProtected"));
    json(fx.cmd().args([
        "update-event-data-store",
        "--event-data-store",
        &fx.eds_id,
        "--no-termination-protection-enabled",
    ]));
    let out = fx
        .cmd()
        .args(["delete-event-data-store", "--event-data-store", &fx.eds_id])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("ChannelExistsForEDSException"));
    json(
        fx.cmd()
            .args(["delete-channel", "--channel", &fx.channel_arn]),
    );
    json(
        fx.cmd()
            .args(["delete-event-data-store", "--event-data-store", &fx.eds_id]),
    );
    let got = json(
        fx.cmd()
            .args(["get-event-data-store", "--event-data-store", &fx.eds_id]),
    );
    assert_eq!(got["Status"], "PENDING_DELETION");
    json(
        fx.cmd()
            .args(["restore-event-data-store", "--event-data-store", &fx.eds_id]),
    );
    let got = json(
        fx.cmd()
            .args(["get-event-data-store", "--event-data-store", &fx.eds_id]),
    );
    assert_eq!(got["Status"], "ENABLED");
}

#[test]
fn the_committed_sample_data_is_what_the_generator_writes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.ndjson");
    crate::stdout(
        crate::auditlake(dir.path())
            .args(["sample", "--events", "5000", "--seed", "42", "--out"])
            .arg(&out),
    );
    let committed = std::fs::read(crate::repo_file("sample-data/events.ndjson")).unwrap();
    assert!(
        std::fs::read(&out).unwrap() == committed,
        "regenerating sample-data/events.ndjson changes it"
    );
}

#[test]
fn the_bundled_request_and_bad_events_behave_as_documented() {
    let fx = Fixture::new();
    let request = format!(
        "file://{}",
        crate::repo_file("sample-data/put-audit-events.json").display()
    );
    let response = json(fx.cmd().args([
        "put-audit-events",
        "--channel-arn",
        &fx.channel_arn,
        "--cli-input-json",
        &request,
    ]));
    assert_eq!(
        response["successful"].as_array().unwrap().len(),
        10,
        "{response}"
    );
    assert_eq!(response["failed"].as_array().unwrap().len(), 0);

    let out = fx
        .cmd()
        .args(["ingest", "--json", "--channel-arn", &fx.channel_arn])
        .arg(crate::repo_file("sample-data/bad-events.ndjson"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["accepted"], 3);
    assert_eq!(
        summary["failed"],
        serde_json::json!({"FieldNotFound": 3, "FieldTooLong": 1, "InvalidData": 4, "InvalidRecipient": 1})
    );
    assert_eq!(fx.count(), 13);
}
