//! The chain's cost model: read by anyone deciding, replaced whole by an admin. A new version
//! applies to the next decision on every instance, since each decision reads the newest.

use super::{App, Result};
use crate::domain::access::{Principal, Scope};
use crate::domain::costs::CostModel;
use crate::ledger::{self, Cause};

pub use crate::ledger::costs::Versioned;

/// The model in force.
pub async fn current(app: &App) -> Result<Versioned> {
    Ok(ledger::costs::current(&app.client().await?).await?)
}

/// Validates `model` whole and stores it as the next version; `expected`, when given, must be
/// the version in force.
pub async fn set(
    app: &App,
    by: &Principal,
    model: CostModel,
    expected: Option<i64>,
) -> Result<Versioned> {
    by.require(Scope::ManageCosts)?;
    model.validate()?;
    let cause = Cause::Other("cost model");
    let stored = ledger::in_transaction(&app.pool, &by.actor, &cause, async |transaction| {
        ledger::costs::store(transaction, &model, expected).await
    })
    .await?;
    tracing::info!(version = stored.version.0, by = %by.actor, "cost model set");
    Ok(stored)
}
