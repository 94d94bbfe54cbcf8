//! Errors of the endpoint: startup failures, and API errors in the shape AWS SDKs parse.

use http::StatusCode;

use crate::ingest::RequestError;

/// Why `serve` could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("credentials: {0}")]
    Credentials(String),
    /// The task that commits batches failed; requests answered 200 before are stored, the
    /// ones after got 500.
    #[error("the committer stopped unexpectedly ({0}); events acknowledged before are stored")]
    Committer(String),
}

/// An error answer: HTTP status, the exception name (`x-amzn-ErrorType`, `__type`) and a
/// message. Internal failures carry a generic message; their detail goes to the log only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// A request without an Authorization header.
    pub fn missing_token() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        )
    }

    /// An Authorization header that is not a complete SigV4 signature.
    pub fn incomplete_signature(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "IncompleteSignatureException",
            message,
        )
    }

    /// An access key ID the endpoint does not know.
    pub fn unrecognized_client() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    }

    /// A signature that does not verify, or one that expired.
    pub fn invalid_signature(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "InvalidSignatureException", message)
    }

    pub fn validation(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "ValidationException", message)
    }

    pub fn serialization(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "SerializationException", message)
    }

    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "ValidationException",
            message,
        )
    }

    pub fn unknown_operation(method: &str, path: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            format!(
                "{method} {path} is not an operation of this endpoint; it serves POST /PutAuditEvents"
            ),
        )
    }

    pub fn throttled(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ThrottlingException",
            message,
        )
    }

    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailableException",
            message,
        )
    }

    /// A failure on our side; the message never carries internal details.
    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerException",
            "The request failed because of an internal error. Try again later.",
        )
    }

    /// The JSON body: `{"__type": CODE, "message": MESSAGE}`.
    pub fn body(&self) -> Vec<u8> {
        serde_json::json!({ "__type": self.code, "message": self.message })
            .to_string()
            .into_bytes()
    }
}

impl From<RequestError> for ApiError {
    /// The service model gives its exceptions no HTTP status, so they take rest-json's
    /// default for client errors, 400.
    fn from(e: RequestError) -> ApiError {
        let message = match &e {
            RequestError::ChannelNotFound(m)
            | RequestError::InvalidChannelArn(m)
            | RequestError::ChannelInsufficientPermission(m)
            | RequestError::ChannelUnsupportedSchema(m)
            | RequestError::DuplicatedAuditEventId(m)
            | RequestError::UnsupportedOperation(m)
            | RequestError::Validation(m) => m.clone(),
        };
        ApiError::new(StatusCode::BAD_REQUEST, e.aws_code(), message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_errors_keep_their_aws_names() {
        let e = ApiError::from(RequestError::ChannelNotFound("no channel x".into()));
        assert_eq!(e.code, "ChannelNotFound");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let body: serde_json::Value = serde_json::from_slice(&e.body()).unwrap();
        assert_eq!(body["__type"], "ChannelNotFound");
        assert_eq!(body["message"], "no channel x");
    }

    #[test]
    fn internal_errors_say_nothing_internal() {
        let body = String::from_utf8(ApiError::internal().body()).unwrap();
        assert!(!body.contains('/'), "{body}");
    }
}
