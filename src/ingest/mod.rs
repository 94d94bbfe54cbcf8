//! Ingestion: PutAuditEvents requests and bulk files, through Lake's rules into the store.

pub mod bulk;
pub mod put;
pub mod request;
pub mod source;
pub mod target;

pub use bulk::{IngestOptions, IngestSummary, ingest_paths};
pub use put::{accept_event, put_audit_events};
pub use request::{PutAuditEventsRequest, PutAuditEventsResponse, RequestError};
pub use target::Target;

/// Errors of the ingest stage. Refused events are not errors: they are reported per event.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}
