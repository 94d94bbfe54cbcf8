//! What a query cost: elapsed time, rows returned, and the bytes and rows its scans read.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use datafusion::physical_plan::ExecutionPlan;

/// Figures for `--timing`, printed to stderr so machine formats stay clean on stdout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryStats {
    /// Rows returned.
    pub rows: u64,
    pub elapsed: Duration,
    /// Bytes read from Parquet files (after pruning row groups and pages).
    pub bytes_scanned: u64,
    /// Rows decoded by the scans (before filters that were not pushed into the scan).
    pub rows_scanned: u64,
    /// Data files the query could touch, before pruning.
    pub files: u64,
}

impl QueryStats {
    /// Sums the scan metrics of every data source in an executed plan.
    pub fn add_scan_metrics(&mut self, plan: &Arc<dyn ExecutionPlan>) {
        if plan.children().is_empty()
            && let Some(metrics) = plan.metrics()
        {
            let count = |name: &str| metrics.sum_by_name(name).map_or(0, |v| v.as_usize() as u64);
            self.bytes_scanned += count("bytes_scanned");
            // Rows a pushed-down filter dropped were decoded too.
            self.rows_scanned +=
                metrics.output_rows().unwrap_or(0) as u64 + count("pushdown_rows_pruned");
        }
        for child in plan.children() {
            self.add_scan_metrics(child);
        }
    }
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} B"),
        _ => format!("{value:.1} {}", UNITS[unit]),
    }
}

impl fmt::Display for QueryStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} row{} in {:.3} s; scanned {} rows, {} from {} file{}",
            self.rows,
            if self.rows == 1 { "" } else { "s" },
            self.elapsed.as_secs_f64(),
            self.rows_scanned,
            human_bytes(self.bytes_scanned),
            self.files,
            if self.files == 1 { "" } else { "s" },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_readable_line() {
        let stats = QueryStats {
            rows: 1,
            elapsed: Duration::from_millis(1234),
            bytes_scanned: 3 * 1024 * 1024 / 2,
            rows_scanned: 5000,
            files: 2,
        };
        assert_eq!(
            stats.to_string(),
            "1 row in 1.234 s; scanned 5000 rows, 1.5 MiB from 2 files"
        );
        assert_eq!(human_bytes(512), "512 B");
    }
}
