//! The summary of a replay: what was selected, sent, skipped, retried and failed.

use std::collections::BTreeMap;
use std::fmt;

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    pub run_id: String,
    pub dry_run: bool,
    /// Rows the selection returned.
    pub selected: u64,
    /// Rows that repeated an event already selected in this run (sent once).
    pub duplicates: u64,
    /// Events Lake acknowledged in this run (in a dry run: events that would be sent).
    pub sent: u64,
    pub skipped_delivered: u64,
    /// Events an earlier run left unconfirmed, not sent again (see `--resend-unconfirmed`).
    pub skipped_unconfirmed: u64,
    /// Events that finally failed, by error code (refused before sending included).
    pub failed: BTreeMap<String, u64>,
    /// Events whose request got no answer after every attempt: they may or may not be stored.
    pub unconfirmed: u64,
    /// Events not sent because the run was interrupted (a re-run sends them).
    pub not_sent: u64,
    /// Event sends beyond the first, and requests beyond each batch's first.
    pub retried_events: u64,
    pub retried_requests: u64,
    pub requests: u64,
    pub batches: u64,
    /// Events in all batches (first sends), for the fill ratio.
    pub batched_events: u64,
    pub interrupted: bool,
    pub seconds: f64,
    /// From the first request to the last answer: the rate figures' denominator.
    pub sending_seconds: f64,
}

impl Summary {
    pub fn failed_total(&self) -> u64 {
        self.failed.values().sum()
    }

    /// Average events per batch as a percentage of the 100-event maximum.
    pub fn fill_percent(&self) -> f64 {
        if self.batches == 0 {
            return 0.0;
        }
        100.0 * self.batched_events as f64
            / (self.batches as f64 * super::batch::MAX_BATCH_EVENTS as f64)
    }

    /// True when every selected event is delivered (now or before) and nothing is in doubt.
    pub fn complete(&self) -> bool {
        self.failed.is_empty()
            && self.unconfirmed == 0
            && self.skipped_unconfirmed == 0
            && self.not_sent == 0
            && !self.interrupted
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run { "would send" } else { "sent" };
        writeln!(f, "selected: {}", self.selected)?;
        writeln!(
            f,
            "{verb}: {} in {} batches ({:.1}% full), {} requests",
            self.sent,
            self.batches,
            self.fill_percent(),
            self.requests
        )?;
        writeln!(
            f,
            "skipped as already delivered: {}",
            self.skipped_delivered
        )?;
        if self.skipped_unconfirmed > 0 {
            writeln!(
                f,
                "skipped as unconfirmed by an earlier run: {} (check the target; --resend-unconfirmed sends them)",
                self.skipped_unconfirmed
            )?;
        }
        if self.duplicates > 0 {
            writeln!(f, "duplicates in the selection: {}", self.duplicates)?;
        }
        writeln!(
            f,
            "retried: {} events in {} requests",
            self.retried_events, self.retried_requests
        )?;
        if self.failed.is_empty() {
            writeln!(f, "failed: 0")?;
        } else {
            let codes: Vec<String> = self
                .failed
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect();
            writeln!(f, "failed: {} ({})", self.failed_total(), codes.join(", "))?;
        }
        if self.unconfirmed > 0 {
            writeln!(
                f,
                "unconfirmed (no answer; may or may not be stored): {}",
                self.unconfirmed
            )?;
        }
        if self.interrupted {
            writeln!(
                f,
                "interrupted: {} events not sent; run again to resume",
                self.not_sent
            )?;
        }
        if !self.dry_run {
            writeln!(f, "run: {} ({:.1} s)", self.run_id, self.seconds)?;
        }
        Ok(())
    }
}
