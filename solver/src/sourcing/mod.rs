//! Order sourcing: which locations fulfil each line of one order, by which route, at least cost.
//!
//! An order has lines (SKU, quantity) and a fulfilment mode: shipped to the customer's
//! coordinates, or picked up at a store. Each candidate location holds some available units of
//! each SKU, can pick at most its remaining daily capacity, and charges a handling cost per unit
//! (store picking costs more than the warehouse). A location *used* by the plan is a *source*:
//!
//! - When shipping, each source sends one parcel: a fixed cost per shipment plus a cost per unit
//!   per kilometre of great-circle distance to the customer (route `ship_direct`).
//! - When picking up, the pickup store's own shelf is a source (route `pickup_from_shelf`), and
//!   any location with a lane into the pickup store can transfer units there (route
//!   `transfer_then_pickup`): the lane's fixed cost per transfer plus its cost per unit; the
//!   units are ready after the source's handling time plus the lane's lead time. Each source is
//!   one pickup batch.
//!
//! Each source also costs the customer's wait for it: `wait_per_hour` times the hours until its
//! parcel leaves or its pickup batch is ready; this is part of the source's fixed cost below.
//!
//! Every source beyond the first costs the split penalty (an extra parcel or pickup batch costs
//! money and the customer's patience). Taking units from a location below its protected level
//! for a SKU costs the protection penalty per unit. When partial fulfilment is allowed, each
//! unit left unfulfilled costs the unfulfilled penalty; otherwise every unit must be sourced or
//! the order is infeasible.
//!
//! The model, with `x[l][i]` whole units of line `l` from source `i` and `used[i]` binary:
//!
//! ```text
//! minimise   Σ_i fixed[i]·used[i] + split·max(0, Σ_i used[i] − 1)
//!          + Σ_l Σ_i unit_cost[i]·x[l][i] + protection·Σ_{i,s} below_protected[i][s]
//!          + unfulfilled·Σ_l short[l]
//! subject to Σ_i x[l][i] + short[l] = qty[l]               (each line is covered)
//!            Σ_{l of sku s} x[l][i] ≤ available[i][s]      (stock)
//!            Σ_l x[l][i] ≤ capacity[i]·used[i]             (daily capacity, and linking)
//!            below_protected[i][s] ≥ Σ_{l of s} x[l][i] − (available[i][s] − protected[i][s])
//!            short[l] = 0 unless partial fulfilment is allowed
//! ```
//!
//! Plans are exactly optimal. Small cases are solved by an exact branch and bound over sets of
//! sources (each set's best allocation is a min-cost flow); larger ones by the MIP above in
//! HiGHS, over the candidates that survive a pruning rule with a proof (see `exact.rs`). The
//! greedy baseline (nearest source with stock first) gives the first upper bound, the saving
//! figure, and the fallback when the time limit passes.

mod exact;
mod flow;
mod greedy;
mod model;
mod valid;

#[cfg(test)]
mod brute;
#[cfg(test)]
mod properties;

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::geo::Coordinates;
use crate::ids::{LocationId, Sku};
use crate::status::{Method, SolveStatus};

pub(crate) use valid::Sourcing;

/// Most lines one order may have. The service's API takes its limit from here, so anything it
/// accepts the solver can take.
pub const ORDER_LINES_MAX: usize = 100;
/// Most candidate locations one order may consider.
pub const CANDIDATES_MAX: usize = 2_000;
/// Most units one order line may ask for (per-candidate stock is bounded by
/// [`crate::STOCK_UNITS_MAX`]). The service's `Qty` takes its maximum from here.
pub const LINE_QTY_MAX: u32 = 100_000;
/// Most stock entries one candidate may list.
pub const CANDIDATE_STOCK_ENTRIES_MAX: usize = 10_000;
/// Most lanes one sourcing problem may list.
pub const LANES_MAX: usize = 10_000;
/// Longest lead time or handling time accepted, in hours (four weeks).
pub const LEAD_TIME_HOURS_MAX: f64 = 672.0;
/// Time limit used when a problem does not state one.
pub const SOURCING_TIME_MS_DEFAULT: u64 = 1_000;

/// One order to source. See the module documentation for the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcingProblem {
    pub lines: Vec<OrderLine>,
    pub fulfilment: Fulfilment,
    pub candidates: Vec<Candidate>,
    /// Transfer lanes into pickup stores; only lanes into the pickup store matter.
    #[serde(default)]
    pub lanes: Vec<Lane>,
    pub costs: SourcingCosts,
    /// When true, units no candidate can supply are reported as unfulfilled (each costing
    /// `costs.unfulfilled_per_unit`); when false such an order is infeasible.
    #[serde(default)]
    pub allow_partial: bool,
    /// Wall-clock budget for the optimiser; past it the greedy plan is returned.
    #[serde(default = "sourcing_time_ms_default")]
    pub time_limit_ms: u64,
}

fn sourcing_time_ms_default() -> u64 {
    SOURCING_TIME_MS_DEFAULT
}

/// One order line. `qty` is signed so that a negative quantity is reported, not wrapped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderLine {
    pub sku: Sku,
    pub qty: i64,
}

/// Where the customer receives the order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fulfilment {
    /// Parcels to the customer's address.
    Ship { destination: Coordinates },
    /// The customer collects at this store, which must be among the candidates.
    Pickup { store: LocationId },
}

/// Kind of location; informational (costs come from the fields, not the kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    Store,
    Warehouse,
}

/// A location that may fulfil part of the order, with what it has of the order's SKUs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    pub location: LocationId,
    pub kind: LocationKind,
    pub position: Coordinates,
    /// Available units (ATP) per SKU; SKUs not listed have none.
    pub stock: Vec<StockLevel>,
    /// Cost of picking and packing one unit here.
    pub handling_per_unit: f64,
    /// Hours until picked units are ready to leave (or, on the pickup store's shelf, to hand
    /// over).
    #[serde(default)]
    pub handling_hours: f64,
    /// Units this location can still pick today; absent means no limit.
    #[serde(default)]
    pub capacity_units: Option<i64>,
}

/// Available units of one SKU at one candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockLevel {
    pub sku: Sku,
    pub available: i64,
    /// Units the location would rather keep (e.g. a store's display stock): taking it below
    /// this level costs `costs.protection_per_unit` per unit.
    #[serde(default)]
    pub protected: i64,
}

/// A transfer route between two locations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lane {
    pub from: LocationId,
    pub to: LocationId,
    /// Cost of one transfer (a van run, a courier booking).
    pub cost_fixed: f64,
    pub cost_per_unit: f64,
    pub lead_time_hours: f64,
}

/// The order-level cost model. All costs are in one currency and must be finite and ≥ 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcingCosts {
    /// Fixed cost of one parcel to the customer.
    pub shipment_fixed: f64,
    /// Parcel cost per unit, whatever the distance.
    #[serde(default)]
    pub shipping_per_unit: f64,
    /// Parcel cost per unit per kilometre.
    pub shipping_per_unit_km: f64,
    /// Cost of each source beyond the first (extra parcel or pickup batch).
    pub split_penalty: f64,
    /// The customer's wait: per hour until each parcel leaves or each pickup batch is ready.
    #[serde(default)]
    pub wait_per_hour: f64,
    /// Cost per unit taken below a location's protected level.
    #[serde(default)]
    pub protection_per_unit: f64,
    /// Cost per unit left unfulfilled; must be positive when partial fulfilment is allowed.
    #[serde(default)]
    pub unfulfilled_per_unit: f64,
}

/// How units reach the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Shipped from the source to the customer's address.
    ShipDirect,
    /// Already on the pickup store's shelf.
    PickupFromShelf,
    /// Transferred from the source into the pickup store, then picked up.
    TransferThenPickup,
}

/// The plan for one order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcingPlan {
    pub status: SolveStatus,
    pub method: Method,
    /// One entry per order line, in the order's line order.
    pub lines: Vec<LinePlan>,
    /// Ship mode: one parcel per source.
    pub shipments: Vec<Shipment>,
    /// Pickup mode: transfers into the pickup store, one per (source, SKU).
    pub transfers: Vec<Transfer>,
    /// Pickup mode: one batch per source, soonest first.
    pub pickup_batches: Vec<PickupBatch>,
    pub cost: CostBreakdown,
    /// For an optimal plan: the cheapest plan that does without one of its sources, so a planner
    /// sees what the choice saved. `None` when every alternative is infeasible, or the time
    /// limit left no room to prove one.
    #[serde(default)]
    pub runner_up: Option<Box<RunnerUp>>,
}

/// The cheapest plan without `without`, one of the chosen plan's sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunnerUp {
    pub without: LocationId,
    /// Its sources, in the order its lines name them.
    pub sources: Vec<LocationId>,
    pub cost: CostBreakdown,
    /// How much more it costs than the chosen plan (≥ 0).
    pub extra_cost: f64,
}

/// How one order line is fulfilled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinePlan {
    pub sku: Sku,
    pub qty: u32,
    pub sources: Vec<LineSource>,
    pub unfulfilled: u32,
}

/// Units of one line taken from one location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineSource {
    pub location: LocationId,
    pub qty: u32,
    pub route: Route,
}

/// One parcel to the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shipment {
    pub from: LocationId,
    pub units: u32,
    pub distance_km: f64,
    pub ready_in_hours: f64,
}

/// Units of one SKU moved into the pickup store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    pub from: LocationId,
    pub to: LocationId,
    pub sku: Sku,
    pub qty: u32,
    pub lead_time_hours: f64,
}

/// What the customer can collect, and when (hours from now).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickupBatch {
    pub store: LocationId,
    pub source: LocationId,
    pub units: u32,
    pub ready_in_hours: f64,
}

/// The plan's cost by component; `total` is their sum.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostBreakdown {
    pub shipping: f64,
    pub handling: f64,
    pub transfer: f64,
    pub split_penalty: f64,
    /// The customer's wait, priced per parcel or pickup batch.
    #[serde(default)]
    pub wait: f64,
    pub protection_penalty: f64,
    pub unfulfilled_penalty: f64,
    pub total: f64,
}

/// Finds the least-cost plan for one order, within `problem.time_limit_ms`, and for an optimal
/// plan its runner-up.
///
/// Errors only for invalid input; an order that cannot be covered is a plan with status
/// `infeasible`.
pub fn solve_sourcing(problem: &SourcingProblem) -> Result<SourcingPlan> {
    let started = Instant::now();
    let sourcing = Sourcing::parse(problem)?;
    let time_limit = sourcing.time_limit();
    let mut plan = solve_once(&sourcing, started + time_limit)?;
    if plan.status.is_optimal() {
        let deadline = (Instant::now() + time_limit / RUNNER_UP_SHARE).min(started + time_limit);
        plan.runner_up = runner_up(problem, &plan, deadline)?;
    }
    Ok(plan)
}

/// The runner-up explains a decision and does not change it: its re-solves may take this
/// fraction of the solve's time limit at most. The few that need a long MIP took 100–200 ms
/// each, most of all the time spent solving (docs/BENCHMARKS.md, "Where sourcing's solve time
/// goes"); without them the answer omits the runner-up, as it does when time runs out.
pub const RUNNER_UP_SHARE: u32 = 10;

fn solve_once(sourcing: &Sourcing, deadline: Instant) -> Result<SourcingPlan> {
    let greedy = greedy::allocate(sourcing);
    match exact::solve(sourcing, greedy.as_ref()) {
        exact::Outcome::Optimal(allocation) => {
            Ok(sourcing.plan(&allocation, SolveStatus::Optimal, Method::Enumeration))
        }
        exact::Outcome::Infeasible => Ok(sourcing.infeasible_plan(Method::Enumeration)),
        exact::Outcome::TooLarge(kept_sources) => {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match model::solve(sourcing, &kept_sources, remaining)? {
                model::Outcome::Optimal(allocation) => {
                    Ok(sourcing.plan(&allocation, SolveStatus::Optimal, Method::Mip))
                }
                model::Outcome::Infeasible => Ok(sourcing.infeasible_plan(Method::Mip)),
                model::Outcome::TimeLimit => Ok(sourcing.fallback_plan(greedy.as_ref())),
            }
        }
    }
}

/// The same order with `location`'s stock withdrawn: the problem a runner-up re-solves.
pub(crate) fn without_stock_of(
    problem: &SourcingProblem,
    location: &LocationId,
) -> SourcingProblem {
    let mut alternative = problem.clone();
    for candidate in &mut alternative.candidates {
        if candidate.location == *location {
            candidate.stock.clear();
        }
    }
    alternative
}

/// The sources a plan uses, in the order its lines name them.
pub fn plan_sources(plan: &SourcingPlan) -> Vec<LocationId> {
    let mut sources: Vec<LocationId> = Vec::new();
    for source in plan.lines.iter().flat_map(|line| &line.sources) {
        if !sources.contains(&source.location) {
            sources.push(source.location.clone());
        }
    }
    sources
}

/// Re-solves without each chosen source in turn (its stock withdrawn) and keeps the cheapest
/// proven plan: the cheapest plan whose set of sources differs by dropping one of the chosen.
fn runner_up(
    problem: &SourcingProblem,
    plan: &SourcingPlan,
    deadline: Instant,
) -> Result<Option<Box<RunnerUp>>> {
    let mut best: Option<Box<RunnerUp>> = None;
    for without in plan_sources(plan) {
        let alternative = without_stock_of(problem, &without);
        // The plan stands whatever happens here: an alternative that fails is no runner-up.
        let Ok(other) = Sourcing::parse(&alternative).and_then(|s| solve_once(&s, deadline)) else {
            return Ok(None);
        };
        let covers = !matches!(
            other.status,
            SolveStatus::Infeasible { .. } | SolveStatus::Unsolved { .. }
        );
        if !other.status.is_optimal() && covers {
            // Out of time: an unproven alternative would misstate what the choice saved.
            return Ok(None);
        }
        if covers
            && best
                .as_ref()
                .is_none_or(|b| other.cost.total < b.cost.total)
        {
            best = Some(Box::new(RunnerUp {
                without,
                sources: plan_sources(&other),
                extra_cost: (other.cost.total - plan.cost.total).max(0.0),
                cost: other.cost,
            }));
        }
    }
    Ok(best)
}

/// The greedy baseline alone: for each line, nearest source with stock first (in pickup mode
/// the pickup store's shelf first, then the nearest location with a lane). Used to report what
/// the optimiser saves.
pub fn solve_sourcing_greedy(problem: &SourcingProblem) -> Result<SourcingPlan> {
    let sourcing = Sourcing::parse(problem)?;
    Ok(match greedy::allocate(&sourcing) {
        Some(allocation) => sourcing.plan(
            &allocation,
            SolveStatus::FallbackGreedy {
                reason: "greedy baseline requested".to_string(),
            },
            Method::Greedy,
        ),
        None => sourcing.infeasible_plan(Method::Greedy),
    })
}

/// Solves with the HiGHS MIP over every source, skipping the exact small-case method and the
/// pruning: the reference the property tests compare against.
#[cfg(test)]
pub(crate) fn solve_sourcing_mip_only(problem: &SourcingProblem) -> Result<SourcingPlan> {
    let sourcing = Sourcing::parse(problem)?;
    let all: Vec<usize> = (0..sourcing.sources.len()).collect();
    Ok(
        match model::solve(&sourcing, &all, sourcing.time_limit())? {
            model::Outcome::Optimal(allocation) => {
                sourcing.plan(&allocation, SolveStatus::Optimal, Method::Mip)
            }
            model::Outcome::Infeasible => sourcing.infeasible_plan(Method::Mip),
            model::Outcome::TimeLimit => sourcing.fallback_plan(None),
        },
    )
}
