//! Why one event was refused: the per-event error codes of PutAuditEvents.

use std::fmt;

/// The `errorCode` values PutAuditEvents returns in its `failed` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    FieldTooLong,
    FieldNotFound,
    InvalidChecksum,
    InvalidData,
    InvalidRecipient,
    InvalidEventSource,
    AccountNotSubscribed,
    Throttling,
    InternalFailure,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::FieldTooLong => "FieldTooLong",
            ErrorCode::FieldNotFound => "FieldNotFound",
            ErrorCode::InvalidChecksum => "InvalidChecksum",
            ErrorCode::InvalidData => "InvalidData",
            ErrorCode::InvalidRecipient => "InvalidRecipient",
            ErrorCode::InvalidEventSource => "InvalidEventSource",
            ErrorCode::AccountNotSubscribed => "AccountNotSubscribed",
            ErrorCode::Throttling => "Throttling",
            ErrorCode::InternalFailure => "InternalFailure",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event refused, with the code and a message that names the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError {
    pub code: ErrorCode,
    pub message: String,
}

impl EventError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> EventError {
        EventError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for EventError {}
