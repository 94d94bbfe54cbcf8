//! Bulk ingestion: files read on one thread, events validated and written to Parquet by
//! one worker per core, committed in large batches.

use crate::progress::Progress;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::event::{Enrichment, EventError, IntegrationBatchBuilder};
use crate::store::{DataFileWriter, StoreWriter};

use super::IngestError;
use super::put::accept_event;
use super::source::{self, Chunk};
use super::target::Target;

/// Rows per row group written by a worker.
pub const BATCH_ROWS: usize = 16_384;
/// By default a worker commits its file once it holds this many rows.
pub const COMMIT_ROWS: u64 = 500_000;

/// How a bulk ingestion runs.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Write every refused event, with its reason, to this NDJSON file.
    pub rejects: Option<PathBuf>,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Each worker commits after this many events; 0 means [`COMMIT_ROWS`].
    pub commit_rows: u64,
}

/// What a bulk ingestion did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IngestSummary {
    pub files: u64,
    /// Files that could not be read, with the reason; their readable events still count.
    pub files_failed: Vec<(String, String)>,
    pub events: u64,
    pub accepted: u64,
    /// Refused events counted by error code.
    pub failed: BTreeMap<String, u64>,
    pub commits: u64,
    pub seconds: f64,
}

/// One refused event on its way to the summary and the rejects file.
struct Rejected {
    location: String,
    id: Option<String>,
    error: EventError,
    payload: String,
}

/// Loads files through the PutAuditEvents rules into the target's stores.
pub fn ingest_paths(
    writer: &StoreWriter,
    target: &Target,
    paths: &[PathBuf],
    options: &IngestOptions,
) -> Result<IngestSummary, IngestError> {
    let started = Instant::now();
    let files = source::discover(paths).map_err(|(path, e)| IngestError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    let total_bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let mut rejects = match &options.rejects {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| IngestError::Io {
                path: path.display().to_string(),
                source: e,
            })?,
        )),
        None => None,
    };
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let bytes_read = Arc::new(AtomicU64::new(0));
    let accepted = Arc::new(AtomicU64::new(0));
    let progress = Progress::bytes(options.progress, total_bytes, "events accepted");
    let enrichment = Enrichment::now(&target.region, &target.owner_account, &target.channel_arn);
    let commit_lock = Mutex::new(0u64);
    let mut summary = IngestSummary {
        files: files.len() as u64,
        ..IngestSummary::default()
    };

    let (chunk_tx, chunk_rx) = sync_channel::<Chunk>(threads * 2);
    let chunk_rx = Arc::new(Mutex::new(chunk_rx));
    let (reject_tx, reject_rx) = sync_channel::<Rejected>(1024);

    let outcome: Result<(), IngestError> = std::thread::scope(|scope| {
        let reader = {
            let bytes_read = Arc::clone(&bytes_read);
            scope.spawn(move || read_all(&files, chunk_tx, bytes_read))
        };
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = Arc::clone(&chunk_rx);
                let reject_tx = reject_tx.clone();
                let accepted = Arc::clone(&accepted);
                let worker = Worker {
                    commit_rows: match options.commit_rows {
                        0 => COMMIT_ROWS,
                        n => n,
                    },
                    store: writer,
                    target,
                    builder: IntegrationBatchBuilder::with_capacity(
                        enrichment.clone(),
                        BATCH_ROWS,
                        BATCH_ROWS * 1024,
                    ),
                    files: Vec::new(),
                    commit_lock: &commit_lock,
                };
                scope.spawn(move || worker.run(&rx, &reject_tx, &accepted))
            })
            .collect();
        drop(reject_tx);

        let mut last_draw = Instant::now();
        loop {
            match reject_rx.recv_timeout(Duration::from_millis(200)) {
                Ok(r) => record_reject(&mut summary, rejects.as_mut(), r)?,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if last_draw.elapsed() > Duration::from_millis(200) {
                progress.update(
                    bytes_read.load(Ordering::Relaxed),
                    accepted.load(Ordering::Relaxed),
                );
                last_draw = Instant::now();
            }
        }
        let (events, failed_files) = reader.join().expect("reader thread does not panic");
        summary.events = events;
        summary.files_failed = failed_files;
        for w in workers {
            w.join().expect("worker threads do not panic")?;
        }
        Ok(())
    });
    progress.finish();
    if let Some(mut r) = rejects {
        r.flush().map_err(|e| IngestError::Io {
            path: options
                .rejects
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            source: e,
        })?;
    }
    outcome?;
    summary.accepted = accepted.load(Ordering::Relaxed);
    summary.commits = *commit_lock.lock().expect("commit lock is not poisoned");
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn record_reject(
    summary: &mut IngestSummary,
    rejects: Option<&mut std::io::BufWriter<std::fs::File>>,
    r: Rejected,
) -> Result<(), IngestError> {
    *summary
        .failed
        .entry(r.error.code.as_str().to_string())
        .or_default() += 1;
    if let Some(out) = rejects {
        let line = serde_json::json!({
            "location": r.location,
            "id": r.id,
            "errorCode": r.error.code.as_str(),
            "errorMessage": r.error.message,
            "eventData": r.payload,
        });
        writeln!(out, "{line}").map_err(|e| IngestError::Io {
            path: "rejects file".into(),
            source: e,
        })?;
    }
    Ok(())
}

/// Reads every file in turn; a file that fails is reported and the rest go on.
fn read_all(
    files: &[PathBuf],
    tx: SyncSender<Chunk>,
    bytes_read: Arc<AtomicU64>,
) -> (u64, Vec<(String, String)>) {
    let mut events = 0;
    let mut failed = Vec::new();
    for path in files {
        let file: Arc<Path> = Arc::from(path.as_path());
        let result = source::open(path, Arc::clone(&bytes_read))
            .map_err(|e| format!("cannot open: {e}"))
            .and_then(|reader| {
                source::read_events(&file, reader, &mut |chunk| {
                    let _ = tx.send(chunk);
                })
            });
        match result {
            Ok(n) => events += n,
            Err(message) => failed.push((path.display().to_string(), message)),
        }
    }
    (events, failed)
}

struct Worker<'a> {
    commit_rows: u64,
    store: &'a StoreWriter,
    target: &'a Target,
    builder: IntegrationBatchBuilder,
    /// One open file per destination store.
    files: Vec<DataFileWriter>,
    /// Serialises manifest updates and counts commits.
    commit_lock: &'a Mutex<u64>,
}

impl Worker<'_> {
    fn run(
        mut self,
        rx: &Mutex<Receiver<Chunk>>,
        rejects: &SyncSender<Rejected>,
        accepted: &AtomicU64,
    ) -> Result<(), IngestError> {
        loop {
            let chunk = match rx.lock().expect("chunk queue is not poisoned").recv() {
                Ok(chunk) => chunk,
                Err(_) => break,
            };
            let mut ok = 0;
            for event in &chunk.events {
                let result = match chunk.payload(event) {
                    Ok(payload) => accept_event(
                        &mut self.builder,
                        payload,
                        event.checksum.as_deref(),
                        &self.target.owner_account,
                    )
                    .map_err(|e| (e, payload.to_string())),
                    Err(e) => Err((
                        EventError::new(
                            crate::event::ErrorCode::InvalidData,
                            format!("not UTF-8 text: {e}"),
                        ),
                        String::from_utf8_lossy(match &event.payload {
                            source::Payload::Span(s, e) => &chunk.text[*s..*e],
                            source::Payload::Owned(t) => t.as_bytes(),
                        })
                        .into_owned(),
                    )),
                };
                match result {
                    Ok(_) => ok += 1,
                    Err((error, payload)) => {
                        let _ = rejects.send(Rejected {
                            location: chunk.locate(event),
                            id: event.id.clone(),
                            error,
                            payload,
                        });
                    }
                }
            }
            if self.builder.len() >= BATCH_ROWS.min(self.commit_rows as usize) {
                self.flush()?;
            }
            accepted.fetch_add(ok, Ordering::Relaxed);
        }
        self.flush()?;
        self.commit()
    }

    fn flush(&mut self) -> Result<(), IngestError> {
        if self.builder.is_empty() {
            return Ok(());
        }
        let batch = self.builder.finish()?;
        if self.files.is_empty() {
            for eds_id in &self.target.event_data_store_ids {
                let mut file = self.store.file_writer(eds_id, batch.schema())?;
                // The workers already keep every core busy.
                file.set_encode_threads(1);
                self.files.push(file);
            }
        }
        for file in &mut self.files {
            file.write(batch.clone())?;
        }
        if self.files[0].rows() >= self.commit_rows {
            self.commit()?;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), IngestError> {
        let mut commits = self
            .commit_lock
            .lock()
            .expect("commit lock is not poisoned");
        for file in self.files.drain(..) {
            if self.store.commit(file)?.is_some() {
                *commits += 1;
            }
        }
        Ok(())
    }
}
