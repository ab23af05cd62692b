//! Structured logs: human-readable on a terminal, JSON lines when `ALLOT_LOG_FORMAT=json`.

use tracing_subscriber::{fmt, EnvFilter};

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
