//! Planning rules, pure: how sales become a daily demand, how a store's position becomes a
//! surplus or a shortfall, what a planned transfer earns and costs, and the stock-spread chart.
//! The jobs in [`crate::jobs`] read the ledger, call these and the solver, and save plans.

pub mod chart;
pub mod demand;
pub mod params;
pub mod rebalance;
pub mod replenish;

pub use params::{Kind, RebalanceParams, ReplenishParams};
use serde::Serialize;

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

impl StockRow {
    pub fn position(&self, demand: params::Demand) -> demand::Position {
        demand::Position {
            on_hand: self.on_hand,
            allocated: self.allocated,
            in_transit: self.in_transit,
            safety_stock: self.safety_stock,
            demand_per_day: demand::daily_demand(
                self.weighted_sales,
                demand.window_days,
                demand.half_life_days,
            ),
        }
    }
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

/// What planning one chunk of SKUs produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChunkPlan {
    pub lines: Vec<NewLine>,
    pub skipped: Vec<(i64, SkipReason)>,
    pub counts: ChunkCounts,
}

/// Rows as the ledger would give them, for the planners' tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::{params::Demand, SkuRow, StockRow};

    /// A location holding `on_hand` that sold `sold_per_day` every day of the window.
    pub fn row(
        sku_id: i64,
        location_id: i64,
        on_hand: i64,
        sold_per_day: f64,
        demand: Demand,
    ) -> StockRow {
        StockRow {
            sku_id,
            location_id,
            on_hand,
            allocated: 0,
            in_transit: 0,
            safety_stock: 0,
            weighted_sales: sold_per_day
                * super::demand::weight_sum(demand.window_days, demand.half_life_days),
        }
    }

    pub fn sku(id: i64) -> SkuRow {
        SkuRow {
            id,
            code: format!("SKU-{id}"),
            margin: None,
        }
    }
}
