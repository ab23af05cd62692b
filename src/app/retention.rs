//! The ledger by month: partitions made ahead of time, and old months detached behind a
//! checkpoint (docs/ARCHITECTURE.md, "The ledger by month").

use super::{App, Result};
use crate::domain::access::Actor;
use crate::domain::month::{self, Month};
use crate::ledger::{self, Cause};
use chrono::{DateTime, Utc};

pub use crate::ledger::retention::Archive;

/// Makes the partitions of the current month and the [`month::MONTHS_AHEAD`] after it that do
/// not exist yet; says how many it made. Safe on every instance at once: a second one finds
/// them made.
pub async fn ensure_partitions(app: &App, now: DateTime<Utc>) -> Result<usize> {
    let mut client = app.client().await?;
    Ok(ledger::retention::create_partitions(&mut client, &Month::of(now).ahead()).await?)
}

/// Detaches every month before `before` (never the current or the previous one) into tables
/// `movements_archive_YYYY_MM`, after recording the checkpoint that keeps balances and `as_of`
/// exact. Run from the server's shell only, as `actor`.
pub async fn detach(
    app: &App,
    actor: &Actor,
    before: Month,
    now: DateTime<Utc>,
) -> Result<Vec<Archive>> {
    let before = month::detachable("before", before, now)?;
    let cause = Cause::Other("retention");
    let archives = ledger::in_transaction(&app.pool, actor, &cause, async |transaction| {
        ledger::retention::detach_before(transaction, before).await
    })
    .await?;
    tracing::info!(%before, months = archives.len(), by = %actor, "ledger months detached");
    Ok(archives)
}
