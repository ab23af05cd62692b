//! How a sourcing decision was made, as orders, promises and transfers report it: the solve's
//! status, the cost model's version, the cost by component, and the runner-up ("why this
//! store": what the cheapest plan without one of the chosen sources would have cost).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SolveOutcome {
    /// Proven least-cost under the cost model.
    Optimal,
    /// The time limit passed first: the greedy plan (nearest source with stock) was used.
    Fallback,
}

/// The plan's cost by component; `total` is their sum.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CostParts {
    pub shipping: f64,
    pub handling: f64,
    pub transfer: f64,
    pub split_penalty: f64,
    pub wait: f64,
    pub protection_penalty: f64,
    pub unfulfilled_penalty: f64,
    pub total: f64,
}

/// The cheapest plan that does without `without`, one of the chosen sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunnerUp {
    pub without: String,
    pub sources: Vec<String>,
    pub cost: CostParts,
    /// What it would have cost more than the chosen plan.
    pub extra_cost: f64,
    /// The same in words: "without S1 (from W1): +118.00".
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    pub status: SolveOutcome,
    /// `enumeration`, `mip` or `greedy`.
    pub method: String,
    pub cost_model_version: i64,
    pub sources: Vec<String>,
    pub cost: CostParts,
    pub runner_up: Option<RunnerUp>,
}

impl RunnerUp {
    pub fn new(without: String, sources: Vec<String>, cost: CostParts, extra_cost: f64) -> Self {
        let why = format!(
            "without {without} (from {}): +{extra_cost:.2}",
            sources.join(", ")
        );
        Self {
            without,
            sources,
            cost,
            extra_cost,
            why,
        }
    }
}
