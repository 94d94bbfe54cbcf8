//! auditlake: a local CloudTrail Lake workbench, usable as a library by tests and benches.

pub mod catalog;
pub mod cli;
pub mod event;
pub mod import;
pub mod ingest;
pub mod progress;
pub mod query;
pub mod repl;
pub mod replay;
pub mod sample;
pub mod serve;
pub mod store;
