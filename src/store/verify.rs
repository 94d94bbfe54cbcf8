//! Checksum verification: every stored eventjson against its eventjsonchecksum.

use std::fs::File;
use std::path::PathBuf;

use arrow::array::{Array, AsArray};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{Store, StoreError};

/// One row whose stored payload no longer matches its checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub file: PathBuf,
    pub event_id: String,
    pub problem: String,
}

#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    pub checked: u64,
    pub mismatches: Vec<Mismatch>,
}

const COLUMNS: [&str; 3] = ["eventid", "eventjson", "eventjsonchecksum"];

/// Recomputes the checksum of every event of one event data store.
pub fn verify(store: &Store, eds_id: &str) -> Result<VerifyReport, StoreError> {
    let mut report = VerifyReport::default();
    for data_file in store.snapshot(eds_id)?.files {
        let path = data_file.path;
        let file = File::open(&path).map_err(|e| StoreError::io(&path, e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
        let mask = ProjectionMask::columns(builder.parquet_schema(), COLUMNS);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(8192)
            .build()?;
        for batch in reader {
            let batch = batch?;
            let column = |name: &str| {
                batch
                    .column_by_name(name)
                    .and_then(|c| c.as_string_opt::<i32>())
                    .ok_or_else(|| {
                        StoreError::Schema(format!("{}: no {name} column", path.display()))
                    })
            };
            let (ids, json, sums) = (
                column(COLUMNS[0])?,
                column(COLUMNS[1])?,
                column(COLUMNS[2])?,
            );
            for row in 0..batch.num_rows() {
                report.checked += 1;
                let problem = if json.is_null(row) || sums.is_null(row) {
                    Some("eventjson or eventjsonchecksum is missing".to_string())
                } else {
                    let actual = crate::event::checksum(json.value(row));
                    (actual != sums.value(row)).then(|| {
                        format!(
                            "eventjson hashes to {actual}, but eventjsonchecksum says {}",
                            sums.value(row)
                        )
                    })
                };
                if let Some(problem) = problem {
                    report.mismatches.push(Mismatch {
                        file: path.clone(),
                        event_id: ids.value(row).to_string(),
                        problem,
                    });
                }
            }
        }
    }
    Ok(report)
}
