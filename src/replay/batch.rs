//! The request builder: fills PutAuditEvents batches up to Lake's limits, with valid ids
//! that are unique in each batch.

use std::collections::HashSet;

use crate::event::validate::MAX_EVENT_BYTES;
use crate::ingest::request::{MAX_EVENTS_PER_REQUEST, MAX_REQUEST_BYTES, valid_event_id};

use super::payload::PreparedEvent;

/// At most this many events in one request.
pub const MAX_BATCH_EVENTS: usize = MAX_EVENTS_PER_REQUEST;
/// Bytes kept free in every request for the channel ARN, external ID and JSON framing.
pub const REQUEST_OVERHEAD_BYTES: usize = 4 * 1024;
/// At most this many bytes of serialized audit events in one request (1 MB minus the overhead).
pub const MAX_BATCH_BYTES: usize = MAX_REQUEST_BYTES - REQUEST_OVERHEAD_BYTES;
/// No single eventData may be larger than this (256 KB).
pub const MAX_PAYLOAD_BYTES: usize = MAX_EVENT_BYTES;

/// One event of a batch with the id it carries in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchEvent {
    /// The `id` of the audit event: the source eventid when that is a valid id, else `r<n>`.
    pub audit_id: String,
    pub event: PreparedEvent,
}

/// One PutAuditEvents request's worth of events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// 1, 2, ... in the order the batches were filled in this run.
    pub number: u64,
    pub events: Vec<BatchEvent>,
    /// The size the events take in the request body (JSON-escaped).
    pub bytes: usize,
}

/// Fills batches in selection order: a batch is closed when it holds
/// [`MAX_BATCH_EVENTS`] events or the next event would take it past [`MAX_BATCH_BYTES`].
#[derive(Debug, Default)]
pub struct Batcher {
    batches: u64,
    events: u64,
    current: Vec<BatchEvent>,
    bytes: usize,
    ids: HashSet<String>,
}

impl Batcher {
    pub fn new() -> Batcher {
        Batcher::default()
    }

    /// Adds an event; returns the batch it closed, if adding it closed one. The event must
    /// be at most [`MAX_PAYLOAD_BYTES`] (validation refuses larger ones).
    pub fn push(&mut self, event: PreparedEvent) -> Option<Batch> {
        debug_assert!(event.payload.len() <= MAX_PAYLOAD_BYTES);
        self.events += 1;
        let mut audit_id = if valid_event_id(&event.source_id) {
            event.source_id.clone()
        } else {
            format!("r{}", self.events)
        };
        let size = entry_bytes(&audit_id, &event);
        let closed = if self.bytes + size > MAX_BATCH_BYTES && !self.current.is_empty() {
            self.finish()
        } else {
            None
        };
        let mut n = 0;
        while self.ids.contains(&audit_id) {
            n += 1;
            audit_id = format!("r{}-{n}", self.events);
        }
        self.ids.insert(audit_id.clone());
        self.bytes += entry_bytes(&audit_id, &event);
        self.current.push(BatchEvent { audit_id, event });
        if self.current.len() == MAX_BATCH_EVENTS {
            debug_assert!(closed.is_none());
            return self.finish();
        }
        closed
    }

    /// Closes the batch being filled, if it holds any event.
    pub fn finish(&mut self) -> Option<Batch> {
        if self.current.is_empty() {
            return None;
        }
        self.batches += 1;
        self.ids.clear();
        Some(Batch {
            number: self.batches,
            events: std::mem::take(&mut self.current),
            bytes: std::mem::take(&mut self.bytes),
        })
    }
}

/// The bytes one entry takes in the request body:
/// `{"id":"..","eventData":"..","eventDataChecksum":".."},`.
fn entry_bytes(audit_id: &str, event: &PreparedEvent) -> usize {
    const FRAMING: usize = r#"{"id":"","eventData":,"eventDataChecksum":""},"#.len();
    FRAMING + audit_id.len() + json_string_len(&event.payload) + event.checksum.len()
}

/// Length of `text` as a JSON string literal, quotes included.
fn json_string_len(text: &str) -> usize {
    2 + text
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, size: usize) -> PreparedEvent {
        PreparedEvent {
            source_id: id.to_string(),
            payload: "x".repeat(size),
            checksum: "c".repeat(44),
        }
    }

    #[test]
    fn batches_hold_100_events_and_stay_under_1_mb() {
        let mut batcher = Batcher::new();
        let mut batches = Vec::new();
        for i in 0..250 {
            batches.extend(batcher.push(event(&format!("id-{i}"), 500)));
        }
        batches.extend(batcher.finish());
        let sizes: Vec<usize> = batches.iter().map(|b| b.events.len()).collect();
        assert_eq!(sizes, [100, 100, 50]);
        assert_eq!(batches[2].number, 3);

        let mut batcher = Batcher::new();
        let mut batches = Vec::new();
        for i in 0..20 {
            batches.extend(batcher.push(event(&format!("big-{i}"), 200 * 1024)));
        }
        batches.extend(batcher.finish());
        assert!(batches.iter().all(|b| b.bytes <= MAX_BATCH_BYTES));
        assert!(
            batches.iter().all(|b| b.events.len() == 5),
            "batches are filled: {:?}",
            batches.iter().map(|b| b.events.len()).collect::<Vec<_>>()
        );
        // The real request body stays under 1 MB.
        let body: usize = batches[0]
            .events
            .iter()
            .map(|e| serde_json::json!({"id": e.audit_id, "eventData": e.event.payload, "eventDataChecksum": e.event.checksum}).to_string().len() + 1)
            .sum();
        assert!(body + REQUEST_OVERHEAD_BYTES <= MAX_REQUEST_BYTES);
    }

    #[test]
    fn ids_are_valid_and_unique_in_each_batch() {
        let mut batcher = Batcher::new();
        let mut batches = Vec::new();
        for id in [
            "ok-1",
            "ok-1",
            "sha256:abc/+=",
            "r3",
            "r3",
            &"a".repeat(129),
            // Taken ids where the 10th event's own ("r10") and its first retries would go.
            "r10",
            "r10-1",
            "r10-9",
            "not valid!",
        ] {
            batches.extend(batcher.push(event(id, 10)));
        }
        let batch = batcher.finish().unwrap();
        assert!(batches.is_empty());
        let ids: Vec<&str> = batch.events.iter().map(|e| e.audit_id.as_str()).collect();
        let unique: HashSet<&&str> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        assert!(ids.iter().all(|id| valid_event_id(id)), "{ids:?}");
        assert_eq!(ids[0], "ok-1");
        assert_eq!(ids.len(), 10);
    }

    #[test]
    fn json_escaping_is_counted() {
        assert_eq!(json_string_len(r#"a"b"#), 6);
        assert_eq!(json_string_len("\u{1}"), 8);
        assert_eq!(json_string_len("é"), 4);
    }
}
