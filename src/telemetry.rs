//! Structured logs (human-readable on a terminal, JSON lines when `ALLOT_LOG_FORMAT=json`) and
//! the service's own Prometheus metrics beside the HTTP ones.

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use std::sync::LazyLock;
use std::time::Duration;
use tracing_subscriber::{fmt, EnvFilter};

/// Sourcing solves by how they ended (`optimal`, `fallback`, `infeasible`, `unsolved`).
static SOLVES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    let opts = Opts::new("allot_sourcing_solves_total", "Sourcing solves by status");
    IntCounterVec::new(opts, &["status"]).expect("valid metric")
});

/// Time of each sourcing solve (with its runner-up), by status.
static SOLVE_SECONDS: LazyLock<HistogramVec> = LazyLock::new(|| {
    let opts =
        HistogramOpts::new("allot_sourcing_solve_seconds", "Sourcing solve time").buckets(vec![
            0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0,
        ]);
    HistogramVec::new(opts, &["status"]).expect("valid metric")
});

/// Counts and times one sourcing solve.
pub fn solved(status: &str, elapsed: Duration) {
    SOLVES.with_label_values(&[status]).inc();
    SOLVE_SECONDS
        .with_label_values(&[status])
        .observe(elapsed.as_secs_f64());
}

/// Adds the service's metrics to `registry` (the one `/metrics` renders).
pub fn register(registry: &Registry) -> prometheus::Result<()> {
    registry.register(Box::new(SOLVES.clone()))?;
    registry.register(Box::new(SOLVE_SECONDS.clone()))
}

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tokio_postgres=warn,refinery_core=warn"));
    let json = std::env::var("ALLOT_LOG_FORMAT").is_ok_and(|format| format == "json");
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second init (tests start many apps in one process) is harmless; ignore it.
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// An error with every cause after it (`a: b: c`), for logs and the CLI: a bare "database
/// error" helps nobody. Errors that already print their cause (`"migrating: {0}"`) and also
/// expose it as their source are not repeated.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(next) = source {
        let cause = next.to_string();
        if !chain.ends_with(&cause) {
            chain.push_str(": ");
            chain.push_str(&cause);
        }
        source = next.source();
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[derive(Debug, thiserror::Error)]
    #[error("connection refused")]
    struct Refused;

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("database error")]
        Silent(#[source] Refused),
        #[error("connecting: {0}")]
        Telling(#[source] Refused),
    }

    #[test]
    fn every_cause_is_named_once() {
        assert_eq!(
            error_chain(&Outer::Silent(Refused)),
            "database error: connection refused"
        );
        assert_eq!(
            error_chain(&Outer::Telling(Refused)),
            "connecting: connection refused"
        );
    }
}
