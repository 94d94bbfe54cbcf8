//! What the CPU work of one PutAuditEvents request costs, without HTTP or the commit: the
//! request body's JSON, then for each event its checksum, validation and columns. The same
//! steps `serve`, `put-audit-events` and `ingest` take for every event.
//!
//! ```text
//! cargo run --release --example request_cost [-- REQUESTS]     (default 200)
//! ```
//! Builds REQUESTS bodies of 100 `auditlake sample` events, runs them 15 times over and
//! prints the best round's time per request, and the part of it validation takes. Under
//! `valgrind --tool=callgrind` (a shared machine's timings vary; instruction counts do not)
//! the same run splits the cost by function.

use std::time::{Duration, Instant};

use auditlake::event::{Enrichment, IntegrationBatchBuilder, validate};
use auditlake::ingest::put::accept_event;
use auditlake::ingest::request::{AuditEvent, PutAuditEventsRequest};
use auditlake::sample::{SampleConfig, generate};

const ACCOUNT: &str = "123456789012";
const EVENTS_PER_REQUEST: usize = 100;

fn main() {
    let requests: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("REQUESTS is a number"))
        .unwrap_or(200);
    let mut text = Vec::new();
    let config = SampleConfig {
        events: (requests * EVENTS_PER_REQUEST) as u64,
        ..SampleConfig::default()
    };
    generate(&config, &mut text).expect("sample events");
    let text = String::from_utf8(text).expect("sample events are UTF-8");
    let payloads: Vec<&str> = text.lines().collect();
    let bodies: Vec<Vec<u8>> = payloads
        .chunks(EVENTS_PER_REQUEST)
        .enumerate()
        .map(|(r, chunk)| {
            let request = PutAuditEventsRequest {
                audit_events: chunk
                    .iter()
                    .enumerate()
                    .map(|(i, payload)| AuditEvent {
                        id: format!("r{r}-{i}"),
                        event_data: payload.to_string(),
                        event_data_checksum: None,
                    })
                    .collect(),
                ..PutAuditEventsRequest::default()
            };
            serde_json::to_vec(&request).expect("a request body")
        })
        .collect();

    let (mut whole, mut validation) = (Duration::MAX, Duration::MAX);
    for _ in 0..15 {
        let started = Instant::now();
        let mut rows = 0;
        for body in &bodies {
            rows += request(body);
        }
        assert_eq!(rows, payloads.len(), "every sample event is accepted");
        whole = whole.min(started.elapsed());

        let started = Instant::now();
        let valid = payloads
            .iter()
            .filter(|p| validate(p, ACCOUNT).is_ok())
            .count();
        assert_eq!(valid, payloads.len());
        validation = validation.min(started.elapsed());
    }
    let per_request = |d: Duration| d.as_secs_f64() * 1000.0 / bodies.len() as f64;
    println!(
        "{} requests of {EVENTS_PER_REQUEST} events: {:.3} ms per request, of which validation {:.3} ms (best of 15 rounds)",
        bodies.len(),
        per_request(whole),
        per_request(validation)
    );
}

/// One request's body to its batch of rows; returns the row count.
fn request(body: &[u8]) -> usize {
    let request: PutAuditEventsRequest = serde_json::from_slice(body).expect("a valid body");
    let bytes = request
        .audit_events
        .iter()
        .map(|e| e.event_data.len())
        .sum();
    let mut builder = IntegrationBatchBuilder::with_capacity(
        Enrichment::now(
            "us-east-1",
            ACCOUNT,
            "arn:aws:cloudtrail:us-east-1:123456789012:channel/bench",
        ),
        request.audit_events.len(),
        bytes,
    );
    for event in &request.audit_events {
        accept_event(
            &mut builder,
            &event.event_data,
            event.event_data_checksum.as_deref(),
            ACCOUNT,
        )
        .expect("sample events are valid");
    }
    builder.into_batch().expect("a batch").num_rows()
}
