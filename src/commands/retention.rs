//! `allot retention detach --before YYYY-MM`: take whole old months out of the ledger. Each
//! becomes a table of its own, `movements_archive_YYYY_MM`, for the operator to dump and drop:
//!
//! ```text
//! pg_dump --table=movements_archive_2025_01 --format=custom "$DATABASE_URL" > movements_2025_01.dump
//! psql "$DATABASE_URL" -c 'DROP TABLE movements_archive_2025_01'
//! ```
//!
//! The check that the checkpoint and the months kept give every balance reads the whole ledger
//! once, in one statement (bounded by ALLOT_PLANNING_STATEMENT_TIMEOUT_MS); meanwhile only
//! writes into the months being detached (and far backdated ones, into the default partition)
//! wait. Detaching itself waits at most 5 s for its lock on `movements`, then gives up with
//! nothing changed.

use crate::app::{self, retention, App};
use crate::config::Settings;
use crate::domain::access::Principal;
use crate::domain::month::Month;
use std::io::Write;

#[derive(Debug, clap::Subcommand)]
pub enum Retention {
    /// Detach every month before BEFORE (never the current or the previous month), after a
    /// checkpoint of their sums per (SKU, location): balances and `as_of` from BEFORE on stay
    /// exact, `as_of` before it is refused.
    Detach {
        /// The first month kept, YYYY-MM (UTC).
        #[arg(long)]
        before: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error(transparent)]
    Open(#[from] app::OpenError),
    #[error(transparent)]
    App(#[from] app::Error),
    #[error("writing: {0}")]
    Output(#[from] std::io::Error),
}

pub async fn run(
    settings: &Settings,
    command: Retention,
    out: &mut impl Write,
) -> Result<(), RetentionError> {
    let Retention::Detach { before } = command;
    let before = Month::parse("--before", &before).map_err(app::Error::from)?;
    let app = App::open(settings, 1).await?;
    let principal = Principal::system("retention");
    let archives = retention::detach(&app, &principal.actor, before, chrono::Utc::now()).await?;
    for archive in &archives {
        writeln!(out, "{}\t{} movements", archive.table, archive.movements)?;
    }
    // Empty months are dropped, not archived: only tables with rows are listed.
    writeln!(
        out,
        "{} months archived; the ledger starts at {before}. Dump each table with pg_dump --table, then drop it.",
        archives.len()
    )?;
    Ok(())
}
