//! Errors of the replay stage: what stops a replay (as opposed to an event that fails, which is reported and counted).

use crate::catalog::CatalogError;
use crate::query::QueryError;
use crate::store::StoreError;

/// An error that stops a replay. Events that fail are not errors: they are journaled and
/// counted in the [`super::Summary`].
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{0} is not a channel ARN (arn:aws:cloudtrail:REGION:ACCOUNT:channel/ID)")]
    InvalidChannelArn(String),
    #[error("cannot select events: {0}")]
    Selection(String),
    #[error("cannot select events: {0}")]
    Query(#[from] QueryError),
    #[error("cannot select events: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error("replay journal: {0}")]
    Store(#[from] StoreError),
    #[error("replay journal: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("replay journal: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("replay journal {path}: {message}")]
    Journal { path: String, message: String },
}

impl ReplayError {
    /// A journal failure on `path`.
    pub fn journal(path: &std::path::Path, message: impl std::fmt::Display) -> ReplayError {
        ReplayError::Journal {
            path: path.display().to_string(),
            message: message.to_string(),
        }
    }
}
