//! Merging sorted runs: compaction's way to sort a store's files by eventtime in bounded
//! memory.
//!
//! Every row group the store writes is sorted by eventtime, and so is every file but a
//! spliced one. A run is a stretch of one file's row groups whose times follow on (per their
//! statistics): the whole file, usually. [`merge`] reads up to [`FAN_IN`] runs at once, a
//! batch of each at a time, and interleaves their rows in time order; more runs than that are
//! first merged in rounds, into files of their own that the next round reads as one run.
//! Memory is then bounded by the runs open at once (a batch and a page per column each) and
//! the row group being written, whatever the number of events: a sort of all events held them
//! all, or spilled.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, RecordBatch, TimestampMillisecondArray};
use arrow::datatypes::SchemaRef;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::file::statistics::Statistics;

use super::StoreError;
use super::writer::{DataFileWriter, event_time_column};

/// Runs read at once. Each holds a batch of [`RUN_BATCH_ROWS`] rows and a decoded page of
/// each column.
pub const FAN_IN: usize = 16;
/// Rows read from a run at a time.
const RUN_BATCH_ROWS: usize = 1024;
/// Rows gathered before they are handed on.
const OUT_BATCH_ROWS: usize = 4096;

/// One run: row groups of one file, in order, whose events are in time order.
#[derive(Debug, Clone)]
struct Run {
    path: PathBuf,
    /// The file's footer, read once for all its runs.
    metadata: ArrowReaderMetadata,
    row_groups: Vec<usize>,
    /// Events in those row groups.
    rows: u64,
}

/// Events that merging runs of `rows` events each will write: those of every round, then
/// all of them once more.
fn work(mut rows: Vec<u64>) -> u64 {
    let mut total = 0;
    while rows.len() > FAN_IN {
        let round: u64 = rows.drain(..FAN_IN).sum();
        total += round;
        rows.push(round);
    }
    total + rows.iter().sum::<u64>()
}

/// Why a set of files cannot be merged as runs: the caller sorts them another way.
#[derive(Debug, PartialEq, Eq)]
pub enum NotRuns {
    /// The files differ in schema.
    Schemas,
    /// A row group is not sorted by eventtime (a file this store did not write).
    Unsorted(PathBuf),
}

/// Merges `paths` (data files of one store, all sorted within each row group) into one
/// stream sorted by eventtime, without events before `cutoff`, handed batch by batch to
/// `out`. Rounds of merging write their files to `scratch`; they are removed before this
/// returns, whatever the outcome. `progress` hears the events merged so far, rounds
/// included, and the total to merge.
pub fn merge(
    paths: &[PathBuf],
    cutoff: i64,
    scratch: &Path,
    out: &mut dyn FnMut(RecordBatch) -> Result<(), StoreError>,
    progress: &dyn Fn(u64, u64),
) -> Result<Result<(), NotRuns>, StoreError> {
    let mut runs = Vec::new();
    let mut schema: Option<SchemaRef> = None;
    for path in paths {
        let (metadata, file_runs) = runs_of(path)?;
        match &schema {
            Some(schema) if schema != metadata.schema() => return Ok(Err(NotRuns::Schemas)),
            _ => schema = Some(Arc::clone(metadata.schema())),
        }
        runs.extend(file_runs);
    }
    let Some(schema) = schema else {
        return Ok(Ok(()));
    };
    let total = work(runs.iter().map(|r| r.rows).collect());
    let done = std::cell::Cell::new(0);
    let counted = |rows: usize| {
        done.set(done.get() + rows as u64);
        progress(done.get(), total);
    };
    let mut rounds = Vec::new();
    let outcome = merge_in_rounds(
        runs,
        &schema,
        cutoff,
        scratch,
        &mut rounds,
        &mut |batch| {
            counted(batch.num_rows());
            out(batch)
        },
        &counted,
    );
    for path in rounds {
        std::fs::remove_file(&path).map_err(|e| StoreError::io(&path, e))?;
    }
    outcome
}

/// Merges `runs`, the oldest [`FAN_IN`] at a time into a file of `scratch` (listed in
/// `rounds`) that joins the queue as one run, until one merge into `out` takes the rest.
fn merge_in_rounds(
    mut runs: Vec<Run>,
    schema: &SchemaRef,
    cutoff: i64,
    scratch: &Path,
    rounds: &mut Vec<PathBuf>,
    out: &mut dyn FnMut(RecordBatch) -> Result<(), StoreError>,
    counted: &dyn Fn(usize),
) -> Result<Result<(), NotRuns>, StoreError> {
    loop {
        if runs.len() <= FAN_IN {
            return merge_runs(&runs, cutoff, out);
        }
        let mut file = DataFileWriter::create(scratch, Arc::clone(schema))?;
        file.fill_row_groups();
        let taken: Vec<Run> = runs.drain(..FAN_IN).collect();
        let rows = taken.iter().map(|r| r.rows).sum();
        if let Err(unsorted) = merge_runs(&taken, cutoff, &mut |batch| {
            counted(batch.num_rows());
            file.write(batch)
        })? {
            return Ok(Err(unsorted));
        }
        if let Some(entry) = file.finish()? {
            let path = scratch.join(&entry.name);
            let metadata = load_metadata(&path)?;
            let groups = metadata.metadata().num_row_groups();
            runs.push(Run {
                path: path.clone(),
                metadata,
                row_groups: (0..groups).collect(),
                rows,
            });
            rounds.push(path);
        }
    }
}

/// The footer and the runs of the file at `path`: its row groups, split where one's earliest
/// event precedes the latest of the one before (or where statistics are missing).
fn runs_of(path: &Path) -> Result<(ArrowReaderMetadata, Vec<Run>), StoreError> {
    let reader_metadata = load_metadata(path)?;
    let metadata = reader_metadata.metadata();
    let schema = metadata.file_metadata().schema_descr();
    let time = (0..schema.num_columns())
        .find(|&i| schema.column(i).path().string() == "eventtime")
        .ok_or_else(|| StoreError::Schema(format!("{} has no eventtime column", path.display())))?;
    let mut runs: Vec<Run> = Vec::new();
    let mut last_max: Option<i64> = None;
    for (index, group) in metadata.row_groups().iter().enumerate() {
        if group.num_rows() == 0 {
            continue;
        }
        let bounds = match group.column(time).statistics() {
            Some(Statistics::Int64(s)) if s.null_count_opt() == Some(0) => {
                s.min_opt().copied().zip(s.max_opt().copied())
            }
            _ => None,
        };
        let rows = group.num_rows() as u64;
        match (bounds, last_max, runs.last_mut()) {
            (Some((min, _)), Some(max), Some(run)) if max <= min => {
                run.row_groups.push(index);
                run.rows += rows;
            }
            _ => runs.push(Run {
                path: path.to_path_buf(),
                metadata: reader_metadata.clone(),
                row_groups: vec![index],
                rows,
            }),
        }
        // A row group without bounds ends its run: nothing may follow on from it.
        last_max = bounds.map(|(_, max)| max);
    }
    Ok((reader_metadata, runs))
}

/// The footer of the data file at `path`, with its Arrow schema.
fn load_metadata(path: &Path) -> Result<ArrowReaderMetadata, StoreError> {
    let file = File::open(path).map_err(|e| StoreError::io(path, e))?;
    Ok(ArrowReaderMetadata::load(
        &file,
        ArrowReaderOptions::default(),
    )?)
}

/// A run being read: its current batch and the next row to take.
struct Cursor {
    reader: ParquetRecordBatchReader,
    path: PathBuf,
    batch: RecordBatch,
    times: TimestampMillisecondArray,
    /// The next row of `batch`.
    row: usize,
    /// Where `batch` sits among the batches [`Gathered`] holds.
    slot: usize,
}

/// What reading a run's next batch found.
enum Step {
    Read(RecordBatch, TimestampMillisecondArray),
    End,
    /// Times that go back: within the batch, or below the run's last time taken.
    OutOfOrder,
}

impl Cursor {
    /// Opens `run` at its first batch; `None` if it holds no rows.
    fn open(run: &Run) -> Result<Result<Option<Cursor>, NotRuns>, StoreError> {
        let file = File::open(&run.path).map_err(|e| StoreError::io(&run.path, e))?;
        let mut reader =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, run.metadata.clone())
                .with_row_groups(run.row_groups.clone())
                .with_batch_size(RUN_BATCH_ROWS)
                .build()?;
        Ok(match next_batch(&mut reader, i64::MIN)? {
            Step::Read(batch, times) => Ok(Some(Cursor {
                reader,
                path: run.path.clone(),
                batch,
                times,
                row: 0,
                slot: 0,
            })),
            Step::End => Ok(None),
            Step::OutOfOrder => Err(NotRuns::Unsorted(run.path.clone())),
        })
    }

    fn time(&self) -> i64 {
        self.times.value(self.row)
    }
}

/// The next non-empty batch of `reader`, checked to be in time order from `after` on.
fn next_batch(reader: &mut ParquetRecordBatchReader, after: i64) -> Result<Step, StoreError> {
    for batch in reader {
        let batch = batch?;
        if batch.num_rows() == 0 {
            continue;
        }
        let times = event_time_column(&batch)?.clone();
        let values = times.values();
        if times.null_count() > 0 || values[0] < after || values.windows(2).any(|w| w[0] > w[1]) {
            return Ok(Step::OutOfOrder);
        }
        return Ok(Step::Read(batch, times));
    }
    Ok(Step::End)
}

/// Merges up to [`FAN_IN`] runs into `out`, dropping events before `cutoff`.
fn merge_runs(
    runs: &[Run],
    cutoff: i64,
    out: &mut dyn FnMut(RecordBatch) -> Result<(), StoreError>,
) -> Result<Result<(), NotRuns>, StoreError> {
    let mut cursors = Vec::new();
    for run in runs {
        match Cursor::open(run)? {
            Ok(cursor) => cursors.push(cursor),
            Err(not_runs) => return Ok(Err(not_runs)),
        }
    }
    let mut gathered = Gathered::default();
    let mut heap = BinaryHeap::new();
    for (index, cursor) in cursors.iter_mut().enumerate() {
        if let Some(cursor) = cursor {
            cursor.slot = gathered.hold(&cursor.batch);
            heap.push(Reverse((cursor.time(), index)));
        }
    }
    while let Some(Reverse((_, index))) = heap.pop() {
        // Take rows from this run while they come no later than the next run's first.
        let bound = heap.peek().map_or(i64::MAX, |Reverse((time, _))| *time);
        let Some(cursor) = &mut cursors[index] else {
            continue;
        };
        let times = cursor.times.values();
        let start = cursor.row;
        let end = start + times[start..].partition_point(|&t| t <= bound);
        let kept = start + times[start..end].partition_point(|&t| t < cutoff);
        gathered.take(cursor.slot, kept..end);
        cursor.row = end;
        if cursor.row == times.len() {
            let last = times[times.len() - 1];
            match next_batch(&mut cursor.reader, last)? {
                Step::Read(batch, times) => {
                    cursor.batch = batch;
                    cursor.times = times;
                    cursor.row = 0;
                    cursor.slot = gathered.hold(&cursor.batch);
                }
                Step::End => cursors[index] = None,
                Step::OutOfOrder => return Ok(Err(NotRuns::Unsorted(cursor.path.clone()))),
            }
        }
        if let Some(cursor) = &cursors[index] {
            heap.push(Reverse((cursor.time(), index)));
        }
        if gathered.rows() >= OUT_BATCH_ROWS {
            gathered.flush(out)?;
            for cursor in cursors.iter_mut().flatten() {
                cursor.slot = gathered.hold(&cursor.batch);
            }
        }
    }
    gathered.flush(out)?;
    Ok(Ok(()))
}

/// Rows chosen for the next output batch: (batch, row) pairs over the batches they come from.
#[derive(Default)]
struct Gathered {
    batches: Vec<RecordBatch>,
    rows: Vec<(usize, usize)>,
}

impl Gathered {
    /// Keeps `batch` until the next flush; returns its slot.
    fn hold(&mut self, batch: &RecordBatch) -> usize {
        self.batches.push(batch.clone());
        self.batches.len() - 1
    }

    fn take(&mut self, slot: usize, rows: std::ops::Range<usize>) {
        self.rows.extend(rows.map(|row| (slot, row)));
    }

    fn rows(&self) -> usize {
        self.rows.len()
    }

    /// Builds the gathered rows into one batch for `out` and lets go of the batches held.
    fn flush(
        &mut self,
        out: &mut dyn FnMut(RecordBatch) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        if !self.rows.is_empty() {
            let batches: Vec<&RecordBatch> = self.batches.iter().collect();
            out(arrow::compute::interleave_record_batch(
                &batches, &self.rows,
            )?)?;
        }
        self.batches.clear();
        self.rows.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Enrichment, IntegrationBatchBuilder, checksum, validate};
    use arrow::array::AsArray;

    /// Events at `minutes` past 10:00 on 2026-03-01, with UIDs `tag-0`, `tag-1`, ...
    fn events(minutes: &[u32], tag: &str) -> RecordBatch {
        let mut builder =
            IntegrationBatchBuilder::new(Enrichment::now("us-east-1", "123456789012", "c"));
        for (i, m) in minutes.iter().enumerate() {
            let payload = format!(
                r#"{{"version":"1.0","userIdentity":{{"type":"User","principalId":"a"}},"eventSource":"s","eventName":"n","eventTime":"2026-03-01T10:{m:02}:00Z","UID":"{tag}-{i}","recipientAccountId":"123456789012"}}"#
            );
            let event = validate::validate(&payload, "123456789012").unwrap();
            builder
                .append(&event, &payload, &checksum(&payload))
                .unwrap();
        }
        builder.finish().unwrap()
    }

    /// A data file with one row group per batch (each sorted as the store writes it).
    fn data_file(dir: &Path, batches: Vec<RecordBatch>) -> PathBuf {
        let mut file = DataFileWriter::create(dir, batches[0].schema()).unwrap();
        for batch in batches {
            file.write(batch).unwrap();
        }
        dir.join(file.finish().unwrap().unwrap().name)
    }

    const MINUTE_MS: i64 = 60_000;
    /// 10:00 on 2026-03-01.
    const TEN: i64 = 1_772_359_200_000;

    /// Merges `paths` into memory: each event's time (in minutes past 10:00) and UID. The
    /// progress reported must rise to its total.
    fn merged(paths: &[PathBuf], cutoff: i64, scratch: &Path) -> Vec<(i64, String)> {
        let mut rows = Vec::new();
        let reports = std::cell::RefCell::new(Vec::new());
        let outcome = merge(
            paths,
            cutoff,
            scratch,
            &mut |batch| {
                let times = event_time_column(&batch)?.clone();
                let data = batch.column_by_name("eventdata").unwrap().as_struct();
                let uids = data.column_by_name("uid").unwrap().as_string::<i32>();
                for row in 0..batch.num_rows() {
                    rows.push((
                        (times.value(row) - TEN) / MINUTE_MS,
                        uids.value(row).to_string(),
                    ));
                }
                Ok(())
            },
            &|done, total| reports.borrow_mut().push((done, total)),
        );
        assert_eq!(outcome.unwrap(), Ok(()));
        let reports = reports.into_inner();
        assert!(
            reports
                .windows(2)
                .all(|w| w[0].0 <= w[1].0 && w[0].1 == w[1].1)
        );
        if cutoff == i64::MIN {
            let (done, total) = reports.last().copied().unwrap_or_default();
            assert_eq!(done, total, "{reports:?}");
        }
        rows
    }

    #[test]
    fn a_file_is_one_run_while_its_row_groups_follow_on_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let in_order = data_file(
            dir.path(),
            vec![events(&[0, 2, 1], "a"), events(&[2, 5], "b")],
        );
        let overlapping = data_file(
            dir.path(),
            vec![
                events(&[3, 4], "c"),
                events(&[1, 9], "d"),
                events(&[9], "e"),
            ],
        );
        let runs = |path: &PathBuf| {
            runs_of(path)
                .unwrap()
                .1
                .into_iter()
                .map(|r| r.row_groups)
                .collect::<Vec<_>>()
        };
        assert_eq!(runs(&in_order), [vec![0, 1]]);
        assert_eq!(runs(&overlapping), [vec![0], vec![1, 2]]);
    }

    #[test]
    fn merged_runs_come_in_time_order_with_every_event_from_the_cutoff_on() {
        let dir = tempfile::tempdir().unwrap();
        let paths = [
            data_file(dir.path(), vec![events(&[5, 1, 30, 7], "a")]),
            data_file(
                dir.path(),
                vec![events(&[2, 2, 40], "b"), events(&[1, 3], "c")],
            ),
            data_file(dir.path(), vec![events(&[0, 59], "d")]),
        ];
        let rows = merged(&paths, i64::MIN, dir.path());
        let times: Vec<i64> = rows.iter().map(|(t, _)| *t).collect();
        assert_eq!(times, [0, 1, 1, 2, 2, 3, 5, 7, 30, 40, 59]);
        let mut uids: Vec<&str> = rows.iter().map(|(_, u)| u.as_str()).collect();
        uids.sort_unstable();
        assert_eq!(
            uids,
            [
                "a-0", "a-1", "a-2", "a-3", "b-0", "b-1", "b-2", "c-0", "c-1", "d-0", "d-1"
            ]
        );
        let from_three = merged(&paths, TEN + 3 * MINUTE_MS, dir.path());
        let times: Vec<i64> = from_three.iter().map(|(t, _)| *t).collect();
        assert_eq!(times, [3, 5, 7, 30, 40, 59]);
    }

    #[test]
    fn more_runs_than_the_fan_in_are_merged_in_rounds_whose_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let scratch = tempfile::tempdir().unwrap();
        // 40 files, each a run, with times that interleave: 3 rounds and a last merge.
        let paths: Vec<PathBuf> = (0..40u32)
            .map(|f| {
                let minutes: Vec<u32> = (0..3).map(|i| (f * 7 + i * 13) % 60).collect();
                data_file(dir.path(), vec![events(&minutes, &format!("f{f}"))])
            })
            .collect();
        let rows = merged(&paths, i64::MIN, scratch.path());
        assert_eq!(rows.len(), 120);
        assert!(rows.windows(2).all(|w| w[0].0 <= w[1].0), "{rows:?}");
        let mut uids: Vec<&str> = rows.iter().map(|(_, u)| u.as_str()).collect();
        uids.sort_unstable();
        uids.dedup();
        assert_eq!(uids.len(), 120);
        let left = std::fs::read_dir(scratch.path()).unwrap().count();
        assert_eq!(left, 0, "the rounds' files are removed");
    }

    #[test]
    fn unsorted_row_groups_and_differing_schemas_are_not_runs() {
        let dir = tempfile::tempdir().unwrap();
        let sorted = data_file(dir.path(), vec![events(&[1, 2], "a")]);
        // Written by another Parquet writer, out of time order.
        let unsorted = dir.path().join("unsorted.parquet");
        let batch = events(&[9, 3], "b");
        let mut writer = parquet::arrow::ArrowWriter::try_new(
            File::create(&unsorted).unwrap(),
            batch.schema(),
            None,
        )
        .unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        let outcome = merge(
            &[sorted.clone(), unsorted.clone()],
            i64::MIN,
            dir.path(),
            &mut |_| Ok(()),
            &|_, _| {},
        );
        assert_eq!(outcome.unwrap(), Err(NotRuns::Unsorted(unsorted)));

        let batch = events(&[4], "c");
        let last = batch.num_columns() - 1;
        assert_ne!(batch.schema().field(last).name(), "eventtime");
        let fewer = batch.project(&(0..last).collect::<Vec<_>>()).unwrap();
        let other = data_file(dir.path(), vec![fewer]);
        let outcome = merge(
            &[sorted, other],
            i64::MIN,
            dir.path(),
            &mut |_| Ok(()),
            &|_, _| {},
        );
        assert_eq!(outcome.unwrap(), Err(NotRuns::Schemas));
    }
}
