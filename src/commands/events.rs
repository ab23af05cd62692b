//! `allot events tail`: follow the stock events on NATS from a terminal (Debian ships no NATS
//! client), one line per event: its subject, then its JSON.

use crate::broker::{Broker, Unavailable};
use crate::config::Settings;
use futures_util::StreamExt;
use std::io::Write;

#[derive(Debug, clap::Subcommand)]
pub enum Events {
    /// Print events as they are published.
    Tail {
        /// Which subjects after the prefix: `stock.>`, `alerts.>`, `stock.TSHIRT-BLK-M.>`.
        #[arg(long, default_value = ">")]
        subject: String,
        /// Stop after this many events (default: never).
        #[arg(long)]
        count: Option<u64>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error(transparent)]
    Nats(#[from] Unavailable),
    #[error("writing: {0}")]
    Output(#[from] std::io::Error),
    #[error("NATS_URL is empty: events are not published")]
    Off,
}

/// Writes each event on `subject` to `out` as it comes, `count` of them or until interrupted.
pub async fn tail(
    settings: &Settings,
    subject: &str,
    count: Option<u64>,
    out: &mut impl Write,
) -> Result<(), TailError> {
    if settings.nats_url.is_empty() {
        return Err(TailError::Off);
    }
    let broker = Broker::new(
        &settings.nats_url,
        &settings.nats_prefix,
        &settings.nats_stream,
    );
    let mut messages = broker.subscribe(subject).await?;
    let mut printed = 0;
    while count.is_none_or(|count| printed < count) {
        let Some(message) = messages.next().await else {
            break;
        };
        writeln!(
            out,
            "{} {}",
            message.subject,
            String::from_utf8_lossy(&message.payload)
        )?;
        out.flush()?;
        printed += 1;
    }
    Ok(())
}
