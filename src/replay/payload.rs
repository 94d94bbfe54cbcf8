//! One selected event made ready to send: CloudTrail records mapped, recipientAccountId
//! rewritten, the payload checked against Lake's rules and its checksum computed.

use std::collections::HashMap;

use serde_json::value::RawValue;

use crate::event::{checksum, validate};

use super::management;

/// One event as the selection returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedEvent {
    /// The key the journal records it under: the stored eventid, else `sha256:` and the
    /// payload's checksum.
    pub source_id: String,
    /// The stored eventjson: an eventData payload, or a whole CloudTrail record.
    pub payload: String,
    /// The stored eventjsonchecksum, when the selection returned it.
    pub stored_checksum: Option<String>,
}

/// An event ready for PutAuditEvents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedEvent {
    pub source_id: String,
    /// The eventData text sent, byte for byte.
    pub payload: String,
    /// base64(SHA-256(payload)): the eventDataChecksum sent with it.
    pub checksum: String,
}

/// Why an event is not sent at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: String,
    pub message: String,
}

impl Refusal {
    fn new(code: &str, message: impl Into<String>) -> Refusal {
        Refusal {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// Prepares one event for a channel owned by `owner`; `recipient` is `--recipient-account-id`.
pub fn prepare(
    event: &SelectedEvent,
    owner: &str,
    recipient: Option<&str>,
) -> Result<PreparedEvent, Refusal> {
    // The stored payload's checksum, worked out once: it is also the one sent when the
    // payload goes out unchanged.
    let stored = match &event.stored_checksum {
        Some(stored) => {
            let actual = checksum(&event.payload);
            if *stored != actual {
                return Err(Refusal::new(
                    "StoredChecksumMismatch",
                    "the stored eventjson no longer matches its eventjsonchecksum (run `auditlake verify`)",
                ));
            }
            Some(actual)
        }
        None => None,
    };
    let payload = match cloudtrail_record(&event.payload) {
        Some(record) => management::to_event_data(&record, recipient),
        None => match recipient {
            Some(account) => rewrite_recipient(&event.payload, account)?,
            None => event.payload.clone(),
        },
    };
    if let Err(e) = validate(&payload, owner) {
        return Err(Refusal::new(e.code.as_str(), e.message));
    }
    let checksum = match stored {
        Some(stored) if payload == event.payload => stored,
        _ => checksum(&payload),
    };
    Ok(PreparedEvent {
        source_id: event.source_id.clone(),
        payload,
        checksum,
    })
}

/// The payload as a CloudTrail record, if it is one (cheap test first: most are eventData).
fn cloudtrail_record(payload: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    if !payload.contains("\"eventVersion\"") {
        return None;
    }
    let record: serde_json::Map<String, serde_json::Value> = serde_json::from_str(payload).ok()?;
    management::is_cloudtrail_record(&record).then_some(record)
}

/// Replaces the value of the top-level `recipientAccountId` and nothing else: every other
/// byte of the payload stays as it was.
pub fn rewrite_recipient(payload: &str, account: &str) -> Result<String, Refusal> {
    let fields: HashMap<String, &RawValue> = serde_json::from_str(payload).map_err(|e| {
        Refusal::new(
            "InvalidData",
            format!("eventData is not a valid JSON object: {e}"),
        )
    })?;
    let Some(raw) = fields.get("recipientAccountId") else {
        return Ok(payload.to_string()); // validation reports the missing field
    };
    let new_value = serde_json::Value::from(account).to_string();
    let old = raw.get();
    if old == new_value {
        return Ok(payload.to_string());
    }
    // The raw value borrows from `payload`, so its position is its pointer's offset.
    let start = old.as_ptr() as usize - payload.as_ptr() as usize;
    let end = start + old.len();
    Ok(format!(
        "{}{}{}",
        &payload[..start],
        new_value,
        &payload[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "123456789012";

    fn event(payload: &str) -> SelectedEvent {
        SelectedEvent {
            source_id: "e1".into(),
            payload: payload.into(),
            stored_checksum: Some(checksum(payload)),
        }
    }

    fn payload(recipient: &str) -> String {
        format!(
            r#"{{"version":"1.0", "userIdentity":{{"type":"User","principalId":"alice"}},"eventSource":"app","eventName":"Login","eventTime":"2024-01-01T00:00:00Z","UID":"u-1","recipientAccountId" : "{recipient}","requestParameters":{{"n":1.50}}}}"#
        )
    }

    #[test]
    fn sends_the_stored_payload_byte_for_byte() {
        let text = payload(OWNER);
        let ready = prepare(&event(&text), OWNER, None).unwrap();
        assert_eq!(ready.payload, text);
        assert_eq!(ready.checksum, checksum(&text));
    }

    #[test]
    fn rewrites_only_the_recipient_and_recomputes_the_checksum() {
        let text = payload("111122223333");
        let refused = prepare(&event(&text), OWNER, None).unwrap_err();
        assert_eq!(refused.code, "InvalidRecipient");
        let ready = prepare(&event(&text), OWNER, Some(OWNER)).unwrap();
        assert_eq!(ready.payload, payload(OWNER), "spacing and 1.50 are kept");
        assert_eq!(ready.checksum, checksum(&payload(OWNER)));
    }

    #[test]
    fn refuses_a_tampered_row_and_a_payload_that_breaks_the_rules() {
        let mut tampered = event(&payload(OWNER));
        tampered.payload = tampered.payload.replace("alice", "mallory");
        assert_eq!(
            prepare(&tampered, OWNER, None).unwrap_err().code,
            "StoredChecksumMismatch"
        );
        let missing = payload(OWNER).replace(r#""UID":"u-1","#, "");
        let refused = prepare(&event(&missing), OWNER, None).unwrap_err();
        assert_eq!(refused.code, "FieldNotFound");
        assert!(refused.message.contains("UID"), "{}", refused.message);
    }
}
