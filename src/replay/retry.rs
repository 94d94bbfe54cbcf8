//! Retry classification of PutAuditEvents outcomes, and exponential backoff with full jitter.

use std::time::Duration;

use aws_sdk_cloudtraildata::config::http::HttpResponse;
use aws_sdk_cloudtraildata::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudtraildata::operation::put_audit_events::PutAuditEventsError;

/// Attempts per event (the first send included) before a retryable failure becomes final.
pub const MAX_ATTEMPTS: u32 = 20;
/// The first backoff's upper bound.
pub const BASE_BACKOFF: Duration = Duration::from_millis(50);
/// No backoff is longer than this.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Per-event `failed` codes that are worth another try.
pub const RETRYABLE_EVENT_CODES: &[&str] = &["Throttling", "InternalFailure"];

/// Service error codes (whole request) that are worth another try.
const RETRYABLE_SERVICE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "SlowDown",
    "InternalFailure",
    "InternalServerError",
    "InternalServerException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// What a failed request means for its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFailure {
    /// The code the summary and journal use (`ChannelNotFound`, `HTTP 503`, `DispatchFailure`, ...).
    pub code: String,
    pub message: String,
    pub retry: Retry,
}

/// Whether a failure is retried and what is known about the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// The service answered with an error: nothing was stored; sending again is safe.
    Answered,
    /// No answer (dropped connection, timeout, unreadable response): the events may or may
    /// not have been stored. Sent again, since Lake offers no way to ask.
    Unanswered,
    /// Sending the same request again cannot succeed.
    Permanent,
}

impl RequestFailure {
    pub fn retryable(&self) -> bool {
        self.retry != Retry::Permanent
    }
}

/// True when a per-event `failed` entry with this code should be sent again.
pub fn event_code_is_retryable(code: &str) -> bool {
    RETRYABLE_EVENT_CODES.contains(&code)
}

/// Classifies an SDK error of PutAuditEvents.
pub fn classify(err: &SdkError<PutAuditEventsError, HttpResponse>) -> RequestFailure {
    let message = aws_sdk_cloudtraildata::error::DisplayErrorContext(err).to_string();
    let failure = |code: &str, retry| RequestFailure {
        code: code.to_string(),
        message: message.clone(),
        retry,
    };
    match err {
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let service = ctx.err();
            let code = match service {
                PutAuditEventsError::ChannelInsufficientPermission(_) => {
                    "ChannelInsufficientPermission"
                }
                PutAuditEventsError::ChannelNotFound(_) => "ChannelNotFound",
                PutAuditEventsError::ChannelUnsupportedSchema(_) => "ChannelUnsupportedSchema",
                PutAuditEventsError::DuplicatedAuditEventId(_) => "DuplicatedAuditEventId",
                PutAuditEventsError::InvalidChannelArn(_) => "InvalidChannelARN",
                PutAuditEventsError::UnsupportedOperationException(_) => {
                    "UnsupportedOperationException"
                }
                other => {
                    let code = other.code().map(str::to_string);
                    let code = code.unwrap_or_else(|| format!("HTTP {status}"));
                    let retry = if RETRYABLE_SERVICE_CODES.contains(&code.as_str())
                        || status == 429
                        || (500..600).contains(&status)
                    {
                        Retry::Answered
                    } else {
                        Retry::Permanent
                    };
                    return failure(&code, retry);
                }
            };
            failure(code, Retry::Permanent)
        }
        SdkError::ResponseError(ctx) => {
            let status = ctx.raw().status().as_u16();
            if status == 429 || (500..600).contains(&status) {
                failure(&format!("HTTP {status}"), Retry::Answered)
            } else {
                failure("ResponseError", Retry::Unanswered)
            }
        }
        SdkError::DispatchFailure(e) if e.is_user() => failure("DispatchFailure", Retry::Permanent),
        SdkError::DispatchFailure(e) if e.is_timeout() => failure("Timeout", Retry::Unanswered),
        // Nothing reached the service: safe to send again, and no doubt left if it never does.
        SdkError::DispatchFailure(_) if never_connected(err) => {
            failure("ConnectionRefused", Retry::Answered)
        }
        SdkError::DispatchFailure(_) => failure("DispatchFailure", Retry::Unanswered),
        SdkError::TimeoutError(_) => failure("Timeout", Retry::Unanswered),
        SdkError::ConstructionFailure(_) => failure("ConstructionFailure", Retry::Permanent),
        _ => failure("SdkError", Retry::Permanent),
    }
}

/// True when the error's cause is a connection that was never made (refused, or no such
/// address), so no byte of the request was sent.
fn never_connected(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::AddrNotAvailable
            )
        {
            return true;
        }
        cause = e.source();
    }
    false
}

/// The wait before attempt `attempt + 1` (attempt 1 is the first send): a random duration
/// up to `min(MAX_BACKOFF, BASE_BACKOFF * 2^(attempt-1))` ("full jitter").
pub fn backoff(attempt: u32) -> Duration {
    let cap = backoff_cap(attempt);
    cap.mul_f64(rand::random::<f64>())
}

/// The upper bound of [`backoff`] for `attempt`.
pub fn backoff_cap(attempt: u32) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(16);
    BASE_BACKOFF.saturating_mul(factor).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudtraildata::error::{ConnectorError, ErrorMetadata};
    use aws_sdk_cloudtraildata::types::error::{ChannelInsufficientPermission, ChannelNotFound};

    fn response(status: u16) -> HttpResponse {
        HttpResponse::new(status.try_into().unwrap(), "".into())
    }

    fn service(err: PutAuditEventsError, status: u16) -> RequestFailure {
        classify(&SdkError::service_error(err, response(status)))
    }

    fn generic(code: &str) -> PutAuditEventsError {
        PutAuditEventsError::generic(ErrorMetadata::builder().code(code).message("m").build())
    }

    #[test]
    fn modelled_service_errors_are_permanent() {
        let not_found = ChannelNotFound::builder().message("no channel").build();
        let f = service(PutAuditEventsError::ChannelNotFound(not_found), 404);
        assert_eq!(
            (f.code.as_str(), f.retry),
            ("ChannelNotFound", Retry::Permanent)
        );
        assert!(f.message.contains("no channel"), "{}", f.message);
        let denied = ChannelInsufficientPermission::builder()
            .message("x")
            .build();
        let f = service(
            PutAuditEventsError::ChannelInsufficientPermission(denied),
            403,
        );
        assert!(!f.retryable());
        let f = service(generic("AccessDeniedException"), 403);
        assert_eq!(
            (f.code.as_str(), f.retry),
            ("AccessDeniedException", Retry::Permanent)
        );
    }

    #[test]
    fn throttling_and_server_errors_are_retried() {
        let f = service(generic("ThrottlingException"), 400);
        assert_eq!(
            (f.code.as_str(), f.retry),
            ("ThrottlingException", Retry::Answered)
        );
        let f = service(PutAuditEventsError::unhandled("boom"), 503);
        assert_eq!((f.code.as_str(), f.retry), ("HTTP 503", Retry::Answered));
        let f = service(PutAuditEventsError::unhandled("boom"), 500);
        assert!(f.retryable());
        let f = service(PutAuditEventsError::unhandled("slow"), 429);
        assert!(f.retryable());
        let f = service(PutAuditEventsError::unhandled("bad"), 400);
        assert_eq!(f.retry, Retry::Permanent);
    }

    #[test]
    fn transport_failures_are_retried_as_unanswered() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let err = SdkError::dispatch_failure(ConnectorError::io(Box::new(io)));
        let f = classify(&err);
        assert_eq!(
            (f.code.as_str(), f.retry),
            ("DispatchFailure", Retry::Unanswered)
        );
        assert!(f.message.contains("reset by peer"), "{}", f.message);

        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = SdkError::dispatch_failure(ConnectorError::io(Box::new(io)));
        let f = classify(&err);
        assert_eq!(
            (f.code.as_str(), f.retry),
            ("ConnectionRefused", Retry::Answered),
            "nothing was sent, so nothing is in doubt"
        );

        let err = SdkError::dispatch_failure(ConnectorError::timeout("slow".into()));
        assert_eq!(classify(&err).code, "Timeout");
        let err = SdkError::dispatch_failure(ConnectorError::user("bad endpoint".into()));
        assert_eq!(classify(&err).retry, Retry::Permanent);

        let err: SdkError<PutAuditEventsError, HttpResponse> =
            SdkError::timeout_error("attempt timed out");
        assert_eq!(classify(&err).retry, Retry::Unanswered);

        let err: SdkError<PutAuditEventsError, HttpResponse> =
            SdkError::response_error("truncated body", response(200));
        assert_eq!(classify(&err).retry, Retry::Unanswered);
        let err: SdkError<PutAuditEventsError, HttpResponse> =
            SdkError::response_error("html error page", response(502));
        assert_eq!(classify(&err).retry, Retry::Answered);

        let err: SdkError<PutAuditEventsError, HttpResponse> =
            SdkError::construction_failure("no credentials");
        assert_eq!(classify(&err).retry, Retry::Permanent);
    }

    #[test]
    fn per_event_codes() {
        assert!(event_code_is_retryable("Throttling"));
        assert!(event_code_is_retryable("InternalFailure"));
        for code in [
            "InvalidChecksum",
            "InvalidRecipient",
            "FieldTooLong",
            "InvalidData",
        ] {
            assert!(!event_code_is_retryable(code), "{code}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff_cap(1), BASE_BACKOFF);
        assert_eq!(backoff_cap(3), BASE_BACKOFF * 4);
        assert_eq!(backoff_cap(40), MAX_BACKOFF);
        for attempt in 1..12 {
            assert!(backoff(attempt) <= backoff_cap(attempt));
        }
    }
}
