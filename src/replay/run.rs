//! One replay run: selection, preparation, batches sent concurrently with retries, the
//! journal written around every request, and the summary.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::catalog::arn::{self, ResourceKind};

use super::ReplayError;
use super::batch::{Batch, Batcher};
use super::journal::{self, Journal, Prior, Status};
use super::payload::{Refusal, SelectedEvent, prepare};
use super::rate::RateLimiter;
use super::select::Selection;
use super::send::Transport;
use super::summary::Summary;
use super::worker::{BatchReport, Progress, Shared, send_batch};

/// How a replay runs (the resolved `auditlake replay` flags).
#[derive(Debug, Clone)]
pub struct ReplayConfig {
    pub channel_arn: String,
    pub selection: Selection,
    /// Rewrites recipientAccountId (and so the checksum) of every event.
    pub recipient_account_id: Option<String>,
    /// At most this many PutAuditEvents calls a second (retries included).
    pub max_rps: Option<f64>,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Send events that earlier runs delivered (or left unconfirmed) too.
    pub force: bool,
    /// Send events that an earlier run left unconfirmed (they may arrive twice).
    pub resend_unconfirmed: bool,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// Set (by a signal handler) to stop: no new request starts, requests whose answer
    /// was lost are resolved, the journal is committed.
    pub interrupted: Arc<AtomicBool>,
}

impl ReplayConfig {
    /// The account that owns the channel, from its ARN.
    pub fn owner_account(&self) -> Result<String, ReplayError> {
        match arn::parse(&self.channel_arn) {
            Some(a) if a.kind == ResourceKind::Channel => Ok(a.account.to_string()),
            _ => Err(ReplayError::InvalidChannelArn(self.channel_arn.clone())),
        }
    }

    /// The channel's region, from its ARN.
    pub fn channel_region(&self) -> Result<String, ReplayError> {
        match arn::parse(&self.channel_arn) {
            Some(a) if a.kind == ResourceKind::Channel => Ok(a.region.to_string()),
            _ => Err(ReplayError::InvalidChannelArn(self.channel_arn.clone())),
        }
    }
}

/// What to do with one selected event.
enum Plan {
    /// Into the batch being filled; carries the batch it closed, if any.
    Batched(Option<Batch>),
    Skip(Status),
    Duplicate,
    Refuse(Refusal),
}

/// Decides, event by event, what to send, and fills the batches.
struct Planner {
    owner: String,
    recipient: Option<String>,
    prior: Prior,
    force: bool,
    resend_unconfirmed: bool,
    seen: HashSet<String>,
    batcher: Batcher,
}

impl Planner {
    fn new(config: &ReplayConfig, prior: Prior) -> Result<Planner, ReplayError> {
        Ok(Planner {
            owner: config.owner_account()?,
            recipient: config.recipient_account_id.clone(),
            prior,
            force: config.force,
            resend_unconfirmed: config.resend_unconfirmed,
            seen: HashSet::new(),
            batcher: Batcher::new(),
        })
    }

    fn plan(&mut self, event: &SelectedEvent) -> Plan {
        if !self.seen.insert(event.source_id.clone()) {
            return Plan::Duplicate;
        }
        if !self.force {
            match self.prior.get(&event.source_id) {
                Some(Status::Delivered) => return Plan::Skip(Status::Delivered),
                Some(Status::Unconfirmed) if !self.resend_unconfirmed => {
                    return Plan::Skip(Status::Unconfirmed);
                }
                _ => {}
            }
        }
        match prepare(event, &self.owner, self.recipient.as_deref()) {
            Ok(ready) => Plan::Batched(self.batcher.push(ready)),
            Err(refusal) => Plan::Refuse(refusal),
        }
    }
}

/// Checks every selected event against the target's rules and prints the batches it
/// would send, without network and without writing the journal.
pub async fn dry_run(
    root: &Path,
    config: &ReplayConfig,
    out: &mut dyn Write,
) -> Result<Summary, ReplayError> {
    let started = Instant::now();
    let prior = journal::load_prior(root, &config.channel_arn)?;
    let mut planner = Planner::new(config, prior)?;
    let mut summary = Summary {
        dry_run: true,
        ..Summary::default()
    };
    let mut selected = config.selection.open(root).await?;
    let print = |batch: &Batch, summary: &mut Summary, out: &mut dyn Write| {
        summary.batches += 1;
        summary.batched_events += batch.events.len() as u64;
        summary.sent += batch.events.len() as u64;
        summary.requests += 1;
        let first = batch.events.first().map_or("", |e| e.audit_id.as_str());
        let last = batch.events.last().map_or("", |e| e.audit_id.as_str());
        writeln!(
            out,
            "batch {}: {} events, {} bytes, ids {first} .. {last}",
            batch.number,
            batch.events.len(),
            batch.bytes
        )
    };
    while let Some(events) = selected.next().await {
        for event in events? {
            summary.selected += 1;
            match planner.plan(&event) {
                Plan::Batched(Some(batch)) => print(&batch, &mut summary, out).map_err(io)?,
                Plan::Batched(None) => {}
                Plan::Skip(Status::Delivered) => summary.skipped_delivered += 1,
                Plan::Skip(_) => summary.skipped_unconfirmed += 1,
                Plan::Duplicate => summary.duplicates += 1,
                Plan::Refuse(r) => {
                    writeln!(out, "event {}: {}: {}", event.source_id, r.code, r.message)
                        .map_err(io)?;
                    *summary.failed.entry(r.code).or_default() += 1;
                }
            }
        }
    }
    if let Some(batch) = planner.batcher.finish() {
        print(&batch, &mut summary, out).map_err(io)?;
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn io(e: std::io::Error) -> ReplayError {
    ReplayError::Store(crate::store::StoreError::io(Path::new("<stdout>"), e))
}

/// Sends the selected events to the channel through `transport`, journaling every step.
pub async fn replay<T: Transport>(
    root: &Path,
    config: &ReplayConfig,
    transport: T,
) -> Result<Summary, ReplayError> {
    let started = Instant::now();
    let run_id = format!(
        "{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S"),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    // A wrong channel ARN or selection stops the run before the journal is touched.
    config.owner_account()?;
    let mut selected = config.selection.open(root).await?;
    let journal = Journal::open(root, &run_id)?;
    let prior = journal::load_prior(root, &config.channel_arn)?;
    let mut planner = Planner::new(config, prior)?;
    let shared = Arc::new(Shared {
        transport,
        journal,
        rate: config.max_rps.map(RateLimiter::new),
        channel_arn: config.channel_arn.clone(),
        source_store: selected.source_store.clone(),
        interrupted: Arc::clone(&config.interrupted),
        progress: Progress::new(config.progress),
        first_request: std::sync::OnceLock::new(),
    });
    let mut summary = Summary {
        run_id: run_id.clone(),
        ..Summary::default()
    };
    let permits = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let mut tasks: JoinSet<Result<BatchReport, ReplayError>> = JoinSet::new();
    let reports = Mutex::new(Vec::new());

    let outcome: Result<(), ReplayError> = async {
        while let Some(events) = selected.next().await {
            let mut lazy_rows = Vec::new();
            let mut stop = false;
            for event in events? {
                if shared.interrupted.load(Ordering::Relaxed) {
                    stop = true;
                    break;
                }
                summary.selected += 1;
                let batch = match planner.plan(&event) {
                    Plan::Batched(batch) => batch,
                    Plan::Skip(status) => {
                        let (code, message) = match status {
                            Status::Delivered => {
                                ("AlreadyDelivered", "delivered by an earlier run")
                            }
                            _ => ("Unconfirmed", "left unconfirmed by an earlier run"),
                        };
                        if status == Status::Delivered {
                            summary.skipped_delivered += 1;
                        } else {
                            summary.skipped_unconfirmed += 1;
                        }
                        lazy_rows.push(shared.unsent_row(&event, Status::Skipped, code, message));
                        shared.progress.done(1);
                        None
                    }
                    Plan::Duplicate => {
                        summary.duplicates += 1;
                        None
                    }
                    Plan::Refuse(r) => {
                        lazy_rows.push(shared.unsent_row(
                            &event,
                            Status::Failed,
                            &r.code,
                            &r.message,
                        ));
                        *summary.failed.entry(r.code).or_default() += 1;
                        shared.progress.done(1);
                        None
                    }
                };
                if let Some(batch) = batch {
                    dispatch(batch, &shared, &permits, &mut tasks, &mut summary).await;
                    while let Some(done) = tasks.try_join_next() {
                        reports.lock().expect("not poisoned").push(flatten(done)?);
                    }
                }
            }
            if !lazy_rows.is_empty() {
                shared.journal.append_lazily(&lazy_rows)?;
            }
            if stop {
                break;
            }
        }
        if let Some(batch) = planner.batcher.finish() {
            if shared.interrupted.load(Ordering::Relaxed) {
                summary.not_sent += batch.events.len() as u64;
            } else {
                dispatch(batch, &shared, &permits, &mut tasks, &mut summary).await;
            }
        }
        Ok(())
    }
    .await;
    // Whatever happened, let the requests in flight finish and record their outcome.
    let mut first_error = outcome.err();
    while let Some(done) = tasks.join_next().await {
        match flatten(done) {
            Ok(report) => reports.lock().expect("not poisoned").push(report),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    shared.progress.finish();
    summary.sending_seconds = shared
        .first_request
        .get()
        .map_or(0.0, |t| t.elapsed().as_secs_f64());
    let Ok(shared) = Arc::try_unwrap(shared) else {
        unreachable!("every batch task has finished")
    };
    shared.journal.finish()?;
    if let Some(e) = first_error {
        return Err(e);
    }
    for report in reports.into_inner().expect("not poisoned") {
        summary.sent += report.delivered;
        summary.unconfirmed += report.unconfirmed;
        summary.not_sent += report.not_sent;
        summary.retried_events += report.retried_events;
        summary.retried_requests += report.retried_requests;
        summary.requests += report.requests;
        for (code, n) in report.failed {
            *summary.failed.entry(code).or_default() += n;
        }
    }
    summary.interrupted = config.interrupted.load(Ordering::Relaxed);
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Sends `batch` in a task of its own once one of the `permits` is free.
async fn dispatch<T: Transport>(
    batch: Batch,
    shared: &Arc<Shared<T>>,
    permits: &Arc<Semaphore>,
    tasks: &mut JoinSet<Result<BatchReport, ReplayError>>,
    summary: &mut Summary,
) {
    summary.batches += 1;
    summary.batched_events += batch.events.len() as u64;
    let permit = Arc::clone(permits)
        .acquire_owned()
        .await
        .expect("the semaphore is never closed");
    let shared = Arc::clone(shared);
    tasks.spawn(async move {
        let report = send_batch(&shared, batch).await;
        drop(permit);
        report
    });
}

fn flatten(
    done: Result<Result<BatchReport, ReplayError>, tokio::task::JoinError>,
) -> Result<BatchReport, ReplayError> {
    match done {
        Ok(report) => report,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(ReplayError::Selection(format!(
            "a batch task was cancelled: {e}"
        ))),
    }
}
