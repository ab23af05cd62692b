//! Planning runs: the nightly rebalance and the warehouse replenishment (dry runs unless asked
//! to commit), and committing a proposal. The runs themselves are in `jobs`.

use super::{App, Result};
use crate::domain::access::{Principal, Scope};
use crate::jobs;
use indicatif::ProgressBar;

pub use crate::jobs::{Outcome, Run};
pub use crate::ledger::plans::{LineView, PlanSummary};
pub use crate::planning::{Kind, RebalanceParams, ReplenishParams};

pub async fn rebalance(
    app: &App,
    by: &Principal,
    params: &RebalanceParams,
    progress: &ProgressBar,
) -> Result<Run> {
    by.require(Scope::WritePlans)?;
    Ok(jobs::rebalance(app, params, &by.actor, progress).await?)
}

pub async fn replenish(
    app: &App,
    by: &Principal,
    params: &ReplenishParams,
    progress: &ProgressBar,
) -> Result<Run> {
    by.require(Scope::WritePlans)?;
    Ok(jobs::replenish(app, params, &by.actor, progress).await?)
}

/// Commits a proposed plan: idempotent, and under the night's lock.
pub async fn commit(
    app: &App,
    by: &Principal,
    id: i64,
    progress: &ProgressBar,
) -> Result<PlanSummary> {
    by.require(Scope::WritePlans)?;
    Ok(jobs::commit(app, id, &by.actor, progress).await?)
}
