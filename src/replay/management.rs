//! Maps a CloudTrail management or data event record to a PutAuditEvents eventData payload.
//!
//! | eventData | from the CloudTrail record |
//! |---|---|
//! | version | eventVersion |
//! | userIdentity.type | userIdentity.type (else `Unknown`) |
//! | userIdentity.principalId | userIdentity.principalId, else arn, invokedBy, accountId, `unknown` |
//! | userIdentity.details | the other userIdentity fields (arn, accountId, accessKeyId, userName, sessionContext, ...) |
//! | userAgent, eventSource, eventName, eventTime, errorCode, errorMessage | the same fields |
//! | UID | requestID, else eventID |
//! | requestParameters, responseElements | the same objects (a non-object value becomes `{"value": ...}`) |
//! | sourceIPAddress | sourceIPAddress when it is an IP address (else it goes to additionalEventData) |
//! | recipientAccountId | recipientAccountId (or `--recipient-account-id`) |
//! | additionalEventData | eventID, awsRegion, eventType, eventCategory, readOnly, managementEvent, resources, sharedEventID, vpcEndpointId, a non-IP sourceIPAddress, and the record's own additionalEventData |

use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::event::validate::limits;

/// The `--help` text that documents the mapping.
pub const MAPPING_HELP: &str = "Events of a Management or Data event data store (imported CloudTrail logs) are \
mapped to eventData: version = eventVersion; userIdentity.type = userIdentity.type; \
userIdentity.principalId = userIdentity.principalId (else arn, invokedBy, accountId); \
userIdentity.details = the other userIdentity fields; userAgent, eventSource, eventName, \
eventTime, errorCode, errorMessage unchanged; UID = requestID (else eventID); \
requestParameters and responseElements unchanged; sourceIPAddress when it is an IP address; \
recipientAccountId unchanged (or --recipient-account-id); additionalEventData = eventID, \
awsRegion, eventType, eventCategory, readOnly, managementEvent, resources, sharedEventID, \
vpcEndpointId, a sourceIPAddress that is a service name, and the record's own \
additionalEventData.";

/// True when `record` is a CloudTrail record rather than an eventData payload: it has
/// `eventVersion` and no `UID`.
pub fn is_cloudtrail_record(record: &Map<String, Value>) -> bool {
    record.contains_key("eventVersion") && !record.contains_key("UID")
}

/// Maps a CloudTrail record to eventData text. `recipient` replaces recipientAccountId when given.
pub fn to_event_data(record: &Map<String, Value>, recipient: Option<&str>) -> String {
    let text = |key: &str| record.get(key).and_then(Value::as_str);
    let mut out = Map::new();
    if let Some(v) = record.get("eventVersion") {
        out.insert("version".into(), v.clone());
    }
    out.insert(
        "userIdentity".into(),
        user_identity(record.get("userIdentity")),
    );
    for key in ["userAgent", "eventSource", "eventName", "eventTime"] {
        if let Some(v) = record.get(key).filter(|v| !v.is_null()) {
            out.insert(key.into(), v.clone());
        }
    }
    if let Some(uid) = text("requestID").or_else(|| text("eventID")) {
        out.insert("UID".into(), uid.into());
    }
    for key in ["requestParameters", "responseElements"] {
        match record.get(key) {
            None | Some(Value::Null) => {}
            Some(v @ Value::Object(_)) => {
                out.insert(key.into(), v.clone());
            }
            Some(other) => {
                out.insert(key.into(), serde_json::json!({ "value": other }));
            }
        }
    }
    for key in ["errorCode", "errorMessage"] {
        if let Some(v) = record.get(key).filter(|v| !v.is_null()) {
            out.insert(key.into(), v.clone());
        }
    }
    let mut additional = Map::new();
    match text("sourceIPAddress") {
        Some(ip) if ip.parse::<IpAddr>().is_ok() => {
            out.insert("sourceIPAddress".into(), ip.into());
        }
        Some(other) => {
            additional.insert("sourceIPAddress".into(), other.into());
        }
        None => {}
    }
    let recipient = recipient.or_else(|| text("recipientAccountId"));
    if let Some(account) = recipient {
        out.insert("recipientAccountId".into(), account.into());
    }
    for (from, to) in [
        ("eventID", "eventID"),
        ("awsRegion", "awsRegion"),
        ("eventType", "eventType"),
        ("eventCategory", "eventCategory"),
        ("readOnly", "readOnly"),
        ("managementEvent", "managementEvent"),
        ("resources", "resources"),
        ("sharedEventID", "sharedEventID"),
        ("vpcEndpointId", "vpcEndpointId"),
    ] {
        if let Some(v) = record.get(from).filter(|v| !v.is_null()) {
            additional.insert(to.into(), v.clone());
        }
    }
    let fixed = Value::Object(additional.clone());
    if let Some(Value::Object(own)) = record.get("additionalEventData") {
        for (k, v) in own {
            additional.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let mut additional = Value::Object(additional);
    // Lake caps additionalEventData at 28 kB: keep the record's own fields only if they fit.
    if additional.to_string().len() > limits::ADDITIONAL_EVENT_DATA_BYTES {
        additional = fixed;
    }
    if additional.as_object().is_some_and(|m| !m.is_empty()) {
        out.insert("additionalEventData".into(), additional);
    }
    Value::Object(out).to_string()
}

fn user_identity(identity: Option<&Value>) -> Value {
    let empty = Map::new();
    let identity = identity.and_then(Value::as_object).unwrap_or(&empty);
    let text = |key: &str| {
        identity
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let kind = text("type").unwrap_or("Unknown");
    let principal = text("principalId")
        .or_else(|| text("arn"))
        .or_else(|| text("invokedBy"))
        .or_else(|| text("accountId"))
        .unwrap_or("unknown");
    let details: Map<String, Value> = identity
        .iter()
        .filter(|(k, v)| k.as_str() != "type" && k.as_str() != "principalId" && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut out = Map::new();
    out.insert("type".into(), kind.into());
    out.insert("principalId".into(), principal.into());
    if !details.is_empty() {
        out.insert("details".into(), Value::Object(details));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(text: &str) -> Map<String, Value> {
        serde_json::from_str(text).unwrap()
    }

    const RECORD: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROA:alice","arn":"arn:aws:sts::111122223333:assumed-role/r/alice","accountId":"111122223333","sessionContext":{"attributes":{"mfaAuthenticated":"false"}}},"eventTime":"2024-03-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2","requestParameters":{"bucketName":"b"},"responseElements":null,"requestID":"REQ1","eventID":"6b1c","readOnly":true,"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"111122223333","eventCategory":"Data","additionalEventData":{"bytesTransferredOut":12}}"#;

    #[test]
    fn a_cloudtrail_record_becomes_valid_event_data() {
        let r = record(RECORD);
        assert!(is_cloudtrail_record(&r));
        let payload = to_event_data(&r, None);
        let data = crate::event::validate(&payload, "111122223333").expect("valid eventData");
        assert_eq!(data.version, "1.08");
        assert_eq!(data.user_type, "AssumedRole");
        assert_eq!(data.principal_id, "AROA:alice");
        assert_eq!(data.uid, "REQ1");
        assert_eq!(data.event_name, "GetObject");
        assert_eq!(data.source_ip_address.as_deref(), Some("203.0.113.9"));
        let v: Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(v["additionalEventData"]["eventID"], "6b1c");
        assert_eq!(v["additionalEventData"]["bytesTransferredOut"], 12);
        assert_eq!(
            v["userIdentity"]["details"]["arn"],
            "arn:aws:sts::111122223333:assumed-role/r/alice"
        );
        assert!(v.get("responseElements").is_none());
    }

    #[test]
    fn service_callers_and_recipient_override() {
        let text = RECORD
            .replace(
                r#""sourceIPAddress":"203.0.113.9""#,
                r#""sourceIPAddress":"ec2.amazonaws.com""#,
            )
            .replace(r#""requestID":"REQ1","#, "");
        let r = record(&text);
        let payload = to_event_data(&r, Some("999988887777"));
        let data = crate::event::validate(&payload, "999988887777").expect("valid");
        assert_eq!(
            data.uid, "6b1c",
            "eventID stands in for a missing requestID"
        );
        assert!(data.source_ip_address.is_none());
        let v: Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(
            v["additionalEventData"]["sourceIPAddress"],
            "ec2.amazonaws.com"
        );
        assert_eq!(v["recipientAccountId"], "999988887777");
    }

    #[test]
    fn event_data_is_not_a_cloudtrail_record() {
        let payload = r#"{"version":"1.0","UID":"u","eventVersion":"x"}"#;
        assert!(!is_cloudtrail_record(&record(payload)));
    }
}
