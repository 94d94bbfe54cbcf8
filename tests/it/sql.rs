//! Lake SQL through the real binary: Trino functions over ingested events, and the published integration sample queries.

use std::path::PathBuf;

use crate::{Fixture, json, stdout};

/// Events shaped like the sources of the published integration queries, dated so those
/// queries find them (GitHub audit log, Okta system log, GCP audit log, EKS pod logs).
const SOURCE_EVENTS: &[&str] = &[
    r#"{"version":"1.0","userIdentity":{"type":"User","principalId":"octocat","details":{"GitHubOrganization":"acme","Repository":"acme/site"}},"eventSource":"github.audit.streaming","eventName":"repo.access","eventTime":"2022-09-12T10:00:00Z","UID":"gh-1","recipientAccountId":"123456789012","requestParameters":{"visibility":"public","repo":"acme/site"}}"#,
    r#"{"version":"1.0","userIdentity":{"type":"User","principalId":"octocat","details":{"GitHubOrganization":"acme"}},"eventSource":"github.audit.streaming","eventName":"org.invite_member","eventTime":"2022-09-13T10:00:00Z","UID":"gh-2","recipientAccountId":"123456789012","requestParameters":{"user":"newbie"}}"#,
    r#"{"version":"1.0","userIdentity":{"type":"User","principalId":"00u1","details":{"alternateId":"ann@acme.example","displayName":"Ann"}},"eventSource":"okta.system-log-events","eventName":"user.session.start","eventTime":"2023-01-31T08:00:00Z","UID":"okta-1","recipientAccountId":"123456789012"}"#,
    r#"{"version":"1.0","userIdentity":{"type":"User","principalId":"00u2","details":{"alternateId":"bob@acme.example","displayName":"Bob"}},"eventSource":"okta.system-log-events","eventName":"user.session.end","eventTime":"2022-09-08T22:23:00Z","UID":"okta-2","recipientAccountId":"123456789012"}"#,
    r#"{"version":"1.0","userIdentity":{"type":"GoogleCloudUser","principalId":"ann@acme.example"},"eventSource":"storage.googleapis.com","eventName":"storage.buckets.get","eventTime":"2023-06-29T08:00:00Z","UID":"gcp-1","recipientAccountId":"123456789012","sourceIPAddress":"192.0.2.1"}"#,
    r#"{"version":"1.0","userIdentity":{"type":"fluentbit","principalId":"pod-a"},"eventSource":"eks.pod.logs","eventName":"stdout","eventTime":"2023-06-29T09:00:00Z","UID":"eks-1","recipientAccountId":"123456789012"}"#,
];

/// A CloudTrail log file with one AssumeRole call.
const STS_LOG: &str = r#"{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"okta.amazonaws.com","principalId":"AROAOKTA"},"eventTime":"2022-09-08T22:22:45Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRoleWithSAML","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.7","userAgent":"aws-internal","requestParameters":{"roleArn":"arn:aws:iam::123456789012:role/okta"},"responseElements":null,"requestID":"r-1","eventID":"0b7c5e61-0d52-4e4f-9a39-5a1d3c7e9f01","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}]}"#;

/// A store holding the `auditlake sample` events, [`SOURCE_EVENTS`], and a management event
/// data store named `trail` with one imported record; returns it with the trail's ID.
fn store() -> (Fixture, String) {
    let fx = Fixture::with_retention(Some(3653));
    let sample = fx.path().join("sample.ndjson");
    let sample_arg = sample.to_str().unwrap();
    stdout(
        fx.cmd()
            .args(["sample", "--events", "500", "--out", sample_arg]),
    );
    let sources = fx.path().join("sources.ndjson");
    std::fs::write(&sources, SOURCE_EVENTS.join("\n") + "\n").unwrap();
    for file in [&sample, &sources] {
        let arn = fx.channel_arn.clone();
        stdout(fx.cmd().args(["ingest", "--channel-arn", &arn]).arg(file));
    }
    let trail = json(fx.cmd().args([
        "create-event-data-store",
        "--name",
        "trail",
        "--retention-period",
        "3653",
        "--advanced-event-selectors",
        r#"[{"Name":"m","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]}]"#,
    ]));
    let trail_arn = trail["EventDataStoreArn"].as_str().unwrap();
    let trail_id = trail_arn.rsplit('/').next().unwrap().to_string();
    // One STS call in the second the mixed query (q6) looks at.
    let log = fx.path().join("sts.json");
    std::fs::write(&log, STS_LOG).unwrap();
    json(
        fx.cmd()
            .args(["import", "--json", "--event-data-store", "trail"])
            .arg(&log),
    );
    (fx, trail_id)
}

/// `sql` with every published placeholder for an event data store ID replaced.
fn fill(sql: &str, integration: &str, management: &str) -> String {
    const INTEGRATION: &[&str] = &[
        "{{replace with your event data store id}}",
        "{{replace with your data store id}}",
        "<event data store id>",
        "xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxx",
        "074365db-2079-4c18-ab83-e753897b74fe",
    ];
    let mut out = sql.replace("181660c8-d56d-4ec1-aa32-c1713fb3bca3", management);
    for placeholder in INTEGRATION {
        out = out.replace(placeholder, integration);
    }
    out
}

#[test]
fn published_integration_queries_run_and_invalid_ones_fail_to_parse() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/conformance/lake-sample-queries/integration");
    if !dir.is_dir() {
        println!("skipped: {} is absent", dir.display());
        return;
    }
    let (fx, trail) = store();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 8, "{files:?}");
    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let sql = fill(&std::fs::read_to_string(file).unwrap(), &fx.eds_id, &trail);
        // The published files open with `--` comments: pass them as a file, not an argument.
        let filled = fx.path().join(&name);
        std::fs::write(&filled, sql).unwrap();
        let out = fx
            .cmd()
            .args(["query", "--format", "ndjson", "-f"])
            .arg(&filled)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        let rows = String::from_utf8_lossy(&out.stdout).lines().count();
        let outcome = match out.status.success() {
            true => format!("ran, {rows} rows"),
            false => format!("failed: {stderr}"),
        };
        println!("{name}: {outcome}");
        let as_expected = match name.as_str() {
            // Published with a missing comma and an unterminated string literal.
            "q1-integration.sql" => !out.status.success() && stderr.contains("syntax error"),
            _ => out.status.success(),
        };
        if !as_expected {
            failures.push(format!("{name}: {outcome}"));
        }
        // Each source event is found by the query written for its source.
        let want_rows = match name.as_str() {
            "q2-integration.sql" | "q3-integration.sql" | "q5-integration.sql" => 1,
            // One Okta event and one STS call, one from each store.
            "q6-mixed.sql" => 2,
            "q7-integration.sql" => 1,
            _ => rows,
        };
        if out.status.success() && rows != want_rows {
            failures.push(format!("{name}: {rows} rows, expected {want_rows}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn trino_functions_over_stored_events() {
    let fx = Fixture::with_retention(Some(3653));
    let events = crate::ndjson(fx.path(), "e.ndjson", 3, "2023-01-22T16:53:53Z");
    let arn = fx.channel_arn.clone();
    stdout(
        fx.cmd()
            .args(["ingest", "--channel-arn", &arn])
            .arg(&events),
    );
    let sql = format!(
        "SELECT json_extract_scalar(element_at(eventData.requestParameters, 'mfa'), '$.used') AS mfa, \
         json_extract(eventJson, '$.userIdentity.details') AS details, \
         json_array_length(json_extract(eventJson, '$.userIdentity.*')) AS none, \
         day_of_week(eventTime) AS dow, date(eventTime) AS day, \
         date_format(eventTime, '%Y-%m-%d %H:%i:%s') AS text, to_iso8601(eventTime) AS iso, \
         date_add('day', 1, eventTime) AS next, date_diff('hour', eventTime, TIMESTAMP '2023-01-23 00:00:00') AS hours, \
         regexp_extract(eventData.sourceIPAddress, '^([0-9a-f]+):', 1) AS prefix, \
         contains(map_keys(eventData.requestParameters), 'region') AS has_region \
         FROM {} LIMIT 1",
        fx.eds_id
    );
    let out = fx
        .cmd()
        .args(["query", "--format", "ndjson", &sql])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // `$.userIdentity.*` is not a Trino path: the query fails and says so.
    assert!(stderr.contains("Invalid JSON path"), "{stderr}");
    let sql = sql.replace(
        "json_array_length(json_extract(eventJson, '$.userIdentity.*'))",
        "json_array_length(json_extract(eventJson, '$.userIdentity'))",
    );
    let rows = fx.query(&sql);
    assert_eq!(
        rows[0],
        serde_json::json!({
            "mfa": "true", "details": "{\"team\":\"sec\"}", "none": null, "dow": 7,
            "day": "2023-01-22", "text": "2023-01-22 16:53:53", "iso": "2023-01-22T16:53:53.000",
            "next": "2023-01-23 16:53:53.000", "hours": 7, "prefix": "2001", "has_region": true
        })
    );
    let sql = format!(
        "SELECT count_if(eventData.eventName = 'Login') AS logins, approx_distinct(eventData.uid) AS uids, \
         arbitrary(eventData.userIdentity.principalId) AS who FROM {}",
        fx.eds_id
    );
    assert_eq!(
        fx.query(&sql),
        vec![serde_json::json!({"logins": 3, "uids": 3, "who": "alice"})]
    );
}

#[test]
fn the_large_refunds_query_reads_amounts_with_json_extract_scalar() {
    let fx = Fixture::with_retention(Some(3653));
    let sample = fx.path().join("sample.ndjson");
    stdout(fx.cmd().args([
        "sample",
        "--events",
        "3000",
        "--out",
        sample.to_str().unwrap(),
    ]));
    let arn = fx.channel_arn.clone();
    stdout(
        fx.cmd()
            .args(["ingest", "--channel-arn", &arn])
            .arg(&sample),
    );
    let query = crate::repo_file("queries/large-refunds.sql");
    let out = stdout(
        fx.cmd()
            .args(["query", "--format", "ndjson", "--param"])
            .arg(format!("eds={}", fx.eds_id))
            .arg("-f")
            .arg(&query),
    );
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!rows.is_empty(), "no large refunds in the sample");
    for row in &rows {
        assert!(row["amount"].as_f64().unwrap() > 1000.0, "{row}");
        assert_eq!(row["currency"].as_str().unwrap().len(), 3, "{row}");
    }
}
