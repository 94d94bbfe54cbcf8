//! What validating one eventData payload costs (CPU only, no I/O): the step every event
//! takes in `ingest`, `serve` and PutAuditEvents.
//!
//! ```text
//! cargo run --release --example validate_cost [-- EVENTS]     (default 20000)
//! ```
//! Validates `auditlake sample` events 15 times over and prints the best round's time per
//! event.

use std::time::Instant;

use auditlake::event::validate;
use auditlake::sample::{SampleConfig, generate};

const ACCOUNT: &str = "123456789012";

fn main() {
    let events = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("EVENTS is a number"))
        .unwrap_or(20_000);
    let mut text = Vec::new();
    let config = SampleConfig {
        events,
        ..SampleConfig::default()
    };
    generate(&config, &mut text).expect("sample events");
    let text = String::from_utf8(text).expect("sample events are UTF-8");
    let payloads: Vec<&str> = text.lines().collect();
    let mut best = f64::MAX;
    for _ in 0..15 {
        let started = Instant::now();
        let mut valid = 0;
        for payload in &payloads {
            valid += usize::from(validate(payload, ACCOUNT).is_ok());
        }
        assert_eq!(valid, payloads.len(), "sample events are valid");
        best = best.min(started.elapsed().as_secs_f64());
    }
    println!(
        "{} events, {:.2} µs per event (best of 15 rounds)",
        payloads.len(),
        best * 1e6 / payloads.len() as f64
    );
}
