//! Writing Parquet files into an event data store and committing them atomically.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow::array::{Array, RecordBatch, TimestampMillisecondArray};
use arrow::compute::{sort_to_indices, take_record_batch};
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;

use super::StoreError;
use super::manifest::{FileEntry, sync_dir};

/// Rows per Parquet row group: small enough to bound writer memory, large enough to scan fast.
pub const ROW_GROUP_ROWS: usize = 65_536;

/// Columns whose values are (nearly) all distinct: dictionaries and min/max would be waste.
const HIGH_CARDINALITY: &[&[&str]] = &[
    &["eventjson"],
    &["eventjsonchecksum"],
    &["eventid"],
    &["eventdata", "uid"],
];

/// Short strings that repeat (names, sources, codes, types, principals, addresses) and the
/// delta-encoded event time. Dictionary encoding leaves bit-packed indices that ZSTD shrinks
/// by only 1.2-1.7x (measured on sample data), while every column chunk it compresses costs
/// each query that reads it a decompressor to set up and run; these are stored uncompressed.
const UNCOMPRESSED: &[&[&str]] = &[
    &["eventtime"],
    &["eventcategory"],
    &["awsregion"],
    &["recipientaccountid"],
    &["eventdata", "eventname"],
    &["eventdata", "eventtype"],
    &["eventdata", "awsregion"],
    &["eventdata", "recipientaccountid"],
    &["eventdata", "eventsource"],
    &["eventdata", "errorcode"],
    &["eventdata", "sourceipaddress"],
    &["eventdata", "useridentity", "type"],
    &["eventdata", "useridentity", "principalid"],
];

fn properties(schema: &arrow::datatypes::Schema) -> WriterProperties {
    // Event times are sorted within a file, so the differences between neighbours are small:
    // delta encoding stores them in a byte or two where plain values take eight (and then
    // cost every time-ordered query a decompression of the eight).
    let event_time = ColumnPath::from("eventtime");
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("level 1 is valid"),
        ))
        .set_column_dictionary_enabled(event_time.clone(), false)
        .set_column_encoding(event_time, Encoding::DELTA_BINARY_PACKED)
        .set_created_by(format!("auditlake {}", env!("CARGO_PKG_VERSION")));
    for path in UNCOMPRESSED {
        let column = ColumnPath::new(path.iter().map(|s| s.to_string()).collect());
        builder = builder.set_column_compression(column, Compression::UNCOMPRESSED);
    }
    for path in HIGH_CARDINALITY {
        if schema.field_with_name(path[0]).is_err() {
            continue;
        }
        let column = ColumnPath::new(path.iter().map(|s| s.to_string()).collect());
        builder = builder
            .set_column_dictionary_enabled(column.clone(), false)
            .set_column_statistics_enabled(column, EnabledStatistics::None);
    }
    builder.build()
}

/// Position of the `eventtime` column, which every store schema has.
pub fn event_time_column(batch: &RecordBatch) -> Result<&TimestampMillisecondArray, StoreError> {
    batch
        .column_by_name("eventtime")
        .and_then(|c| c.as_any().downcast_ref::<TimestampMillisecondArray>())
        .ok_or_else(|| StoreError::Schema("batch has no eventtime timestamp column".into()))
}

/// Sorts a batch by eventtime (nulls last) unless it already is.
pub fn sort_by_event_time(batch: RecordBatch) -> Result<RecordBatch, StoreError> {
    let times = event_time_column(&batch)?;
    let sorted = times.null_count() == 0 && times.values().windows(2).all(|w| w[0] <= w[1]);
    if sorted {
        return Ok(batch);
    }
    let nulls_last = arrow::compute::SortOptions {
        descending: false,
        nulls_first: false,
    };
    let indices = sort_to_indices(times, Some(nulls_last), None)?;
    Ok(take_record_batch(&batch, &indices)?)
}

/// Row groups smaller than this are encoded on the calling thread alone: starting threads
/// would cost more than it saves.
const PARALLEL_ENCODE_ROWS: usize = 512;

/// A Parquet file being written into a store's directory. Invisible to readers until
/// [`DataFileWriter::commit`]; dropped without a commit, it leaves nothing behind.
pub struct DataFileWriter {
    dir: PathBuf,
    tmp_path: PathBuf,
    name: String,
    writer: Option<SerializedFileWriter<File>>,
    /// Makes the column writers of each row group.
    row_groups: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    /// Threads a row group's columns are encoded (and compressed) on.
    encode_threads: usize,
    /// The row group being filled, until it holds `row_group_rows` (or, unless
    /// `fill_row_groups`, until the batch ends).
    open: Option<OpenRowGroup>,
    row_group_rows: usize,
    fill_row_groups: bool,
    rows: u64,
    min_time_ms: i64,
    max_time_ms: i64,
}

impl DataFileWriter {
    pub(super) fn create(
        dir: &Path,
        schema: arrow::datatypes::SchemaRef,
    ) -> Result<DataFileWriter, StoreError> {
        let (name, tmp_path, file) = create_partial(dir)?;
        let props = properties(&schema);
        // The Arrow writer sets the file up (with the Arrow schema in its metadata); row
        // groups are then encoded column by column, in parallel.
        let (writer, row_groups) = ArrowWriter::try_new(file, Arc::clone(&schema), Some(props))?
            .into_serialized_writer()?;
        Ok(DataFileWriter {
            dir: dir.to_path_buf(),
            tmp_path,
            name,
            writer: Some(writer),
            row_groups,
            schema,
            encode_threads: std::thread::available_parallelism().map_or(1, usize::from),
            open: None,
            row_group_rows: ROW_GROUP_ROWS,
            fill_row_groups: false,
            rows: 0,
            min_time_ms: i64::MAX,
            max_time_ms: i64::MIN,
        })
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The store directory the file will be committed to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Encodes each row group on at most `threads` threads (at least one). By default, as
    /// many as the machine has cores; writers that already run side by side take one.
    pub fn set_encode_threads(&mut self, threads: usize) {
        self.encode_threads = threads.max(1);
    }

    /// Makes batches fill row groups of [`ROW_GROUP_ROWS`] rows between them, for writers of
    /// a sorted stream of small batches (compaction): the column writers stay open across
    /// batches and hold only encoded, compressed pages, so nothing needs gathering first.
    pub fn fill_row_groups(&mut self) {
        self.fill_row_groups = true;
    }

    /// Appends a batch, sorted by eventtime first, as one row group (or several, of at most
    /// [`ROW_GROUP_ROWS`] rows): row groups stay sorted and their statistics tight. After
    /// [`DataFileWriter::fill_row_groups`], the last of them stays open for the next batch.
    ///
    /// Ingest keeps a row group per batch on purpose: filling 65,536-row groups made
    /// DuckDB's queries of the store gain more than auditlake's, made one principal's
    /// activity slower, and raised ingest's peak memory from 356 to 443 MB.
    pub fn write(&mut self, batch: RecordBatch) -> Result<(), StoreError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if batch.schema().fields() != self.schema.fields() {
            let names = |schema: &arrow::datatypes::Schema| {
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                names.join(", ")
            };
            return Err(StoreError::Schema(format!(
                "a batch with columns ({}) differs from the file's columns ({}) or their types",
                names(&batch.schema()),
                names(&self.schema)
            )));
        }
        let batch = sort_by_event_time(batch)?;
        let times = event_time_column(&batch)?;
        if let (Some(min), Some(max)) = (arrow::compute::min(times), arrow::compute::max(times)) {
            self.min_time_ms = self.min_time_ms.min(min);
            self.max_time_ms = self.max_time_ms.max(max);
        }
        self.rows += batch.num_rows() as u64;
        let mut offset = 0;
        while offset < batch.num_rows() {
            let filled = self.open.as_ref().map_or(0, |open| open.rows);
            let len = (self.row_group_rows - filled).min(batch.num_rows() - offset);
            self.append_to_row_group(&batch.slice(offset, len))?;
            offset += len;
            if filled + len >= self.row_group_rows {
                self.close_row_group()?;
            }
        }
        if !self.fill_row_groups {
            self.close_row_group()?;
        }
        Ok(())
    }

    /// Encodes `batch` into the open row group (opening one if none is).
    fn append_to_row_group(&mut self, batch: &RecordBatch) -> Result<(), StoreError> {
        let open = match &mut self.open {
            Some(open) => open,
            None => {
                let writer = self.writer.as_mut().expect("writer is open until commit");
                let columns = self
                    .row_groups
                    .create_column_writers(writer.flushed_row_groups().len())?;
                self.open.insert(OpenRowGroup { columns, rows: 0 })
            }
        };
        // Each leaf column with its writer, and a guess of its work: the bytes of the
        // top-level column it belongs to, shared among that column's leaves.
        let mut jobs = Vec::with_capacity(open.columns.len());
        let mut columns = open.columns.iter_mut();
        for (field, array) in self.schema.fields().iter().zip(batch.columns()) {
            let leaves = compute_leaves(field, array)?;
            let weight = array.get_array_memory_size() / leaves.len().max(1);
            for leaf in leaves {
                let column = columns.next().ok_or_else(|| {
                    StoreError::Schema("batch has more columns than the file".into())
                })?;
                jobs.push((weight, (column, leaf)));
            }
        }
        let threads = if batch.num_rows() < PARALLEL_ENCODE_ROWS {
            1
        } else {
            self.encode_threads
        };
        in_parallel(jobs, threads, |(column, leaf)| Ok(column.write(&leaf)?))?;
        open.rows += batch.num_rows();
        Ok(())
    }

    /// Flushes the open row group, if any, into the file.
    fn close_row_group(&mut self) -> Result<(), StoreError> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        // Closing flushes each column's last page and its dictionary, compressed.
        let threads = if open.rows < PARALLEL_ENCODE_ROWS {
            1
        } else {
            self.encode_threads
        };
        let jobs = open
            .columns
            .into_iter()
            .map(|column| (column.get_estimated_total_bytes(), column))
            .collect();
        let chunks = in_parallel(jobs, threads, |column| Ok(column.close()?))?;
        let writer = self.writer.as_mut().expect("writer is open until commit");
        let mut group = writer.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut group)?;
        }
        group.close()?;
        Ok(())
    }

    /// Finishes the file, makes it durable and moves it to its final name. It is not in
    /// the manifest yet, so readers still do not see it. An empty file is dropped.
    pub(super) fn finish(mut self) -> Result<Option<FileEntry>, StoreError> {
        self.close_row_group()?;
        let writer = self.writer.take().expect("finish runs once");
        if self.rows == 0 {
            drop(writer);
            let _ = std::fs::remove_file(&self.tmp_path);
            return Ok(None);
        }
        let file = writer.into_inner()?;
        let bytes = finish_partial(&file, &self.tmp_path, &self.dir, &self.name)?;
        Ok(Some(FileEntry {
            name: self.name.clone(),
            rows: self.rows,
            bytes,
            min_time_ms: self.min_time_ms,
            max_time_ms: self.max_time_ms,
            spliced: false,
        }))
    }
}

/// A row group being filled: a writer per leaf column, and the rows written so far.
struct OpenRowGroup {
    columns: Vec<ArrowColumnWriter>,
    rows: usize,
}

/// Runs `work` on every job, on up to `threads` threads taking the heaviest jobs (by their
/// guessed weight) first; returns the results in the jobs' order.
fn in_parallel<T: Send, R: Send>(
    jobs: Vec<(usize, T)>,
    threads: usize,
    work: impl Fn(T) -> Result<R, StoreError> + Sync,
) -> Result<Vec<R>, StoreError> {
    let threads = threads.min(jobs.len());
    if threads <= 1 {
        return jobs.into_iter().map(|(_, job)| work(job)).collect();
    }
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(jobs[i].0));
    let next = Mutex::new(order.into_iter());
    let slots: Vec<Mutex<Option<T>>> = jobs
        .into_iter()
        .map(|(_, job)| Mutex::new(Some(job)))
        .collect();
    let done: Vec<Mutex<Option<Result<R, StoreError>>>> =
        slots.iter().map(|_| Mutex::new(None)).collect();
    let run = || {
        loop {
            let Some(i) = next.lock().expect("job queue is not poisoned").next() else {
                break;
            };
            let job = slots[i].lock().expect("job is not poisoned").take();
            if let Some(job) = job {
                *done[i].lock().expect("result is not poisoned") = Some(work(job));
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(run);
        }
        run();
    });
    done.into_iter()
        .map(|slot| {
            slot.into_inner()
                .expect("result is not poisoned")
                .unwrap_or_else(|| Err(StoreError::Schema("a column was not encoded".into())))
        })
        .collect()
}

/// Creates a new data file in `dir` under a hidden name that no reader lists: returns the
/// name it will have once finished, the hidden path and the open file.
pub(super) fn create_partial(dir: &Path) -> Result<(String, PathBuf, File), StoreError> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%3f");
    let name = format!("{stamp}-{}.parquet", uuid::Uuid::new_v4().simple());
    let (tmp_path, file) = create_partial_named(dir, &name)?;
    Ok((name, tmp_path, file))
}

/// Creates the hidden file that becomes `dir/name` once [`finish_partial`] has run.
pub(crate) fn create_partial_named(dir: &Path, name: &str) -> Result<(PathBuf, File), StoreError> {
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    let tmp_path = dir.join(format!(".{name}.partial"));
    let file = File::create(&tmp_path).map_err(|e| StoreError::io(&tmp_path, e))?;
    Ok((tmp_path, file))
}

/// Makes a file made by [`create_partial`] (or [`create_partial_named`]) durable and gives it its final `name` (fsync,
/// rename, fsync of the directory). Returns its size in bytes.
pub(crate) fn finish_partial(
    file: &File,
    tmp_path: &Path,
    dir: &Path,
    name: &str,
) -> Result<u64, StoreError> {
    file.sync_all().map_err(|e| StoreError::io(tmp_path, e))?;
    let bytes = file
        .metadata()
        .map_err(|e| StoreError::io(tmp_path, e))?
        .len();
    let target = dir.join(name);
    std::fs::rename(tmp_path, &target).map_err(|e| StoreError::io(&target, e))?;
    sync_dir(dir)?;
    Ok(bytes)
}

impl Drop for DataFileWriter {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp_path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Enrichment, IntegrationBatchBuilder, checksum, validate};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::file::metadata::ColumnChunkMetaData;

    /// `rows` events whose eventTime runs backwards, with maps and optional fields.
    fn events(rows: usize) -> RecordBatch {
        let mut builder =
            IntegrationBatchBuilder::new(Enrichment::now("us-east-1", "123456789012", "c"));
        for i in 0..rows {
            let (m, s) = ((rows - i) / 60 % 60, (rows - i) % 60);
            let error = if i % 7 == 0 {
                r#","errorCode":"Denied""#
            } else {
                ""
            };
            let payload = format!(
                r#"{{"version":"1.0","userIdentity":{{"type":"User","principalId":"p{}"}},"eventSource":"s","eventName":"n{}","eventTime":"2026-03-01T10:{m:02}:{s:02}Z","UID":"u-{i}","requestParameters":{{"k":"{i}","o":{{"x":[1,{i}]}}}},"recipientAccountId":"123456789012"{error}}}"#,
                i % 13,
                i % 5
            );
            let event = validate::validate(&payload, "123456789012").unwrap();
            builder
                .append(&event, &payload, &checksum(&payload))
                .unwrap();
        }
        builder.finish().unwrap()
    }

    /// Writes `batches` into one file encoded on `threads` threads, filling row groups of
    /// `fill` rows if given; returns what the file holds and its row groups' sizes.
    fn written(
        batches: &[RecordBatch],
        threads: usize,
        fill: Option<usize>,
    ) -> (RecordBatch, Vec<usize>) {
        let dir = tempfile::tempdir().unwrap();
        let mut file = DataFileWriter::create(dir.path(), batches[0].schema()).unwrap();
        file.set_encode_threads(threads);
        if let Some(rows) = fill {
            file.fill_row_groups();
            file.row_group_rows = rows;
        }
        for batch in batches {
            file.write(batch.clone()).unwrap();
        }
        let entry = file.finish().unwrap().unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(
            File::open(dir.path().join(entry.name)).unwrap(),
        )
        .unwrap();
        let groups = reader
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows() as usize)
            .collect();
        let read: Vec<RecordBatch> = reader.build().unwrap().map(Result::unwrap).collect();
        let all = arrow::compute::concat_batches(&batches[0].schema(), &read).unwrap();
        (all, groups)
    }

    #[test]
    fn columns_encoded_in_parallel_read_back_as_written() {
        let (first, second) = (events(1500), events(PARALLEL_ENCODE_ROWS / 2));
        let want = arrow::compute::concat_batches(
            &first.schema(),
            &[
                sort_by_event_time(first.clone()).unwrap(),
                sort_by_event_time(second.clone()).unwrap(),
            ],
        )
        .unwrap();
        for threads in [1, 2, 5] {
            let batches = [first.clone(), second.clone()];
            // A row group per batch, or per `group_rows` of a batch.
            let (got, sizes) = written(&batches, threads, None);
            assert_eq!(sizes, [1500, PARALLEL_ENCODE_ROWS / 2]);
            assert_eq!(got, want, "{threads} threads");
            // Batches filling row groups between them.
            for (group_rows, expected) in [
                (ROW_GROUP_ROWS, vec![1756]),
                (1000, vec![1000, 756]),
                (700, vec![700, 700, 356]),
            ] {
                let (got, sizes) = written(&batches, threads, Some(group_rows));
                assert_eq!(sizes, expected, "{group_rows} rows a group");
                assert_eq!(got, want, "{threads} threads, {group_rows} rows a group");
            }
        }
        // A batch of another schema is refused, not written into the wrong columns.
        let dir = tempfile::tempdir().unwrap();
        let mut file = DataFileWriter::create(dir.path(), first.schema()).unwrap();
        let other = first.project(&[1, 0]).unwrap();
        assert!(matches!(file.write(other), Err(StoreError::Schema(_))));
    }

    /// The column chunks of the one row group a file of 100 events gets, by column path.
    fn chunks_of_100_events() -> Vec<(String, ColumnChunkMetaData)> {
        let dir = tempfile::tempdir().unwrap();
        let mut file = DataFileWriter::create(dir.path(), events(100).schema()).unwrap();
        file.write(events(100)).unwrap();
        let entry = file.finish().unwrap().unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(
            File::open(dir.path().join(entry.name)).unwrap(),
        )
        .unwrap();
        let group = reader.metadata().row_group(0);
        group
            .columns()
            .iter()
            .map(|c| (c.column_path().string(), c.clone()))
            .collect()
    }

    fn chunk<'a>(
        chunks: &'a [(String, ColumnChunkMetaData)],
        path: &str,
    ) -> &'a ColumnChunkMetaData {
        let found = chunks.iter().find(|(p, _)| p == path);
        &found.unwrap_or_else(|| panic!("no column {path}")).1
    }

    #[test]
    fn event_times_are_delta_encoded() {
        let chunks = chunks_of_100_events();
        let time = chunk(&chunks, "eventtime");
        let encodings: Vec<Encoding> = time.encodings().collect();
        assert!(
            encodings.contains(&Encoding::DELTA_BINARY_PACKED),
            "{encodings:?}"
        );
        assert!(
            !encodings.contains(&Encoding::RLE_DICTIONARY),
            "{encodings:?}"
        );
        // Statistics stay, for time-range pruning.
        assert!(
            time.statistics()
                .is_some_and(|s| s.min_bytes_opt().is_some())
        );
    }

    #[test]
    fn short_repeating_strings_are_stored_uncompressed() {
        let chunks = chunks_of_100_events();
        let codec = |path: &str| chunk(&chunks, path).compression();
        for path in ["eventtime", "eventdata.eventname", "eventdata.eventsource"] {
            assert_eq!(codec(path), Compression::UNCOMPRESSED, "{path}");
        }
        for path in ["eventjson", "eventid", "eventdata.uid"] {
            assert!(matches!(codec(path), Compression::ZSTD(_)), "{path}");
        }
    }
}
