//! Writing Parquet files into an event data store and committing them atomically.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::array::{Array, RecordBatch, TimestampMillisecondArray};
use arrow::compute::{sort_to_indices, take_record_batch};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
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

fn properties(schema: &arrow::datatypes::Schema) -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("level 1 is valid"),
        ))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!("auditlake {}", env!("CARGO_PKG_VERSION")));
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
    let indices = sort_to_indices(times, None, None)?;
    Ok(take_record_batch(&batch, &indices)?)
}

/// A Parquet file being written into a store's directory. Invisible to readers until
/// [`DataFileWriter::commit`]; dropped without a commit, it leaves nothing behind.
pub struct DataFileWriter {
    dir: PathBuf,
    tmp_path: PathBuf,
    name: String,
    writer: Option<ArrowWriter<File>>,
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
        let writer = ArrowWriter::try_new(file, schema, Some(props))?;
        Ok(DataFileWriter {
            dir: dir.to_path_buf(),
            tmp_path,
            name,
            writer: Some(writer),
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

    /// Bytes written so far plus what is buffered for the open row group.
    pub fn bytes(&self) -> usize {
        self.writer
            .as_ref()
            .map_or(0, |w| w.bytes_written() + w.in_progress_size())
    }

    /// Appends a batch, sorted by eventtime first.
    pub fn write(&mut self, batch: RecordBatch) -> Result<(), StoreError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let batch = sort_by_event_time(batch)?;
        let times = event_time_column(&batch)?;
        if let (Some(min), Some(max)) = (arrow::compute::min(times), arrow::compute::max(times)) {
            self.min_time_ms = self.min_time_ms.min(min);
            self.max_time_ms = self.max_time_ms.max(max);
        }
        self.rows += batch.num_rows() as u64;
        let writer = self.writer.as_mut().expect("writer is open until commit");
        writer.write(&batch)?;
        // One row group per written batch keeps row groups sorted and their statistics tight.
        writer.flush()?;
        Ok(())
    }

    /// Finishes the file, makes it durable and moves it to its final name. It is not in
    /// the manifest yet, so readers still do not see it. An empty file is dropped.
    pub(super) fn finish(mut self) -> Result<Option<FileEntry>, StoreError> {
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
