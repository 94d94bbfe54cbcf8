//! The CloudTrail Lake record model: schemas, validation of eventData, enrichment, checksums.

pub mod schema;
