//! The CloudTrail Lake record model: schemas, validation of eventData, enrichment, checksums.

pub mod error;
pub mod json_map;
pub mod record;
pub mod schema;
pub mod validate;

pub use error::{ErrorCode, EventError};
pub use record::{Enrichment, IntegrationBatchBuilder, checksum};
pub use validate::{EventData, validate};
