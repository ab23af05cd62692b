//! Planning rules, pure: how sales become a daily demand, how a store's position becomes a
//! surplus or a shortfall, what a planned transfer earns and costs, and the stock-spread chart.
//! The jobs in [`crate::jobs`] read the ledger, call these and the solver, and save plans.

pub mod chart;
pub mod demand;
pub mod params;
pub mod rebalance;
pub mod replenish;

pub use crate::domain::plan::{ChunkCounts, Demand, Kind, NewLine, SkipReason, SkuRow, StockRow};
pub use params::{RebalanceParams, ReplenishParams};

impl StockRow {
    pub fn position(&self, demand: Demand) -> demand::Position {
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
