//! Recording what happened to stock: POS sales, receipts, returns, adjustments and counts.

use super::{App, Key, Line, Recorded, Reply, Result};
use crate::ledger::movements;

/// Records a batch, all or nothing, once per idempotency key (a retry replays the first
/// answer); `field` names the batch's lines in errors (`movements[2]`).
pub async fn record(
    app: &App,
    key: Option<&Key>,
    field: &str,
    lines: &[Line],
) -> Result<Reply<Recorded>> {
    let reply = movements::record(&app.pool, key, field, lines).await?;
    if let Reply::Fresh(recorded) = &reply {
        app.synced(&recorded.balances).await;
    }
    Ok(reply)
}
