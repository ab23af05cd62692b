//! Planning runs: the nightly rebalance and the warehouse replenishment (dry runs unless asked
//! to commit), queued for the planners or run at once (the CLI), and committing a proposal.
//! The runs themselves are in `jobs`.

use super::{planner, App, Error, Result};
use crate::domain::access::{Principal, Scope};
use crate::domain::plan::RunStatus;
use crate::jobs;
use crate::ledger::plan_runs;
use indicatif::ProgressBar;
use serde_json::Value;
use std::time::Duration;

pub use crate::jobs::{Outcome, Run};
pub use crate::ledger::plan_runs::RunView;
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

/// Queues a run of `kind` (checked first, as its run will check it) for this or another
/// instance's planner, and wakes this instance's.
pub async fn request(app: &App, by: &Principal, kind: Kind, params: Value) -> Result<RunView> {
    by.require(Scope::WritePlans)?;
    let (date, params) = jobs::prepare(app, kind, params, &by.actor).await?;
    let client = app.client().await?;
    let requested_by = by.actor.to_string();
    let queued_max = planner::QUEUED_RUNS_MAX;
    let id = plan_runs::enqueue(&client, kind, date, &params, &requested_by, queued_max)
        .await?
        .ok_or(Error::QueueFull {
            kind: kind.as_str(),
            queued_max,
        })?;
    app.planner_wake.notify_waiters();
    Ok(plan_runs::get(&client, id).await?)
}

/// How often a caller waiting for its run looks again.
const WAIT_POLL: Duration = Duration::from_millis(200);

/// The run `id` once it is done, or as it stands after `within`.
pub async fn wait(app: &App, id: i64, within: Duration) -> Result<RunView> {
    let until = tokio::time::Instant::now() + within;
    loop {
        let run = plan_runs::get(&app.client().await?, id).await?;
        let done = matches!(run.status, RunStatus::Finished | RunStatus::Failed);
        if done || tokio::time::Instant::now() + WAIT_POLL > until {
            return Ok(run);
        }
        tokio::time::sleep(WAIT_POLL).await;
    }
}
