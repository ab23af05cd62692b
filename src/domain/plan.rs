//! A planning run's life, as its record keeps it: computed chunk by chunk (`running`), then a
//! dry run's proposal (`proposed`), or on to its transfers (`committing`, then `committed`);
//! and the plain data a run reads from and saves to the ledger (the rules are in `planning`).

use super::Invalid;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Its SKUs are being planned; a killed run resumes it.
    Running,
    /// Computed by a dry run: a proposal, committed only when asked.
    Proposed,
    /// Its lines are being turned into transfers, batch by batch.
    Committing,
    /// Every line has its transfer or was dropped.
    Committed,
}

impl PlanStatus {
    pub const ALL: [Self; 4] = [
        Self::Running,
        Self::Proposed,
        Self::Committing,
        Self::Committed,
    ];

    /// The night's plan to commit: at most one per (kind, night) is committing or committed.
    pub const COMMITTING_OR_COMMITTED: [Self; 2] = [Self::Committing, Self::Committed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Proposed => "proposed",
            Self::Committing => "committing",
            Self::Committed => "committed",
        }
    }

    /// The status a plan record stores as `raw` (its CHECK constraint names the same four).
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Rebalance,
    Replenishment,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rebalance => "rebalance",
            Self::Replenishment => "replenishment",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, Invalid> {
        match raw {
            "rebalance" => Ok(Self::Rebalance),
            "replenishment" => Ok(Self::Replenishment),
            _ => Err(Invalid::new(field, "must be rebalance or replenishment")),
        }
    }
}

/// Where a queued planning run is: waiting for its kind's turn, being run by some instance's
/// planner, or done (with its plan and outcome, or why it failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    Finished,
    Failed,
}

impl RunStatus {
    pub const ALL: [Self; 4] = [Self::Queued, Self::Running, Self::Finished, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Finished => "finished",
            Self::Failed => "failed",
        }
    }

    /// The status a run record stores as `raw` (its CHECK constraint names the same four).
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Planned (and committed, when asked) by this run.
    Planned,
    /// Finished what a killed run started.
    Resumed,
    /// The night's plan was committed already: this run did nothing.
    AlreadyCommitted,
}

impl Outcome {
    pub const ALL: [Self; 3] = [Self::Planned, Self::Resumed, Self::AlreadyCommitted];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Resumed => "resumed",
            Self::AlreadyCommitted => "already_committed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == raw)
    }
}

/// Why a queued run failed: the caller's to resolve (`conflict`), or a fault (see the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    Conflict,
    Fault,
}

impl Failure {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Conflict => "conflict",
            Self::Fault => "fault",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Conflict, Self::Fault]
            .into_iter()
            .find(|failure| failure.as_str() == raw)
    }
}

/// The demand signal both runs read from the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Demand {
    pub window_days: u32,
    pub half_life_days: f64,
}

/// Why a plan left a SKU alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// No store holds or sells it.
    NotStocked,
    /// No store sold it in the window.
    NoDemand,
    /// Every store with demand is covered.
    NoShortfall,
    /// Stores are short, but none can spare units.
    NoSurplus,
    /// Surplus and shortfall exist, but no transfer earns more than it costs (or they are too far
    /// apart).
    NoProfitableLane,
    /// Stores are short, but the warehouse has no free units.
    WarehouseHasNone,
    /// The warehouse had units, but its pick capacity or the stores' trucks ran out first.
    OutOfCapacity,
    /// More store needs than one run takes; the least urgent wait for the next run.
    OverRunLimit,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStocked => "not_stocked",
            Self::NoDemand => "no_demand",
            Self::NoShortfall => "no_shortfall",
            Self::NoSurplus => "no_surplus",
            Self::NoProfitableLane => "no_profitable_lane",
            Self::WarehouseHasNone => "warehouse_has_none",
            Self::OutOfCapacity => "out_of_capacity",
            Self::OverRunLimit => "over_run_limit",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SkuRow {
    pub id: i64,
    pub code: String,
    /// The SKU's `margin` attribute, when it is a number.
    pub margin: Option<f64>,
}

/// One (SKU, location) with its balance and the weighted sum of its recent POS sales.
#[derive(Debug, Clone)]
pub struct StockRow {
    pub sku_id: i64,
    pub location_id: i64,
    pub on_hand: i64,
    pub allocated: i64,
    pub in_transit: i64,
    pub safety_stock: i64,
    pub weighted_sales: f64,
}

/// A line to save: ids, the planned quantity and its economics.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLine {
    pub sku_id: i64,
    pub from_id: i64,
    pub to_id: i64,
    pub qty: i64,
    pub distance_km: f64,
    pub lead_time_hours: f64,
    pub gain: f64,
    pub cost: f64,
    pub from_position: i64,
    pub to_position: i64,
    pub to_demand_per_day: f64,
}

/// What one chunk adds to the run's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ChunkCounts {
    pub skus: i64,
    pub greedy_net: f64,
    pub greedy_transfers: i64,
    pub solver_fallbacks: i64,
}

/// One location's units (net position) before and after the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Spread {
    pub location: String,
    pub before: i64,
    pub after: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_parses_back_from_its_text_and_serialises_as_it() {
        for status in PlanStatus::ALL {
            assert_eq!(PlanStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::from(status.as_str())
            );
        }
        assert_eq!(PlanStatus::parse("Committed"), None);
        assert_eq!(PlanStatus::parse("planned"), None);
    }

    #[test]
    fn run_statuses_outcomes_and_failures_parse_back_from_their_text() {
        for status in RunStatus::ALL {
            assert_eq!(RunStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::from(status.as_str())
            );
        }
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
            assert_eq!(
                serde_json::to_value(outcome).unwrap(),
                serde_json::Value::from(outcome.as_str())
            );
        }
        for failure in [Failure::Conflict, Failure::Fault] {
            assert_eq!(Failure::parse(failure.as_str()), Some(failure));
        }
        assert_eq!(RunStatus::parse("done"), None);
        assert_eq!(Outcome::parse("Planned"), None);
    }
}
