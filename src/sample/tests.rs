//! Tests of the generator as a PutAuditEvents caller and a query author would notice them.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use serde_json::Value;

use super::*;

fn lines(config: &SampleConfig) -> Vec<Value> {
    let mut out = Vec::new();
    generate(config, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("line {}: {e}: {l}", i + 1))
        })
        .collect()
}

fn config(events: u64, seed: u64) -> SampleConfig {
    SampleConfig {
        events,
        seed,
        ..SampleConfig::default()
    }
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let run = |seed| {
        let mut out = Vec::new();
        generate(&config(2000, seed), &mut out).unwrap();
        out
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}

#[test]
fn every_event_passes_put_audit_events_validation() {
    let cfg = SampleConfig {
        recipient_account_id: "210987654321".into(),
        ..config(20_000, 42)
    };
    let events = lines(&cfg);
    assert_eq!(events.len(), 20_000);
    let start = cfg.start.timestamp();
    let end = start + i64::from(cfg.days) * 86_400;
    let mut uids = HashSet::new();
    for v in &events {
        for (pointer, max) in [
            ("/version", 256),
            ("/userIdentity/type", 128),
            ("/userIdentity/principalId", 1024),
            ("/eventSource", 1024),
            ("/eventName", 1024),
            ("/UID", 1024),
        ] {
            let value = text(v, pointer);
            assert!(
                !value.is_empty() && value.chars().count() <= max,
                "{pointer} in {v}"
            );
        }
        for (pointer, max) in [
            ("/userAgent", 1024),
            ("/errorCode", 256),
            ("/errorMessage", 256),
        ] {
            assert!(text(v, pointer).chars().count() <= max, "{pointer} in {v}");
        }
        for key in [
            "requestParameters",
            "responseElements",
            "additionalEventData",
        ] {
            if let Some(field) = v.get(key) {
                assert!(field.is_object(), "{key} in {v}");
                assert!(field.to_string().len() < 28 * 1024, "{key} in {v}");
            }
        }
        assert_eq!(text(v, "/recipientAccountId"), "210987654321");
        let time =
            chrono::NaiveDateTime::parse_from_str(text(v, "/eventTime"), "%Y-%m-%dT%H:%M:%SZ")
                .unwrap_or_else(|e| panic!("eventTime in {v}: {e}"));
        let secs = time.and_utc().timestamp();
        assert!(
            (start..end).contains(&secs),
            "eventTime out of range in {v}"
        );
        if let Some(ip) = v.get("sourceIPAddress") {
            let ip = ip.as_str().unwrap_or("");
            assert!(ip.parse::<IpAddr>().is_ok(), "sourceIPAddress {ip:?}");
        }
        assert!(
            uids.insert(text(v, "/UID").to_owned()),
            "duplicate UID in {v}"
        );
    }
}

#[test]
fn the_mix_looks_like_a_real_integration_store() {
    let events = lines(&config(20_000, 1));
    let mut sources = HashMap::<&str, usize>::new();
    let mut principals = HashMap::<&str, usize>::new();
    let (mut errors, mut v6, mut bytes) = (0, 0, 0);
    for v in &events {
        let source = text(v, "/eventSource");
        let kind = if source.ends_with(".compute.internal") {
            "eks"
        } else if source.ends_with(".googleapis.com") {
            "gcp"
        } else {
            source
        };
        *sources.entry(kind).or_default() += 1;
        *principals
            .entry(text(v, "/userIdentity/principalId"))
            .or_default() += 1;
        errors += usize::from(v.get("errorCode").is_some());
        v6 += usize::from(text(v, "/sourceIPAddress").contains(':'));
        bytes += v.to_string().len() + 1;
    }
    for kind in [
        "okta.system-log-events",
        "github.audit.streaming",
        "launchdarkly.audit-log",
        "backoffice.acme.internal",
        "gcp",
        "eks",
    ] {
        assert!(
            sources.get(kind).copied().unwrap_or(0) > 500,
            "{kind}: {sources:?}"
        );
    }
    let error_rate = errors as f64 / events.len() as f64;
    assert!(
        (0.035..0.07).contains(&error_rate),
        "error rate {error_rate}"
    );
    assert!(v6 > events.len() / 20, "{v6} IPv6 addresses");
    assert!(principals.len() > 200, "{} principals", principals.len());
    let mut counts: Vec<usize> = principals.values().copied().collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    assert!(
        counts[5] > 10 * counts[counts.len() / 2],
        "activity is not skewed: {counts:?}"
    );
    // About 0.8 GB per million events: what benches and demos can count on.
    let average = bytes / events.len();
    assert!(
        (700..950).contains(&average),
        "average line {average} bytes"
    );
}

#[test]
fn request_parameters_nest_objects_arrays_numbers_and_booleans() {
    let events = lines(&config(3000, 3));
    let mut seen = [false; 4];
    for v in &events {
        for value in v
            .get("requestParameters")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.values())
        {
            seen[0] |= value.is_object();
            seen[1] |= value.is_array();
            seen[2] |= value.is_number();
            seen[3] |= value.is_boolean();
        }
    }
    assert_eq!(seen, [true; 4]);
    // What the Okta and GitHub sample queries read.
    let okta = events
        .iter()
        .find(|v| text(v, "/eventSource") == "okta.system-log-events")
        .unwrap();
    assert!(text(okta, "/userIdentity/details/alternateId").ends_with("@acme.example"));
    assert!(!text(okta, "/userIdentity/details/displayName").is_empty());
    assert!(events.iter().any(|v| text(v, "/eventName") == "git.clone"
        && text(v, "/userIdentity/details/GitHubOrganization") == "acme-corp"));
    assert!(
        events
            .iter()
            .any(|v| text(v, "/userIdentity/type").contains("fluent"))
    );
    assert!(
        events
            .iter()
            .any(|v| text(v, "/userIdentity/type") == "GoogleCloudUser")
    );
}

#[test]
fn times_increase_up_to_jitter() {
    let events = lines(&config(5000, 9));
    let times: Vec<&str> = events.iter().map(|v| text(v, "/eventTime")).collect();
    let out_of_order = times.windows(2).filter(|w| w[1] < w[0]).count();
    assert!(
        out_of_order < times.len() / 4,
        "{out_of_order} out of order"
    );
    assert!(times[0] < "2026-01-02" && times[times.len() - 1] > "2026-06-28");
}

#[test]
fn bad_configurations_are_refused() {
    let mut out = Vec::new();
    for bad in [
        SampleConfig {
            recipient_account_id: "12345".into(),
            ..SampleConfig::default()
        },
        SampleConfig {
            days: 0,
            ..SampleConfig::default()
        },
    ] {
        let err = generate(&bad, &mut out).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
    assert!(out.is_empty());
    generate(&config(0, 1), &mut out).unwrap();
    assert!(out.is_empty());
}
