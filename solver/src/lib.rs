//! Allot's optimiser: plain problems in, plans out. Pure Rust, no I/O, no async; the only
//! threads are the bounded workers of the per-SKU rebalance. good_lp with HiGHS works inside,
//! but no good_lp type crosses this API: callers pass plain serde data and get plans.
//!
//! # Models
//! - [`sourcing`]: one order → which locations fulfil each line, by which route (ship direct,
//!   pick up from the shelf, transfer then pick up), with costs, splits and protected stock.
//!   Exactly optimal; typically well under a millisecond.
//! - [`replenishment`]: warehouse → stores, within stock, pick, truck and store capacity.
//! - [`rebalancing`]: store ↔ store per SKU, solved in parallel across SKUs.
//!
//! Each model has a greedy baseline (`*_greedy`), used to report what the optimiser saves and
//! returned, with status [`SolveStatus::FallbackGreedy`], when a solve passes its time limit.
//! Every input is validated first; invalid input is a [`SolveError`] naming the field
//! (`lines[2].qty`, `candidates[5].handling_per_unit`), never a panic. An order that cannot be
//! covered is a plan with status [`SolveStatus::Infeasible`], not an error.
//!
//! # JSON
//! [`Problem`] and [`Plan`] are tagged by `"kind"` (`sourcing`, `replenishment`,
//! `rebalancing`); `solver/problems/*.json` has one example of each, and the `allot-solve`
//! binary prints the plan of a problem file: `allot-solve problems/sourcing-pickup.json`.
//!
//! # Sourcing an order from the service
//! Solving is CPU work: call it from async code through `spawn_blocking`.
//!
//! ```
//! use allot_solver::{
//!     solve_sourcing, Candidate, Coordinates, Fulfilment, Lane, LocationKind, OrderLine, Route,
//!     SolveStatus, SourcingCosts, SourcingProblem, StockLevel,
//! };
//!
//! let store = |id: &str, lat: f64, jackets: i64| Candidate {
//!     location: id.into(),
//!     kind: LocationKind::Store,
//!     position: Coordinates { lat, lon: 121.56 },
//!     stock: vec![StockLevel { sku: "jacket-m".into(), available: jackets, protected: 0 }],
//!     handling_per_unit: 1.0,
//!     handling_hours: 0.5,
//!     capacity_units: None,
//! };
//! let problem = SourcingProblem {
//!     lines: vec![OrderLine { sku: "jacket-m".into(), qty: 3 }],
//!     fulfilment: Fulfilment::Pickup { store: "taipei-101".into() },
//!     candidates: vec![store("taipei-101", 25.034, 2), store("xinyi", 25.060, 3)],
//!     lanes: vec![Lane {
//!         from: "xinyi".into(),
//!         to: "taipei-101".into(),
//!         cost_fixed: 4.0,
//!         cost_per_unit: 0.5,
//!         lead_time_hours: 3.0,
//!     }],
//!     costs: SourcingCosts {
//!         shipment_fixed: 6.0,
//!         shipping_per_unit: 0.0,
//!         shipping_per_unit_km: 0.02,
//!         split_penalty: 10.0,
//!         wait_per_hour: 0.0,
//!         protection_per_unit: 0.0,
//!         unfulfilled_per_unit: 0.0,
//!     },
//!     allow_partial: false,
//!     time_limit_ms: 200,
//! };
//! let plan = solve_sourcing(&problem)?;
//! assert_eq!(plan.status, SolveStatus::Optimal);
//! // One transfer of all three beats two pickup batches.
//! let source = &plan.lines[0].sources[0];
//! assert_eq!((source.location.0.as_str(), source.qty), ("xinyi", 3));
//! assert_eq!(source.route, Route::TransferThenPickup);
//! assert_eq!(plan.transfers[0].lead_time_hours, 3.0);
//! assert_eq!(plan.pickup_batches[0].ready_in_hours, 3.5);
//! assert_eq!(plan.cost.total, 3.0 + 4.0 + 1.5);
//! # Ok::<(), allot_solver::SolveError>(())
//! ```

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
    plan_sources, solve_sourcing, solve_sourcing_greedy, Candidate, CostBreakdown, Fulfilment,
    Lane, LinePlan, LineSource, LocationKind, OrderLine, PickupBatch, Route, RunnerUp, Shipment,
    SourcingCosts, SourcingPlan, SourcingProblem, StockLevel, Transfer, LEAD_TIME_HOURS_MAX,
    LINE_QTY_MAX, ORDER_LINES_MAX, RUNNER_UP_SHARE,
};
pub use status::{Method, SolveStatus};

/// Longest time limit any solve accepts, in milliseconds.
pub const SOLVE_TIME_MS_MAX: u64 = 60_000;
/// Most units any location may report for one SKU (and most daily capacity). With
/// [`LINE_QTY_MAX`] and [`ORDER_LINES_MAX`], the limits the service's API enforces.
pub const STOCK_UNITS_MAX: u32 = 100_000_000;
