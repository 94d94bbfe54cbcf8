//! The catalog's typed errors, each named after the AWS CloudTrail exception it mirrors.

use std::path::Path;

use crate::store::StoreError;

/// An error of a control-plane operation. `Display` prints `ExceptionName: message`, as the
/// AWS CLI does; [`CatalogError::aws_code`] gives the exception name alone (the `__type` of an
/// AWS error response).
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("InvalidParameterException: {0}")]
    InvalidParameter(String),
    #[error("EventDataStoreAlreadyExistsException: {0}")]
    EventDataStoreAlreadyExists(String),
    #[error("EventDataStoreNotFoundException: {0}")]
    EventDataStoreNotFound(String),
    #[error("EventDataStoreARNInvalidException: {0}")]
    EventDataStoreArnInvalid(String),
    #[error("EventDataStoreTerminationProtectedException: {0}")]
    EventDataStoreTerminationProtected(String),
    #[error("InvalidEventDataStoreStatusException: {0}")]
    InvalidEventDataStoreStatus(String),
    #[error("InvalidEventDataStoreCategoryException: {0}")]
    InvalidEventDataStoreCategory(String),
    #[error("ChannelAlreadyExistsException: {0}")]
    ChannelAlreadyExists(String),
    #[error("ChannelNotFoundException: {0}")]
    ChannelNotFound(String),
    #[error("ChannelARNInvalidException: {0}")]
    ChannelArnInvalid(String),
    #[error("ChannelExistsForEDSException: {0}")]
    ChannelExistsForEds(String),
    #[error("InvalidSourceException: {0}")]
    InvalidSource(String),
    #[error("InvalidEventSelectorsException: {0}")]
    InvalidEventSelectors(String),
    #[error("InvalidTagParameterException: {0}")]
    InvalidTagParameter(String),
    #[error("TagsLimitExceededException: {0}")]
    TagsLimitExceeded(String),
    #[error("ResourcePolicyNotValidException: {0}")]
    ResourcePolicyNotValid(String),
    #[error("ResourcePolicyNotFoundException: {0}")]
    ResourcePolicyNotFound(String),
    #[error("ResourceNotFoundException: {0}")]
    ResourceNotFound(String),
    #[error("ResourceARNNotValidException: {0}")]
    ResourceArnNotValid(String),
    #[error("ResourceTypeNotSupportedException: {0}")]
    ResourceTypeNotSupported(String),
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("cannot parse {path}: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl CatalogError {
    /// The AWS exception name (`InternalFailure` for local file problems, `ConflictException`
    /// when another process holds the store's writer lock).
    pub fn aws_code(&self) -> &'static str {
        use CatalogError::*;
        match self {
            InvalidParameter(_) => "InvalidParameterException",
            EventDataStoreAlreadyExists(_) => "EventDataStoreAlreadyExistsException",
            EventDataStoreNotFound(_) => "EventDataStoreNotFoundException",
            EventDataStoreArnInvalid(_) => "EventDataStoreARNInvalidException",
            EventDataStoreTerminationProtected(_) => "EventDataStoreTerminationProtectedException",
            InvalidEventDataStoreStatus(_) => "InvalidEventDataStoreStatusException",
            InvalidEventDataStoreCategory(_) => "InvalidEventDataStoreCategoryException",
            ChannelAlreadyExists(_) => "ChannelAlreadyExistsException",
            ChannelNotFound(_) => "ChannelNotFoundException",
            ChannelArnInvalid(_) => "ChannelARNInvalidException",
            ChannelExistsForEds(_) => "ChannelExistsForEDSException",
            InvalidSource(_) => "InvalidSourceException",
            InvalidEventSelectors(_) => "InvalidEventSelectorsException",
            InvalidTagParameter(_) => "InvalidTagParameterException",
            TagsLimitExceeded(_) => "TagsLimitExceededException",
            ResourcePolicyNotValid(_) => "ResourcePolicyNotValidException",
            ResourcePolicyNotFound(_) => "ResourcePolicyNotFoundException",
            ResourceNotFound(_) => "ResourceNotFoundException",
            ResourceArnNotValid(_) => "ResourceARNNotValidException",
            ResourceTypeNotSupported(_) => "ResourceTypeNotSupportedException",
            Store(StoreError::Locked(_)) => "ConflictException",
            Io { .. } | Json { .. } | Store(_) => "InternalFailure",
        }
    }

    /// True for errors caused by the request (HTTP 400), false for local failures (500).
    pub fn is_client_error(&self) -> bool {
        !matches!(self.aws_code(), "InternalFailure" | "ConflictException")
    }

    pub(crate) fn io(action: &'static str, path: &Path, source: std::io::Error) -> CatalogError {
        CatalogError::Io {
            action,
            path: path.display().to_string(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_starts_with_the_aws_exception_name() {
        let e = CatalogError::EventDataStoreTerminationProtected(
            "Event data store x cannot be deleted.".into(),
        );
        assert_eq!(
            e.to_string(),
            "EventDataStoreTerminationProtectedException: Event data store x cannot be deleted."
        );
        assert_eq!(e.aws_code(), "EventDataStoreTerminationProtectedException");
        assert!(e.is_client_error());
    }

    #[test]
    fn every_client_code_matches_its_display_prefix() {
        let all = [
            CatalogError::InvalidParameter(String::new()),
            CatalogError::ChannelArnInvalid(String::new()),
            CatalogError::ChannelExistsForEds(String::new()),
            CatalogError::EventDataStoreArnInvalid(String::new()),
            CatalogError::ResourceArnNotValid(String::new()),
            CatalogError::InvalidEventDataStoreCategory(String::new()),
        ];
        for e in all {
            assert!(e.to_string().starts_with(e.aws_code()), "{e}");
        }
    }

    #[test]
    fn file_errors_name_the_path_and_are_internal() {
        let e = CatalogError::io(
            "read",
            Path::new("/s/catalog.json"),
            std::io::Error::other("boom"),
        );
        assert_eq!(e.to_string(), "cannot read /s/catalog.json: boom");
        assert_eq!(e.aws_code(), "InternalFailure");
        assert!(!e.is_client_error());
    }
}
