//! Lake SQL over the event store: the DataFusion session, Lake SQL compatibility, functions, output formats.
//!
//! A query goes through [`rewrite`] (`${name}` parameters; store IDs, names and ARNs after
//! FROM / JOIN become the quoted ID each store is registered under), then [`guard`] (SELECT
//! only), then DataFusion, over [`session`]'s tables: one per event data store, holding
//! exactly the files of the store's current snapshot, behind a filter that hides events
//! past the store's retention period. [`output`] prints the rows; [`stats`] says what the
//! query read.

mod cells;
pub mod error;
pub mod functions;
pub mod guard;
mod lexer;
pub mod output;
pub mod rewrite;
pub mod session;
pub mod stats;

use std::io::Write;
use std::path::Path;

use arrow::datatypes::SchemaRef;

use crate::catalog::{Catalog, EventCategory, EventDataStore, EventDataStoreStatus};
use crate::event::schema::integration_schema;
use crate::store::Store;

pub use error::QueryError;
pub use output::{PrintFormat, ResultWriter, write_batches};
pub use rewrite::StoreRef;
pub use session::{QueryEngine, StoreTable};
pub use stats::QueryStats;

/// Runs one Lake SQL query against the store at `root` and prints its rows to `out`.
pub async fn run(
    root: &Path,
    sql: &str,
    params: &[(String, String)],
    format: PrintFormat,
    out: &mut dyn Write,
) -> Result<QueryStats, QueryError> {
    let engine = QueryEngine::open(root).await?;
    engine.execute(sql, params, format, out).await
}

impl QueryEngine {
    /// An engine over the current snapshot of every event data store at `root`.
    pub async fn open(root: &Path) -> Result<QueryEngine, QueryError> {
        let catalog = Catalog::load(root)?;
        let store = Store::open(root)?;
        let mut tables = Vec::with_capacity(catalog.event_data_stores.len());
        for eds in &catalog.event_data_stores {
            tables.push(store_table(&store, eds)?);
        }
        QueryEngine::new(tables, chrono::Utc::now().timestamp_millis()).await
    }
}

fn store_table(store: &Store, eds: &EventDataStore) -> Result<StoreTable, QueryError> {
    let unavailable = (eds.status == EventDataStoreStatus::PendingDeletion)
        .then(|| eds.status.as_str().to_string());
    let files = match unavailable {
        Some(_) => Vec::new(),
        None => store
            .snapshot(eds.id())?
            .files
            .into_iter()
            .map(|f| f.path)
            .collect(),
    };
    Ok(StoreTable {
        store: StoreRef {
            id: eds.id().to_ascii_lowercase(),
            name: eds.name.clone(),
            arn: eds.arn.clone(),
            unavailable,
        },
        schema: record_schema(eds.category()),
        retention_days: eds.retention_period,
        files,
    })
}

/// The schema of a category's records; `None` reads it from the files.
// TODO: use crate::event::schema::schema_for once the management-event schema lands.
fn record_schema(category: EventCategory) -> Option<SchemaRef> {
    match category {
        EventCategory::ActivityAuditLog => Some(integration_schema()),
        _ => None,
    }
}
