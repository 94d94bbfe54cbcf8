//! PutAuditEvents requests: their JSON shape, request-level limits and errors.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

/// At most this many events in one PutAuditEvents request.
pub const MAX_EVENTS_PER_REQUEST: usize = 100;
/// At most this many bytes of events in one request (1 MB).
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;
/// Audit event ids: 1 to 128 characters.
pub const MAX_ID_CHARS: usize = 128;

/// Errors that fail a whole request, named as the CloudTrail Data API names them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("ChannelNotFound: {0}")]
    ChannelNotFound(String),
    #[error("InvalidChannelARN: {0}")]
    InvalidChannelArn(String),
    #[error("ChannelInsufficientPermission: {0}")]
    ChannelInsufficientPermission(String),
    #[error("ChannelUnsupportedSchema: {0}")]
    ChannelUnsupportedSchema(String),
    #[error("DuplicatedAuditEventId: {0}")]
    DuplicatedAuditEventId(String),
    #[error("UnsupportedOperationException: {0}")]
    UnsupportedOperation(String),
    #[error("ValidationException: {0}")]
    Validation(String),
}

impl RequestError {
    /// The exception name AWS SDKs match on.
    pub fn aws_code(&self) -> &'static str {
        match self {
            RequestError::ChannelNotFound(_) => "ChannelNotFound",
            RequestError::InvalidChannelArn(_) => "InvalidChannelARN",
            RequestError::ChannelInsufficientPermission(_) => "ChannelInsufficientPermission",
            RequestError::ChannelUnsupportedSchema(_) => "ChannelUnsupportedSchema",
            RequestError::DuplicatedAuditEventId(_) => "DuplicatedAuditEventId",
            RequestError::UnsupportedOperation(_) => "UnsupportedOperationException",
            RequestError::Validation(_) => "ValidationException",
        }
    }
}

/// One event of a request, as the API and the AWS CLI spell it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: String,
    #[serde(rename = "eventData")]
    pub event_data: String,
    #[serde(
        rename = "eventDataChecksum",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub event_data_checksum: Option<String>,
}

/// A PutAuditEvents request (`--cli-input-json` shape).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutAuditEventsRequest {
    #[serde(rename = "channelArn", default)]
    pub channel_arn: Option<String>,
    #[serde(
        rename = "externalId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub external_id: Option<String>,
    #[serde(rename = "auditEvents")]
    pub audit_events: Vec<AuditEvent>,
}

/// One accepted event in the response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultSuccessEntry {
    pub id: String,
    #[serde(rename = "eventID")]
    pub event_id: String,
}

/// One refused event in the response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultErrorEntry {
    pub id: String,
    #[serde(rename = "errorCode")]
    pub error_code: String,
    #[serde(rename = "errorMessage")]
    pub error_message: String,
}

/// The PutAuditEvents response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutAuditEventsResponse {
    pub successful: Vec<ResultSuccessEntry>,
    pub failed: Vec<ResultErrorEntry>,
}

impl PutAuditEventsResponse {
    /// Answers the event the caller called `id`: its new eventID, or why it was refused.
    pub fn record(&mut self, id: &str, outcome: Result<String, crate::event::EventError>) {
        match outcome {
            Ok(event_id) => self.successful.push(ResultSuccessEntry {
                id: id.to_string(),
                event_id,
            }),
            Err(e) => self.failed.push(ResultErrorEntry {
                id: id.to_string(),
                error_code: e.code.as_str().to_string(),
                error_message: e.message,
            }),
        }
    }
}

/// True when `id` is 1 to 128 characters of `[-_A-Za-z0-9]`.
pub fn valid_event_id(id: &str) -> bool {
    (1..=MAX_ID_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The request-level limits: event count, total size, id syntax and uniqueness.
pub fn check_request(events: &[AuditEvent]) -> Result<(), RequestError> {
    if events.is_empty() || events.len() > MAX_EVENTS_PER_REQUEST {
        return Err(RequestError::Validation(format!(
            "auditEvents holds {} events; a request takes 1 to {MAX_EVENTS_PER_REQUEST}",
            events.len()
        )));
    }
    let bytes: usize = events
        .iter()
        .map(|e| {
            e.event_data.len() + e.id.len() + e.event_data_checksum.as_ref().map_or(0, String::len)
        })
        .sum();
    if bytes > MAX_REQUEST_BYTES {
        return Err(RequestError::Validation(format!(
            "the request's events add up to {bytes} bytes; the limit is 1 MB ({MAX_REQUEST_BYTES} bytes)"
        )));
    }
    let mut seen = HashSet::with_capacity(events.len());
    for event in events {
        if !valid_event_id(&event.id) {
            return Err(RequestError::Validation(format!(
                "audit event id {:?} must be 1 to 128 characters of [-_A-Za-z0-9]",
                event.id
            )));
        }
        if !seen.insert(event.id.as_str()) {
            return Err(RequestError::DuplicatedAuditEventId(format!(
                "audit event id {:?} appears more than once in the request",
                event.id
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str) -> AuditEvent {
        AuditEvent {
            id: id.to_string(),
            event_data: "{}".to_string(),
            event_data_checksum: None,
        }
    }

    #[test]
    fn ids_follow_the_api_pattern() {
        assert!(valid_event_id("a-B_9"));
        assert!(!valid_event_id(""));
        assert!(!valid_event_id("a b"));
        assert!(!valid_event_id(&"x".repeat(129)));
        assert!(valid_event_id(&"x".repeat(128)));
    }

    #[test]
    fn request_limits() {
        assert_eq!(
            check_request(&[]).unwrap_err().aws_code(),
            "ValidationException"
        );
        let many: Vec<_> = (0..101).map(|i| event(&i.to_string())).collect();
        assert_eq!(
            check_request(&many).unwrap_err().aws_code(),
            "ValidationException"
        );
        assert!(check_request(&many[..100]).is_ok());
        let dup = [event("a"), event("b"), event("a")];
        assert_eq!(
            check_request(&dup).unwrap_err().aws_code(),
            "DuplicatedAuditEventId"
        );
        let mut big = event("big");
        big.event_data = "x".repeat(MAX_REQUEST_BYTES);
        assert_eq!(
            check_request(&[big]).unwrap_err().aws_code(),
            "ValidationException"
        );
    }

    #[test]
    fn parses_the_cli_input_json_shape() {
        let text = r#"{"channelArn":"arn:x","auditEvents":[{"id":"1","eventData":"{}","eventDataChecksum":"c"}]}"#;
        let request: PutAuditEventsRequest = serde_json::from_str(text).unwrap();
        assert_eq!(request.channel_arn.as_deref(), Some("arn:x"));
        assert_eq!(
            request.audit_events[0].event_data_checksum.as_deref(),
            Some("c")
        );
    }
}
