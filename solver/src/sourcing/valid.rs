//! The validated sourcing problem: checked once, then reduced to *sources* (candidates that can
//! serve this order by one route, with their per-unit and fixed costs worked out), so the
//! algorithms never look at raw input again. Also the one cost function every algorithm's
//! allocation is priced with.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::{
    Candidate, CostBreakdown, Fulfilment, LinePlan, LineSource, PickupBatch, Route, Shipment,
    SourcingPlan, SourcingProblem, Transfer, CANDIDATES_MAX, CANDIDATE_STOCK_ENTRIES_MAX,
    LANES_MAX, LEAD_TIME_HOURS_MAX, LINE_QTY_MAX, ORDER_LINES_MAX,
};
use crate::error::{check, Result, SolveError};
use crate::geo::{haversine_km, Coordinates};
use crate::ids::{LocationId, Sku};
use crate::status::{Method, SolveStatus};
use crate::{SOLVE_TIME_MS_MAX, STOCK_UNITS_MAX};

/// An order line with its SKU as an index into [`Sourcing::skus`].
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub(crate) sku: usize,
    pub(crate) qty: u32,
}

/// A candidate that can serve this order, by its one route, with costs per unit and per use.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub(crate) location: LocationId,
    pub(crate) route: Route,
    /// Paid once if the source is used: the parcel's or the transfer's fixed cost.
    pub(crate) carriage_fixed: f64,
    /// Paid once if the source is used: the customer's wait for its units.
    pub(crate) wait_cost: f64,
    pub(crate) handling_per_unit: f64,
    /// Parcel cost per unit (distance-based) or lane cost per unit.
    pub(crate) carriage_per_unit: f64,
    /// To the customer when shipping, to the pickup store when picking up.
    pub(crate) distance_km: f64,
    pub(crate) ready_in_hours: f64,
    pub(crate) lead_time_hours: f64,
    /// Available units per order SKU, at most the order's demand for it.
    pub(crate) available: Vec<u32>,
    /// Units per order SKU above the protected level, at most `available`.
    pub(crate) unprotected: Vec<u32>,
    /// Units it can pick today, at most the order's total quantity.
    pub(crate) capacity: u32,
}

impl Source {
    /// Paid once if the source is used.
    pub(crate) fn fixed_cost(&self) -> f64 {
        self.carriage_fixed + self.wait_cost
    }

    pub(crate) fn unit_cost(&self) -> f64 {
        self.handling_per_unit + self.carriage_per_unit
    }
}

/// Units per (line, source); `units[line * sources + source]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Allocation {
    pub(crate) units: Vec<u32>,
    pub(crate) sources: usize,
}

impl Allocation {
    pub(crate) fn empty(lines: usize, sources: usize) -> Self {
        Self {
            units: vec![0; lines * sources],
            sources,
        }
    }

    pub(crate) fn get(&self, line: usize, source: usize) -> u32 {
        self.units[line * self.sources + source]
    }

    pub(crate) fn add(&mut self, line: usize, source: usize, units: u32) {
        self.units[line * self.sources + source] += units;
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Sourcing {
    pub(crate) lines: Vec<Line>,
    pub(crate) skus: Vec<Sku>,
    pub(crate) sources: Vec<Source>,
    pub(crate) split_penalty: f64,
    pub(crate) protection_per_unit: f64,
    /// `Some(cost per unit)` when partial fulfilment is allowed.
    pub(crate) unfulfilled_per_unit: Option<f64>,
    pub(crate) pickup_store: Option<LocationId>,
    time_limit_ms: u64,
}

impl Sourcing {
    /// Validates `problem` and works out each usable candidate's route and costs.
    pub(crate) fn parse(problem: &SourcingProblem) -> Result<Self> {
        let time_limit_ms =
            check::time_limit_ms("time_limit_ms", problem.time_limit_ms, SOLVE_TIME_MS_MAX)?;
        let (lines, skus) = parse_lines(problem)?;
        let costs = &problem.costs;
        let shipment_fixed =
            check::non_negative(|| "costs.shipment_fixed".to_string(), costs.shipment_fixed)?;
        let shipping_per_unit_km = check::non_negative(
            || "costs.shipping_per_unit_km".to_string(),
            costs.shipping_per_unit_km,
        )?;
        let shipping_per_unit = check::non_negative(
            || "costs.shipping_per_unit".to_string(),
            costs.shipping_per_unit,
        )?;
        let split_penalty =
            check::non_negative(|| "costs.split_penalty".to_string(), costs.split_penalty)?;
        let wait_per_hour =
            check::non_negative(|| "costs.wait_per_hour".to_string(), costs.wait_per_hour)?;
        let protection_per_unit = check::non_negative(
            || "costs.protection_per_unit".to_string(),
            costs.protection_per_unit,
        )?;
        let unfulfilled_per_unit = check::non_negative(
            || "costs.unfulfilled_per_unit".to_string(),
            costs.unfulfilled_per_unit,
        )?;
        if problem.allow_partial && unfulfilled_per_unit == 0.0 {
            // Otherwise leaving everything unfulfilled would be free, hence optimal.
            return Err(SolveError::Invalid {
                field: "costs.unfulfilled_per_unit".to_string(),
                reason: "must be positive when allow_partial is true".to_string(),
            });
        }

        // No candidate at all is a question with an answer (nothing can be sourced), not a fault.
        check::count(
            "candidates",
            problem.candidates.len(),
            false,
            CANDIDATES_MAX,
        )?;
        let mut positions: HashMap<&LocationId, Coordinates> = HashMap::new();
        for (index, candidate) in problem.candidates.iter().enumerate() {
            let position = check_candidate(index, candidate)?;
            if positions.insert(&candidate.location, position).is_some() {
                return Err(SolveError::Duplicate {
                    field: format!("candidates[{index}].location"),
                    value: candidate.location.0.clone(),
                });
            }
        }
        let lanes = parse_lanes(problem, &positions)?;

        let demand = demand_per_sku(&lines, skus.len());
        let total_qty: u32 = lines.iter().map(|line| line.qty).sum();
        let sku_index: HashMap<&Sku, usize> =
            skus.iter().enumerate().map(|(i, sku)| (sku, i)).collect();
        let stock_of = |candidate: &Candidate| {
            let mut available = vec![0u32; skus.len()];
            let mut unprotected = vec![0u32; skus.len()];
            for level in &candidate.stock {
                if let Some(&sku) = sku_index.get(&level.sku) {
                    // Validated as 0..=STOCK_UNITS_MAX above.
                    let units = level.available as u32;
                    let above_protected = units.saturating_sub(level.protected as u32);
                    available[sku] = units.min(demand[sku]);
                    unprotected[sku] = above_protected.min(demand[sku]);
                }
            }
            (available, unprotected)
        };
        let capacity_of = |candidate: &Candidate| {
            candidate
                .capacity_units
                .map_or(total_qty, |units| (units as u32).min(total_qty))
        };

        let mut sources = Vec::new();
        let pickup_store = match &problem.fulfilment {
            Fulfilment::Ship { destination } => {
                let destination = destination.validated("fulfilment.destination")?;
                for candidate in &problem.candidates {
                    let distance_km = haversine_km(candidate.position, destination);
                    let (available, unprotected) = stock_of(candidate);
                    let wait_cost = wait_per_hour * candidate.handling_hours;
                    sources.push(Source {
                        location: candidate.location.clone(),
                        route: Route::ShipDirect,
                        carriage_fixed: shipment_fixed,
                        wait_cost,
                        handling_per_unit: candidate.handling_per_unit,
                        carriage_per_unit: shipping_per_unit + shipping_per_unit_km * distance_km,
                        distance_km,
                        ready_in_hours: candidate.handling_hours,
                        lead_time_hours: 0.0,
                        available,
                        unprotected,
                        capacity: capacity_of(candidate),
                    });
                }
                None
            }
            Fulfilment::Pickup { store } => {
                let Some(&store_position) = positions.get(store) else {
                    return Err(SolveError::UnknownLocation {
                        field: "fulfilment.store".to_string(),
                        location: store.0.clone(),
                    });
                };
                for candidate in &problem.candidates {
                    let (available, unprotected) = stock_of(candidate);
                    let distance_km = haversine_km(candidate.position, store_position);
                    let (route, fixed_cost, carriage_per_unit, lead_time_hours) =
                        if &candidate.location == store {
                            (Route::PickupFromShelf, 0.0, 0.0, 0.0)
                        } else if let Some(lane) = lanes.get(&(&candidate.location, store)) {
                            (
                                Route::TransferThenPickup,
                                lane.cost_fixed,
                                lane.cost_per_unit,
                                lane.lead_time_hours,
                            )
                        } else {
                            continue;
                        };
                    let ready_in_hours = candidate.handling_hours + lead_time_hours;
                    let wait_cost = wait_per_hour * ready_in_hours;
                    sources.push(Source {
                        location: candidate.location.clone(),
                        route,
                        carriage_fixed: fixed_cost,
                        wait_cost,
                        handling_per_unit: candidate.handling_per_unit,
                        carriage_per_unit,
                        distance_km,
                        ready_in_hours,
                        lead_time_hours,
                        available,
                        unprotected,
                        capacity: capacity_of(candidate),
                    });
                }
                Some(store.clone())
            }
        };
        // A source with nothing to give can never be used; dropping it changes no plan.
        sources.retain(|source| source.capacity > 0 && source.available.iter().any(|&a| a > 0));

        Ok(Self {
            lines,
            skus,
            sources,
            split_penalty,
            protection_per_unit,
            unfulfilled_per_unit: problem.allow_partial.then_some(unfulfilled_per_unit),
            pickup_store,
            time_limit_ms,
        })
    }

    pub(crate) fn time_limit(&self) -> Duration {
        Duration::from_millis(self.time_limit_ms)
    }

    pub(crate) fn total_qty(&self) -> u32 {
        self.lines.iter().map(|line| line.qty).sum()
    }

    /// Units the order asks for, per SKU.
    pub(crate) fn demand(&self) -> Vec<u32> {
        demand_per_sku(&self.lines, self.skus.len())
    }

    /// The cost of `allocation` under the model; every algorithm's plan is priced here.
    pub(crate) fn cost(&self, allocation: &Allocation) -> CostBreakdown {
        let mut cost = CostBreakdown::default();
        let mut sources_used = 0usize;
        for (index, source) in self.sources.iter().enumerate() {
            let mut units = 0u32;
            let mut taken = vec![0u32; self.skus.len()];
            for (line_index, line) in self.lines.iter().enumerate() {
                let x = allocation.get(line_index, index);
                units += x;
                taken[line.sku] += x;
            }
            if units == 0 {
                continue;
            }
            sources_used += 1;
            cost.wait += source.wait_cost;
            let carriage = source.carriage_fixed + source.carriage_per_unit * f64::from(units);
            match source.route {
                Route::ShipDirect => cost.shipping += carriage,
                Route::TransferThenPickup => cost.transfer += carriage,
                Route::PickupFromShelf => {}
            }
            cost.handling += source.handling_per_unit * f64::from(units);
            let below_protected: u32 = taken
                .iter()
                .zip(&source.unprotected)
                .map(|(&t, &free)| t.saturating_sub(free))
                .sum();
            cost.protection_penalty += self.protection_per_unit * f64::from(below_protected);
        }
        cost.split_penalty = self.split_penalty * sources_used.saturating_sub(1) as f64;
        let unfulfilled: u32 = (0..self.lines.len())
            .map(|line| self.unfulfilled(allocation, line))
            .sum();
        cost.unfulfilled_penalty =
            self.unfulfilled_per_unit.unwrap_or(0.0) * f64::from(unfulfilled);
        cost.total = cost.shipping
            + cost.handling
            + cost.transfer
            + cost.split_penalty
            + cost.wait
            + cost.protection_penalty
            + cost.unfulfilled_penalty;
        cost
    }

    pub(crate) fn unfulfilled(&self, allocation: &Allocation, line: usize) -> u32 {
        let sourced: u32 = (0..self.sources.len())
            .map(|source| allocation.get(line, source))
            .sum();
        self.lines[line].qty.saturating_sub(sourced)
    }

    /// Whether `allocation` respects stock, capacity, line quantities and (without partial
    /// fulfilment) covers every line. Whole units hold by construction (`u32`).
    pub(crate) fn is_feasible(&self, allocation: &Allocation) -> bool {
        let lines_ok = self.lines.iter().enumerate().all(|(l, line)| {
            let sourced: u32 = (0..self.sources.len()).map(|i| allocation.get(l, i)).sum();
            sourced <= line.qty && (self.unfulfilled_per_unit.is_some() || sourced == line.qty)
        });
        let sources_ok = self.sources.iter().enumerate().all(|(i, source)| {
            let mut taken = vec![0u32; self.skus.len()];
            for (l, line) in self.lines.iter().enumerate() {
                taken[line.sku] += allocation.get(l, i);
            }
            let units: u32 = taken.iter().sum();
            units <= source.capacity && taken.iter().zip(&source.available).all(|(t, a)| t <= a)
        });
        lines_ok && sources_ok
    }

    /// The public plan for a feasible `allocation`.
    pub(crate) fn plan(
        &self,
        allocation: &Allocation,
        status: SolveStatus,
        method: Method,
    ) -> SourcingPlan {
        assert!(
            self.is_feasible(allocation),
            "plan from an infeasible allocation"
        );
        self.describe(allocation, status, method)
    }

    fn describe(
        &self,
        allocation: &Allocation,
        status: SolveStatus,
        method: Method,
    ) -> SourcingPlan {
        let lines = self
            .lines
            .iter()
            .enumerate()
            .map(|(l, line)| LinePlan {
                sku: self.skus[line.sku].clone(),
                qty: line.qty,
                sources: self
                    .sources
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| allocation.get(l, i) > 0)
                    .map(|(i, source)| LineSource {
                        location: source.location.clone(),
                        qty: allocation.get(l, i),
                        route: source.route,
                    })
                    .collect(),
                unfulfilled: self.unfulfilled(allocation, l),
            })
            .collect();
        let mut shipments = Vec::new();
        let mut transfers = Vec::new();
        let mut pickup_batches = Vec::new();
        for (i, source) in self.sources.iter().enumerate() {
            let mut taken = vec![0u32; self.skus.len()];
            for (l, line) in self.lines.iter().enumerate() {
                taken[line.sku] += allocation.get(l, i);
            }
            let units: u32 = taken.iter().sum();
            if units == 0 {
                continue;
            }
            match (&source.route, &self.pickup_store) {
                (Route::ShipDirect, _) => shipments.push(Shipment {
                    from: source.location.clone(),
                    units,
                    distance_km: source.distance_km,
                    ready_in_hours: source.ready_in_hours,
                }),
                (Route::TransferThenPickup, Some(store)) => {
                    for (sku, &qty) in taken.iter().enumerate().filter(|(_, &q)| q > 0) {
                        transfers.push(Transfer {
                            from: source.location.clone(),
                            to: store.clone(),
                            sku: self.skus[sku].clone(),
                            qty,
                            lead_time_hours: source.lead_time_hours,
                        });
                    }
                }
                _ => {}
            }
            if let Some(store) = &self.pickup_store {
                pickup_batches.push(PickupBatch {
                    store: store.clone(),
                    source: source.location.clone(),
                    units,
                    ready_in_hours: source.ready_in_hours,
                });
            }
        }
        pickup_batches.sort_by(|a, b| a.ready_in_hours.total_cmp(&b.ready_in_hours));
        SourcingPlan {
            status,
            method,
            lines,
            shipments,
            transfers,
            pickup_batches,
            cost: self.cost(allocation),
            runner_up: None,
        }
    }

    /// A plan that sources nothing, for an order no plan can cover.
    pub(crate) fn infeasible_plan(&self, method: Method) -> SourcingPlan {
        let empty = Allocation::empty(self.lines.len(), self.sources.len());
        let status = SolveStatus::Infeasible {
            reason: self.shortage_reason(),
        };
        let mut plan = self.describe(&empty, status, method);
        // Nothing is sourced and no unfulfilled penalty applies: the order is refused.
        plan.cost = CostBreakdown::default();
        plan
    }

    /// The greedy plan after the optimiser ran out of time, or an unsolved plan without one.
    pub(crate) fn fallback_plan(&self, greedy: Option<&Allocation>) -> SourcingPlan {
        let reason = format!(
            "time limit of {} ms reached before the optimiser proved a plan",
            self.time_limit_ms
        );
        match greedy {
            Some(allocation) => self.plan(
                allocation,
                SolveStatus::FallbackGreedy { reason },
                Method::Greedy,
            ),
            None => {
                let mut plan = self.infeasible_plan(Method::Greedy);
                plan.status = SolveStatus::Unsolved {
                    reason: format!("{reason}, and the greedy baseline found no full plan"),
                };
                plan
            }
        }
    }

    /// Names the first SKU whose demand exceeds what all sources hold, if any.
    fn shortage_reason(&self) -> String {
        let demand = self.demand();
        for (sku, &asked) in demand.iter().enumerate() {
            let held: u64 = self
                .sources
                .iter()
                .map(|source| u64::from(source.available[sku].min(source.capacity)))
                .sum();
            if u64::from(asked) > held {
                return format!(
                    "sku {}: {asked} units asked, {held} available across usable candidates",
                    self.skus[sku]
                );
            }
        }
        "the candidates' daily capacities cannot cover the order together".to_string()
    }
}

fn demand_per_sku(lines: &[Line], skus: usize) -> Vec<u32> {
    let mut demand = vec![0u32; skus];
    for line in lines {
        demand[line.sku] += line.qty;
    }
    demand
}

fn parse_lines(problem: &SourcingProblem) -> Result<(Vec<Line>, Vec<Sku>)> {
    check::count("lines", problem.lines.len(), true, ORDER_LINES_MAX)?;
    let mut skus: Vec<Sku> = Vec::new();
    let mut lines = Vec::with_capacity(problem.lines.len());
    for (index, line) in problem.lines.iter().enumerate() {
        if line.sku.0.is_empty() {
            return Err(SolveError::Empty {
                field: format!("lines[{index}].sku"),
            });
        }
        let qty = check::units(|| format!("lines[{index}].qty"), line.qty, LINE_QTY_MAX)?;
        if qty == 0 {
            return Err(SolveError::OutOfRange {
                field: format!("lines[{index}].qty"),
                value: 0.0,
                min: 1.0,
                max: f64::from(LINE_QTY_MAX),
            });
        }
        let sku = match skus.iter().position(|sku| sku == &line.sku) {
            Some(position) => position,
            None => {
                skus.push(line.sku.clone());
                skus.len() - 1
            }
        };
        lines.push(Line { sku, qty });
    }
    Ok((lines, skus))
}

fn check_candidate(index: usize, candidate: &Candidate) -> Result<Coordinates> {
    let field = |name: &str| format!("candidates[{index}].{name}");
    if candidate.location.0.is_empty() {
        return Err(SolveError::Empty {
            field: field("location"),
        });
    }
    let position = candidate.position.validated(&field("position"))?;
    check::non_negative(|| field("handling_per_unit"), candidate.handling_per_unit)?;
    let hours = check::non_negative(|| field("handling_hours"), candidate.handling_hours)?;
    if hours > LEAD_TIME_HOURS_MAX {
        return Err(SolveError::OutOfRange {
            field: field("handling_hours"),
            value: hours,
            min: 0.0,
            max: LEAD_TIME_HOURS_MAX,
        });
    }
    if let Some(units) = candidate.capacity_units {
        check::units(|| field("capacity_units"), units, STOCK_UNITS_MAX)?;
    }
    check::count(
        &field("stock"),
        candidate.stock.len(),
        false,
        CANDIDATE_STOCK_ENTRIES_MAX,
    )?;
    let mut seen = HashSet::new();
    for (entry, level) in candidate.stock.iter().enumerate() {
        check::units(
            || field(&format!("stock[{entry}].available")),
            level.available,
            STOCK_UNITS_MAX,
        )?;
        check::units(
            || field(&format!("stock[{entry}].protected")),
            level.protected,
            STOCK_UNITS_MAX,
        )?;
        if !seen.insert(&level.sku) {
            return Err(SolveError::Duplicate {
                field: field(&format!("stock[{entry}].sku")),
                value: level.sku.0.clone(),
            });
        }
    }
    Ok(position)
}

/// Lanes keyed by (from, to), every field checked.
fn parse_lanes<'a>(
    problem: &'a SourcingProblem,
    positions: &HashMap<&LocationId, Coordinates>,
) -> Result<HashMap<(&'a LocationId, &'a LocationId), &'a super::Lane>> {
    check::count("lanes", problem.lanes.len(), false, LANES_MAX)?;
    let mut lanes = HashMap::new();
    for (index, lane) in problem.lanes.iter().enumerate() {
        let field = |name: &str| format!("lanes[{index}].{name}");
        for (name, location) in [("from", &lane.from), ("to", &lane.to)] {
            if !positions.contains_key(location) {
                return Err(SolveError::UnknownLocation {
                    field: field(name),
                    location: location.0.clone(),
                });
            }
        }
        if lane.from == lane.to {
            return Err(SolveError::Invalid {
                field: field("to"),
                reason: "a lane must join two different locations".to_string(),
            });
        }
        check::non_negative(|| field("cost_fixed"), lane.cost_fixed)?;
        check::non_negative(|| field("cost_per_unit"), lane.cost_per_unit)?;
        let hours = check::non_negative(|| field("lead_time_hours"), lane.lead_time_hours)?;
        if hours > LEAD_TIME_HOURS_MAX {
            return Err(SolveError::OutOfRange {
                field: field("lead_time_hours"),
                value: hours,
                min: 0.0,
                max: LEAD_TIME_HOURS_MAX,
            });
        }
        if lanes.insert((&lane.from, &lane.to), lane).is_some() {
            return Err(SolveError::Duplicate {
                field: field("from"),
                value: format!("{} -> {}", lane.from, lane.to),
            });
        }
    }
    Ok(lanes)
}
