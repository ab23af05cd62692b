//! Recording what happened to stock: POS sales, receipts, returns, adjustments and counts.

use super::{App, Key, Line, Recorded, Reply, Result};
use crate::domain::access::{Principal, Scope};
use crate::ledger::movements;

/// Records a batch, all or nothing, once per idempotency key (a retry replays the first
/// answer); `field` names the batch's lines in errors (`movements[2]`). Every line must be at a
/// location where `by` may write inventory.
pub async fn record(
    app: &App,
    by: &Principal,
    key: Option<&Key>,
    field: &str,
    lines: &[Line],
) -> Result<Reply<Recorded>> {
    for line in lines {
        by.require_at(Scope::WriteInventory, &line.location)?;
    }
    let reply = movements::record(&app.pool, &by.actor, key, field, lines).await?;
    if let Reply::Fresh(recorded) = &reply {
        app.synced(&recorded.balances).await;
    }
    Ok(reply)
}
