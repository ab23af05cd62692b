//! Planning runs: the nightly rebalance and the warehouse replenishment (dry runs unless asked
//! to commit), and committing a proposal. The runs themselves are in `jobs`.

use super::{App, Result};
use crate::jobs;
use indicatif::ProgressBar;

pub use crate::jobs::{Outcome, Run};
pub use crate::ledger::plans::{LineView, PlanSummary};
pub use crate::planning::{Kind, RebalanceParams, ReplenishParams};

pub async fn rebalance(app: &App, params: &RebalanceParams, progress: &ProgressBar) -> Result<Run> {
    Ok(jobs::rebalance(app, params, progress).await?)
}

pub async fn replenish(app: &App, params: &ReplenishParams, progress: &ProgressBar) -> Result<Run> {
    Ok(jobs::replenish(app, params, progress).await?)
}

/// Commits a proposed plan: idempotent, and under the night's lock.
pub async fn commit(app: &App, id: i64, progress: &ProgressBar) -> Result<PlanSummary> {
    Ok(jobs::commit(app, id, progress).await?)
}
