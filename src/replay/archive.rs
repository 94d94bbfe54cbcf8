//! The journal's Parquet side: a run's log becomes `journal/<run>.parquet`, committed
//! atomically, and the committed files are the SQL table `replay_journal`.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Int32Builder, Int64Builder, RecordBatch, StringBuilder, TimestampMillisecondBuilder,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::store::manifest::{FileEntry, Manifest, sync_dir};
use crate::store::writer::{create_partial_named, finish_partial};

use super::ReplayError;
use super::journal::{
    JournalRow, Status, TABLE_NAME, for_each_logged, io, journal_dir, journal_files, journal_schema,
};

/// Rows per record batch when a log is turned into Parquet.
const CHUNK_ROWS: usize = 16_384;

/// Turns a log into `journal/<run>.parquet` and commits it, then deletes the log. Events
/// whose last row is `sending` get an `unconfirmed` row. Safe to repeat after a crash.
pub(super) fn commit_log(root: &Path, wal: &Path) -> Result<(), ReplayError> {
    let dir = journal_dir(root);
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let run = wal
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = format!("{run}.parquet");
    let mut manifest = Manifest::load(&dir)?;
    if !manifest.files.iter().any(|f| f.name == name) {
        let mut out = JournalFile::create(&dir, &name)?;
        // Events whose request was sent and not answered, by channel and source event.
        let mut in_flight: HashMap<(String, String), JournalRow> = HashMap::new();
        for_each_logged(wal, |row| {
            let key = (row.channel_arn.clone(), row.source_event_id.clone());
            if row.status == Status::Sending {
                in_flight.insert(key, row);
                return Ok(());
            }
            if row.status != Status::Skipped {
                in_flight.remove(&key);
            }
            out.push(row)
        })?;
        let now = chrono::Utc::now().timestamp_millis();
        let mut unconfirmed: Vec<JournalRow> = in_flight.into_values().collect();
        unconfirmed.sort_by_key(|r| (r.batch, r.source_event_id.clone()));
        for mut row in unconfirmed {
            row.status = Status::Unconfirmed;
            row.recorded_at = now;
            row.error_code = Some("Unconfirmed".into());
            row.error_message = Some(
                "the replay stopped while this event's request was in flight; \
                 Lake may or may not have stored it"
                    .into(),
            );
            out.push(row)?;
        }
        if let Some(entry) = out.finish()? {
            manifest.version += 1;
            manifest.files.push(entry);
            manifest.save(&dir)?;
        }
    }
    std::fs::remove_file(wal).map_err(|e| io(wal, e))?;
    if let Some(parent) = wal.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// A journal file being written from a log, [`CHUNK_ROWS`] rows at a time.
struct JournalFile {
    dir: PathBuf,
    name: String,
    tmp: PathBuf,
    writer: ArrowWriter<File>,
    pending: Vec<JournalRow>,
    rows: u64,
    min_time_ms: i64,
    max_time_ms: i64,
}

impl JournalFile {
    fn create(dir: &Path, name: &str) -> Result<JournalFile, ReplayError> {
        let (tmp, file) = create_partial_named(dir, name)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(1).expect("level 1 is valid"),
            ))
            .build();
        Ok(JournalFile {
            dir: dir.to_path_buf(),
            name: name.to_string(),
            tmp,
            writer: ArrowWriter::try_new(file, journal_schema(), Some(props))?,
            pending: Vec::with_capacity(CHUNK_ROWS),
            rows: 0,
            min_time_ms: i64::MAX,
            max_time_ms: i64::MIN,
        })
    }

    fn push(&mut self, row: JournalRow) -> Result<(), ReplayError> {
        self.rows += 1;
        self.min_time_ms = self.min_time_ms.min(row.recorded_at);
        self.max_time_ms = self.max_time_ms.max(row.recorded_at);
        self.pending.push(row);
        if self.pending.len() >= CHUNK_ROWS {
            self.write_pending()?;
        }
        Ok(())
    }

    fn write_pending(&mut self) -> Result<(), ReplayError> {
        if !self.pending.is_empty() {
            self.writer.write(&to_batch(&self.pending)?)?;
            self.pending.clear();
        }
        Ok(())
    }

    /// Completes the file under its final name (`None`, and nothing left, for no rows).
    fn finish(mut self) -> Result<Option<FileEntry>, ReplayError> {
        if self.rows == 0 {
            let _ = std::fs::remove_file(&self.tmp);
            return Ok(None);
        }
        self.write_pending()?;
        let file = self.writer.into_inner()?;
        let bytes = finish_partial(&file, &self.tmp, &self.dir, &self.name)?;
        Ok(Some(FileEntry {
            name: self.name,
            rows: self.rows,
            bytes,
            min_time_ms: self.min_time_ms,
            max_time_ms: self.max_time_ms,
            spliced: false,
        }))
    }
}

fn to_batch(rows: &[JournalRow]) -> Result<RecordBatch, ReplayError> {
    fn text<'a>(rows: &'a [JournalRow], f: impl Fn(&'a JournalRow) -> Option<&'a str>) -> ArrayRef {
        let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 16);
        for row in rows {
            b.append_option(f(row));
        }
        Arc::new(b.finish())
    }
    let mut times = TimestampMillisecondBuilder::with_capacity(rows.len());
    let mut batches = Int64Builder::with_capacity(rows.len());
    let mut attempts = Int32Builder::with_capacity(rows.len());
    for row in rows {
        times.append_value(row.recorded_at);
        batches.append_option(row.batch);
        attempts.append_option(row.attempt);
    }
    let columns: Vec<ArrayRef> = vec![
        text(rows, |r| Some(&r.run_id)),
        Arc::new(times.finish()),
        text(rows, |r| Some(&r.channel_arn)),
        text(rows, |r| r.source_store.as_deref()),
        text(rows, |r| Some(&r.source_event_id)),
        Arc::new(batches.finish()),
        Arc::new(attempts.finish()),
        text(rows, |r| r.audit_event_id.as_deref()),
        text(rows, |r| Some(r.status.as_str())),
        text(rows, |r| r.event_id.as_deref()),
        text(rows, |r| r.error_code.as_deref()),
        text(rows, |r| r.error_message.as_deref()),
        text(rows, |r| r.checksum.as_deref()),
    ];
    Ok(RecordBatch::try_new(journal_schema(), columns)?)
}

/// Registers the committed journal as the `replay_journal` table (empty when no replay
/// has finished yet).
pub async fn register_table(
    ctx: &datafusion::prelude::SessionContext,
    root: &Path,
) -> Result<(), datafusion::error::DataFusionError> {
    use datafusion::datasource::file_format::parquet::ParquetFormat;
    use datafusion::datasource::listing::{
        ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
    };
    use datafusion::datasource::{MemTable, TableProvider};

    let files =
        journal_files(root).map_err(|e| datafusion::error::DataFusionError::External(e.into()))?;
    let provider: Arc<dyn TableProvider> = if files.is_empty() {
        Arc::new(MemTable::try_new(journal_schema(), vec![vec![]])?)
    } else {
        let urls = files
            .iter()
            .map(|p| ListingTableUrl::parse(p.to_string_lossy()))
            .collect::<Result<Vec<_>, _>>()?;
        let state = ctx.state();
        let format = ParquetFormat::default().with_options(state.default_table_options().parquet);
        let options = ListingOptions::new(Arc::new(format)).with_file_extension("");
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(options)
            .with_schema(journal_schema());
        Arc::new(ListingTable::try_new(config)?)
    };
    ctx.register_table(TABLE_NAME, provider)?;
    Ok(())
}
