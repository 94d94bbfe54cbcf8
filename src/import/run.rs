//! The import pipeline: workers that each read whole files, map records to rows and commit,
//! and a main thread that draws progress and collects problems.

use crate::progress::Progress;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::datatypes::SchemaRef;

use crate::catalog::{CatalogError, EventDataStore};
use crate::event::schema::schema_for;
use crate::ingest::source;
use crate::store::{DataFileWriter, StoreWriter};

use super::eventids::EventIds;
use super::files;
use super::record::{Record, RowBuilder, supported};
use super::scan::RecordScanner;
use super::{
    BATCH_ROWS, BATCH_TEXT_BYTES, COMMIT_ROWS, ImportError, ImportOptions, ImportSummary,
    MAX_LISTED_PROBLEMS,
};

/// Something that could not be read, on its way to the summary.
enum Problem {
    Record(String),
    File(String, String),
}

/// What one worker counted.
#[derive(Default)]
struct Tally {
    files: u64,
    records: u64,
    imported: u64,
    duplicates: u64,
    outside: u64,
    by_category: BTreeMap<String, u64>,
    min_ms: Option<i64>,
    max_ms: Option<i64>,
}

/// Imports CloudTrail log files into a Management or Data event data store.
pub fn import_paths(
    writer: &StoreWriter,
    eds: &EventDataStore,
    paths: &[PathBuf],
    options: &ImportOptions,
) -> Result<ImportSummary, ImportError> {
    let started = Instant::now();
    let category = eds.category();
    if !category.is_trail() {
        return Err(CatalogError::InvalidEventDataStoreCategory(format!(
            "event data store {} holds {} events; CloudTrail logs import only into stores \
             of Management or Data events",
            eds.name,
            category.as_str()
        ))
        .into());
    }
    let schema = schema_for(category);
    if !supported(&schema) {
        return Err(ImportError::UnsupportedSchema(eds.name.clone()));
    }
    let inputs = files::discover(paths).map_err(|(path, source)| ImportError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let ids = EventIds::load(writer.store(), eds.id())?;
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    }
    .min(inputs.logs.len().max(1));

    let next = AtomicUsize::new(0);
    let bytes_read = Arc::new(AtomicU64::new(0));
    let imported = AtomicU64::new(0);
    let commits = Mutex::new(0u64);
    let progress = Progress::bytes(options.progress, inputs.bytes, "records imported");
    let mut summary = ImportSummary {
        digest_files_skipped: inputs.digests.len() as u64,
        other_files_skipped: inputs.others.len() as u64,
        ..ImportSummary::default()
    };
    let (problem_tx, problem_rx) = sync_channel::<Problem>(1024);

    let tallies: Result<Vec<Tally>, ImportError> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let worker = Worker {
                    writer,
                    eds_id: eds.id(),
                    schema: Arc::clone(&schema),
                    options,
                    ids: &ids,
                    rows: RowBuilder::new(Arc::clone(&schema)),
                    file: None,
                    commits: &commits,
                    problems: problem_tx.clone(),
                    imported: &imported,
                    tally: Tally::default(),
                };
                let (logs, next, bytes_read) = (&inputs.logs, &next, Arc::clone(&bytes_read));
                scope.spawn(move || worker.run(logs, next, &bytes_read))
            })
            .collect();
        drop(problem_tx);
        let mut last_draw = Instant::now();
        loop {
            match problem_rx.recv_timeout(Duration::from_millis(200)) {
                Ok(Problem::Record(message)) => {
                    summary.unreadable += 1;
                    if summary.problems.len() < MAX_LISTED_PROBLEMS {
                        summary.problems.push(message);
                    }
                }
                Ok(Problem::File(file, message)) => summary.files_failed.push((file, message)),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if last_draw.elapsed() > Duration::from_millis(200) {
                progress.update(
                    bytes_read.load(Ordering::Relaxed),
                    imported.load(Ordering::Relaxed),
                );
                last_draw = Instant::now();
            }
        }
        workers
            .into_iter()
            .map(|w| w.join().expect("import workers do not panic"))
            .collect()
    });
    progress.finish();
    let (mut min, mut max) = (None, None);
    for tally in tallies? {
        summary.files += tally.files;
        summary.records += tally.records;
        summary.imported += tally.imported;
        summary.duplicates += tally.duplicates;
        summary.outside_time_range += tally.outside;
        for (category, n) in tally.by_category {
            *summary.by_category.entry(category).or_default() += n;
        }
        min = min.into_iter().chain(tally.min_ms).min();
        max = max.into_iter().chain(tally.max_ms).max();
    }
    summary.earliest = min.map(iso);
    summary.latest = max.map(iso);
    summary.files_failed.sort();
    summary.commits = *commits.lock().expect("commit count is not poisoned");
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

struct Worker<'a> {
    writer: &'a StoreWriter,
    eds_id: &'a str,
    schema: SchemaRef,
    options: &'a ImportOptions,
    ids: &'a EventIds,
    rows: RowBuilder,
    /// The file this worker writes, until it is committed.
    file: Option<DataFileWriter>,
    /// Serialises manifest updates and counts commits.
    commits: &'a Mutex<u64>,
    problems: SyncSender<Problem>,
    imported: &'a AtomicU64,
    tally: Tally,
}

impl Worker<'_> {
    fn run(
        mut self,
        logs: &[PathBuf],
        next: &AtomicUsize,
        bytes_read: &Arc<AtomicU64>,
    ) -> Result<Tally, ImportError> {
        let mut text = Vec::with_capacity(64 * 1024);
        let mut buffer = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(path) = logs.get(i) else { break };
            match self.read_file(path, bytes_read, &mut text, buffer) {
                Ok(b) => buffer = b,
                Err(e) => {
                    // The import has failed: the other workers take no further file.
                    next.store(logs.len(), Ordering::Relaxed);
                    return Err(e);
                }
            }
        }
        self.flush()?;
        self.commit()?;
        Ok(self.tally)
    }

    /// Reads one file with `buffer` as the scanner's, and hands the buffer back for the next.
    fn read_file(
        &mut self,
        path: &Path,
        bytes_read: &Arc<AtomicU64>,
        text: &mut Vec<u8>,
        buffer: Vec<u8>,
    ) -> Result<Vec<u8>, ImportError> {
        self.tally.files += 1;
        let name = path.display().to_string();
        let reader = match source::open(path, Arc::clone(bytes_read)) {
            Ok(reader) => reader,
            Err(e) => {
                let _ = self
                    .problems
                    .send(Problem::File(name, format!("cannot open: {e}")));
                return Ok(buffer);
            }
        };
        let mut scanner = RecordScanner::with_buffer(reader, buffer);
        loop {
            let position = match scanner.next_record(text) {
                Ok(Some(position)) => position,
                Ok(None) => break,
                Err(e) => {
                    let _ = self.problems.send(Problem::File(name, e.to_string()));
                    break;
                }
            };
            self.tally.records += 1;
            let parsed = std::str::from_utf8(text.as_slice())
                .map_err(|e| format!("not UTF-8 text: {e}"))
                .and_then(Record::parse);
            match parsed {
                Ok(record) => self.take(&record),
                Err(message) => {
                    let _ = self
                        .problems
                        .send(Problem::Record(format!("{name}: {position}: {message}")));
                }
            }
            if self.rows.len() >= BATCH_ROWS || self.rows.text_bytes() >= BATCH_TEXT_BYTES {
                self.flush()?;
            }
        }
        Ok(scanner.into_buffer())
    }

    fn take(&mut self, record: &Record<'_>) {
        let t = record.time_ms;
        let options = self.options;
        if options.start_ms.is_some_and(|s| t < s) || options.end_ms.is_some_and(|e| t > e) {
            self.tally.outside += 1;
            return;
        }
        if !self.ids.claim(record.event_id) {
            self.tally.duplicates += 1;
            return;
        }
        self.rows.append(record);
        self.tally.imported += 1;
        self.imported.fetch_add(1, Ordering::Relaxed);
        let category = record.category();
        match self.tally.by_category.get_mut(category) {
            Some(n) => *n += 1,
            None => {
                self.tally.by_category.insert(category.to_string(), 1);
            }
        }
        self.tally.min_ms = Some(self.tally.min_ms.map_or(t, |m| m.min(t)));
        self.tally.max_ms = Some(self.tally.max_ms.map_or(t, |m| m.max(t)));
    }

    fn flush(&mut self) -> Result<(), ImportError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let batch = self.rows.finish()?;
        if self.file.is_none() {
            let mut file = self
                .writer
                .file_writer(self.eds_id, Arc::clone(&self.schema))?;
            // The workers already keep every core busy.
            file.set_encode_threads(1);
            self.file = Some(file);
        }
        let file = self.file.as_mut().expect("the file was just opened");
        file.write(batch)?;
        let limit = match self.options.commit_rows {
            0 => COMMIT_ROWS,
            n => n,
        };
        if file.rows() >= limit {
            self.commit()?;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), ImportError> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        let mut commits = self.commits.lock().expect("commit count is not poisoned");
        if self.writer.commit(file)?.is_some() {
            *commits += 1;
        }
        Ok(())
    }
}
