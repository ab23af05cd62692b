//! How a solve ended, shared by every model's plan.

use serde::{Deserialize, Serialize};

/// How a plan was obtained. Only `Optimal` plans are proven best for the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case", deny_unknown_fields)]
pub enum SolveStatus {
    /// Proven optimal for the model.
    Optimal,
    /// The optimiser could not prove a plan within its time limit; the plan is the greedy
    /// baseline's.
    FallbackGreedy { reason: String },
    /// No plan satisfies the constraints (for sourcing without partial fulfilment: the
    /// candidates cannot cover the order).
    Infeasible { reason: String },
    /// The time limit passed with no plan from the optimiser and none from the greedy baseline.
    Unsolved { reason: String },
}

impl SolveStatus {
    pub fn is_optimal(&self) -> bool {
        matches!(self, SolveStatus::Optimal)
    }
}

/// Which algorithm produced a plan, for benchmarks and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Exact branch and bound over sets of sources (sourcing only; small instances).
    Enumeration,
    /// Mixed-integer programme solved by HiGHS.
    Mip,
    /// A relaxation split per store whose optimum met the dropped limits, so is optimal too
    /// (rebalancing).
    Relaxation,
    /// Rule-based greedy baseline.
    Greedy,
    /// Nothing to decide (no candidate move passes the gain test, no shortfall...).
    Trivial,
}
