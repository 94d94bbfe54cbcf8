//! The replay journal: what happened to every selected event for every target channel,
//! durable across kills, and queryable with SQL as the `replay_journal` table.
//!
//! ```text
//! STORE/replay/lock                    one replay at a time per store
//! STORE/replay/wal/<run>.ndjson        the running replay's log, fsynced before each send
//!                                      and after each answer
//! STORE/replay/journal/_manifest.json  committed journal files (replaced atomically)
//! STORE/replay/journal/<run>.parquet   one file per finished (or recovered) run
//! ```
//!
//! A run appends a `sending` row for each event before its request goes out and the
//! outcome (`delivered`, `retry`, `failed`) as soon as the answer is in. When the run ends
//! its log becomes a Parquet file; a log left by a killed run is turned into one by the
//! next replay, and events still `sending` in it become `unconfirmed`: their request was
//! in flight, and whether Lake stored them cannot be known (the Data API has no read path).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, mpsc};

use arrow::array::{Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::{Deserialize, Serialize};

use crate::event::schema::EVENT_TIME_TYPE;
use crate::store::manifest::{Manifest, sync_dir};
use crate::store::{StoreError, WriterLock};

use super::ReplayError;
pub(super) use super::archive::commit_log;
pub use super::archive::register_table;

/// The table name the journal is queried under.
pub const TABLE_NAME: &str = "replay_journal";

/// What happened to one event at one point of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Its request is about to go out (log only; never in the Parquet journal).
    Sending,
    /// Lake answered with its new eventID.
    Delivered,
    /// It failed with a retryable code; it will be (or, on resume, is) sent again.
    Retry,
    /// It failed for good, or was refused before sending; `error_code` says why.
    Failed,
    /// The run stopped while its request was in flight: it may or may not be stored.
    Unconfirmed,
    /// Not sent in this run: delivered (or unconfirmed) in an earlier one.
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Sending => "sending",
            Status::Delivered => "delivered",
            Status::Retry => "retry",
            Status::Failed => "failed",
            Status::Unconfirmed => "unconfirmed",
            Status::Skipped => "skipped",
        }
    }

    fn parse(text: &str) -> Option<Status> {
        [
            Status::Sending,
            Status::Delivered,
            Status::Retry,
            Status::Failed,
            Status::Unconfirmed,
            Status::Skipped,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One journal row (one line of the log, one row of the table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalRow {
    pub run_id: String,
    /// When the row was written, ms since the epoch (UTC).
    pub recorded_at: i64,
    pub channel_arn: String,
    /// The event data store the events were selected from (`None` for `--query`).
    pub source_store: Option<String>,
    /// The selected event's eventid (or `sha256:<checksum>` when the query gave none).
    pub source_event_id: String,
    /// The batch number within the run.
    pub batch: Option<i64>,
    /// 1 for the first send of the event in this run.
    pub attempt: Option<i32>,
    /// The `id` the event carried in the PutAuditEvents request.
    pub audit_event_id: Option<String>,
    pub status: Status,
    /// The eventID Lake assigned.
    pub event_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// The eventDataChecksum sent.
    pub checksum: Option<String>,
}

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        text("run_id", false),
        Field::new("recorded_at", EVENT_TIME_TYPE, false),
        text("channel_arn", false),
        text("source_store", true),
        text("source_event_id", false),
        Field::new("batch", DataType::Int64, true),
        Field::new("attempt", DataType::Int32, true),
        text("audit_event_id", true),
        text("status", false),
        text("event_id", true),
        text("error_code", true),
        text("error_message", true),
        text("checksum", true),
    ]))
});

/// The schema of the `replay_journal` table.
pub fn journal_schema() -> SchemaRef {
    Arc::clone(&SCHEMA)
}

fn replay_dir(root: &Path) -> PathBuf {
    root.join("replay")
}

pub(super) fn journal_dir(root: &Path) -> PathBuf {
    replay_dir(root).join("journal")
}

fn wal_dir(root: &Path) -> PathBuf {
    replay_dir(root).join("wal")
}

pub(super) fn io(path: &Path, e: std::io::Error) -> ReplayError {
    ReplayError::Store(StoreError::io(path, e))
}

/// The committed journal files, oldest first.
pub fn journal_files(root: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let dir = journal_dir(root);
    let manifest = Manifest::load(&dir)?;
    Ok(manifest.files.iter().map(|f| dir.join(&f.name)).collect())
}

/// What earlier runs left for one channel: the last status of each source event.
pub type Prior = HashMap<String, Status>;

/// Reads the last status of every event replayed to `channel_arn`, from the committed
/// journal and from the logs of runs that were killed and not yet recovered.
pub fn load_prior(root: &Path, channel_arn: &str) -> Result<Prior, ReplayError> {
    let mut prior = Prior::new();
    for path in journal_files(root)? {
        let file = File::open(&path).map_err(|e| io(&path, e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
        let names = ["channel_arn", "source_event_id", "status"];
        let indices: Vec<usize> = names
            .iter()
            .map(|n| {
                journal_schema()
                    .index_of(n)
                    .expect("the journal schema has the column")
            })
            .collect();
        let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
        for batch in builder.with_projection(mask).build()? {
            let batch = batch?;
            let column = |name: &str| -> Result<&StringArray, ReplayError> {
                batch
                    .column_by_name(name)
                    .and_then(|c| c.as_any().downcast_ref::<StringArray>())
                    .ok_or_else(|| ReplayError::journal(&path, format!("no {name} text column")))
            };
            let (channels, ids, statuses) = (
                column("channel_arn")?,
                column("source_event_id")?,
                column("status")?,
            );
            for i in 0..batch.num_rows() {
                if channels.value(i) != channel_arn {
                    continue;
                }
                if let Some(status) = Status::parse(statuses.value(i)) {
                    note(&mut prior, ids.value(i), status);
                }
            }
        }
    }
    for wal in leftover_logs(root)? {
        for_each_logged(&wal, |row| {
            if row.channel_arn == channel_arn {
                note(&mut prior, &row.source_event_id, row.status);
            }
            Ok(())
        })?;
    }
    for status in prior.values_mut() {
        if *status == Status::Sending {
            *status = Status::Unconfirmed;
        }
    }
    Ok(prior)
}

fn note(prior: &mut Prior, id: &str, status: Status) {
    if status == Status::Skipped {
        return;
    }
    match prior.get_mut(id) {
        Some(s) => *s = status,
        None => {
            prior.insert(id.to_string(), status);
        }
    }
}

fn leftover_logs(root: &Path) -> Result<Vec<PathBuf>, ReplayError> {
    let dir = wal_dir(root);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(&dir, e)),
    };
    let mut logs: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "ndjson") {
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .map_err(|e| io(&path, e))?;
            logs.push((modified, path));
        }
    }
    logs.sort();
    Ok(logs.into_iter().map(|(_, p)| p).collect())
}

/// Reads a log one row at a time, handing each to `f` (a log is never held whole: a long
/// run writes millions of rows). A last line cut short by a kill is dropped: it was never
/// acknowledged, so nothing was sent on its strength.
pub(super) fn for_each_logged(
    path: &Path,
    mut f: impl FnMut(JournalRow) -> Result<(), ReplayError>,
) -> Result<(), ReplayError> {
    let file = File::open(path).map_err(|e| io(path, e))?;
    let mut lines = BufReader::new(file).lines().peekable();
    while let Some(line) = lines.next() {
        let line = line.map_err(|e| io(path, e))?;
        match serde_json::from_str::<JournalRow>(&line) {
            Ok(row) => f(row)?,
            Err(_) if lines.peek().is_none() => {}
            Err(e) => return Err(ReplayError::journal(path, format!("bad line: {e}"))),
        }
    }
    Ok(())
}

/// The journal of one running replay. Holds `STORE/replay/lock` while it lives.
pub struct Journal {
    root: PathBuf,
    run_id: String,
    wal: PathBuf,
    tx: mpsc::Sender<Message>,
    writer: Option<std::thread::JoinHandle<Result<(), String>>>,
    _lock: WriterLock,
}

enum Message {
    Rows {
        text: Vec<u8>,
        ack: Option<tokio::sync::oneshot::Sender<Result<(), String>>>,
    },
}

impl Journal {
    /// Takes the replay lock, turns the logs of killed runs into journal files, and starts
    /// this run's log.
    pub fn open(root: &Path, run_id: &str) -> Result<Journal, ReplayError> {
        let lock = WriterLock::acquire(&replay_dir(root))?;
        for wal in leftover_logs(root)? {
            commit_log(root, &wal)?;
        }
        let dir = wal_dir(root);
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let wal = dir.join(format!("{run_id}.ndjson"));
        let file = File::create(&wal).map_err(|e| io(&wal, e))?;
        sync_dir(&dir)?;
        let (tx, rx) = mpsc::channel();
        let path = wal.clone();
        let writer = std::thread::Builder::new()
            .name("replay-journal".into())
            .spawn(move || write_log(file, &path, rx))
            .map_err(|e| io(&wal, e))?;
        Ok(Journal {
            root: root.to_path_buf(),
            run_id: run_id.to_string(),
            wal,
            tx,
            writer: Some(writer),
            _lock: lock,
        })
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Appends rows and returns once they are on disk (fsynced). Concurrent callers share
    /// one fsync.
    pub async fn append(&self, rows: &[JournalRow]) -> Result<(), ReplayError> {
        let (ack, done) = tokio::sync::oneshot::channel();
        self.send(rows, Some(ack))?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(ReplayError::journal(&self.wal, message)),
            Err(_) => Err(ReplayError::journal(
                &self.wal,
                "the journal writer stopped",
            )),
        }
    }

    /// Appends rows without waiting for the disk (rows that decide nothing on resume).
    pub fn append_lazily(&self, rows: &[JournalRow]) -> Result<(), ReplayError> {
        self.send(rows, None)
    }

    fn send(
        &self,
        rows: &[JournalRow],
        ack: Option<tokio::sync::oneshot::Sender<Result<(), String>>>,
    ) -> Result<(), ReplayError> {
        let mut text = Vec::with_capacity(rows.len() * 256);
        for row in rows {
            serde_json::to_writer(&mut text, row).expect("a journal row always serializes");
            text.push(b'\n');
        }
        self.tx
            .send(Message::Rows { text, ack })
            .map_err(|_| ReplayError::journal(&self.wal, "the journal writer stopped"))
    }

    /// Ends the run: its log becomes a committed journal file.
    pub fn finish(mut self) -> Result<(), ReplayError> {
        let (tx, _) = mpsc::channel();
        drop(std::mem::replace(&mut self.tx, tx));
        if let Some(writer) = self.writer.take() {
            // A failed write or final flush leaves the log where the next run recovers what
            // reached the disk; this run says so rather than commit a log missing rows.
            writer
                .join()
                .map_err(|_| ReplayError::journal(&self.wal, "the journal writer panicked"))?
                .map_err(|message| ReplayError::journal(&self.wal, message))?;
        }
        commit_log(&self.root, &self.wal)
    }
}

/// The log writer thread: writes whatever is queued, then one fsync for all of it. Returns
/// the first failure, including one of the last flush.
fn write_log(file: File, path: &Path, rx: mpsc::Receiver<Message>) -> Result<(), String> {
    let mut file = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut failed: Option<String> = None;
    while let Ok(first) = rx.recv() {
        let mut acks = Vec::new();
        let mut next = Some(first);
        while let Some(Message::Rows { text, ack }) = next {
            if failed.is_none()
                && let Err(e) = file.write_all(&text)
            {
                failed = Some(format!("{}: {e}", path.display()));
            }
            acks.extend(ack);
            next = rx.try_recv().ok();
        }
        if !acks.is_empty() && failed.is_none() {
            let synced = file.flush().and_then(|()| file.get_ref().sync_data());
            if let Err(e) = synced {
                failed = Some(format!("{}: {e}", path.display()));
            }
        }
        for ack in acks {
            let _ = ack.send(failed.clone().map_or(Ok(()), Err));
        }
    }
    if let Some(message) = failed {
        return Err(message);
    }
    file.flush()
        .and_then(|()| file.get_ref().sync_data())
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_failed_last_flush_is_reported() {
        // /dev/full takes writes into the buffer and fails them at the flush.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let (tx, rx) = mpsc::channel();
        tx.send(Message::Rows {
            text: b"{}\n".to_vec(),
            ack: None,
        })
        .unwrap();
        drop(tx);
        let failed = write_log(file, Path::new("/dev/full"), rx).unwrap_err();
        assert!(failed.starts_with("/dev/full: "), "{failed}");
    }

    fn row(id: &str, status: Status) -> JournalRow {
        JournalRow {
            run_id: "run-1".into(),
            recorded_at: 1_700_000_000_000,
            channel_arn: "arn:aws:cloudtrail:us-east-1:123456789012:channel/c".into(),
            source_store: None,
            source_event_id: id.into(),
            batch: Some(1),
            attempt: Some(1),
            audit_event_id: Some(id.into()),
            status,
            event_id: (status == Status::Delivered).then(|| format!("new-{id}")),
            error_code: None,
            error_message: None,
            checksum: Some("c".into()),
        }
    }

    const CHANNEL: &str = "arn:aws:cloudtrail:us-east-1:123456789012:channel/c";

    #[tokio::test]
    async fn a_finished_run_is_committed_and_remembered() {
        let root = tempfile::tempdir().unwrap();
        let journal = Journal::open(root.path(), "run-1").unwrap();
        journal
            .append(&[row("a", Status::Sending), row("b", Status::Sending)])
            .await
            .unwrap();
        journal
            .append(&[row("a", Status::Delivered), row("b", Status::Retry)])
            .await
            .unwrap();
        journal.append(&[row("b", Status::Sending)]).await.unwrap();
        journal.append(&[row("b", Status::Failed)]).await.unwrap();
        journal.finish().unwrap();

        assert!(leftover_logs(root.path()).unwrap().is_empty());
        let prior = load_prior(root.path(), CHANNEL).unwrap();
        assert_eq!(prior.get("a"), Some(&Status::Delivered));
        assert_eq!(prior.get("b"), Some(&Status::Failed));
        assert!(load_prior(root.path(), "other").unwrap().is_empty());
        // Sending rows stay in the log: the table holds outcomes.
        let files = journal_files(root.path()).unwrap();
        assert_eq!(files.len(), 1);
        let manifest = Manifest::load(&journal_dir(root.path())).unwrap();
        assert_eq!(manifest.files[0].rows, 3);
    }

    #[tokio::test]
    async fn a_log_longer_than_a_chunk_is_committed_whole() {
        let root = tempfile::tempdir().unwrap();
        let journal = Journal::open(root.path(), "run-1").unwrap();
        let total = 40_000;
        for start in (0..total).step_by(5_000) {
            let rows: Vec<JournalRow> = (start..start + 5_000)
                .map(|i| {
                    let mut r = row(&format!("e{i}"), Status::Delivered);
                    r.recorded_at += i as i64;
                    r
                })
                .collect();
            journal.append_lazily(&rows).unwrap();
        }
        journal.finish().unwrap();
        let manifest = Manifest::load(&journal_dir(root.path())).unwrap();
        let entry = &manifest.files[0];
        assert_eq!(entry.rows, total as u64);
        assert_eq!(
            (entry.min_time_ms, entry.max_time_ms),
            (1_700_000_000_000, 1_700_000_000_000 + total as i64 - 1)
        );
        let prior = load_prior(root.path(), CHANNEL).unwrap();
        assert_eq!(prior.len(), total);
        assert_eq!(prior.get("e39999"), Some(&Status::Delivered));
    }

    #[tokio::test]
    async fn a_killed_run_leaves_in_flight_events_unconfirmed() {
        let root = tempfile::tempdir().unwrap();
        let journal = Journal::open(root.path(), "run-1").unwrap();
        journal
            .append(&[row("a", Status::Sending), row("b", Status::Sending)])
            .await
            .unwrap();
        journal
            .append(&[row("a", Status::Delivered)])
            .await
            .unwrap();
        // A kill: the log stays, and its last line was cut short.
        let wal = journal.wal.clone();
        std::mem::forget(journal);
        let mut f = std::fs::OpenOptions::new().append(true).open(&wal).unwrap();
        f.write_all(b"{\"run_id\":\"run-1\",\"recor").unwrap();
        drop(f);

        let prior = load_prior(root.path(), CHANNEL).unwrap();
        assert_eq!(prior.get("b"), Some(&Status::Unconfirmed), "read-only view");

        commit_log(root.path(), &wal).unwrap();
        assert!(!wal.exists());
        let prior = load_prior(root.path(), CHANNEL).unwrap();
        assert_eq!(prior.get("a"), Some(&Status::Delivered));
        assert_eq!(prior.get("b"), Some(&Status::Unconfirmed));
        let ctx = datafusion::prelude::SessionContext::new();
        register_table(&ctx, root.path()).await.unwrap();
        let rows = ctx
            .sql("SELECT source_event_id, status, error_code FROM replay_journal ORDER BY 1")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let text = arrow::util::pretty::pretty_format_batches(&rows)
            .unwrap()
            .to_string();
        assert!(text.contains("| a               | delivered   |"), "{text}");
        assert!(
            text.contains("| b               | unconfirmed | Unconfirmed |"),
            "{text}"
        );
    }
}
