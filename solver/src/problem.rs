//! The JSON form of every problem and plan: one tagged enum each, so a file says which model it
//! is for (`{"kind": "sourcing", ...}`), and one [`solve`] entry point for the `allot-solve`
//! binary and anyone checking plans against another solver.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::rebalancing::{solve_rebalancing, RebalancingPlan, RebalancingProblem};
use crate::replenishment::{solve_replenishment, ReplenishmentPlan, ReplenishmentProblem};
use crate::sourcing::{solve_sourcing, SourcingPlan, SourcingProblem};

/// Any problem the crate solves. JSON: the model's fields plus `"kind"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    Sourcing(SourcingProblem),
    Replenishment(ReplenishmentProblem),
    Rebalancing(RebalancingProblem),
}

/// The plan for a [`Problem`], tagged the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Plan {
    Sourcing(SourcingPlan),
    Replenishment(ReplenishmentPlan),
    Rebalancing(RebalancingPlan),
}

/// Solves any problem with its model's optimiser.
pub fn solve(problem: &Problem) -> Result<Plan> {
    Ok(match problem {
        Problem::Sourcing(problem) => Plan::Sourcing(solve_sourcing(problem)?),
        Problem::Replenishment(problem) => Plan::Replenishment(solve_replenishment(problem)?),
        Problem::Rebalancing(problem) => Plan::Rebalancing(solve_rebalancing(problem)?),
    })
}
