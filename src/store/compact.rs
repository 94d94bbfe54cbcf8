//! Compaction and retention: small files merged into large sorted ones, expired events
//! dropped, and the result swapped in with one manifest update.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use bytes::Bytes;

use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext, col, lit};
use datafusion::scalar::ScalarValue;
use futures::StreamExt;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::column::writer::ColumnCloseResult;
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader};
use parquet::file::page_index::column_index::ColumnIndexMetaData;
use parquet::file::properties::WriterProperties;
use parquet::file::statistics::Statistics;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::SchemaDescPtr;

use crate::catalog::Catalog;
use crate::progress::Progress;

use super::manifest::{FileEntry, Manifest};
use super::writer::{DataFileWriter, ROW_GROUP_ROWS};
use super::{Store, StoreError, StoreWriter};

/// A file with fewer rows than this is "small" and worth merging.
pub const SMALL_FILE_ROWS: u64 = 250_000;
/// Ingestion compacts a store by itself once it holds this many small files.
pub const AUTO_COMPACT_FILES: usize = 16;
/// Compaction writes files of at most this many rows.
pub const OUTPUT_FILE_ROWS: u64 = 2_000_000;
/// Memory the merge sort (for files that differ in schema; others are merged as sorted runs)
/// may use before it spills to disk. The process holds more than the sort counts: sorting
/// 400,000 or 700,000 events peaked at about 390 MB with 96 MB here (410 MB with 160 MB).
/// Below 96 MB, the spill reservation alone exhausts it.
const SORT_MEMORY_BYTES: usize = 96 * 1024 * 1024;
/// Memory set aside for merging the sort's spill files.
const SORT_SPILL_RESERVATION_BYTES: usize = 64 * 1024 * 1024;
/// Rows per batch while merging.
const MERGE_BATCH_ROWS: usize = 2048;

const DAY_MS: i64 = 86_400_000;

/// What one compaction did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactReport {
    pub files_before: usize,
    pub files_after: usize,
    pub rows_before: u64,
    pub rows_after: u64,
}

impl fmt::Display for CompactReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} files ({} events) -> {} files ({} events); {} events past retention removed",
            self.files_before,
            self.rows_before,
            self.files_after,
            self.rows_after,
            self.rows_before - self.rows_after
        )
    }
}

/// The oldest eventtime (ms) a store with `retention_days` still keeps at `now_ms`.
pub fn retention_cutoff_ms(now_ms: i64, retention_days: u32) -> i64 {
    now_ms - i64::from(retention_days) * DAY_MS
}

fn retention_days(catalog: &Catalog, eds_id: &str) -> Result<u32, StoreError> {
    catalog
        .find_event_data_store(eds_id)
        .map(|e| e.retention_period)
        .map_err(|e| StoreError::Schema(e.to_string()))
}

/// Compacts when ingestion has left many small files behind.
pub async fn compact_if_fragmented(
    writer: &StoreWriter,
    catalog: &Catalog,
    eds_id: &str,
    progress: bool,
) -> Result<Option<CompactReport>, StoreError> {
    let manifest = Manifest::load(&writer.store().data_dir(eds_id))?;
    let small = manifest
        .files
        .iter()
        .filter(|f| f.rows < SMALL_FILE_ROWS)
        .count();
    if small < AUTO_COMPACT_FILES {
        return Ok(None);
    }
    compact(writer, catalog, eds_id, progress).await.map(Some)
}

/// Merges the store's small files and rewrites files holding expired events; with
/// `progress`, a bar of the events merged shows on stderr.
pub async fn compact(
    writer: &StoreWriter,
    catalog: &Catalog,
    eds_id: &str,
    progress: bool,
) -> Result<CompactReport, StoreError> {
    let manifest = Manifest::load(&writer.store().data_dir(eds_id))?;
    let cutoff = retention_cutoff_ms(
        chrono::Utc::now().timestamp_millis(),
        retention_days(catalog, eds_id)?,
    );
    let (expired, live): (Vec<&FileEntry>, Vec<&FileEntry>) =
        manifest.files.iter().partition(|f| f.max_time_ms < cutoff);
    let small = live.iter().filter(|f| f.rows < SMALL_FILE_ROWS).count();
    let rewrite: Vec<&FileEntry> = live
        .iter()
        .copied()
        .filter(|f| f.min_time_ms < cutoff || f.spliced || (small >= 2 && f.rows < SMALL_FILE_ROWS))
        .collect();
    replace(
        writer, eds_id, &manifest, &expired, &rewrite, cutoff, progress,
    )
    .await
}

/// Which files [`stage_merge`] takes: files under `file_rows` rows (and, for a sorting
/// merge, spliced files of any size), oldest first, at most `files` of them and
/// `total_rows` rows in all; and how it merges them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeLimits {
    pub file_rows: u64,
    pub files: usize,
    pub total_rows: u64,
    pub kind: MergeKind,
}

/// How [`stage_merge`] combines its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeKind {
    /// Read the files, drop events past retention, sort by eventtime and write full row
    /// groups: the best file for queries, at the price of decoding and compressing again.
    Sort,
    /// Copy the files' row groups into one file byte for byte: nothing is decoded or
    /// compressed again, so it costs little more than the I/O. Row groups wholly past
    /// retention are left out. The file is sorted only within each row group, and is
    /// marked spliced for the next sorting merge (or `auditlake compact`) to rewrite.
    Splice,
}

/// The files [`MergeLimits`] picks, oldest first.
fn select_small(manifest: &Manifest, limits: MergeLimits) -> Vec<&FileEntry> {
    let mut rows = 0;
    manifest
        .files
        .iter()
        .filter(|f| f.rows < limits.file_rows || (f.spliced && limits.kind == MergeKind::Sort))
        .take(limits.files)
        .take_while(|f| {
            rows += f.rows;
            rows <= limits.total_rows || rows == f.rows
        })
        .collect()
}

/// A merge written outside the store's directory, not yet part of it: see [`stage_merge`].
#[derive(Debug)]
pub struct StagedMerge {
    pub eds_id: String,
    /// The files it replaces.
    removed: Vec<String>,
    /// The merged files, in `staging`.
    added: Vec<FileEntry>,
    staging: PathBuf,
}

impl StagedMerge {
    /// Deletes the staged files (the merge is given up).
    pub fn discard(self) {
        let _ = std::fs::remove_dir_all(&self.staging);
    }
}

/// Merges some of the store's small files (see [`MergeLimits`]) into one, without the
/// writer lock, so that commits go on meanwhile; `None` when nothing is worth merging.
/// Bounded work, for an endpoint that compacts beside its commits ([`compact`] does the
/// whole store): the files read are immutable, and the merged ones are written under
/// `staging` (a directory of its own, outside `data/`, which no writer's clean-up touches).
/// [`install_merge`] then swaps them in under the lock.
pub fn stage_merge(
    store: &Store,
    catalog: &Catalog,
    eds_id: &str,
    limits: MergeLimits,
    staging: &Path,
) -> Result<Option<StagedMerge>, StoreError> {
    let manifest = Manifest::load(&store.data_dir(eds_id))?;
    let cutoff = retention_cutoff_ms(
        chrono::Utc::now().timestamp_millis(),
        retention_days(catalog, eds_id)?,
    );
    let rewrite = select_small(&manifest, limits);
    // One file alone is worth a merge only when sorting it gives its row groups their size.
    let resorts_a_splice = limits.kind == MergeKind::Sort && rewrite.iter().any(|f| f.spliced);
    if rewrite.len() < 2 && !resorts_a_splice {
        return Ok(None);
    }
    let staged = StagedMerge {
        eds_id: eds_id.to_string(),
        removed: rewrite.iter().map(|f| f.name.clone()).collect(),
        added: Vec::new(),
        staging: staging.to_path_buf(),
    };
    let merged = match limits.kind {
        MergeKind::Sort => merge_in_memory(store, eds_id, &rewrite, cutoff, staging),
        MergeKind::Splice => splice(store, eds_id, &rewrite, cutoff, staging),
    };
    match merged {
        Ok(added) => Ok(Some(StagedMerge { added, ..staged })),
        Err(e) => {
            staged.discard();
            Err(e)
        }
    }
}

/// Swaps a staged merge into its store with one manifest update. `None` (and the staged
/// files deleted) when a file it replaces is no longer in the store, because another
/// compaction got there first: installing it would then duplicate events.
pub fn install_merge(
    writer: &StoreWriter,
    staged: StagedMerge,
) -> Result<Option<CompactReport>, StoreError> {
    let dir = writer.store().data_dir(&staged.eds_id);
    let manifest = Manifest::load(&dir)?;
    let intact = staged
        .removed
        .iter()
        .all(|name| manifest.files.iter().any(|f| &f.name == name));
    if !intact {
        staged.discard();
        return Ok(None);
    }
    for entry in &staged.added {
        let from = staged.staging.join(&entry.name);
        let to = dir.join(&entry.name);
        // Until the manifest names them, moved files are leftovers a crash would clean up.
        std::fs::rename(&from, &to).map_err(|e| StoreError::io(&to, e))?;
    }
    writer.replace_files(&dir, &staged.removed, &staged.added)?;
    staged.discard();
    report(&manifest, &dir).map(Some)
}

/// Merges a bounded set of files in memory: read whole, events before `cutoff` dropped,
/// sorted by eventtime, written in row groups of [`ROW_GROUP_ROWS`]. Memory is about twice
/// the files' rows in Arrow form, which [`MergeLimits`] keeps small. `serve`'s spliced files
/// hold a run per small row group, which merging runs ([`compact`]'s way) would take in many
/// rounds, each writing its events again; one sort of at most [`MergeLimits::total_rows`]
/// events reads and writes each once.
fn merge_in_memory(
    store: &Store,
    eds_id: &str,
    files: &[&FileEntry],
    cutoff: i64,
    out_dir: &Path,
) -> Result<Vec<FileEntry>, StoreError> {
    let dir = store.data_dir(eds_id);
    let mut batches = Vec::new();
    for entry in files {
        let path = dir.join(&entry.name);
        let file = std::fs::File::open(&path).map_err(|e| StoreError::io(&path, e))?;
        for batch in ParquetRecordBatchReaderBuilder::try_new(file)?.build()? {
            batches.push(batch?);
        }
    }
    let Some(first) = batches.first() else {
        return Ok(Vec::new());
    };
    let schema = first.schema();
    if batches.iter().any(|b| b.schema() != schema) {
        return Err(differing_schemas(eds_id));
    }
    let all = arrow::compute::concat_batches(&schema, &batches)?;
    drop(batches);
    let times = super::writer::event_time_column(&all)?;
    let cutoff = arrow::array::TimestampMillisecondArray::from(vec![cutoff])
        .with_timezone_opt(times.timezone().map(str::to_string));
    let keep = arrow::compute::kernels::cmp::gt_eq(times, &arrow::array::Scalar::new(cutoff))?;
    let kept = arrow::compute::filter_record_batch(&all, &keep)?;
    drop(all);
    let sorted = super::writer::sort_by_event_time(kept)?;
    let mut output = MergeOutput::new(out_dir.to_path_buf());
    let mut offset = 0;
    while offset < sorted.num_rows() {
        let len = ROW_GROUP_ROWS.min(sorted.num_rows() - offset);
        output.push(sorted.slice(offset, len))?;
        offset += len;
    }
    output.finish()
}

/// Why files of one store cannot be merged in memory or spliced.
fn differing_schemas(eds_id: &str) -> StoreError {
    StoreError::Schema(format!(
        "the files of event data store {eds_id} differ in schema; run `auditlake compact`"
    ))
}

/// Copies the row groups of `files` (oldest first) into one new file in `out_dir`, as
/// [`MergeKind::Splice`] says; row groups whose events all precede `cutoff` are left out.
fn splice(
    store: &Store,
    eds_id: &str,
    files: &[&FileEntry],
    cutoff: i64,
    out_dir: &Path,
) -> Result<Vec<FileEntry>, StoreError> {
    let dir = store.data_dir(eds_id);
    let mut output: Option<Spliced> = None;
    for entry in files {
        let path = dir.join(&entry.name);
        // Read whole (the files a splice takes are small): the copy then costs one read,
        // not a few system calls per column chunk.
        let file = Bytes::from(std::fs::read(&path).map_err(|e| StoreError::io(&path, e))?);
        let metadata = ParquetMetaDataReader::new()
            .with_page_index_policy(PageIndexPolicy::Optional)
            .parse_and_finish(&file)?;
        let out = match &mut output {
            Some(out) => out,
            None => output.insert(Spliced::create(out_dir, &metadata)?),
        };
        if out.schema != metadata.file_metadata().schema_descr_ptr() {
            return Err(differing_schemas(eds_id));
        }
        out.append(&file, &metadata, cutoff)?;
    }
    match output {
        Some(out) if out.entry.rows > 0 => out.finish().map(|entry| vec![entry]),
        _ => Ok(Vec::new()),
    }
}

/// The file a splice writes.
struct Spliced {
    schema: SchemaDescPtr,
    writer: SerializedFileWriter<std::fs::File>,
    tmp_path: PathBuf,
    dir: PathBuf,
    /// What the manifest will say of it.
    entry: FileEntry,
    /// Leaf index of `eventtime`, whose statistics bound each row group's times.
    event_time: usize,
}

impl Spliced {
    fn create(dir: &Path, like: &ParquetMetaData) -> Result<Spliced, StoreError> {
        let meta = like.file_metadata();
        let schema = meta.schema_descr_ptr();
        let event_time = (0..schema.num_columns())
            .find(|&i| schema.column(i).path().string() == "eventtime")
            .ok_or_else(|| StoreError::Schema("a data file has no eventtime column".into()))?;
        let (name, tmp_path, file) = super::writer::create_partial(dir)?;
        // The Arrow schema is kept in the key-value metadata, so readers see the same types.
        let props = WriterProperties::builder()
            .set_created_by(format!("auditlake {}", env!("CARGO_PKG_VERSION")))
            .set_key_value_metadata(meta.key_value_metadata().cloned())
            .build();
        let writer = SerializedFileWriter::new(file, schema.root_schema_ptr(), Arc::new(props))?;
        Ok(Spliced {
            schema,
            writer,
            tmp_path,
            dir: dir.to_path_buf(),
            entry: FileEntry {
                name,
                rows: 0,
                bytes: 0,
                min_time_ms: i64::MAX,
                max_time_ms: i64::MIN,
                spliced: true,
            },
            event_time,
        })
    }

    /// Copies the row groups of one file, leaving out those wholly before `cutoff`.
    fn append(
        &mut self,
        file: &Bytes,
        metadata: &ParquetMetaData,
        cutoff: i64,
    ) -> Result<(), StoreError> {
        for (index, group) in metadata.row_groups().iter().enumerate() {
            let (min, max) = match group.column(self.event_time).statistics() {
                Some(Statistics::Int64(s)) => match (s.min_opt(), s.max_opt()) {
                    (Some(min), Some(max)) => (*min, *max),
                    _ => (i64::MIN, i64::MAX),
                },
                _ => (i64::MIN, i64::MAX),
            };
            if max < cutoff {
                continue;
            }
            let mut out = self.writer.next_row_group()?;
            for (leaf, chunk) in group.columns().iter().enumerate() {
                let column_index = metadata
                    .column_index()
                    .map(|groups| groups[index][leaf].clone())
                    .filter(|c| !matches!(c, ColumnIndexMetaData::NONE));
                let offset_index = metadata
                    .offset_index()
                    .map(|groups| groups[index][leaf].clone());
                out.append_column(
                    file,
                    ColumnCloseResult {
                        bytes_written: chunk.compressed_size() as u64,
                        rows_written: group.num_rows() as u64,
                        metadata: chunk.clone(),
                        bloom_filter: None,
                        column_index,
                        offset_index,
                    },
                )?;
            }
            out.close()?;
            self.entry.rows += group.num_rows() as u64;
            self.entry.min_time_ms = self.entry.min_time_ms.min(min);
            self.entry.max_time_ms = self.entry.max_time_ms.max(max);
        }
        Ok(())
    }

    fn finish(self) -> Result<FileEntry, StoreError> {
        let file = self.writer.into_inner()?;
        let bytes =
            super::writer::finish_partial(&file, &self.tmp_path, &self.dir, &self.entry.name)?;
        Ok(FileEntry {
            bytes,
            ..self.entry
        })
    }
}

/// Drops the `expired` files, merges the `rewrite` ones (keeping events from `cutoff` on)
/// and swaps the result in with one manifest update.
async fn replace(
    writer: &StoreWriter,
    eds_id: &str,
    manifest: &Manifest,
    expired: &[&FileEntry],
    rewrite: &[&FileEntry],
    cutoff: i64,
    progress: bool,
) -> Result<CompactReport, StoreError> {
    let dir = writer.store().data_dir(eds_id);
    let mut added = Vec::new();
    if !rewrite.is_empty() {
        added = merge(writer, eds_id, rewrite, cutoff, progress).await?;
    }
    let removed: Vec<String> = expired
        .iter()
        .chain(rewrite.iter())
        .map(|f| f.name.clone())
        .collect();
    if !removed.is_empty() {
        writer.replace_files(&dir, &removed, &added)?;
    }
    report(manifest, &dir)
}

/// Files and events before (`manifest`) and after (the store's manifest in `dir` now).
fn report(manifest: &Manifest, dir: &Path) -> Result<CompactReport, StoreError> {
    let after = Manifest::load(dir)?;
    Ok(CompactReport {
        files_before: manifest.files.len(),
        rows_before: manifest.rows(),
        files_after: after.files.len(),
        rows_after: after.rows(),
    })
}

/// Reads `files`, drops events older than `cutoff`, sorts by eventtime, writes new files:
/// by merging their sorted runs ([`super::runs`]), or, for files that differ in schema or
/// are not sorted within their row groups, with a sort that spills to disk.
async fn merge(
    writer: &StoreWriter,
    eds_id: &str,
    files: &[&FileEntry],
    cutoff: i64,
    progress: bool,
) -> Result<Vec<FileEntry>, StoreError> {
    let dir = writer.store().data_dir(eds_id);
    let paths: Vec<PathBuf> = files.iter().map(|f| dir.join(&f.name)).collect();
    let mut output = MergeOutput::new(dir.clone());
    let rows = files.iter().map(|f| f.rows).sum();
    // The bar runs over all the writing, rounds included; the count is the events merged.
    let bar = Progress::items(progress, rows, "events being merged");
    let merged = super::runs::merge(
        &paths,
        cutoff,
        &dir,
        &mut |batch| output.push(batch),
        &|done, total| {
            bar.set_total(total);
            bar.update(done, rows);
        },
    );
    bar.finish();
    match merged? {
        Ok(()) => output.finish(),
        Err(_) => {
            output.abandon()?;
            sort_merge(writer, eds_id, files, cutoff).await
        }
    }
}

/// Reads `files`, drops events older than `cutoff`, sorts by eventtime, writes new files.
async fn sort_merge(
    writer: &StoreWriter,
    eds_id: &str,
    files: &[&FileEntry],
    cutoff: i64,
) -> Result<Vec<FileEntry>, StoreError> {
    let df_err = |e: datafusion::error::DataFusionError| StoreError::Schema(e.to_string());
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_limit(SORT_MEMORY_BYTES, 1.0)
        .build_arc()
        .map_err(df_err)?;
    // Small batches keep the sort's merge phase within its memory: audit events are wide.
    // One partition: the whole memory budget goes to one sort instead of two halves that
    // each fail on wide rows.
    let mut config = SessionConfig::new()
        .with_target_partitions(1)
        .with_batch_size(MERGE_BATCH_ROWS);
    config.options_mut().execution.sort_spill_reservation_bytes = SORT_SPILL_RESERVATION_BYTES;
    // Plain strings: with views, merging 400,000 events peaked 12% higher (622 vs 554 MB).
    config
        .options_mut()
        .execution
        .parquet
        .schema_force_view_types = false;
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    let dir = writer.store().data_dir(eds_id);
    let paths: Vec<String> = files
        .iter()
        .map(|f| dir.join(&f.name).display().to_string())
        .collect();
    let cutoff = lit(ScalarValue::TimestampMillisecond(Some(cutoff), None));
    let frame = ctx
        .read_parquet(paths, ParquetReadOptions::default())
        .await
        .map_err(df_err)?
        .filter(col("eventtime").gt_eq(cutoff))
        .map_err(df_err)?
        .sort(vec![col("eventtime").sort(true, false)])
        .map_err(df_err)?;
    let mut stream = frame.execute_stream().await.map_err(df_err)?;
    let mut output = MergeOutput::new(dir);
    while let Some(batch) = stream.next().await {
        output.push(batch.map_err(df_err)?)?;
    }
    let written = output.finish()?;
    Ok(written)
}

/// The merge's sorted stream, written into row groups of [`ROW_GROUP_ROWS`] (which the
/// batches fill between them) and files of [`OUTPUT_FILE_ROWS`].
struct MergeOutput {
    /// Where the merged files are written.
    dir: PathBuf,
    current: Option<DataFileWriter>,
    written: Vec<FileEntry>,
}

impl MergeOutput {
    fn new(dir: PathBuf) -> MergeOutput {
        MergeOutput {
            dir,
            current: None,
            written: Vec::new(),
        }
    }

    fn push(&mut self, batch: RecordBatch) -> Result<(), StoreError> {
        let file = match &mut self.current {
            Some(file) => file,
            None => {
                let mut file = DataFileWriter::create(&self.dir, batch.schema())?;
                file.fill_row_groups();
                self.current.insert(file)
            }
        };
        file.write(batch)?;
        if file.rows() >= OUTPUT_FILE_ROWS
            && let Some(entry) = self.current.take().expect("a file is open").finish()?
        {
            self.written.push(entry);
        }
        Ok(())
    }

    /// Removes what was written: the merge goes another way.
    fn abandon(mut self) -> Result<(), StoreError> {
        drop(self.current.take());
        for entry in std::mem::take(&mut self.written) {
            let path = self.dir.join(&entry.name);
            std::fs::remove_file(&path).map_err(|e| StoreError::io(&path, e))?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<FileEntry>, StoreError> {
        if let Some(file) = self.current.take()
            && let Some(entry) = file.finish()?
        {
            self.written.push(entry);
        }
        Ok(self.written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::NewEventDataStore;
    use crate::event::{Enrichment, IntegrationBatchBuilder, checksum, validate};
    use arrow::array::AsArray;

    /// One file per entry of `times` (minutes past 10:00 on 2026-03-01), committed in turn.
    fn store_with_files(root: &std::path::Path, files: &[&[u32]]) -> (Catalog, String) {
        let mut catalog = Catalog::default();
        let eds = catalog
            .create_event_data_store(NewEventDataStore::named("merge-test"), chrono::Utc::now())
            .unwrap();
        let eds_id = eds.id().to_string();
        catalog.save(root).unwrap();
        let writer = StoreWriter::open(root).unwrap();
        for (f, minutes) in files.iter().enumerate() {
            let mut builder =
                IntegrationBatchBuilder::new(Enrichment::now("us-east-1", "123456789012", "c"));
            for (i, m) in minutes.iter().enumerate() {
                let payload = format!(
                    r#"{{"version":"1.0","userIdentity":{{"type":"User","principalId":"a"}},"eventSource":"s","eventName":"n","eventTime":"2026-03-01T10:{m:02}:00Z","UID":"u-{f}-{i}","recipientAccountId":"123456789012"}}"#
                );
                let event = validate::validate(&payload, "123456789012").unwrap();
                builder
                    .append(&event, &payload, &checksum(&payload))
                    .unwrap();
            }
            let batch = builder.finish().unwrap();
            let mut file = writer.file_writer(&eds_id, batch.schema()).unwrap();
            file.write(batch).unwrap();
            writer.commit(file).unwrap();
        }
        (catalog, eds_id)
    }

    #[test]
    fn merging_small_files_keeps_every_event_sorted_within_its_limits() {
        let root = tempfile::tempdir().unwrap();
        let (catalog, eds_id) =
            store_with_files(root.path(), &[&[30, 5], &[20, 1, 50], &[7], &[40, 2]]);
        let writer = StoreWriter::open(root.path()).unwrap();
        let limits = MergeLimits {
            file_rows: 10,
            files: 3,
            total_rows: 100,
            kind: MergeKind::Sort,
        };
        let staging = root.path().join("staging");
        let staged = stage_merge(writer.store(), &catalog, &eds_id, limits, &staging)
            .unwrap()
            .expect("three files qualify");
        let report = install_merge(&writer, staged).unwrap().expect("installed");
        assert_eq!((report.files_before, report.files_after), (4, 2));
        assert_eq!((report.rows_before, report.rows_after), (8, 8));

        let manifest = Manifest::load(&writer.store().data_dir(&eds_id)).unwrap();
        let merged = manifest
            .files
            .iter()
            .find(|f| f.rows == 6)
            .expect("the merged file");
        let (rows, _) = read_file(writer.store(), &eds_id, &merged.name);
        let times = super::super::writer::event_time_column(&rows)
            .unwrap()
            .values();
        assert_eq!(times.len(), 6);
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");

        // Only two files qualify under a one-file cap on rows: nothing to merge.
        let tight = MergeLimits {
            file_rows: 10,
            files: 64,
            total_rows: 1,
            kind: MergeKind::Sort,
        };
        let staged = stage_merge(writer.store(), &catalog, &eds_id, tight, &staging);
        assert!(staged.unwrap().is_none());
    }

    /// Every row of a data file of `eds_id`, in file order.
    #[tokio::test]
    async fn files_of_other_schemas_are_compacted_by_sorting() {
        let root = tempfile::tempdir().unwrap();
        let (catalog, eds_id) = store_with_files(root.path(), &[&[30, 5], &[20, 1]]);
        let writer = StoreWriter::open(root.path()).unwrap();
        // A third file without the schema's last column, as an older build might have
        // written: the files cannot be merged as runs.
        let dir = writer.store().data_dir(&eds_id);
        let manifest = Manifest::load(&dir).unwrap();
        let (full, _) = read_file(writer.store(), &eds_id, &manifest.files[0].name);
        let last = full.num_columns() - 1;
        assert_ne!(full.schema().field(last).name(), "eventtime");
        let fewer = full.project(&(0..last).collect::<Vec<_>>()).unwrap();
        let mut file = writer.file_writer(&eds_id, fewer.schema()).unwrap();
        file.write(fewer).unwrap();
        writer.commit(file).unwrap();

        let report = compact(&writer, &catalog, &eds_id, false).await.unwrap();
        assert_eq!((report.files_before, report.files_after), (3, 1));
        assert_eq!((report.rows_before, report.rows_after), (6, 6));
        let manifest = Manifest::load(&dir).unwrap();
        let (rows, _) = read_file(writer.store(), &eds_id, &manifest.files[0].name);
        let times = super::super::writer::event_time_column(&rows)
            .unwrap()
            .values();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        let names = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(names, 2, "one data file and the manifest");
    }

    fn read_file(store: &Store, eds_id: &str, name: &str) -> (RecordBatch, usize) {
        let path = store.data_dir(eds_id).join(name);
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap()).unwrap();
        let groups = builder.metadata().num_row_groups();
        let schema = Arc::clone(builder.schema());
        let batches: Vec<RecordBatch> = builder.build().unwrap().map(Result::unwrap).collect();
        (
            arrow::compute::concat_batches(&schema, &batches).unwrap(),
            groups,
        )
    }

    #[tokio::test]
    async fn a_splice_copies_row_groups_as_they_are_and_the_next_sorting_merge_sorts_them() {
        let root = tempfile::tempdir().unwrap();
        let (catalog, eds_id) = store_with_files(root.path(), &[&[30, 5], &[7], &[20, 1, 50]]);
        let writer = StoreWriter::open(root.path()).unwrap();
        let store = writer.store();
        let before = Manifest::load(&store.data_dir(&eds_id)).unwrap();
        let originals: Vec<RecordBatch> = before
            .files
            .iter()
            .map(|f| read_file(store, &eds_id, &f.name).0)
            .collect();

        // With a 10:06 cutoff every row group has an event to keep: the 10:05 event stays
        // beside the 10:30 one (queries apply retention to single rows).
        let at = |minute: i64| 1_772_359_200_000 + minute * 60_000;
        let out = root.path().join("spliced");
        let files: Vec<&FileEntry> = before.files.iter().collect();
        let added = splice(store, &eds_id, &files, at(6), &out).unwrap();
        assert_eq!(added.len(), 1);
        let entry = &added[0];
        assert!(entry.spliced);
        assert_eq!(
            (entry.rows, entry.min_time_ms, entry.max_time_ms),
            (6, at(1), at(50))
        );
        std::fs::rename(
            out.join(&entry.name),
            store.data_dir(&eds_id).join(&entry.name),
        )
        .unwrap();
        let (copied, groups) = read_file(store, &eds_id, &entry.name);
        assert_eq!(groups, 3);
        let expected = arrow::compute::concat_batches(&copied.schema(), &originals).unwrap();
        assert_eq!(
            copied, expected,
            "the rows, values and types are those of the files"
        );

        // Only the 10:07 file is older than a 10:10 cutoff: it is left out whole.
        let out = root.path().join("spliced-2");
        let added = splice(store, &eds_id, &files, at(10), &out).unwrap();
        assert_eq!((added[0].rows, added[0].min_time_ms), (5, at(1)));

        // Installed, the spliced file alone is reason enough for a sorting merge.
        let names: Vec<String> = before.files.iter().map(|f| f.name.clone()).collect();
        writer
            .replace_files(
                &store.data_dir(&eds_id),
                &names,
                std::slice::from_ref(entry),
            )
            .unwrap();
        // Queries read it through its statistics and page index, which point into the copy.
        let engine = crate::query::QueryEngine::open(root.path()).await.unwrap();
        let sql = format!(
            "SELECT eventdata.uid FROM {eds_id} WHERE eventtime >= '2026-03-01 10:20:00' \
             ORDER BY eventtime"
        );
        let (batches, _) = engine.collect(&sql, &[]).await.unwrap();
        let uids = arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
        let uids: Vec<&str> = uids.column(0).as_string_view().iter().flatten().collect();
        assert_eq!(uids, ["u-2-0", "u-0-0", "u-2-2"]);
        let limits = MergeLimits {
            file_rows: 1,
            files: 8,
            total_rows: 100,
            kind: MergeKind::Sort,
        };
        let staged = stage_merge(store, &catalog, &eds_id, limits, &root.path().join("s"))
            .unwrap()
            .expect("a spliced file is rewritten");
        install_merge(&writer, staged).unwrap().expect("installed");
        let after = Manifest::load(&store.data_dir(&eds_id)).unwrap();
        assert_eq!(after.files.len(), 1);
        assert!(!after.files[0].spliced);
        let (sorted, groups) = read_file(store, &eds_id, &after.files[0].name);
        assert_eq!((sorted.num_rows(), groups), (6, 1));
        let times = super::super::writer::event_time_column(&sorted).unwrap();
        assert!(times.values().windows(2).all(|w| w[0] <= w[1]));
    }

    #[tokio::test]
    async fn a_staged_merge_is_installed_unless_its_files_were_replaced_meanwhile() {
        let root = tempfile::tempdir().unwrap();
        let (catalog, eds_id) = store_with_files(root.path(), &[&[9, 3], &[5], &[1, 7]]);
        let store = Store::open(root.path()).unwrap();
        let limits = MergeLimits {
            file_rows: 10,
            files: 2,
            total_rows: 100,
            kind: MergeKind::Sort,
        };
        let staging = root.path().join("staging-1");
        let staged = stage_merge(&store, &catalog, &eds_id, limits, &staging)
            .unwrap()
            .expect("two files qualify");
        // Nothing changed in the store yet: the merged file waits outside it.
        let dir = store.data_dir(&eds_id);
        assert_eq!(Manifest::load(&dir).unwrap().files.len(), 3);
        let writer = StoreWriter::open(root.path()).unwrap();
        let report = install_merge(&writer, staged).unwrap().expect("installed");
        assert_eq!((report.files_before, report.files_after), (3, 2));
        assert_eq!((report.rows_before, report.rows_after), (5, 5));
        assert!(!staging.exists());

        // A merge staged from files that another compaction then replaced is dropped.
        let staging = root.path().join("staging-2");
        let staged = stage_merge(&store, &catalog, &eds_id, limits, &staging)
            .unwrap()
            .expect("two files qualify");
        compact(&writer, &catalog, &eds_id, false).await.unwrap();
        let rows = Manifest::load(&dir).unwrap().rows();
        assert!(install_merge(&writer, staged).unwrap().is_none());
        assert_eq!(Manifest::load(&dir).unwrap().rows(), rows);
        assert_eq!(rows, 5);
        assert!(!staging.exists());
    }
}
