//! Allot's optimiser: plain problems in, plans out. No I/O, no async, no solver types in the
//! API.

pub mod error;
pub mod geo;
pub mod ids;
pub mod problem;
pub mod rebalancing;
pub mod replenishment;
pub mod sourcing;
pub mod status;

pub use error::SolveError;
pub use geo::{haversine_km, Coordinates};
pub use ids::{LocationId, Sku};
pub use problem::{solve, Plan, Problem};
pub use sourcing::{
    solve_sourcing, solve_sourcing_greedy, Candidate, CostBreakdown, Fulfilment, Lane, LinePlan,
    LineSource, LocationKind, OrderLine, PickupBatch, Route, Shipment, SourcingCosts, SourcingPlan,
    SourcingProblem, StockLevel, Transfer,
};
pub use status::{Method, SolveStatus};

/// Longest time limit any solve accepts, in milliseconds.
pub const SOLVE_TIME_MS_MAX: u64 = 60_000;
/// Most units any location may report for one SKU (and most daily capacity).
pub const STOCK_UNITS_MAX: u32 = 100_000_000;
