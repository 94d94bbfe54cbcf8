//! Validation of one eventData payload against CloudTrail Lake's PutAuditEvents rules.

use std::borrow::Cow;
use std::net::IpAddr;

use serde::Deserialize;

use super::error::{ErrorCode, EventError};
use super::json_map::{JsonMap, MapField};

/// The most bytes one event's eventData may hold (256 KB).
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// Field length limits of the integration event schema: strings in characters, map fields
/// in bytes of the object written compactly (spaces between its tokens do not count).
pub mod limits {
    pub const VERSION: usize = 256;
    pub const USER_IDENTITY_TYPE: usize = 128;
    pub const LONG_STRING: usize = 1024;
    pub const ERROR_FIELD: usize = 256;
    pub const REQUEST_PARAMETERS_BYTES: usize = 100 * 1024;
    pub const RESPONSE_ELEMENTS_BYTES: usize = 100 * 1024;
    pub const ADDITIONAL_EVENT_DATA_BYTES: usize = 28 * 1024;
}

#[derive(Deserialize)]
struct RawUserIdentity<'a> {
    #[serde(borrow, default)]
    r#type: Option<Cow<'a, str>>,
    #[serde(rename = "principalId", borrow, default)]
    principal_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    details: Option<MapField<'a>>,
}

#[derive(Deserialize)]
struct RawEventData<'a> {
    #[serde(borrow, default)]
    version: Option<Cow<'a, str>>,
    #[serde(rename = "userIdentity", default)]
    user_identity: Option<RawUserIdentity<'a>>,
    #[serde(rename = "userAgent", borrow, default)]
    user_agent: Option<Cow<'a, str>>,
    #[serde(rename = "eventSource", borrow, default)]
    event_source: Option<Cow<'a, str>>,
    #[serde(rename = "eventName", borrow, default)]
    event_name: Option<Cow<'a, str>>,
    #[serde(rename = "eventTime", borrow, default)]
    event_time: Option<Cow<'a, str>>,
    #[serde(rename = "UID", borrow, default)]
    uid: Option<Cow<'a, str>>,
    #[serde(rename = "requestParameters", borrow, default)]
    request_parameters: Option<MapField<'a>>,
    #[serde(rename = "responseElements", borrow, default)]
    response_elements: Option<MapField<'a>>,
    #[serde(rename = "errorCode", borrow, default)]
    error_code: Option<Cow<'a, str>>,
    #[serde(rename = "errorMessage", borrow, default)]
    error_message: Option<Cow<'a, str>>,
    #[serde(rename = "sourceIPAddress", borrow, default)]
    source_ip_address: Option<Cow<'a, str>>,
    #[serde(rename = "recipientAccountId", borrow, default)]
    recipient_account_id: Option<Cow<'a, str>>,
    #[serde(rename = "additionalEventData", borrow, default)]
    additional_event_data: Option<MapField<'a>>,
}

/// An eventData payload that passed every check, borrowing from the payload text.
#[derive(Debug)]
pub struct EventData<'a> {
    pub version: Cow<'a, str>,
    pub user_type: Cow<'a, str>,
    pub principal_id: Cow<'a, str>,
    pub details: Option<JsonMap<'a>>,
    pub user_agent: Option<Cow<'a, str>>,
    pub event_source: Cow<'a, str>,
    pub event_name: Cow<'a, str>,
    pub event_time: Cow<'a, str>,
    /// eventTime as milliseconds since the Unix epoch.
    pub event_time_ms: i64,
    pub uid: Cow<'a, str>,
    pub request_parameters: Option<JsonMap<'a>>,
    pub response_elements: Option<JsonMap<'a>>,
    pub error_code: Option<Cow<'a, str>>,
    pub error_message: Option<Cow<'a, str>>,
    pub source_ip_address: Option<Cow<'a, str>>,
    pub recipient_account_id: Cow<'a, str>,
    pub additional_event_data: Option<JsonMap<'a>>,
}

fn required<'a>(value: Option<Cow<'a, str>>, name: &str) -> Result<Cow<'a, str>, EventError> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(EventError::new(
            ErrorCode::FieldNotFound,
            format!("required field {name} is missing or empty"),
        )),
    }
}

fn check_len(value: Option<&str>, name: &str, max_chars: usize) -> Result<(), EventError> {
    if let Some(v) = value {
        // Byte length bounds the character count from above, so most values skip the count.
        if v.len() > max_chars && v.chars().count() > max_chars {
            return Err(EventError::new(
                ErrorCode::FieldTooLong,
                format!("{name} is longer than {max_chars} characters"),
            ));
        }
    }
    Ok(())
}

fn object<'a>(
    field: Option<MapField<'a>>,
    name: &str,
    max_bytes: Option<usize>,
) -> Result<Option<JsonMap<'a>>, EventError> {
    let Some(field) = field else { return Ok(None) };
    if let Some(max) = max_bytes
        && field.compact_bytes > max
    {
        return Err(EventError::new(
            ErrorCode::FieldTooLong,
            format!("{name} is larger than {} kB", max / 1024),
        ));
    }
    Ok(Some(field.map))
}

/// Parses `yyyy-MM-ddTHH:mm:ssZ` (UTC, no fraction), the only form Lake accepts.
pub fn parse_event_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32)
        })
    };
    let date = chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let time = chrono::NaiveTime::from_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?;
    Some(date.and_time(time).and_utc().timestamp_millis())
}

/// Checks one eventData payload. `owner_account` is the channel owner's account: the
/// payload's recipientAccountId must name it.
pub fn validate<'a>(payload: &'a str, owner_account: &str) -> Result<EventData<'a>, EventError> {
    if payload.len() > MAX_EVENT_BYTES {
        return Err(EventError::new(
            ErrorCode::FieldTooLong,
            format!(
                "eventData is {} bytes; the limit is 256 KB ({MAX_EVENT_BYTES} bytes)",
                payload.len()
            ),
        ));
    }
    let raw: RawEventData<'a> = serde_json::from_str(payload).map_err(|e| {
        EventError::new(
            ErrorCode::InvalidData,
            format!("eventData is not a valid JSON object: {e}"),
        )
    })?;
    let version = required(raw.version, "version")?;
    let identity = raw.user_identity.ok_or_else(|| {
        EventError::new(
            ErrorCode::FieldNotFound,
            "required field userIdentity is missing",
        )
    })?;
    let user_type = required(identity.r#type, "userIdentity.type")?;
    let principal_id = required(identity.principal_id, "userIdentity.principalId")?;
    let event_source = required(raw.event_source, "eventSource")?;
    let event_name = required(raw.event_name, "eventName")?;
    let event_time = required(raw.event_time, "eventTime")?;
    let uid = required(raw.uid, "UID")?;
    let recipient_account_id = required(raw.recipient_account_id, "recipientAccountId")?;

    check_len(Some(&version), "version", limits::VERSION)?;
    check_len(
        Some(&user_type),
        "userIdentity.type",
        limits::USER_IDENTITY_TYPE,
    )?;
    for (value, name) in [
        (Some(&*principal_id), "userIdentity.principalId"),
        (raw.user_agent.as_deref(), "userAgent"),
        (Some(&*event_source), "eventSource"),
        (Some(&*event_name), "eventName"),
        (Some(&*uid), "UID"),
    ] {
        check_len(value, name, limits::LONG_STRING)?;
    }
    check_len(raw.error_code.as_deref(), "errorCode", limits::ERROR_FIELD)?;
    check_len(
        raw.error_message.as_deref(),
        "errorMessage",
        limits::ERROR_FIELD,
    )?;

    let event_time_ms = parse_event_time(&event_time).ok_or_else(|| {
        EventError::new(
            ErrorCode::InvalidData,
            format!("eventTime {event_time:?} is not a UTC time in the form yyyy-MM-ddTHH:mm:ssZ"),
        )
    })?;
    if let Some(ip) = raw.source_ip_address.as_deref()
        && ip.parse::<IpAddr>().is_err()
    {
        return Err(EventError::new(
            ErrorCode::InvalidData,
            format!("sourceIPAddress {ip:?} is not an IPv4 or IPv6 address"),
        ));
    }
    if recipient_account_id != owner_account {
        return Err(EventError::new(
            ErrorCode::InvalidRecipient,
            format!(
                "recipientAccountId {recipient_account_id} is not the channel owner's account {owner_account}"
            ),
        ));
    }

    Ok(EventData {
        details: object(identity.details, "userIdentity.details", None)?,
        request_parameters: object(
            raw.request_parameters,
            "requestParameters",
            Some(limits::REQUEST_PARAMETERS_BYTES),
        )?,
        response_elements: object(
            raw.response_elements,
            "responseElements",
            Some(limits::RESPONSE_ELEMENTS_BYTES),
        )?,
        additional_event_data: object(
            raw.additional_event_data,
            "additionalEventData",
            Some(limits::ADDITIONAL_EVENT_DATA_BYTES),
        )?,
        version,
        user_type,
        principal_id,
        user_agent: raw.user_agent,
        event_source,
        event_name,
        event_time,
        event_time_ms,
        uid,
        error_code: raw.error_code,
        error_message: raw.error_message,
        source_ip_address: raw.source_ip_address,
        recipient_account_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "123456789012";

    fn event(extra: &str) -> String {
        format!(
            r#"{{"version":"1.0","userIdentity":{{"type":"User","principalId":"alice","details":{{"n":1}}}},"eventSource":"app","eventName":"Login","eventTime":"2026-01-02T03:04:05Z","UID":"u-1","recipientAccountId":"123456789012"{extra}}}"#
        )
    }

    fn code(payload: &str) -> ErrorCode {
        validate(payload, OWNER).unwrap_err().code
    }

    #[test]
    fn accepts_a_minimal_event() {
        let text = event("");
        let e = validate(&text, OWNER).unwrap();
        assert_eq!(e.event_time_ms, 1_767_323_045_000);
        assert_eq!(e.details.unwrap().entries()[0].1, "1");
    }

    #[test]
    fn missing_fields_are_field_not_found() {
        let text = event("").replace(r#""UID":"u-1","#, "");
        assert_eq!(code(&text), ErrorCode::FieldNotFound);
        let text = event("").replace(r#""principalId":"alice","#, "");
        assert_eq!(code(&text), ErrorCode::FieldNotFound);
    }

    #[test]
    fn bad_values_are_invalid_data() {
        assert_eq!(
            code(&event(r#","sourceIPAddress":"10.0.0.300""#)),
            ErrorCode::InvalidData
        );
        assert!(validate(&event(r#","sourceIPAddress":"2001:db8::1""#), OWNER).is_ok());
        let text = event("").replace("2026-01-02T03:04:05Z", "2026-01-02 03:04:05");
        assert_eq!(code(&text), ErrorCode::InvalidData);
        let text = event("").replace("2026-01-02T03:04:05Z", "2026-02-30T03:04:05Z");
        assert_eq!(code(&text), ErrorCode::InvalidData);
        assert_eq!(code("not json"), ErrorCode::InvalidData);
        assert_eq!(
            code(&event(r#","requestParameters":[1]"#)),
            ErrorCode::InvalidData
        );
    }

    #[test]
    fn limits_give_field_too_long() {
        let long = "x".repeat(257);
        assert_eq!(
            code(&event(&format!(r#","errorCode":"{long}""#))),
            ErrorCode::FieldTooLong
        );
        let big = format!(
            r#","additionalEventData":{{"k":"{}"}}"#,
            "y".repeat(29 * 1024)
        );
        assert_eq!(code(&event(&big)), ErrorCode::FieldTooLong);
        // 256 characters of a multi-byte letter is within the limit.
        let wide = "é".repeat(256);
        assert!(validate(&event(&format!(r#","errorCode":"{wide}""#)), OWNER).is_ok());
    }

    #[test]
    fn recipient_must_be_the_owner() {
        assert_eq!(
            validate(&event(""), "999999999999").unwrap_err().code,
            ErrorCode::InvalidRecipient
        );
    }
}
