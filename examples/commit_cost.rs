//! What one store commit costs, by the number of events it holds (used by
//! benches/commit.sh): the fixed part (file, footer, fsyncs, manifest) and the part that grows
//! with the events (encoding and ZSTD). `auditlake serve` makes one such commit per group of
//! requests, so this is the floor under its cost per request.
//!
//! ```text
//! commit_cost [--repeat 40] [--threads N]
//! ```
//! `--threads` sets the threads each row group's columns are encoded on (default: one per
//! core, as the store writes).

use std::time::{Duration, Instant};

use auditlake::event::{Enrichment, IntegrationBatchBuilder, checksum, validate};
use auditlake::sample::{SampleConfig, generate};
use auditlake::store::StoreWriter;

const ACCOUNT: &str = "123456789012";
const SIZES: [usize; 5] = [1, 100, 400, 1600, 6400];

fn main() {
    let mut repeat = 40;
    let mut threads = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value: usize = args
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{flag} needs a number"));
        match flag.as_str() {
            "--repeat" => repeat = value.max(1),
            "--threads" => threads = Some(value),
            other => panic!("unknown flag {other}"),
        }
    }
    // Events as `auditlake sample` makes them, validated and enriched as serve does.
    let mut text = Vec::new();
    let config = SampleConfig {
        events: SIZES[SIZES.len() - 1] as u64,
        ..SampleConfig::default()
    };
    generate(&config, &mut text).expect("sample events");
    let text = String::from_utf8(text).expect("sample events are UTF-8");
    let mut builder = IntegrationBatchBuilder::new(Enrichment::now("us-east-1", ACCOUNT, "bench"));
    for line in text.lines() {
        let event = validate(line, ACCOUNT).expect("sample events are valid");
        builder
            .append(&event, line, &checksum(line))
            .expect("sample events fit the schema");
    }
    let events = builder.finish().expect("a batch");

    let root = tempfile::tempdir().expect("a temporary directory");
    StoreWriter::open(root.path()).expect("a store");
    println!(
        "{:>7} {:>12} {:>12} {:>14}",
        "events", "commit", "encoding", "per 100 events"
    );
    for rows in SIZES {
        let batch = events.slice(0, rows);
        let (mut total, mut encoding) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..repeat {
            let started = Instant::now();
            let writer = StoreWriter::lock(root.path()).expect("the store's lock");
            let mut file = writer
                .file_writer("bench", batch.schema())
                .expect("a data file");
            if let Some(threads) = threads {
                file.set_encode_threads(threads);
            }
            let encode = Instant::now();
            file.write(batch.clone()).expect("the batch is written");
            encoding += encode.elapsed();
            writer.commit(file).expect("the commit");
            total += started.elapsed();
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0 / repeat as f64;
        println!(
            "{rows:>7} {:>9.2} ms {:>9.2} ms {:>11.3} ms",
            ms(total),
            ms(encoding),
            ms(total) * 100.0 / rows as f64
        );
    }
}
