//! Selection: Lake SQL over the store, streamed as [`SelectedEvent`]s.

use std::path::Path;

use arrow::array::{Array, RecordBatch, StringArray};
use arrow::datatypes::DataType;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;

use crate::catalog::Catalog;
use crate::event::checksum;
use crate::query::QueryEngine;

use super::ReplayError;
use super::payload::SelectedEvent;

/// Which events to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every event of an event data store (ID, name or ARN), optionally filtered by a SQL
    /// predicate (`--where`).
    Store {
        key: String,
        predicate: Option<String>,
    },
    /// A Lake SQL query whose rows have an `eventjson` column, and optionally `eventid`
    /// and `eventjsonchecksum`.
    Query(String),
}

/// The columns a selection query returns, by name.
pub const PAYLOAD_COLUMN: &str = "eventjson";
/// The key the journal keeps events under; without it, `sha256:<checksum>` is used.
pub const ID_COLUMN: &str = "eventid";
/// The stored checksum, verified before sending; `eventdatachecksum` is accepted too.
pub const CHECKSUM_COLUMNS: &[&str] = &["eventjsonchecksum", "eventdatachecksum"];

/// The selected events as they come out of the query, batch by batch.
pub struct SelectedEvents {
    /// The ID of the event data store selected from (`None` for a query).
    pub source_store: Option<String>,
    stream: SendableRecordBatchStream,
}

impl Selection {
    /// The SQL that selects the events.
    pub fn sql(&self, catalog: &Catalog) -> Result<(String, Option<String>), ReplayError> {
        match self {
            Selection::Query(sql) => Ok((sql.clone(), None)),
            Selection::Store { key, predicate } => {
                let eds = catalog.find_event_data_store(key)?;
                let id = eds.id().to_string();
                let mut sql =
                    format!("SELECT {ID_COLUMN}, {PAYLOAD_COLUMN}, eventjsonchecksum FROM {id}");
                if let Some(p) = predicate {
                    sql.push_str(&format!(" WHERE ({p})"));
                }
                Ok((sql, Some(id)))
            }
        }
    }

    /// Starts the query over the store at `root`.
    pub async fn open(&self, root: &Path) -> Result<SelectedEvents, ReplayError> {
        let catalog = Catalog::load(root)?;
        let (sql, source_store) = self.sql(&catalog)?;
        let engine = QueryEngine::open(root).await?;
        let plan = engine.physical_plan(&sql, &[]).await?;
        let names: Vec<String> = plan
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().to_ascii_lowercase())
            .collect();
        if !names.iter().any(|n| n == PAYLOAD_COLUMN) {
            return Err(ReplayError::Selection(format!(
                "the query must return an {PAYLOAD_COLUMN} column (it returns {})",
                names.join(", ")
            )));
        }
        let stream = engine.stream(&plan)?;
        Ok(SelectedEvents {
            source_store,
            stream,
        })
    }
}

impl SelectedEvents {
    /// The next events, or `None` at the end.
    pub async fn next(&mut self) -> Option<Result<Vec<SelectedEvent>, ReplayError>> {
        loop {
            let batch = match self.stream.next().await? {
                Ok(batch) => batch,
                Err(e) => return Some(Err(e.into())),
            };
            if batch.num_rows() > 0 {
                return Some(events(&batch));
            }
        }
    }
}

fn text_column(batch: &RecordBatch, names: &[&str]) -> Result<Option<StringArray>, ReplayError> {
    let schema = batch.schema();
    let Some(index) = schema
        .fields()
        .iter()
        .position(|f| names.iter().any(|n| f.name().eq_ignore_ascii_case(n)))
    else {
        return Ok(None);
    };
    let column = arrow::compute::cast(batch.column(index), &DataType::Utf8)?;
    Ok(column.as_any().downcast_ref::<StringArray>().cloned())
}

/// One record batch of query results as events.
pub fn events(batch: &RecordBatch) -> Result<Vec<SelectedEvent>, ReplayError> {
    let payloads = text_column(batch, &[PAYLOAD_COLUMN])?.ok_or_else(|| {
        ReplayError::Selection(format!("the query returned no {PAYLOAD_COLUMN} column"))
    })?;
    let ids = text_column(batch, &[ID_COLUMN])?;
    let checksums = text_column(batch, CHECKSUM_COLUMNS)?;
    let value = |a: &Option<StringArray>, i: usize| {
        a.as_ref()
            .filter(|a| a.is_valid(i))
            .map(|a| a.value(i).to_string())
    };
    Ok((0..batch.num_rows())
        .map(|i| {
            let payload = if payloads.is_valid(i) {
                payloads.value(i).to_string()
            } else {
                String::new()
            };
            let source_id = value(&ids, i)
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| format!("sha256:{}", checksum(&payload)));
            SelectedEvent {
                source_id,
                payload,
                stored_checksum: value(&checksums, i),
            }
        })
        .collect())
}
