//! One batch's task: journal the send, call PutAuditEvents, read every per-event result,
//! retry what may be retried, journal the outcome.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::ReplayError;
use super::batch::{Batch, BatchEvent};
use super::journal::{Journal, JournalRow, Status};
use super::payload::SelectedEvent;
use super::rate::RateLimiter;
use super::retry::{MAX_ATTEMPTS, Retry, backoff, event_code_is_retryable};
use super::send::Transport;

/// What every batch task shares.
pub(super) struct Shared<T> {
    pub(super) transport: T,
    pub(super) journal: Journal,
    pub(super) rate: Option<RateLimiter>,
    pub(super) channel_arn: String,
    pub(super) source_store: Option<String>,
    pub(super) interrupted: Arc<AtomicBool>,
    pub(super) progress: Progress,
    /// When the first request went out.
    pub(super) first_request: std::sync::OnceLock<Instant>,
}

/// What one batch task did.
#[derive(Debug, Default)]
pub(super) struct BatchReport {
    pub(super) delivered: u64,
    pub(super) failed: BTreeMap<String, u64>,
    pub(super) unconfirmed: u64,
    pub(super) not_sent: u64,
    pub(super) retried_events: u64,
    pub(super) retried_requests: u64,
    pub(super) requests: u64,
}

impl<T> Shared<T> {
    pub(super) fn row(
        &self,
        e: &BatchEvent,
        batch: u64,
        attempt: u32,
        status: Status,
    ) -> JournalRow {
        JournalRow {
            run_id: self.journal.run_id().to_string(),
            recorded_at: chrono::Utc::now().timestamp_millis(),
            channel_arn: self.channel_arn.clone(),
            source_store: self.source_store.clone(),
            source_event_id: e.event.source_id.clone(),
            batch: Some(batch as i64),
            attempt: Some(attempt as i32),
            audit_event_id: Some(e.audit_id.clone()),
            status,
            event_id: None,
            error_code: None,
            error_message: None,
            checksum: Some(e.event.checksum.clone()),
        }
    }

    pub(super) fn unsent_row(
        &self,
        event: &SelectedEvent,
        status: Status,
        code: &str,
        message: &str,
    ) -> JournalRow {
        JournalRow {
            run_id: self.journal.run_id().to_string(),
            recorded_at: chrono::Utc::now().timestamp_millis(),
            channel_arn: self.channel_arn.clone(),
            source_store: self.source_store.clone(),
            source_event_id: event.source_id.clone(),
            batch: None,
            attempt: None,
            audit_event_id: None,
            status,
            event_id: None,
            error_code: Some(code.to_string()),
            error_message: Some(message.to_string()),
            checksum: None,
        }
    }
}

/// Sends one batch until every event is delivered, failed for good, or in doubt.
pub(super) async fn send_batch<T: Transport>(
    shared: &Shared<T>,
    batch: Batch,
) -> Result<BatchReport, ReplayError> {
    let mut report = BatchReport::default();
    let mut pending = batch.events;
    let mut attempt = 1u32;
    // True while the last request of `pending` got no answer: it must be resolved (sent
    // again) even when the run is interrupted, or its events would be left in doubt.
    let mut unanswered = false;
    // True once any request of these events went unanswered: they may be stored, so a final
    // failure leaves them unconfirmed rather than failed (a re-run would send them again).
    let mut in_doubt = false;
    loop {
        if shared.interrupted.load(Ordering::Relaxed) && !unanswered {
            report.not_sent += pending.len() as u64;
            return Ok(report);
        }
        let sending: Vec<JournalRow> = pending
            .iter()
            .map(|e| shared.row(e, batch.number, attempt, Status::Sending))
            .collect();
        // The token first: the events are journaled as in flight only for the request itself.
        if let Some(rate) = &shared.rate {
            rate.acquire().await;
        }
        shared.journal.append(&sending).await?;
        report.requests += 1;
        shared.first_request.get_or_init(Instant::now);
        let count = pending.len();
        let result = shared.transport.put(&pending).await;
        let mut outcome = Vec::with_capacity(pending.len());
        let mut again = Vec::new();
        let last_attempt = attempt >= MAX_ATTEMPTS;
        let mut record = |e: BatchEvent,
                          status: Status,
                          code: Option<&str>,
                          message: Option<&str>,
                          event_id: Option<&str>| {
            let mut row = shared.row(&e, batch.number, attempt, status);
            row.error_code = code.map(str::to_string);
            row.error_message = message.map(str::to_string);
            row.event_id = event_id.map(str::to_string);
            outcome.push(row);
            e
        };
        match result {
            Ok(answer) => {
                unanswered = false;
                let ok: HashMap<&str, &str> = answer
                    .successful
                    .iter()
                    .map(|(id, event_id)| (id.as_str(), event_id.as_str()))
                    .collect();
                let failed: HashMap<&str, (&str, &str)> = answer
                    .failed
                    .iter()
                    .map(|(id, code, message)| (id.as_str(), (code.as_str(), message.as_str())))
                    .collect();
                for e in pending {
                    if let Some(event_id) = ok.get(e.audit_id.as_str()) {
                        record(e, Status::Delivered, None, None, Some(event_id));
                        report.delivered += 1;
                    } else if let Some((code, message)) = failed.get(e.audit_id.as_str()) {
                        if event_code_is_retryable(code) && !last_attempt {
                            again.push(record(e, Status::Retry, Some(code), Some(message), None));
                        } else {
                            record(e, Status::Failed, Some(code), Some(message), None);
                            *report.failed.entry(code.to_string()).or_default() += 1;
                        }
                    } else {
                        let message =
                            "the response listed this event neither as successful nor as failed";
                        record(
                            e,
                            Status::Unconfirmed,
                            Some("NotInResponse"),
                            Some(message),
                            None,
                        );
                        report.unconfirmed += 1;
                    }
                }
            }
            Err(failure) => {
                let code = Some(failure.code.as_str());
                let message = Some(failure.message.as_str());
                match failure.retry {
                    Retry::Answered if !last_attempt => {
                        unanswered = false;
                        for e in pending {
                            again.push(record(e, Status::Retry, code, message, None));
                        }
                    }
                    Retry::Unanswered if !last_attempt => {
                        // Still `sending` in the journal: in doubt until an answer comes.
                        unanswered = true;
                        in_doubt = true;
                        again = pending;
                    }
                    retry if in_doubt || retry == Retry::Unanswered => {
                        for e in pending {
                            record(e, Status::Unconfirmed, code, message, None);
                            report.unconfirmed += 1;
                        }
                    }
                    Retry::Answered | Retry::Permanent => {
                        let n = pending.len() as u64;
                        for e in pending {
                            record(e, Status::Failed, code, message, None);
                        }
                        *report.failed.entry(failure.code.clone()).or_default() += n;
                    }
                    Retry::Unanswered => unreachable!("taken by the arm above"),
                }
            }
        }
        if !outcome.is_empty() {
            shared.journal.append(&outcome).await?;
        }
        shared.progress.done((count - again.len()) as u64);
        if again.is_empty() {
            return Ok(report);
        }
        report.retried_events += again.len() as u64;
        report.retried_requests += 1;
        shared.progress.retried(again.len() as u64);
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
        pending = again;
    }
}

/// The progress bar on stderr: events finished, and how many sends were retries.
pub(super) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    retried: std::sync::atomic::AtomicU64,
}

impl Progress {
    pub(super) fn new(enabled: bool) -> Progress {
        let bar = enabled.then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {pos} events done ({per_sec}) {msg} [{elapsed_precise}]",
                )
                .expect("the template is valid"),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            retried: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub(super) fn done(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    fn retried(&self, n: u64) {
        let total = self.retried.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(bar) = &self.bar {
            bar.set_message(format!("retried {total}"));
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use super::*;
    use crate::replay::payload::PreparedEvent;
    use crate::replay::retry::RequestFailure;
    use crate::replay::send::PutResult;

    const CHANNEL: &str = "arn:aws:cloudtrail:us-east-1:123456789012:channel/c";

    /// Answers from a script, and remembers the ids of every request.
    struct Scripted {
        answers: Mutex<VecDeque<Result<PutResult, RequestFailure>>>,
        calls: Mutex<Vec<Vec<String>>>,
        /// Set on every call: the run is interrupted while the request is in flight.
        interrupt: Option<Arc<AtomicBool>>,
    }

    impl Transport for Scripted {
        async fn put(&self, events: &[BatchEvent]) -> Result<PutResult, RequestFailure> {
            let ids = events.iter().map(|e| e.audit_id.clone()).collect();
            self.calls.lock().unwrap().push(ids);
            if let Some(flag) = &self.interrupt {
                flag.store(true, Ordering::SeqCst);
            }
            let next = self.answers.lock().unwrap().pop_front();
            next.expect("the script has an answer for every call")
        }
    }

    fn shared(
        root: &std::path::Path,
        answers: Vec<Result<PutResult, RequestFailure>>,
    ) -> Shared<Scripted> {
        Shared {
            transport: Scripted {
                answers: Mutex::new(answers.into()),
                calls: Mutex::new(Vec::new()),
                interrupt: None,
            },
            journal: Journal::open(root, "run-1").unwrap(),
            rate: None,
            channel_arn: CHANNEL.into(),
            source_store: None,
            interrupted: Arc::new(AtomicBool::new(false)),
            progress: Progress::new(false),
            first_request: std::sync::OnceLock::new(),
        }
    }

    fn batch(ids: &[&str]) -> Batch {
        let events = ids
            .iter()
            .map(|id| BatchEvent {
                audit_id: id.to_string(),
                event: PreparedEvent {
                    source_id: id.to_string(),
                    payload: "{}".into(),
                    checksum: "c".into(),
                },
            })
            .collect();
        Batch {
            number: 1,
            events,
            bytes: 0,
        }
    }

    fn ok(ids: &[&str]) -> PutResult {
        PutResult {
            successful: ids
                .iter()
                .map(|i| (i.to_string(), format!("new-{i}")))
                .collect(),
            failed: Vec::new(),
        }
    }

    #[tokio::test]
    async fn every_per_event_result_is_read_and_only_retryable_ones_are_sent_again() {
        let root = tempfile::tempdir().unwrap();
        let mut first = ok(&["a"]);
        first.failed = vec![
            ("b".into(), "Throttling".into(), "slow down".into()),
            ("c".into(), "InvalidChecksum".into(), "bad".into()),
        ];
        let dropped = RequestFailure {
            code: "DispatchFailure".into(),
            message: "connection reset".into(),
            retry: Retry::Unanswered,
        };
        let throttled = RequestFailure {
            code: "HTTP 503".into(),
            message: "unavailable".into(),
            retry: Retry::Answered,
        };
        let shared = shared(
            root.path(),
            vec![Ok(first), Err(dropped), Err(throttled), Ok(ok(&["b"]))],
        );
        // "d" is in neither list of the first answer.
        let report = send_batch(&shared, batch(&["a", "b", "c", "d"]))
            .await
            .unwrap();
        let calls = shared.transport.calls.lock().unwrap().clone();
        assert_eq!(calls[0], ["a", "b", "c", "d"]);
        assert!(calls[1..].iter().all(|c| c == &["b"]), "{calls:?}");
        assert_eq!(report.delivered, 2);
        assert_eq!(report.failed.get("InvalidChecksum"), Some(&1));
        assert_eq!(report.unconfirmed, 1, "d: not in the response");
        assert_eq!((report.requests, report.retried_requests), (4, 3));

        let Shared { journal, .. } = shared;
        journal.finish().unwrap();
        let prior = crate::replay::journal::load_prior(root.path(), CHANNEL).unwrap();
        assert_eq!(prior["a"], Status::Delivered);
        assert_eq!(prior["b"], Status::Delivered);
        assert_eq!(prior["c"], Status::Failed);
        assert_eq!(prior["d"], Status::Unconfirmed);
    }

    #[tokio::test]
    async fn permanent_request_failures_fail_the_batch_without_retry() {
        let root = tempfile::tempdir().unwrap();
        let denied = RequestFailure {
            code: "ChannelInsufficientPermission".into(),
            message: "no".into(),
            retry: Retry::Permanent,
        };
        let shared = shared(root.path(), vec![Err(denied)]);
        let report = send_batch(&shared, batch(&["a", "b"])).await.unwrap();
        assert_eq!(report.failed.get("ChannelInsufficientPermission"), Some(&2));
        assert_eq!(report.requests, 1);
    }

    #[tokio::test]
    async fn events_once_in_doubt_end_unconfirmed_not_failed() {
        let root = tempfile::tempdir().unwrap();
        let dropped = RequestFailure {
            code: "DispatchFailure".into(),
            message: "reset".into(),
            retry: Retry::Unanswered,
        };
        let denied = RequestFailure {
            code: "ChannelInsufficientPermission".into(),
            message: "no".into(),
            retry: Retry::Permanent,
        };
        let shared = shared(root.path(), vec![Err(dropped), Err(denied)]);
        let report = send_batch(&shared, batch(&["a", "b"])).await.unwrap();
        // The first request may have stored them: a re-run must not send them as failed.
        assert_eq!(report.unconfirmed, 2);
        assert!(report.failed.is_empty(), "{:?}", report.failed);
    }

    #[tokio::test]
    async fn an_interrupted_run_resolves_an_unanswered_request_before_stopping() {
        let root = tempfile::tempdir().unwrap();
        let dropped = RequestFailure {
            code: "DispatchFailure".into(),
            message: "reset".into(),
            retry: Retry::Unanswered,
        };
        let shared = shared(root.path(), vec![Err(dropped), Ok(ok(&["a"]))]);
        shared.interrupted.store(true, Ordering::SeqCst);
        // Interrupted before the first send: nothing goes out.
        let report = send_batch(&shared, batch(&["z"])).await.unwrap();
        assert_eq!((report.requests, report.not_sent), (0, 1));
        // Interrupted while a request is in flight that then gets no answer: it is sent
        // again until answered, and then the batch stops.
        shared.interrupted.store(false, Ordering::SeqCst);
        let mut shared = shared;
        shared.transport.interrupt = Some(Arc::clone(&shared.interrupted));
        let report = send_batch(&shared, batch(&["a"])).await.unwrap();
        assert_eq!(
            (report.requests, report.delivered, report.not_sent),
            (2, 1, 0)
        );
    }
}
