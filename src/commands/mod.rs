//! Batch work run from the CLI: bulk import, demo data, planning runs, ledger retention.

pub mod access;
pub mod costs;
pub mod demo;
pub mod events;
pub mod import;
pub mod plan;
pub mod retention;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar with rate and ETA on a terminal; hidden when stderr is not one (logs say it).
pub fn progress(total: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {what} {{per_sec}} ETA {{eta}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
