//! Lake SQL over the event store: the DataFusion session, Lake SQL compatibility, functions, output formats.
//!
//! A query goes through [`rewrite`] (`${name}` parameters; store IDs, names and ARNs after
//! FROM / JOIN become the quoted ID each store is registered under), then [`guard`] (SELECT
//! only), then DataFusion, over [`session`]'s tables: one per event data store, holding
//! exactly the files of the store's current snapshot, behind a filter that hides events
//! past the store's retention period. [`output`] prints the rows; [`stats`] says what the
//! query read.

pub(crate) mod cells;
mod dictionary_keys;
pub mod error;
pub mod functions;
pub mod guard;
mod hints;
mod key_tables;
mod lexer;
pub mod names;
mod narrow;
pub mod output;
pub mod rewrite;
mod row_filters;
pub mod session;
pub mod stats;
mod view_groups;
mod view_keys;
mod view_strings;

use std::io::Write;
use std::path::Path;

use crate::catalog::{Catalog, EventDataStore, EventDataStoreStatus};
use crate::event::schema::schema_for;
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
        let engine = QueryEngine::new(tables, chrono::Utc::now().timestamp_millis()).await?;
        // The replay journal, queryable as `replay_journal`.
        crate::replay::journal::register_table(engine.context(), root).await?;
        Ok(engine)
    }
}

fn store_table(store: &Store, eds: &EventDataStore) -> Result<StoreTable, QueryError> {
    let unavailable = (eds.status == EventDataStoreStatus::PendingDeletion)
        .then(|| eds.status.as_str().to_string());
    let files = match unavailable {
        Some(_) => Vec::new(),
        None => store.snapshot(eds.id())?.files,
    };
    let oldest_event_ms = files.iter().map(|f| f.min_time_ms).min();
    Ok(StoreTable {
        store: StoreRef {
            id: eds.id().to_ascii_lowercase(),
            name: eds.name.clone(),
            arn: eds.arn.clone(),
            unavailable,
        },
        schema: Some(schema_for(eds.category())),
        retention_days: eds.retention_period,
        files: files.into_iter().map(|f| f.path).collect(),
        oldest_event_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::NewEventDataStore;
    use crate::event::schema::integration_schema;
    use crate::store::StoreWriter;

    /// One event, `age_days` old, in the integration schema.
    fn batch(age_days: i64) -> arrow::array::RecordBatch {
        let time = chrono::Utc::now().timestamp_millis() - age_days * 86_400_000;
        let row = serde_json::json!({
            "eventid": format!("e-{age_days}"), "eventtime": time,
            "eventdata": {"eventname": "login", "useridentity": {"principalid": "alice"}}
        });
        arrow::json::ReaderBuilder::new(integration_schema())
            .build(format!("{row}\n").as_bytes())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
    }

    #[tokio::test]
    async fn run_reads_the_catalog_and_the_committed_files() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        let mut catalog = Catalog::default();
        let mut request = NewEventDataStore::named("my-events");
        request.retention_period = Some(30);
        let id = catalog
            .create_event_data_store(request, chrono::Utc::now())
            .unwrap()
            .id()
            .to_string();
        catalog
            .create_event_data_store(NewEventDataStore::named("no.events"), chrono::Utc::now())
            .unwrap();
        catalog.save(root).unwrap();
        let writer = StoreWriter::open(root).unwrap();
        let mut file = writer.file_writer(&id, integration_schema()).unwrap();
        file.write(batch(1)).unwrap();
        file.write(batch(40)).unwrap(); // past the 30-day retention period
        writer.commit(file).unwrap();
        drop(writer);

        let mut out = Vec::new();
        let sql = "SELECT eventid, eventData.userIdentity.principalId FROM ${eds}";
        let params = [("eds".to_string(), "my-events".to_string())];
        let stats = run(root, sql, &params, PrintFormat::Csv, &mut out)
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "eventid,principalid\ne-1,alice\n"
        );
        assert_eq!((stats.rows, stats.files), (1, 1));

        let mut out = Vec::new();
        let sql = format!("SELECT count(*) AS n FROM no.events JOIN {id} USING (eventid)");
        run(root, &sql, &[], PrintFormat::Ndjson, &mut out)
            .await
            .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "{\"n\":0}\n");
    }
}
