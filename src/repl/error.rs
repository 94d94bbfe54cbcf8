//! The REPL's typed errors: a meta-command used wrongly, a file it could not use, a failed query.

use crate::catalog::CatalogError;
use crate::query::QueryError;
use crate::store::StoreError;

/// An error of one REPL step; the session reports it and goes on.
#[derive(Debug, thiserror::Error)]
pub enum ReplError {
    #[error("{0}")]
    Query(#[from] QueryError),
    /// A meta-command with missing or wrong arguments; the text says how to use it.
    #[error("{0}")]
    Usage(String),
    #[error("cannot {action} {path}: {source}")]
    File {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write to the terminal: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot read the catalog: {0}")]
    Catalog(#[from] CatalogError),
    #[error("cannot read the event store: {0}")]
    Store(#[from] StoreError),
    #[error("line editor: {0}")]
    Readline(#[from] rustyline::error::ReadlineError),
    #[error("the query was cancelled")]
    Cancelled,
}

impl ReplError {
    pub fn file(action: &'static str, path: &std::path::Path, source: std::io::Error) -> ReplError {
        ReplError::File {
            action,
            path: path.display().to_string(),
            source,
        }
    }
}

/// The error's message followed by each cause its message does not already include.
pub fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = cause.source();
    }
    text
}
