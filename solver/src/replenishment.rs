//! Replenishment, warehouse to stores: which units to send to which store, within the
//! warehouse's stock and pick capacity and each store's receiving and truck capacity.
//!
//! Each store has, per SKU, units on hand (including units already in transit to it), a
//! minimum level and a target level, given directly or as days of cover of a daily demand
//! rate (`level = ⌈demand_per_day·days⌉`). A unit that lifts a store from below its minimum
//! is worth `below_min_per_unit`; a unit that lifts it from its minimum towards its target is
//! worth `to_target_per_unit` (no more than the former, so the minimum is filled first); units
//! beyond the target are worth nothing and are never sent. Every unit sent costs the
//! warehouse's handling per unit; every truck to a store costs that store's truck cost and
//! carries at most the truck capacity.
//!
//! ```text
//! maximise   Σ_{s,k} below_min_per_unit·urgent[s][k] + to_target_per_unit·topup[s][k]
//!          − handling_per_unit·Σ_{s,k} send[s][k] − Σ_s truck_cost[s]·trucks[s]
//! subject to send[s][k] = urgent[s][k] + topup[s][k]
//!            urgent[s][k] ≤ max(0, min[s][k] − on_hand[s][k])
//!            topup[s][k]  ≤ target[s][k] − max(on_hand[s][k], min[s][k])   (or 0)
//!            Σ_s send[s][k] ≤ warehouse_stock[k];  Σ_{s,k} send[s][k] ≤ pick_capacity
//!            Σ_k send[s][k] ≤ receive_capacity[s];  Σ_k send[s][k] ≤ truck_capacity·trucks[s]
//!            trucks[s] ≤ trucks_max[s];  all whole
//! ```
//!
//! The greedy baseline serves stores in order of their below-minimum shortfall (largest first),
//! filling minimums and then targets as stock and capacities allow, with as many trucks as the
//! units need; it is also the fallback when the MIP does not finish within the time limit.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use good_lp::solvers::highs::highs;
use good_lp::{
    constraint, variable, Expression, ProblemVariables, ResolutionError, Solution, SolutionStatus,
    SolverModel, Variable,
};
use serde::{Deserialize, Serialize};

use crate::error::{check, Result, SolveError};
use crate::ids::{LocationId, Sku};
use crate::status::{Method, SolveStatus};
use crate::{SOLVE_TIME_MS_MAX, STOCK_UNITS_MAX};

/// Most stores one replenishment problem may list.
pub const REPLENISHMENT_STORES_MAX: usize = 2_000;
/// Most (store, SKU) needs one replenishment problem may list.
pub const REPLENISHMENT_NEEDS_MAX: usize = 200_000;
/// Longest days-of-cover accepted.
pub const COVER_DAYS_MAX: f64 = 365.0;
/// Time limit used when a problem does not state one.
pub const REPLENISHMENT_TIME_MS_DEFAULT: u64 = 10_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplenishmentProblem {
    pub warehouse: LocationId,
    pub warehouse_stock: Vec<WarehouseStock>,
    /// Units the warehouse can pick in this run; absent means no limit.
    #[serde(default)]
    pub pick_capacity_units: Option<i64>,
    pub handling_per_unit: f64,
    pub truck_capacity_units: i64,
    pub values: ReplenishmentValues,
    pub stores: Vec<ReplenishmentStore>,
    #[serde(default = "replenishment_time_ms_default")]
    pub time_limit_ms: u64,
}

fn replenishment_time_ms_default() -> u64 {
    REPLENISHMENT_TIME_MS_DEFAULT
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarehouseStock {
    pub sku: Sku,
    pub available: i64,
}

/// What covering a shortfall is worth, per unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplenishmentValues {
    pub below_min_per_unit: f64,
    pub to_target_per_unit: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplenishmentStore {
    pub location: LocationId,
    /// Cost of one truck from the warehouse to this store.
    pub truck_cost: f64,
    /// Most trucks this store can receive in the run.
    pub trucks_max: i64,
    /// Most units it can receive; absent means only trucks limit it.
    #[serde(default)]
    pub receive_capacity_units: Option<i64>,
    pub needs: Vec<StoreNeed>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreNeed {
    pub sku: Sku,
    /// On hand plus already in transit to the store.
    pub on_hand: i64,
    pub target: StockTarget,
}

/// A store's levels for one SKU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StockTarget {
    Levels {
        min: i64,
        target: i64,
    },
    DaysOfCover {
        demand_per_day: f64,
        min_days: f64,
        target_days: f64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplenishmentPlan {
    pub status: SolveStatus,
    pub method: Method,
    pub shipments: Vec<StoreShipment>,
    pub value: ReplenishmentValue,
}

/// Everything one store receives, and how many trucks bring it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreShipment {
    pub from: LocationId,
    pub to: LocationId,
    pub trucks: u32,
    pub lines: Vec<ShipmentLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShipmentLine {
    pub sku: Sku,
    pub qty: u32,
}

/// The plan's value by component; `net = below_min + to_target − handling − trucks`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplenishmentValue {
    pub below_min_covered: f64,
    pub to_target_covered: f64,
    pub handling: f64,
    pub trucks: f64,
    pub net: f64,
}

/// One validated (store, SKU) need.
#[derive(Debug, Clone)]
struct Need {
    store: usize,
    sku: usize,
    /// Units that lift the store up to its minimum.
    urgent: u32,
    /// Units from the minimum up to the target.
    topup: u32,
}

#[derive(Debug, Clone)]
struct Store {
    location: LocationId,
    truck_cost: f64,
    trucks_max: u32,
    receive_capacity: u32,
}

struct Replenishment {
    warehouse: LocationId,
    skus: Vec<Sku>,
    stock: Vec<u32>,
    pick_capacity: u32,
    handling_per_unit: f64,
    truck_capacity: u32,
    values: ReplenishmentValues,
    stores: Vec<Store>,
    needs: Vec<Need>,
    time_limit: Duration,
}

/// The optimiser's absolute gap: a store's net value at or below it is a tie with nothing.
const TIE_VALUE_MAX: f64 = 1e-9;

/// Sends per need, in `Replenishment::needs` order.
type Quantities = Vec<u32>;

/// Plans the warehouse → stores transfers of one run.
pub fn solve_replenishment(problem: &ReplenishmentProblem) -> Result<ReplenishmentPlan> {
    let run = Replenishment::parse(problem)?;
    if run.needs.iter().all(|need| need.urgent + need.topup == 0) {
        let nothing = vec![0; run.needs.len()];
        return Ok(run.plan(&nothing, SolveStatus::Optimal, Method::Trivial));
    }
    Ok(match run.solve_mip()? {
        Some(quantities) => {
            let worth_sending = run.without_empty_trucks(quantities);
            run.plan(&worth_sending, SolveStatus::Optimal, Method::Mip)
        }
        None => {
            let reason = format!(
                "time limit of {} ms reached before the optimiser proved a plan",
                run.time_limit.as_millis()
            );
            run.plan(
                &run.greedy(),
                SolveStatus::FallbackGreedy { reason },
                Method::Greedy,
            )
        }
    })
}

/// The greedy baseline alone.
pub fn solve_replenishment_greedy(problem: &ReplenishmentProblem) -> Result<ReplenishmentPlan> {
    let run = Replenishment::parse(problem)?;
    let status = SolveStatus::FallbackGreedy {
        reason: "greedy baseline requested".to_string(),
    };
    Ok(run.plan(&run.greedy(), status, Method::Greedy))
}

impl Replenishment {
    fn parse(problem: &ReplenishmentProblem) -> Result<Self> {
        let time_limit_ms =
            check::time_limit_ms("time_limit_ms", problem.time_limit_ms, SOLVE_TIME_MS_MAX)?;
        let handling_per_unit = check::non_negative(
            || "handling_per_unit".to_string(),
            problem.handling_per_unit,
        )?;
        let truck_capacity = check::units(
            || "truck_capacity_units".to_string(),
            problem.truck_capacity_units,
            STOCK_UNITS_MAX,
        )?;
        if truck_capacity == 0 {
            return Err(SolveError::Invalid {
                field: "truck_capacity_units".to_string(),
                reason: "a truck must carry at least one unit".to_string(),
            });
        }
        let pick_capacity = match problem.pick_capacity_units {
            Some(units) => {
                check::units(|| "pick_capacity_units".to_string(), units, STOCK_UNITS_MAX)?
            }
            None => STOCK_UNITS_MAX,
        };
        let values = &problem.values;
        let below_min = check::non_negative(
            || "values.below_min_per_unit".to_string(),
            values.below_min_per_unit,
        )?;
        let to_target = check::non_negative(
            || "values.to_target_per_unit".to_string(),
            values.to_target_per_unit,
        )?;
        if to_target > below_min {
            return Err(SolveError::Invalid {
                field: "values.to_target_per_unit".to_string(),
                reason: "must not exceed values.below_min_per_unit (minimums come first)"
                    .to_string(),
            });
        }

        let mut skus = Vec::new();
        let mut stock = Vec::new();
        let mut sku_index: HashMap<&Sku, usize> = HashMap::new();
        for (i, entry) in problem.warehouse_stock.iter().enumerate() {
            let available = check::units(
                || format!("warehouse_stock[{i}].available"),
                entry.available,
                STOCK_UNITS_MAX,
            )?;
            if sku_index.insert(&entry.sku, skus.len()).is_some() {
                return Err(SolveError::Duplicate {
                    field: format!("warehouse_stock[{i}].sku"),
                    value: entry.sku.0.clone(),
                });
            }
            skus.push(entry.sku.clone());
            stock.push(available);
        }

        check::count(
            "stores",
            problem.stores.len(),
            true,
            REPLENISHMENT_STORES_MAX,
        )?;
        let needs_count: usize = problem.stores.iter().map(|s| s.needs.len()).sum();
        check::count(
            "stores[].needs",
            needs_count,
            false,
            REPLENISHMENT_NEEDS_MAX,
        )?;
        let mut stores = Vec::with_capacity(problem.stores.len());
        let mut needs = Vec::with_capacity(needs_count);
        let mut seen_stores = HashSet::new();
        for (s, store) in problem.stores.iter().enumerate() {
            let field = |name: &str| format!("stores[{s}].{name}");
            if store.location == problem.warehouse || !seen_stores.insert(&store.location) {
                return Err(SolveError::Duplicate {
                    field: field("location"),
                    value: store.location.0.clone(),
                });
            }
            let truck_cost = check::non_negative(|| field("truck_cost"), store.truck_cost)?;
            let trucks_max = check::units(|| field("trucks_max"), store.trucks_max, 10_000)?;
            let receive_capacity = match store.receive_capacity_units {
                Some(units) => {
                    check::units(|| field("receive_capacity_units"), units, STOCK_UNITS_MAX)?
                }
                None => STOCK_UNITS_MAX,
            };
            let mut seen_skus = HashSet::new();
            for (n, need) in store.needs.iter().enumerate() {
                let need_field = |name: &str| format!("stores[{s}].needs[{n}].{name}");
                let Some(&sku) = sku_index.get(&need.sku) else {
                    // The warehouse has none of it: nothing to plan for this need.
                    continue;
                };
                if !seen_skus.insert(sku) {
                    return Err(SolveError::Duplicate {
                        field: need_field("sku"),
                        value: need.sku.0.clone(),
                    });
                }
                let on_hand =
                    check::units(|| need_field("on_hand"), need.on_hand, STOCK_UNITS_MAX)?;
                let (min, target) = levels(&need.target, &need_field)?;
                let urgent = min.saturating_sub(on_hand);
                let topup = target.saturating_sub(on_hand.max(min));
                needs.push(Need {
                    store: s,
                    sku,
                    urgent,
                    topup,
                });
            }
            stores.push(Store {
                location: store.location.clone(),
                truck_cost,
                trucks_max,
                receive_capacity,
            });
        }
        Ok(Self {
            warehouse: problem.warehouse.clone(),
            skus,
            stock,
            pick_capacity,
            handling_per_unit,
            truck_capacity,
            values: values.clone(),
            stores,
            needs,
            time_limit: Duration::from_millis(time_limit_ms),
        })
    }

    /// `None` when the time limit passed before optimality was proven.
    fn solve_mip(&self) -> Result<Option<Quantities>> {
        let mut variables = ProblemVariables::new();
        let urgent: Vec<Variable> = self
            .needs
            .iter()
            .map(|need| variables.add(variable().integer().clamp(0, need.urgent)))
            .collect();
        let topup: Vec<Variable> = self
            .needs
            .iter()
            .map(|need| variables.add(variable().integer().clamp(0, need.topup)))
            .collect();
        let trucks: Vec<Variable> = self
            .stores
            .iter()
            .map(|store| variables.add(variable().integer().clamp(0, store.trucks_max)))
            .collect();
        let sent = |need: usize| urgent[need] + topup[need];
        let covered_value: Expression = (0..self.needs.len())
            .map(|n| {
                self.values.below_min_per_unit * urgent[n]
                    + self.values.to_target_per_unit * topup[n]
            })
            .sum();
        let handling: Expression = (0..self.needs.len())
            .map(|n| self.handling_per_unit * sent(n))
            .sum();
        let truck_costs: Expression = self
            .stores
            .iter()
            .zip(&trucks)
            .map(|(store, &count)| store.truck_cost * count)
            .sum();
        let mut model = variables
            .maximise(covered_value - handling - truck_costs)
            .using(highs)
            .set_time_limit(self.time_limit.as_secs_f64())
            .set_option("mip_rel_gap", 0.0)
            .set_option("mip_abs_gap", TIE_VALUE_MAX);

        for sku in 0..self.skus.len() {
            let shipped: Expression = self.needs_where(|need| need.sku == sku).map(sent).sum();
            model.add_constraint(constraint!(shipped <= f64::from(self.stock[sku])));
        }
        let picked: Expression = (0..self.needs.len()).map(sent).sum();
        model.add_constraint(constraint!(picked <= f64::from(self.pick_capacity)));
        for (s, store) in self.stores.iter().enumerate() {
            let received: Expression = self.needs_where(|need| need.store == s).map(sent).sum();
            model.add_constraint(constraint!(
                received.clone() <= f64::from(store.receive_capacity)
            ));
            model.add_constraint(constraint!(
                received <= f64::from(self.truck_capacity) * trucks[s]
            ));
        }

        let solution = match model.solve() {
            Ok(solution) => solution,
            Err(ResolutionError::Infeasible) => {
                // Sending nothing is always feasible, so this is a solver fault.
                return Err(SolveError::Solver(
                    "replenishment model reported infeasible".to_string(),
                ));
            }
            Err(error) => return Err(SolveError::Solver(error.to_string())),
        };
        if matches!(solution.status(), SolutionStatus::TimeLimit) {
            return Ok(None);
        }
        let whole = |v: Variable| solution.value(v).round().max(0.0) as u32;
        Ok(Some(
            (0..self.needs.len())
                .map(|n| whole(urgent[n]) + whole(topup[n]))
                .collect(),
        ))
    }

    /// A store whose units are worth no more than its handling and trucks is a tie with sending
    /// nothing; the optimiser may pick either, a warehouse would rather not load the truck.
    /// Dropping a store only frees stock and picking for the others, so the plan stays optimal.
    fn without_empty_trucks(&self, mut quantities: Quantities) -> Quantities {
        let (_, trucks) = self.value(&quantities);
        let mut nets: Vec<f64> = self
            .stores
            .iter()
            .zip(&trucks)
            .map(|(store, &count)| -store.truck_cost * f64::from(count))
            .collect();
        for (need, &qty) in self.needs.iter().zip(&quantities) {
            let (below_min, to_target, handling) = self.worth(need, qty);
            nets[need.store] += below_min + to_target - handling;
        }
        for (need, qty) in self.needs.iter().zip(&mut quantities) {
            if nets[need.store] <= TIE_VALUE_MAX {
                *qty = 0;
            }
        }
        quantities
    }

    fn needs_where<'a>(
        &'a self,
        keep: impl Fn(&Need) -> bool + 'a,
    ) -> impl Iterator<Item = usize> + 'a {
        self.needs
            .iter()
            .enumerate()
            .filter(move |(_, need)| keep(need))
            .map(|(n, _)| n)
    }

    /// Largest below-minimum shortfall first; minimums, then targets.
    fn greedy(&self) -> Quantities {
        let mut urgent_per_store = vec![0u64; self.stores.len()];
        for need in &self.needs {
            urgent_per_store[need.store] += u64::from(need.urgent);
        }
        let mut order: Vec<usize> = (0..self.stores.len()).collect();
        order.sort_by_key(|&s| std::cmp::Reverse(urgent_per_store[s]));
        let mut stock = self.stock.clone();
        let mut pick = self.pick_capacity;
        let mut quantities = vec![0u32; self.needs.len()];
        for s in order {
            let store = &self.stores[s];
            let truck_room = store.trucks_max.saturating_mul(self.truck_capacity);
            let mut room = store.receive_capacity.min(truck_room);
            for urgent_pass in [true, false] {
                for n in self.needs_where(|need| need.store == s) {
                    let need = &self.needs[n];
                    let wanted = if urgent_pass { need.urgent } else { need.topup };
                    let qty = wanted.min(stock[need.sku]).min(pick).min(room);
                    quantities[n] += qty;
                    stock[need.sku] -= qty;
                    pick -= qty;
                    room -= qty;
                }
            }
        }
        quantities
    }

    /// What `qty` units sent to `need` are worth below its minimum and up to its target, and
    /// cost to handle: urgent units first, as the model values them.
    fn worth(&self, need: &Need, qty: u32) -> (f64, f64, f64) {
        let urgent = qty.min(need.urgent);
        let topup = qty - urgent;
        (
            self.values.below_min_per_unit * f64::from(urgent),
            self.values.to_target_per_unit * f64::from(topup),
            self.handling_per_unit * f64::from(qty),
        )
    }

    fn value(&self, quantities: &[u32]) -> (ReplenishmentValue, Vec<u32>) {
        let mut value = ReplenishmentValue::default();
        let mut per_store = vec![0u32; self.stores.len()];
        for (need, &qty) in self.needs.iter().zip(quantities) {
            let (below_min, to_target, handling) = self.worth(need, qty);
            value.below_min_covered += below_min;
            value.to_target_covered += to_target;
            value.handling += handling;
            per_store[need.store] += qty;
        }
        let trucks: Vec<u32> = per_store
            .iter()
            .map(|&units| units.div_ceil(self.truck_capacity))
            .collect();
        value.trucks = self
            .stores
            .iter()
            .zip(&trucks)
            .map(|(store, &count)| store.truck_cost * f64::from(count))
            .sum();
        value.net =
            value.below_min_covered + value.to_target_covered - value.handling - value.trucks;
        (value, trucks)
    }

    fn plan(&self, quantities: &[u32], status: SolveStatus, method: Method) -> ReplenishmentPlan {
        let (value, trucks) = self.value(quantities);
        let shipments = self
            .stores
            .iter()
            .enumerate()
            .filter(|&(s, _)| trucks[s] > 0)
            .map(|(s, store)| StoreShipment {
                from: self.warehouse.clone(),
                to: store.location.clone(),
                trucks: trucks[s],
                lines: self
                    .needs_where(|need| need.store == s)
                    .filter(|&n| quantities[n] > 0)
                    .map(|n| ShipmentLine {
                        sku: self.skus[self.needs[n].sku].clone(),
                        qty: quantities[n],
                    })
                    .collect(),
            })
            .collect();
        ReplenishmentPlan {
            status,
            method,
            shipments,
            value,
        }
    }
}

/// Minimum and target levels of one need, in whole units.
fn levels(target: &StockTarget, field: &impl Fn(&str) -> String) -> Result<(u32, u32)> {
    let (min, target) = match *target {
        StockTarget::Levels { min, target } => (
            check::units(|| field("target.min"), min, STOCK_UNITS_MAX)?,
            check::units(|| field("target.target"), target, STOCK_UNITS_MAX)?,
        ),
        StockTarget::DaysOfCover {
            demand_per_day,
            min_days,
            target_days,
        } => {
            let rate = check::non_negative(|| field("target.demand_per_day"), demand_per_day)?;
            if rate > f64::from(STOCK_UNITS_MAX) {
                return Err(SolveError::OutOfRange {
                    field: field("target.demand_per_day"),
                    value: rate,
                    min: 0.0,
                    max: f64::from(STOCK_UNITS_MAX),
                });
            }
            let mut days = [0.0; 2];
            for (slot, (name, value)) in days.iter_mut().zip([
                ("target.min_days", min_days),
                ("target.target_days", target_days),
            ]) {
                let checked = check::non_negative(|| field(name), value)?;
                if checked > COVER_DAYS_MAX {
                    return Err(SolveError::OutOfRange {
                        field: field(name),
                        value: checked,
                        min: 0.0,
                        max: COVER_DAYS_MAX,
                    });
                }
                *slot = checked;
            }
            // rate·days may exceed what a u32 holds; no level beyond the stock limit matters.
            let units = |days: f64| (rate * days).ceil().min(f64::from(STOCK_UNITS_MAX)) as u32;
            (units(days[0]), units(days[1]))
        }
    };
    if target < min {
        return Err(SolveError::Invalid {
            field: field("target"),
            reason: format!("target level {target} is below the minimum {min}"),
        });
    }
    Ok((min, target))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn small_run() -> impl Strategy<Value = ReplenishmentProblem> {
        (
            proptest::collection::vec(0..=12i64, 2),
            proptest::collection::vec(
                (
                    0..=40u32,
                    0..=2i64,
                    proptest::collection::vec((0..=6i64, 0..=6i64, 0..=6i64), 2),
                ),
                1..=3,
            ),
            (1..=8i64, 0..=10u32, 5..=30u32, 0..=5u32),
        )
            .prop_map(
                |(stock, stores, (truck, handling, urgent_value, topup_value))| {
                    ReplenishmentProblem {
                        warehouse: "dc".into(),
                        warehouse_stock: stock
                            .iter()
                            .enumerate()
                            .map(|(k, &available)| WarehouseStock {
                                sku: Sku(format!("k{k}")),
                                available,
                            })
                            .collect(),
                        pick_capacity_units: None,
                        handling_per_unit: f64::from(handling) / 10.0,
                        truck_capacity_units: truck,
                        values: ReplenishmentValues {
                            below_min_per_unit: f64::from(urgent_value) / 10.0 + 1.0,
                            to_target_per_unit: f64::from(topup_value) / 10.0,
                        },
                        stores: stores
                            .into_iter()
                            .enumerate()
                            .map(|(s, (truck_cost, trucks_max, needs))| ReplenishmentStore {
                                location: LocationId(format!("s{s}")),
                                truck_cost: f64::from(truck_cost) / 10.0,
                                trucks_max,
                                receive_capacity_units: None,
                                needs: needs
                                    .into_iter()
                                    .enumerate()
                                    .map(|(k, (on_hand, min, extra))| StoreNeed {
                                        sku: Sku(format!("k{k}")),
                                        on_hand,
                                        target: StockTarget::Levels {
                                            min,
                                            target: min + extra,
                                        },
                                    })
                                    .collect(),
                            })
                            .collect(),
                        time_limit_ms: 10_000,
                    }
                },
            )
    }

    fn respects_limits(problem: &ReplenishmentProblem, plan: &ReplenishmentPlan) -> bool {
        let stock_ok = problem.warehouse_stock.iter().all(|stock| {
            let shipped: i64 = plan
                .shipments
                .iter()
                .flat_map(|s| &s.lines)
                .filter(|line| line.sku == stock.sku)
                .map(|line| i64::from(line.qty))
                .sum();
            shipped <= stock.available
        });
        let trucks_ok = plan.shipments.iter().all(|shipment| {
            let store = problem.stores.iter().find(|s| s.location == shipment.to);
            let units: i64 = shipment.lines.iter().map(|l| i64::from(l.qty)).sum();
            store.is_some_and(|store| {
                i64::from(shipment.trucks) <= store.trucks_max
                    && units <= i64::from(shipment.trucks) * problem.truck_capacity_units
            })
        });
        stock_ok && trucks_ok
    }

    /// Two units worth 2.3 each cost 3.4 for the truck and 0.6 each to pick: net zero.
    #[test]
    fn a_truck_that_nets_nothing_is_not_sent() {
        let need = |sku: &str, min| StoreNeed {
            sku: Sku(sku.to_string()),
            on_hand: 0,
            target: StockTarget::Levels { min, target: min },
        };
        let problem = ReplenishmentProblem {
            warehouse: "dc".into(),
            warehouse_stock: vec![WarehouseStock {
                sku: Sku("k0".to_string()),
                available: 2,
            }],
            pick_capacity_units: None,
            handling_per_unit: 0.6,
            truck_capacity_units: 2,
            values: ReplenishmentValues {
                below_min_per_unit: 2.3,
                to_target_per_unit: 0.0,
            },
            stores: vec![ReplenishmentStore {
                location: LocationId("s0".to_string()),
                truck_cost: 3.4,
                trucks_max: 1,
                receive_capacity_units: None,
                needs: vec![need("k0", 2)],
            }],
            time_limit_ms: 10_000,
        };
        let plan = solve_replenishment(&problem).unwrap();
        assert!(plan.status.is_optimal());
        assert!(plan.shipments.is_empty(), "{:?}", plan.shipments);
        assert!(plan.value.net.abs() < 1e-12);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn replenishment_respects_limits_and_beats_greedy(problem in small_run()) {
            let plan = solve_replenishment(&problem).unwrap();
            let greedy = solve_replenishment_greedy(&problem).unwrap();
            prop_assert!(plan.status.is_optimal());
            prop_assert!(respects_limits(&problem, &plan));
            prop_assert!(respects_limits(&problem, &greedy));
            prop_assert!(plan.value.net >= greedy.value.net - 1e-9);
            prop_assert!(plan.value.net >= 0.0, "sending nothing is always possible");
        }
    }
}
