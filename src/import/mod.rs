//! Import of exported CloudTrail logs into a management or data event store.
//!
//! [`files`] sorts an export tree into log files, digests and others; [`scan`] cuts each
//! file into record texts without holding more than one record; [`record`] and [`columns`]
//! turn records into rows of the store's schema (the record text kept as eventjson);
//! [`eventids`] keeps an eventID from being imported twice; [`run`] reads files in
//! parallel, one worker per core, and commits what each worker wrote.

pub mod columns;
pub mod eventids;
pub mod files;
pub mod record;
pub mod run;
pub mod scan;

use std::collections::BTreeMap;

pub use run::import_paths;

/// Errors that stop an import. Unreadable records and files are not errors: they are
/// counted and reported in the summary, and everything else is imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the schema of event data store {0} has a column type import cannot fill")]
    UnsupportedSchema(String),
}

/// Records per row group a worker writes, at most.
pub const BATCH_ROWS: usize = 16_384;
/// A worker also writes its rows once they hold this much record text.
pub const BATCH_TEXT_BYTES: usize = 24 << 20;
/// A worker commits its file once it holds this many rows.
pub const COMMIT_ROWS: u64 = 500_000;
/// Problems listed one by one in the summary; the rest are counted.
pub const MAX_LISTED_PROBLEMS: usize = 100;

/// How an import runs.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Only records with eventTime at or after this (ms since the epoch).
    pub start_ms: Option<i64>,
    /// Only records with eventTime at or before this (ms since the epoch).
    pub end_ms: Option<i64>,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Each worker commits after this many rows; 0 means [`COMMIT_ROWS`].
    pub commit_rows: u64,
}

/// What an import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportSummary {
    /// Log files read (including those that failed part way).
    pub files: u64,
    /// Files that could not be read to the end, with the reason; records before the
    /// damage are imported.
    pub files_failed: Vec<(String, String)>,
    pub digest_files_skipped: u64,
    pub other_files_skipped: u64,
    /// Records found in the files.
    pub records: u64,
    pub imported: u64,
    /// Records whose eventID the store (or this import) already had.
    pub duplicates: u64,
    /// Records outside --start-time / --end-time.
    pub outside_time_range: u64,
    /// Records that could not be read; the first ones are listed in `problems`.
    pub unreadable: u64,
    pub problems: Vec<String>,
    /// Imported records by eventCategory.
    pub by_category: BTreeMap<String, u64>,
    /// eventTime of the earliest and latest imported records.
    pub earliest: Option<String>,
    pub latest: Option<String>,
    pub commits: u64,
    pub seconds: f64,
}

impl ImportSummary {
    /// True when every record found was read.
    pub fn complete(&self) -> bool {
        self.unreadable == 0 && self.files_failed.is_empty()
    }
}
