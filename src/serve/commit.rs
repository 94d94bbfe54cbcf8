//! Group commit: requests validated in parallel hand their batches to one committer task,
//! which writes everything pending for a store into one Parquet file and one manifest
//! update, then answers all of them. Small files are compacted when the endpoint is idle, or
//! at once when too many pile up under load.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, RecordBatch};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::catalog::Catalog;
use crate::store::compact::{
    self, AUTO_COMPACT_FILES, MergeKind, MergeLimits, SMALL_FILE_ROWS, StagedMerge,
};
use crate::store::{Manifest, Store, StoreError, StoreWriter};

/// At most this many rows go into one group commit; the rest wait for the next.
pub const MAX_GROUP_ROWS: usize = 100_000;
/// Under load, once a store holds this many files of group commits ([`UNDER_LOAD`]), they
/// are spliced into one at once, so a busy endpoint never piles up files.
pub const MAX_SMALL_FILES: usize = 4 * AUTO_COMPACT_FILES;
/// What one merge between commits may take: only files of group commits, and a bounded
/// number of rows. Their row groups are copied as they are ([`MergeKind::Splice`]), which
/// costs a fraction of a sorting merge; the quiet spell that follows sorts them.
pub const UNDER_LOAD: MergeLimits = MergeLimits {
    file_rows: 50_000,
    files: MAX_SMALL_FILES,
    total_rows: 150_000,
    kind: MergeKind::Splice,
};
/// When the endpoint is idle, small files are merged a step of this size at a time (a
/// request arriving waits for one step at most) until fewer than [`AUTO_COMPACT_FILES`] remain.
pub const WHEN_IDLE: MergeLimits = MergeLimits {
    file_rows: SMALL_FILE_ROWS,
    files: MAX_SMALL_FILES,
    total_rows: 250_000,
    kind: MergeKind::Sort,
};
/// Without requests for this long, stores with [`AUTO_COMPACT_FILES`] small files are compacted.
pub const IDLE_COMPACT_AFTER: Duration = Duration::from_millis(500);

/// Why a batch was not committed; the request gets a 5xx and nothing of it is acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitError {
    /// Another process holds the store's writer lock.
    #[error("the store is busy: {0}")]
    Busy(String),
    #[error("commit failed: {0}")]
    Failed(String),
    #[error("the endpoint is shutting down")]
    Stopped,
}

impl From<StoreError> for CommitError {
    fn from(e: StoreError) -> CommitError {
        match e {
            StoreError::Locked(_) => CommitError::Busy(e.to_string()),
            other => CommitError::Failed(other.to_string()),
        }
    }
}

/// What the committer did over its life.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Group commits (one per round of pending requests).
    pub commits: u64,
    pub compactions: u64,
}

struct Pending {
    batch: RecordBatch,
    event_data_store_ids: Vec<String>,
    done: oneshot::Sender<Result<(), CommitError>>,
}

/// The handle requests commit through.
#[derive(Debug, Clone)]
pub struct Committer {
    tx: mpsc::UnboundedSender<Pending>,
}

impl Committer {
    /// Starts the committer task for the store at `root`. It ends, after committing what is
    /// pending, once every [`Committer`] handle is dropped.
    pub fn start(root: &Path) -> (Committer, JoinHandle<CommitStats>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(root.to_path_buf(), rx));
        (Committer { tx }, task)
    }

    /// Commits `batch` to each store; returns once it is durable and visible to readers.
    pub async fn commit(
        &self,
        batch: RecordBatch,
        event_data_store_ids: Vec<String>,
    ) -> Result<(), CommitError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Pending {
                batch,
                event_data_store_ids,
                done,
            })
            .map_err(|_| CommitError::Stopped)?;
        wait.await.map_err(|_| CommitError::Stopped)?
    }
}

async fn run(root: PathBuf, mut rx: mpsc::UnboundedReceiver<Pending>) -> CommitStats {
    let mut stats = CommitStats::default();
    // Merges staged by an earlier run that did not install them hold nothing of value, nor
    // do leftovers of an interrupted write (commits take the lock without looking for them).
    let _ = std::fs::remove_dir_all(root.join(STAGING_DIR));
    let clean_root = root.clone();
    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || StoreWriter::open(&clean_root)).await {
        eprintln!("auditlake serve: leftovers of interrupted writes not cleaned: {e}");
    }
    // Stores that had enough small files to be worth compacting when things are quiet.
    let mut fragmented: BTreeSet<String> = BTreeSet::new();
    // Per store, the commit count at which merging under load may be tried again after a
    // failed merge (not at every commit: a failing merge would eat the endpoint's time).
    let mut retry_merge_at: BTreeMap<String, u64> = BTreeMap::new();
    // At most one merge runs beside the commits.
    let mut merging: Option<Background> = None;
    loop {
        let first = match tokio::time::timeout(IDLE_COMPACT_AFTER, rx.recv()).await {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(_idle) => {
                let done = finish_merge(&root, &mut merging, false, &mut stats).await;
                after_merge(done, &root, &mut fragmented, &mut retry_merge_at, &stats);
                // One bounded step at a time; the store stays marked while more remain.
                if merging.is_none()
                    && let Some(eds_id) = fragmented.pop_first()
                {
                    merging = Some(Background::start(&root, eds_id, WHEN_IDLE));
                }
                continue;
            }
        };
        let mut rows = first.batch.num_rows();
        let mut group = vec![first];
        while rows < MAX_GROUP_ROWS {
            match rx.try_recv() {
                Ok(p) => {
                    rows += p.batch.num_rows();
                    group.push(p);
                }
                Err(_) => break,
            }
        }
        let (work, waiters) = split(group);
        let touched: Vec<String> = work.keys().cloned().collect();
        let commit_root = root.clone();
        let results = tokio::task::spawn_blocking(move || write_group(&commit_root, work))
            .await
            .unwrap_or_else(|e| {
                let failed = CommitError::Failed(format!("the commit task failed: {e}"));
                touched
                    .iter()
                    .map(|id| (id.clone(), Err(failed.clone())))
                    .collect()
            });
        for (eds_id, result) in &results {
            if let Err(e) = result {
                eprintln!("auditlake serve: event data store {eds_id}: {e}");
            }
        }
        if results.values().any(Result::is_ok) {
            stats.commits += 1;
        }
        for (stores, done) in waiters {
            // A request is answered 200 only when every store it goes to has its events; a
            // request whose stores all committed is never failed because of another store.
            let result = stores
                .iter()
                .map(|id| results.get(id).cloned().unwrap_or(Ok(())))
                .find(Result::is_err)
                .unwrap_or(Ok(()));
            // A client that went away no longer waits for its answer.
            let _ = done.send(result);
        }
        let done = finish_merge(&root, &mut merging, false, &mut stats).await;
        after_merge(done, &root, &mut fragmented, &mut retry_merge_at, &stats);
        for eds_id in touched {
            let due = retry_merge_at
                .get(&eds_id)
                .is_none_or(|at| stats.commits >= *at);
            let counts = FileCounts::of(&root, &eds_id);
            if merging.is_none() && due && counts.group_commits >= MAX_SMALL_FILES {
                merging = Some(Background::start(&root, eds_id.clone(), UNDER_LOAD));
            }
            if counts.worth_compacting() {
                fragmented.insert(eds_id);
            }
        }
    }
    // Shutting down: the running merge is installed, then stores left fragmented get a few
    // more bounded steps (what remains waits for the next quiet spell or `auditlake compact`).
    let done = finish_merge(&root, &mut merging, true, &mut stats).await;
    after_merge(done, &root, &mut fragmented, &mut retry_merge_at, &stats);
    for _ in 0..SHUTDOWN_MERGE_STEPS {
        let Some(eds_id) = fragmented.pop_first() else {
            break;
        };
        merging = Some(Background::start(&root, eds_id, WHEN_IDLE));
        let done = finish_merge(&root, &mut merging, true, &mut stats).await;
        after_merge(done, &root, &mut fragmented, &mut retry_merge_at, &stats);
    }
    stats
}

/// At most this many merge steps run on shutdown.
const SHUTDOWN_MERGE_STEPS: usize = 8;

/// Where merges are staged, under the store's root (outside `data/`).
const STAGING_DIR: &str = "serve-merges";

/// A merge running beside the commits: it reads and writes without the writer lock, and is
/// installed between two commits.
struct Background {
    eds_id: String,
    limits: MergeLimits,
    task: JoinHandle<Result<Option<StagedMerge>, String>>,
}

impl Background {
    fn start(root: &Path, eds_id: String, limits: MergeLimits) -> Background {
        let root = root.to_path_buf();
        let id = eds_id.clone();
        let task = tokio::task::spawn_blocking(move || {
            let store = Store::open(&root).map_err(|e| e.to_string())?;
            let catalog = Catalog::load(&root).map_err(|e| e.to_string())?;
            let staging = root
                .join(STAGING_DIR)
                .join(format!("merge-{}", uuid::Uuid::new_v4().simple()));
            compact::stage_merge(&store, &catalog, &id, limits, &staging).map_err(|e| e.to_string())
        });
        Background {
            eds_id,
            limits,
            task,
        }
    }
}

/// Installs the background merge once it is done (or, with `wait`, after waiting for it).
/// Returns which store it was for, its limits and how it went; `None` while it still runs.
async fn finish_merge(
    root: &Path,
    merging: &mut Option<Background>,
    wait: bool,
    stats: &mut CommitStats,
) -> Option<(String, MergeLimits, Merge)> {
    let bg = merging.take_if(|bg| wait || bg.task.is_finished())?;
    let eds_id = bg.eds_id;
    let staged = match bg.task.await {
        Ok(Ok(Some(staged))) => staged,
        Ok(Ok(None)) => return Some((eds_id, bg.limits, Merge::Nothing)),
        Ok(Err(e)) => {
            eprintln!("auditlake serve: merging small files of {eds_id} failed: {e}");
            return Some((eds_id, bg.limits, Merge::Failed));
        }
        Err(e) => {
            eprintln!("auditlake serve: merging small files of {eds_id} failed: {e}");
            return Some((eds_id, bg.limits, Merge::Failed));
        }
    };
    let install_root = root.to_path_buf();
    let installed = tokio::task::spawn_blocking(move || {
        let writer = StoreWriter::lock(&install_root).map_err(|e| e.to_string())?;
        compact::install_merge(&writer, staged).map_err(|e| e.to_string())
    })
    .await;
    let outcome = match installed {
        Ok(Ok(Some(report))) => {
            stats.compactions += 1;
            let how = match bg.limits.kind {
                MergeKind::Sort => "merged",
                MergeKind::Splice => "spliced",
            };
            eprintln!("auditlake serve: {how} small files of {eds_id}: {report}");
            Merge::Done
        }
        // Another compaction replaced some of its files first; the merge was dropped.
        Ok(Ok(None)) => Merge::Nothing,
        Ok(Err(e)) => {
            eprintln!("auditlake serve: installing the merge of {eds_id} failed: {e}");
            Merge::Failed
        }
        Err(e) => {
            eprintln!("auditlake serve: installing the merge of {eds_id} failed: {e}");
            Merge::Failed
        }
    };
    Some((eds_id, bg.limits, outcome))
}

/// What follows a finished merge: a failed one under load is not tried again for a while;
/// after a successful one the store stays marked while it has small or spliced files.
fn after_merge(
    done: Option<(String, MergeLimits, Merge)>,
    root: &Path,
    fragmented: &mut BTreeSet<String>,
    retry_merge_at: &mut BTreeMap<String, u64>,
    stats: &CommitStats,
) {
    let Some((eds_id, limits, outcome)) = done else {
        return;
    };
    match outcome {
        Merge::Failed if limits == UNDER_LOAD => {
            retry_merge_at.insert(eds_id, stats.commits + MAX_SMALL_FILES as u64);
        }
        Merge::Failed | Merge::Nothing => {}
        Merge::Done => {
            retry_merge_at.remove(&eds_id);
            if FileCounts::of(root, &eds_id).worth_compacting() {
                fragmented.insert(eds_id);
            }
        }
    }
}

/// Each request's stores, and where its answer goes.
type Waiters = Vec<(Vec<String>, oneshot::Sender<Result<(), CommitError>>)>;

/// Groups the pending batches by event data store.
fn split(group: Vec<Pending>) -> (BTreeMap<String, Vec<RecordBatch>>, Waiters) {
    let mut work: BTreeMap<String, Vec<RecordBatch>> = BTreeMap::new();
    let mut waiters = Vec::with_capacity(group.len());
    for p in group {
        for eds_id in &p.event_data_store_ids {
            work.entry(eds_id.clone())
                .or_default()
                .push(p.batch.clone());
        }
        waiters.push((p.event_data_store_ids, p.done));
    }
    (work, waiters)
}

/// Writes one file per store and commits it; each store's outcome on its own, so that one
/// failing store does not fail requests whose events are stored elsewhere. Holds the writer
/// lock only while it runs, so that other auditlake commands can change the store between
/// commits.
fn write_group(
    root: &Path,
    work: BTreeMap<String, Vec<RecordBatch>>,
) -> BTreeMap<String, Result<(), CommitError>> {
    let writer = match StoreWriter::lock(root) {
        Ok(writer) => writer,
        Err(e) => {
            let e = CommitError::from(e);
            return work.into_keys().map(|id| (id, Err(e.clone()))).collect();
        }
    };
    work.into_iter()
        .map(|(eds_id, batches)| {
            let result = commit_store(&writer, &eds_id, &batches);
            (eds_id, result)
        })
        .collect()
}

fn commit_store(
    writer: &StoreWriter,
    eds_id: &str,
    batches: &[RecordBatch],
) -> Result<(), CommitError> {
    let Some(first) = batches.first() else {
        return Ok(());
    };
    let schema = first.schema();
    let batch = gather_by_event_time(batches).map_err(|e| CommitError::Failed(e.to_string()))?;
    let mut file = writer.file_writer(eds_id, Arc::clone(&schema))?;
    file.write(batch)?;
    writer.commit(file)?;
    Ok(())
}

/// The rows of `batches` in one batch sorted by eventtime (nulls last), copied once: the
/// order is worked out from the times alone, then every column is gathered in that order.
fn gather_by_event_time(batches: &[RecordBatch]) -> Result<RecordBatch, StoreError> {
    let mut order = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    for (b, batch) in batches.iter().enumerate() {
        let times = crate::store::writer::event_time_column(batch)?;
        order.extend(
            (0..batch.num_rows()).map(|row| (times.is_null(row), times.value(row), b, row)),
        );
    }
    let batch_refs: Vec<&RecordBatch> = batches.iter().collect();
    if order.is_sorted() {
        return Ok(arrow::compute::concat_batches(
            &batches[0].schema(),
            batch_refs,
        )?);
    }
    order.sort_unstable();
    let indices: Vec<(usize, usize)> = order.into_iter().map(|(_, _, b, row)| (b, row)).collect();
    Ok(arrow::compute::interleave_record_batch(
        &batch_refs,
        &indices,
    )?)
}

/// A store's files worth merging, from one read of its manifest.
struct FileCounts {
    /// Files [`UNDER_LOAD`] merges.
    group_commits: usize,
    /// Files under [`SMALL_FILE_ROWS`] rows.
    small: usize,
    /// Files made by splicing, not yet sorted.
    spliced: usize,
}

impl FileCounts {
    fn of(root: &Path, eds_id: &str) -> FileCounts {
        let manifest = Store::open(root).and_then(|s| Manifest::load(&s.data_dir(eds_id)));
        let count = |rows: u64| {
            manifest
                .as_ref()
                .map_or(0, |m| m.files.iter().filter(|f| f.rows < rows).count())
        };
        FileCounts {
            group_commits: count(UNDER_LOAD.file_rows),
            small: count(SMALL_FILE_ROWS),
            spliced: manifest
                .as_ref()
                .map_or(0, |m| m.files.iter().filter(|f| f.spliced).count()),
        }
    }

    /// Whether the store is due for sorting merges when the endpoint is quiet.
    fn worth_compacting(&self) -> bool {
        self.small >= AUTO_COMPACT_FILES || self.spliced > 0
    }
}

/// How a merge went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Merge {
    Done,
    /// Fewer than two files qualified, or another compaction replaced its files first.
    Nothing,
    /// Logged; the store is as it was.
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{StringArray, TimestampMillisecondArray};
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};

    fn batch(rows: &[(i64, &str)]) -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new(
                "eventtime",
                DataType::Timestamp(TimeUnit::Millisecond, None),
                true,
            ),
            Field::new("eventid", DataType::Utf8, false),
        ]);
        let times = TimestampMillisecondArray::from_iter_values(rows.iter().map(|r| r.0));
        let ids = StringArray::from_iter_values(rows.iter().map(|r| r.1));
        RecordBatch::try_new(Arc::new(schema), vec![Arc::new(times), Arc::new(ids)]).unwrap()
    }

    #[test]
    fn a_group_is_gathered_in_event_time_order_keeping_the_order_of_equal_times() {
        let group = [batch(&[(5, "a"), (1, "b")]), batch(&[(3, "c"), (5, "d")])];
        let sorted = gather_by_event_time(&group).unwrap();
        assert_eq!(sorted, batch(&[(1, "b"), (3, "c"), (5, "a"), (5, "d")]));
        let in_order = [batch(&[(1, "x")]), batch(&[(2, "y"), (2, "z")])];
        let joined = gather_by_event_time(&in_order).unwrap();
        assert_eq!(joined, batch(&[(1, "x"), (2, "y"), (2, "z")]));
    }
}
