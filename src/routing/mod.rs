//! Order routing: gather candidates from the ledger and live holds, ask the solver where each
//! line should come from, and hand the plan to the ledger. The solver is pure; this module is
//! the shell around it.

use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::costs::{CostModel, CostVersion};
use crate::domain::decision::{CostParts, Decision, RunnerUp, SolveOutcome};
use crate::domain::geo::Point;
use crate::domain::hold::HoldLine;
use crate::domain::limits::STOCK_UNITS_MAX;
use crate::domain::location::{Location, LocationKind};
use crate::domain::order::Route;
use crate::domain::quantity::Qty;
use crate::domain::Invalid;
use crate::holds::Redis;
use crate::ledger;
use crate::ledger::costs::Versioned;
use crate::lookup::StockCache;

mod solvers;
use allot_solver::{
    Candidate, Fulfilment as SolverFulfilment, Lane, LocationKind as SolverKind, OrderLine,
    SolveError, SolveStatus, SourcingCosts, SourcingPlan, SourcingProblem, StockLevel,
};
use chrono::{DateTime, Duration, Utc};
use deadpool_postgres::Pool;
pub use solvers::Solvers;
use std::collections::{BTreeMap, HashMap};

/// Wall-clock budget of one sourcing solve; past it the greedy plan is used.
pub const SOLVE_TIME_MS_MAX: u64 = 200;
/// A split penalty so large that no optimal plan splits unless it has to.
const NO_SPLIT_PENALTY: f64 = 1.0e7;

#[derive(Debug, Clone, PartialEq)]
pub enum Fulfilment {
    Ship(Point),
    Pickup(LocationCode),
}

/// What routing is asked: lines (summed per SKU), where they go, and the customer's tolerance.
#[derive(Debug, Clone)]
pub struct Request {
    pub lines: Vec<(SkuCode, Qty)>,
    pub fulfilment: Fulfilment,
    pub allow_split: bool,
    pub allow_partial: bool,
    /// Units for the store's own stock (a clerk's transfer), not for a customer: the store's
    /// shelf is not a source and it need not offer pickup.
    pub restock: bool,
    /// Units of the caller's own hold (the cart an order is placed from): they count for this
    /// request, not against it.
    pub own_held: Vec<HoldLine>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Ledger(#[from] ledger::Error),
    #[error("{field}: {message}")]
    Refused { field: String, message: String },
    #[error("the solver refused its input: {0}")]
    Solver(#[from] SolveError),
    #[error("the solver did not finish: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("every solver is busy; retry in {retry_after_s} s")]
    Busy { retry_after_s: u64 },
}

/// Units of one line from one source, and when they are ready (to ship or to collect).
#[derive(Debug, Clone)]
pub struct RoutedSource {
    pub location: LocationCode,
    pub qty: Qty,
    pub route: Route,
    pub ready_at: DateTime<Utc>,
    /// For the transfer route: the lane's lead time.
    pub lead_time_hours: f64,
}

/// One line of the request as routed: what of it can be promised, and from where.
#[derive(Debug, Clone)]
pub struct RoutedLine {
    pub sku: SkuCode,
    pub qty: i64,
    pub promisable: i64,
    pub sources: Vec<RoutedSource>,
}

/// A transfer the plan needs into the store: from where, how many, and the lane's lead time.
#[derive(Debug, Clone)]
pub struct RoutedTransfer {
    pub from: LocationCode,
    pub qty: Qty,
    pub lead_time_hours: f64,
}

/// The optimiser's plan for a request. Callers read it through domain types only.
pub struct Routed {
    plan: SourcingPlan,
    version: CostVersion,
}

impl Routed {
    pub fn is_feasible(&self) -> bool {
        !matches!(
            self.plan.status,
            SolveStatus::Infeasible { .. } | SolveStatus::Unsolved { .. }
        )
    }

    pub fn sources_used(&self) -> usize {
        let mut sources: Vec<&str> = self
            .plan
            .lines
            .iter()
            .flat_map(|line| line.sources.iter().map(|s| s.location.0.as_str()))
            .collect();
        sources.sort_unstable();
        sources.dedup();
        sources.len()
    }

    /// Every line with its sources, ready times counted from `now`.
    pub fn lines(&self, now: DateTime<Utc>) -> Result<Vec<RoutedLine>, Invalid> {
        self.plan
            .lines
            .iter()
            .map(|line| {
                let sources = line
                    .sources
                    .iter()
                    .map(|source| self.source(&line.sku.0, source, now))
                    .collect::<Result<_, Invalid>>()?;
                Ok(RoutedLine {
                    sku: SkuCode::parse("sku", &line.sku.0)?,
                    qty: i64::from(line.qty),
                    promisable: i64::from(line.qty - line.unfulfilled),
                    sources,
                })
            })
            .collect()
    }

    fn source(
        &self,
        sku: &str,
        source: &allot_solver::LineSource,
        now: DateTime<Utc>,
    ) -> Result<RoutedSource, Invalid> {
        let from = source.location.0.as_str();
        let hours = self
            .plan
            .shipments
            .iter()
            .find(|s| s.from.0 == from)
            .map(|s| s.ready_in_hours)
            .or_else(|| {
                let mut batches = self.plan.pickup_batches.iter();
                batches
                    .find(|b| b.source.0 == from)
                    .map(|b| b.ready_in_hours)
            })
            .unwrap_or(0.0);
        let lead_time_hours = self
            .plan
            .transfers
            .iter()
            .find(|t| t.from.0 == from && t.sku.0 == sku)
            .map_or(0.0, |t| t.lead_time_hours);
        Ok(RoutedSource {
            location: LocationCode::parse("source", from)?,
            qty: Qty::parse("qty", i64::from(source.qty))?,
            route: route_of(source.route),
            ready_at: now + Duration::milliseconds((hours * 3_600_000.0) as i64),
            lead_time_hours,
        })
    }

    /// The transfers into the store the plan needs (a clerk's restock).
    pub fn transfers(&self) -> Result<Vec<RoutedTransfer>, Invalid> {
        self.plan
            .transfers
            .iter()
            .map(|t| {
                Ok(RoutedTransfer {
                    from: LocationCode::parse("from", &t.from.0)?,
                    qty: Qty::parse("qty", i64::from(t.qty))?,
                    lead_time_hours: t.lead_time_hours,
                })
            })
            .collect()
    }

    /// The cost the optimiser weighed, by component.
    pub fn cost(&self) -> serde_json::Value {
        serde_json::to_value(self.plan.cost).unwrap_or_default()
    }

    /// How the plan was decided; `None` for a request nothing could serve.
    pub fn decision(&self) -> Option<Decision> {
        let status = match self.plan.status {
            SolveStatus::Optimal => SolveOutcome::Optimal,
            SolveStatus::FallbackGreedy { .. } => SolveOutcome::Fallback,
            SolveStatus::Infeasible { .. } | SolveStatus::Unsolved { .. } => return None,
        };
        let codes = |ids: &[allot_solver::LocationId]| ids.iter().map(|id| id.0.clone()).collect();
        let runner_up = self.plan.runner_up.as_ref().map(|other| {
            RunnerUp::new(
                other.without.0.clone(),
                codes(&other.sources),
                parts(&other.cost),
                other.extra_cost,
            )
        });
        Some(Decision {
            status,
            method: serde_json::to_value(self.plan.method)
                .ok()
                .and_then(|method| method.as_str().map(str::to_owned))
                .unwrap_or_default(),
            cost_model_version: self.version.0,
            sources: codes(&allot_solver::plan_sources(&self.plan)),
            cost: parts(&self.plan.cost),
            runner_up,
        })
    }

    /// Why the request cannot be served in full: each short line with what is available.
    pub fn shortage(&self) -> String {
        if let SolveStatus::Infeasible { reason } = &self.plan.status {
            return reason.clone();
        }
        let short: Vec<&str> = self
            .plan
            .lines
            .iter()
            .filter(|line| line.unfulfilled > 0 || line.sources.is_empty())
            .map(|line| line.sku.0.as_str())
            .collect();
        format!("not enough stock to promise: {}", short.join(", "))
    }
}

fn parts(cost: &allot_solver::CostBreakdown) -> CostParts {
    CostParts {
        shipping: cost.shipping,
        handling: cost.handling,
        transfer: cost.transfer,
        split_penalty: cost.split_penalty,
        wait: cost.wait,
        protection_penalty: cost.protection_penalty,
        unfulfilled_penalty: cost.unfulfilled_penalty,
        total: cost.total,
    }
}

fn route_of(route: allot_solver::Route) -> Route {
    match route {
        allot_solver::Route::ShipDirect => Route::Ship,
        allot_solver::Route::PickupFromShelf => Route::Pickup,
        allot_solver::Route::TransferThenPickup => Route::Transfer,
    }
}

/// A location with units of one SKU it could still promise (on hand − allocated − safety stock).
#[derive(Debug, Clone)]
pub struct CandidateRow {
    pub location: Location,
    pub sku: String,
    pub available: i64,
    /// The location's recent walk-in sales of the SKU, per day: a store keeps that many days of
    /// them back from online orders.
    pub sold_per_day: f64,
    /// Units the location can still pick today, when it has a daily capacity.
    pub capacity_left: Option<i64>,
}

/// Routes a request over the ledger's figures as clerk lookups see them (this process's copies,
/// current while Redis's stamps say so) minus live holds, under the cost model `costs`.
pub async fn route(
    stock: &StockCache,
    pool: &Pool,
    redis: &Redis,
    request: &Request,
    costs: &Versioned,
    solvers: &Solvers,
) -> Result<Routed, Error> {
    let (mut rows, held) = candidate_rows(stock, pool, redis, request).await?;
    solvers.check(request, &rows)?;
    let pickup_store = pickup_store(stock, pool, request).await?;
    demand_and_capacity(pool, request, &mut rows).await?;
    let problem = problem(request, pickup_store.as_ref(), &rows, &held, &costs.model);
    let permit = solvers.permit().await?;
    let started = std::time::Instant::now();
    let plan =
        tokio::task::spawn_blocking(move || allot_solver::solve_sourcing(&problem)).await??;
    drop(permit);
    crate::telemetry::solved(solve_label(&plan.status), started.elapsed());
    Ok(Routed {
        plan,
        version: costs.version,
    })
}

/// Every location with units of the request's SKUs, and the units live holds keep from each.
async fn candidate_rows(
    stock: &StockCache,
    pool: &Pool,
    redis: &Redis,
    request: &Request,
) -> Result<(Vec<CandidateRow>, HashMap<(String, String), i64>), Error> {
    // One SKU after the other: a SKU not in this process's copies is read from PostgreSQL, and
    // a request must never hold more than one pooled connection (a 100-line order read all at
    // once took 100, and concurrent orders would starve the pool waiting for each other).
    let mut answers = Vec::with_capacity(request.lines.len());
    for (sku, _) in &request.lines {
        answers.push(stock.now(pool, redis, sku).await?);
    }
    let mut rows = Vec::new();
    let mut held = HashMap::new();
    for (index, ((sku, _), answer)) in request.lines.iter().zip(answers).enumerate() {
        let Some(answer) = answer else {
            return Err(ledger::Error::UnknownSku {
                field: format!("lines[{index}].sku"),
                code: sku.to_string(),
            }
            .into());
        };
        for row in answer.rows {
            // Live holds are subtracted in `problem`, not here.
            let available = row.balance.available(0, row.location.safety_stock);
            if available == 0 {
                continue;
            }
            let own: i64 = request
                .own_held
                .iter()
                .filter(|line| line.sku == *sku && line.location == row.location.code)
                .map(|line| line.qty.get())
                .sum();
            held.insert(
                (sku.to_string(), row.location.code.to_string()),
                (row.held - own).max(0),
            );
            rows.push(CandidateRow {
                location: Location::clone(&row.location),
                sku: sku.to_string(),
                available,
                sold_per_day: 0.0,
                capacity_left: None,
            });
        }
    }
    Ok((rows, held))
}

async fn pickup_store(
    stock: &StockCache,
    pool: &Pool,
    request: &Request,
) -> Result<Option<Location>, Error> {
    let Fulfilment::Pickup(code) = &request.fulfilment else {
        return Ok(None);
    };
    match stock.location(pool, code).await? {
        None => Err(ledger::Error::UnknownLocation {
            field: "fulfilment.store".into(),
            code: code.to_string(),
        }
        .into()),
        Some(store) if !store.pickup && !request.restock => Err(Error::Refused {
            field: "fulfilment.store".into(),
            message: format!("{code} does not offer pickup"),
        }),
        Some(store) => Ok(Some(Location::clone(&store))),
    }
}

/// Fills in each row's walk-in sales and, for locations with a daily pick capacity, what of it
/// is left today.
async fn demand_and_capacity(
    pool: &Pool,
    request: &Request,
    rows: &mut [CandidateRow],
) -> Result<(), Error> {
    let client = pool.get().await.map_err(ledger::Error::from)?;
    let skus: Vec<String> = request
        .lines
        .iter()
        .map(|(sku, _)| sku.to_string())
        .collect();
    let sold = ledger::costs::sold_per_day(&client, &skus).await?;
    let mut capped: Vec<String> = rows
        .iter()
        .filter(|row| row.location.pick_capacity_per_day.is_some())
        .map(|row| row.location.code.to_string())
        .collect();
    capped.sort_unstable();
    capped.dedup();
    let picked = match capped.is_empty() {
        true => HashMap::new(),
        false => ledger::costs::picked_today(&client, &capped).await?,
    };
    for row in rows {
        let code = row.location.code.to_string();
        let key = (row.sku.clone(), code);
        row.sold_per_day = sold.get(&key).copied().unwrap_or(0.0);
        row.capacity_left = row
            .location
            .pick_capacity_per_day
            .map(|capacity| capacity - picked.get(&key.1).copied().unwrap_or(0));
    }
    Ok(())
}

fn solve_label(status: &SolveStatus) -> &'static str {
    match status {
        SolveStatus::Optimal => "optimal",
        SolveStatus::FallbackGreedy { .. } => "fallback",
        SolveStatus::Infeasible { .. } => "infeasible",
        SolveStatus::Unsolved { .. } => "unsolved",
    }
}

fn solver_kind(kind: LocationKind) -> SolverKind {
    match kind {
        LocationKind::Store => SolverKind::Store,
        LocationKind::Warehouse => SolverKind::Warehouse,
    }
}

/// The sourcing problem of one request: pure, so it can be tested without a database.
pub fn problem(
    request: &Request,
    pickup_store: Option<&Location>,
    rows: &[CandidateRow],
    held: &HashMap<(String, String), i64>,
    costs: &CostModel,
) -> SourcingProblem {
    let (mut candidates, sources) = candidates(request, rows, held, costs);
    let (fulfilment, lanes) = match (&request.fulfilment, pickup_store) {
        (Fulfilment::Ship(point), _) => {
            let destination = (*point).into();
            (SolverFulfilment::Ship { destination }, Vec::new())
        }
        (Fulfilment::Pickup(code), store) => {
            let lanes = match store {
                Some(store) => {
                    candidates
                        .entry(code.to_string())
                        .or_insert_with(|| candidate(store, None, costs));
                    lanes_into(store, sources.values().copied(), costs)
                }
                None => Vec::new(),
            };
            let store = code.as_str().into();
            (SolverFulfilment::Pickup { store }, lanes)
        }
    };
    SourcingProblem {
        lines: request
            .lines
            .iter()
            .map(|(sku, qty)| OrderLine {
                sku: sku.as_str().into(),
                qty: qty.get(),
            })
            .collect(),
        fulfilment,
        candidates: candidates.into_values().collect(),
        lanes,
        costs: sourcing_costs(request, costs),
        allow_partial: request.allow_partial,
        time_limit_ms: SOLVE_TIME_MS_MAX,
    }
}

/// The locations that can serve the request with the units they can still promise (live holds
/// subtracted), by code; and those locations themselves.
fn candidates<'a>(
    request: &Request,
    rows: &'a [CandidateRow],
    held: &HashMap<(String, String), i64>,
    costs: &CostModel,
) -> (BTreeMap<String, Candidate>, BTreeMap<String, &'a Location>) {
    let mut candidates: BTreeMap<String, Candidate> = BTreeMap::new();
    let mut locations = BTreeMap::new();
    for row in rows {
        let code = row.location.code.to_string();
        let usable = match &request.fulfilment {
            Fulfilment::Ship(_) => row.location.ship,
            Fulfilment::Pickup(store) if store == &row.location.code => !request.restock,
            Fulfilment::Pickup(_) => row.location.transfers_out,
        };
        let held = held.get(&(row.sku.clone(), code.clone())).copied();
        let available = row.available - held.unwrap_or(0);
        if !usable || available <= 0 {
            continue;
        }
        // On hand can outgrow what the solver takes per location; no order asks for that many,
        // so offering at most the limit changes no plan.
        let available = available.min(STOCK_UNITS_MAX);
        locations.insert(code.clone(), &row.location);
        let candidate = candidates
            .entry(code)
            .or_insert_with(|| candidate(&row.location, row.capacity_left, costs));
        candidate.stock.push(StockLevel {
            sku: row.sku.as_str().into(),
            available,
            protected: match row.location.kind {
                LocationKind::Store => costs.protection.units_for(row.sold_per_day).min(available),
                LocationKind::Warehouse => 0,
            },
        });
    }
    (candidates, locations)
}

/// A lane into the pickup store from every other source, priced by the cost model.
fn lanes_into<'a>(
    store: &Location,
    sources: impl Iterator<Item = &'a Location>,
    costs: &CostModel,
) -> Vec<Lane> {
    sources
        .filter(|source| source.code != store.code)
        .map(|source| {
            let lane = costs.lane(source.kind, store.point.distance_km(source.point));
            Lane {
                from: source.code.as_str().into(),
                to: store.code.as_str().into(),
                cost_fixed: lane.fixed,
                cost_per_unit: lane.per_unit,
                lead_time_hours: lane.lead_time_hours,
            }
        })
        .collect()
}

fn sourcing_costs(request: &Request, costs: &CostModel) -> SourcingCosts {
    SourcingCosts {
        shipment_fixed: costs.parcel.fixed,
        shipping_per_unit: costs.parcel.per_unit,
        shipping_per_unit_km: costs.parcel.per_unit_km,
        split_penalty: match request.allow_split {
            true => costs.split_penalty,
            false => NO_SPLIT_PENALTY,
        },
        wait_per_hour: costs.wait_per_hour,
        protection_per_unit: costs.protection.per_unit,
        unfulfilled_per_unit: match request.allow_partial {
            true => costs.unfulfilled_per_unit,
            false => 0.0,
        },
    }
}

fn candidate(location: &Location, capacity_left: Option<i64>, costs: &CostModel) -> Candidate {
    let pick = costs.pick(location.kind);
    Candidate {
        location: location.code.as_str().into(),
        kind: solver_kind(location.kind),
        position: location.point.into(),
        stock: Vec::new(),
        handling_per_unit: location.handling_per_unit.unwrap_or(pick.per_unit),
        handling_hours: pick.hours,
        capacity_units: capacity_left.map(|units| units.clamp(0, STOCK_UNITS_MAX)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(code: &str, kind: LocationKind, ship: bool) -> Location {
        Location {
            code: LocationCode::parse("code", code).unwrap(),
            name: code.into(),
            kind,
            point: Point::parse("", 25.0, 121.5).unwrap(),
            pickup: kind == LocationKind::Store,
            ship,
            safety_stock: 0,
            handling_per_unit: None,
            pick_capacity_per_day: None,
            transfers_out: true,
            low_stock_below: 0,
        }
    }

    fn row(location: &Location, available: i64) -> CandidateRow {
        CandidateRow {
            location: location.clone(),
            sku: "TEE".into(),
            available,
            sold_per_day: 0.0,
            capacity_left: None,
        }
    }

    fn request(fulfilment: Fulfilment, restock: bool) -> Request {
        Request {
            lines: vec![(
                SkuCode::parse("sku", "TEE").unwrap(),
                Qty::parse("qty", 2).unwrap(),
            )],
            fulfilment,
            allow_split: true,
            allow_partial: false,
            restock,
            own_held: Vec::new(),
        }
    }

    #[test]
    fn shipping_uses_only_ship_from_locations_and_subtracts_live_holds() {
        let shipper = location("S1", LocationKind::Store, true);
        let shop_only = location("S2", LocationKind::Store, false);
        let warehouse = location("W", LocationKind::Warehouse, true);
        let rows = [row(&shipper, 3), row(&shop_only, 9), row(&warehouse, 5)];
        let held = HashMap::from([
            (("TEE".to_owned(), "W".to_owned()), 5),
            (("TEE".to_owned(), "S1".to_owned()), 1),
        ]);
        let point = Point::parse("", 25.0, 121.5).unwrap();
        let problem = problem(
            &request(Fulfilment::Ship(point), false),
            None,
            &rows,
            &held,
            &CostModel::default(),
        );
        let codes: Vec<&str> = problem
            .candidates
            .iter()
            .map(|c| c.location.0.as_str())
            .collect();
        assert_eq!(codes, ["S1"], "S2 does not ship; W's units are all held");
        assert_eq!(problem.candidates[0].stock[0].available, 2);
        assert_eq!(
            problem.candidates[0].stock[0].protected,
            CostModel::default().protection.units
        );
        assert!(problem.lanes.is_empty());
    }

    #[test]
    fn a_pickup_store_gets_a_lane_from_every_other_source_and_restock_skips_its_shelf() {
        let store = location("P", LocationKind::Store, false);
        let other = location("N", LocationKind::Store, false);
        let warehouse = location("W", LocationKind::Warehouse, true);
        let rows = [row(&store, 4), row(&other, 1), row(&warehouse, 9)];
        let pickup = Fulfilment::Pickup(store.code.clone());
        let customer = problem(
            &request(pickup.clone(), false),
            Some(&store),
            &rows,
            &HashMap::new(),
            &CostModel::default(),
        );
        assert_eq!(customer.candidates.len(), 3);
        assert_eq!(customer.lanes.len(), 2);
        assert!(customer.lanes.iter().all(|lane| lane.to.0 == "P"));
        let restock = problem(
            &request(pickup, true),
            Some(&store),
            &rows,
            &HashMap::new(),
            &CostModel::default(),
        );
        let shelf = restock
            .candidates
            .iter()
            .find(|c| c.location.0 == "P")
            .unwrap();
        assert!(
            shelf.stock.is_empty(),
            "a store does not restock from its own shelf"
        );
        let plan = allot_solver::solve_sourcing(&restock).unwrap();
        assert!(plan.lines[0].sources.iter().all(|s| s.location.0 != "P"));
    }

    #[test]
    fn a_request_nothing_can_serve_is_answered_not_refused() {
        let store = location("P", LocationKind::Store, true);
        let point = Point::parse("", 25.0, 121.5).unwrap();
        let infeasible = |problem: &SourcingProblem, what: &str| {
            let plan = allot_solver::solve_sourcing(problem).expect("no fault");
            assert!(
                matches!(plan.status, SolveStatus::Infeasible { ref reason }
                    if reason.contains(what)),
                "{:?}",
                plan.status
            );
            assert!(plan.lines[0].sources.is_empty(), "nothing is sourced");
        };
        let ship = request(Fulfilment::Ship(point), false);
        let nowhere = problem(&ship, None, &[], &HashMap::new(), &CostModel::default());
        infeasible(&nowhere, "sku TEE: 2 units asked, 0 available");
        // A pickup store is a candidate even with nothing on its shelf.
        let pickup = Fulfilment::Pickup(store.code.clone());
        let shelf = problem(
            &request(pickup.clone(), false),
            Some(&store),
            &[],
            &HashMap::new(),
            &CostModel::default(),
        );
        infeasible(&shelf, "sku TEE: 2 units asked, 0 available");
        // Short, but stocked: the solver says what is missing.
        let stocked = problem(
            &ship,
            None,
            &[row(&store, 1)],
            &HashMap::new(),
            &CostModel::default(),
        );
        infeasible(&stocked, "sku TEE: 2 units asked, 1 available");
        // The customer accepting less: everything unfulfilled, nothing refused.
        let mut partial = request(pickup, false);
        partial.allow_partial = true;
        let partial = problem(
            &partial,
            Some(&store),
            &[],
            &HashMap::new(),
            &CostModel::default(),
        );
        let plan = allot_solver::solve_sourcing(&partial).unwrap();
        assert_eq!((plan.lines[0].qty, plan.lines[0].unfulfilled), (2, 2));
    }
}
