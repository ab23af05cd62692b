//! Latency histograms per operation, merged across tasks, and the report printed after a run.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Latencies are recorded in microseconds, 1 µs to this, at 3 significant digits.
pub const LATENCY_MAX_US: u64 = 120_000_000;
/// Error messages kept for the report; the rest are only counted.
pub const ERROR_SAMPLES_MAX: usize = 5;

/// What one kind of operation did during the measured window.
#[derive(Debug, Clone)]
pub struct OpStats {
    pub latency_us: Histogram<u64>,
    pub ops: u64,
    /// Work done, e.g. movements for ingest (equals `ops` for plain requests).
    pub units: u64,
    pub errors: u64,
}

impl OpStats {
    fn new() -> Self {
        Self {
            latency_us: Histogram::new_with_bounds(1, LATENCY_MAX_US, 3)
                .expect("constant histogram bounds are valid"),
            ops: 0,
            units: 0,
            errors: 0,
        }
    }

    fn merge(&mut self, other: &Self) {
        // Same bounds on both sides, and values beyond them were saturated on the way in.
        let _ = self.latency_us.add(&other.latency_us);
        self.ops += other.ops;
        self.units += other.units;
        self.errors += other.errors;
    }
}

/// Everything one task (then, merged, the whole run) measured.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub ops: BTreeMap<&'static str, OpStats>,
    pub error_samples: Vec<String>,
    /// Operations finished during the warm-up, not counted above.
    pub warmup_ops: u64,
}

impl Stats {
    pub fn record(&mut self, op: &'static str, latency: Duration, units: u64) {
        let stats = self.ops.entry(op).or_insert_with(OpStats::new);
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        stats.latency_us.saturating_record(micros.max(1));
        stats.ops += 1;
        stats.units += units;
    }

    pub fn record_error(&mut self, op: &'static str, message: String) {
        self.ops.entry(op).or_insert_with(OpStats::new).errors += 1;
        if self.error_samples.len() < ERROR_SAMPLES_MAX {
            self.error_samples.push(format!("{op}: {message}"));
        }
    }

    pub fn merge(&mut self, other: Stats) {
        for (op, stats) in &other.ops {
            self.ops.entry(op).or_insert_with(OpStats::new).merge(stats);
        }
        let room = ERROR_SAMPLES_MAX.saturating_sub(self.error_samples.len());
        self.error_samples
            .extend(other.error_samples.into_iter().take(room));
        self.warmup_ops += other.warmup_ops;
    }

    pub fn errors(&self) -> u64 {
        self.ops.values().map(|s| s.errors).sum()
    }

    pub fn report(&self, name: &str, window: Duration, setup: serde_json::Value) -> Report {
        let seconds = window.as_secs_f64().max(f64::EPSILON);
        let ms = |us: u64| us as f64 / 1000.0;
        Report {
            name: name.to_owned(),
            seconds: round3(window.as_secs_f64()),
            setup,
            ops: self
                .ops
                .iter()
                .map(|(op, s)| OpReport {
                    op: (*op).to_owned(),
                    ops: s.ops,
                    units: s.units,
                    errors: s.errors,
                    ops_per_s: round1(s.ops as f64 / seconds),
                    units_per_s: round1(s.units as f64 / seconds),
                    mean_ms: round3(s.latency_us.mean() / 1000.0),
                    p50_ms: ms(s.latency_us.value_at_quantile(0.50)),
                    p95_ms: ms(s.latency_us.value_at_quantile(0.95)),
                    p99_ms: ms(s.latency_us.value_at_quantile(0.99)),
                    max_ms: ms(s.latency_us.max()),
                })
                .collect(),
            error_samples: self.error_samples.clone(),
        }
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub name: String,
    /// Length of the measured window (after the warm-up).
    pub seconds: f64,
    /// The parameters of the run, echoed so that a figure carries its own command.
    pub setup: serde_json::Value,
    pub ops: Vec<OpReport>,
    pub error_samples: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct OpReport {
    pub op: String,
    pub ops: u64,
    pub units: u64,
    pub errors: u64,
    pub ops_per_s: f64,
    pub units_per_s: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} — {:.1} s measured, {}",
            self.name, self.seconds, self.setup
        )?;
        writeln!(
            f,
            "{:<16} {:>9} {:>10} {:>7} {:>10} {:>12} {:>8} {:>8} {:>8} {:>8}",
            "op",
            "ops",
            "units",
            "errors",
            "ops/s",
            "units/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms"
        )?;
        for op in &self.ops {
            writeln!(
                f,
                "{:<16} {:>9} {:>10} {:>7} {:>10.1} {:>12.1} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
                op.op,
                op.ops,
                op.units,
                op.errors,
                op.ops_per_s,
                op.units_per_s,
                op.p50_ms,
                op.p95_ms,
                op.p99_ms,
                op.max_ms
            )?;
        }
        for sample in &self.error_samples {
            writeln!(f, "error: {sample}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_recorded_latencies() {
        let mut stats = Stats::default();
        for ms in 1..=100u64 {
            stats.record("lookup", Duration::from_millis(ms), 1);
        }
        let report = stats.report("t", Duration::from_secs(2), serde_json::json!({}));
        let op = &report.ops[0];
        assert_eq!((op.ops, op.units, op.errors), (100, 100, 0));
        assert_eq!(op.ops_per_s, 50.0);
        // Three significant digits: within 0.1% of the true value.
        assert!((op.p50_ms - 50.0).abs() < 0.1, "{}", op.p50_ms);
        assert!((op.p95_ms - 95.0).abs() < 0.1, "{}", op.p95_ms);
        assert!((op.p99_ms - 99.0).abs() < 0.1, "{}", op.p99_ms);
        assert!((op.max_ms - 100.0).abs() < 0.1, "{}", op.max_ms);
    }

    #[test]
    fn merging_adds_counts_and_keeps_few_error_samples() {
        let mut a = Stats::default();
        let mut b = Stats::default();
        a.record("ingest", Duration::from_millis(10), 1000);
        for i in 0..10 {
            b.record_error("ingest", format!("status {i}"));
        }
        a.merge(b);
        let report = a.report("t", Duration::from_secs(1), serde_json::json!({}));
        assert_eq!(report.ops[0].units, 1000);
        assert_eq!(report.ops[0].errors, 10);
        assert_eq!(report.error_samples.len(), ERROR_SAMPLES_MAX);
        let text = report.to_string();
        assert!(text.contains("ingest"), "{text}");
        assert!(text.contains("error: ingest: status 0"), "{text}");
    }
}
