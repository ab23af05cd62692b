//! Rebalancing, store to store: move slow stock to where it sells when the gain beats the cost.
//!
//! For each SKU, some stores hold a surplus (units they will not sell soon) and others a
//! shortfall (units they would sell if they had them). Moving a unit from surplus store `i` to
//! shortfall store `j` earns the SKU's expected margin per unit and costs a per-unit transfer
//! cost plus a per-unit-per-km cost over the great-circle distance; every transfer (one lane
//! used for one SKU) also costs a fixed amount, and moves at least the minimum transfer
//! quantity. Stores farther apart than `transfer_km_max` do not exchange stock.
//!
//! ```text
//! maximise   Σ_{i,j} gain[i][j]·x[i][j] − fixed·used[i][j]
//! subject to Σ_j x[i][j] ≤ surplus[i]                        (what i can spare)
//!            Σ_i x[i][j] ≤ shortfall[j]                      (what j can sell)
//!            min_qty·used[i][j] ≤ x[i][j] ≤ most[i][j]·used[i][j],  x whole, used binary
//! ```
//!
//! with `gain[i][j] = margin − per_unit − per_unit_km·km(i, j)` and
//! `most[i][j] = min(surplus[i], shortfall[j])`. SKUs share nothing, so the model decomposes
//! per SKU; the pieces are solved in parallel on a bounded number of threads, each holding one
//! SKU's model at a time, so memory is the input plus the plans.
//!
//! **Lane pruning (exact).** A lane with `most·gain − fixed ≤ 0` or `most < min_qty` can never
//! add to the objective: whatever it carries, dropping it keeps every other constraint satisfied
//! and loses nothing. Only the remaining lanes enter the MIP. When no two remaining lanes share
//! a store, every one of them is used at full quantity, without a solver.
//!
//! **Decomposition (exact).** Lanes fall into groups that share no store (a city or a region);
//! each group is solved alone. A group is first solved with one side's limits dropped, which
//! splits it into a knapsack per store of the other side (dynamic programming); if that plan
//! respects the dropped limits anyway, it is optimal and no MIP is needed (`relaxation`). On the
//! planning benchmark's chain this settles about 40 % of the SKUs without any MIP.
//!
//! The greedy baseline serves each shortfall store, in input order, from the nearest surplus
//! stores whose lane passes the same test; it is also the fallback for a SKU whose MIP does not
//! finish within the per-SKU time limit.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use good_lp::solvers::highs::highs;
use good_lp::{
    constraint, variable, Expression, ProblemVariables, ResolutionError, Solution, SolutionStatus,
    SolverModel, Variable,
};
use serde::{Deserialize, Serialize};

use crate::error::{check, Result, SolveError};
use crate::geo::{haversine_km, Coordinates};
use crate::ids::{LocationId, Sku};
use crate::status::{Method, SolveStatus};
use crate::{SOLVE_TIME_MS_MAX, STOCK_UNITS_MAX};

/// Most stores one rebalancing problem may list.
pub const REBALANCING_STORES_MAX: usize = 10_000;
/// Most SKUs one rebalancing problem may list (the nightly job sends larger runs in batches).
pub const REBALANCING_SKUS_MAX: usize = 1_000_000;
/// Most worker threads a rebalance uses.
pub const REBALANCING_THREADS_MAX: usize = 64;
/// Relative optimality gap at which a per-SKU MIP counts as solved.
pub const MIP_RELATIVE_GAP: f64 = 1e-7;
/// Per-SKU time limit used when a problem does not state one.
pub const REBALANCING_SKU_TIME_MS_DEFAULT: u64 = 2_000;

/// A nightly rebalance over many SKUs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RebalancingProblem {
    pub stores: Vec<StorePosition>,
    pub costs: RebalancingCosts,
    /// Fewer units than this are not worth a transfer.
    pub min_transfer_qty: i64,
    pub skus: Vec<SkuBalance>,
    /// Worker threads; absent means one per core, at most [`REBALANCING_THREADS_MAX`].
    #[serde(default)]
    pub threads: Option<usize>,
    #[serde(default = "sku_time_ms_default")]
    pub time_limit_ms_per_sku: u64,
}

fn sku_time_ms_default() -> u64 {
    REBALANCING_SKU_TIME_MS_DEFAULT
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorePosition {
    pub location: LocationId,
    pub position: Coordinates,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RebalancingCosts {
    /// Cost of one transfer (one lane, one SKU).
    pub transfer_fixed: f64,
    pub transfer_per_unit: f64,
    pub transfer_per_unit_km: f64,
    /// Stores farther apart than this do not exchange stock.
    pub transfer_km_max: f64,
}

/// One SKU's imbalance across stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkuBalance {
    pub sku: Sku,
    /// Expected margin earned per unit moved to a store where it sells.
    pub margin_per_unit: f64,
    pub stores: Vec<StoreBalance>,
}

/// A store's surplus or shortfall of one SKU (one of the two is zero).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreBalance {
    pub location: LocationId,
    #[serde(default)]
    pub surplus: i64,
    #[serde(default)]
    pub shortfall: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RebalancingPlan {
    /// `optimal` when every SKU is; otherwise says how many fell back to greedy.
    pub status: SolveStatus,
    pub skus: Vec<SkuRebalancePlan>,
    /// Σ over SKUs of margin earned minus transfer costs.
    pub net_gain: f64,
    pub transfers: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkuRebalancePlan {
    pub sku: Sku,
    pub status: SolveStatus,
    pub method: Method,
    pub transfers: Vec<StoreTransfer>,
    /// Margin earned minus transfer costs.
    pub net_gain: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreTransfer {
    pub from: LocationId,
    pub to: LocationId,
    pub qty: u32,
    pub distance_km: f64,
}

/// Stores, costs and limits, validated once and shared by every SKU's solve.
#[derive(Debug, Clone)]
pub struct RebalancingNetwork {
    stores: Vec<StorePosition>,
    index: HashMap<LocationId, usize>,
    costs: RebalancingCosts,
    min_transfer_qty: u32,
    time_limit: Duration,
}

/// A validated SKU: store indices with their surplus or shortfall.
struct ValidSku {
    sku: Sku,
    margin_per_unit: f64,
    surplus: Vec<(usize, u32)>,
    shortfall: Vec<(usize, u32)>,
}

impl ValidSku {
    /// The same SKU limited to the stores `lanes` touch, so a group's MIP has only its rows.
    fn within(&self, lanes: &[Lane]) -> ValidSku {
        let stores: HashSet<usize> = lanes.iter().flat_map(|l| [l.from, l.to]).collect();
        let keep = |side: &[(usize, u32)]| {
            side.iter()
                .copied()
                .filter(|(store, _)| stores.contains(store))
                .collect()
        };
        ValidSku {
            sku: self.sku.clone(),
            margin_per_unit: self.margin_per_unit,
            surplus: keep(&self.surplus),
            shortfall: keep(&self.shortfall),
        }
    }
}

/// A lane that passes the gain test, for one SKU.
#[derive(Debug, Clone)]
struct Lane {
    from: usize,
    to: usize,
    most: u32,
    gain_per_unit: f64,
    distance_km: f64,
}

impl RebalancingNetwork {
    /// Validates the stores and costs of `problem` (not its SKUs).
    pub fn parse(problem: &RebalancingProblem) -> Result<Self> {
        check::count("stores", problem.stores.len(), true, REBALANCING_STORES_MAX)?;
        let mut index = HashMap::with_capacity(problem.stores.len());
        for (i, store) in problem.stores.iter().enumerate() {
            store.position.validated(&format!("stores[{i}].position"))?;
            if index.insert(store.location.clone(), i).is_some() {
                return Err(SolveError::Duplicate {
                    field: format!("stores[{i}].location"),
                    value: store.location.0.clone(),
                });
            }
        }
        let costs = &problem.costs;
        for (name, value) in [
            ("transfer_fixed", costs.transfer_fixed),
            ("transfer_per_unit", costs.transfer_per_unit),
            ("transfer_per_unit_km", costs.transfer_per_unit_km),
            ("transfer_km_max", costs.transfer_km_max),
        ] {
            check::non_negative(|| format!("costs.{name}"), value)?;
        }
        let min_transfer_qty = check::units(
            || "min_transfer_qty".to_string(),
            problem.min_transfer_qty,
            STOCK_UNITS_MAX,
        )?
        .max(1);
        let time_limit_ms = check::time_limit_ms(
            "time_limit_ms_per_sku",
            problem.time_limit_ms_per_sku,
            SOLVE_TIME_MS_MAX,
        )?;
        Ok(Self {
            stores: problem.stores.clone(),
            index,
            costs: costs.clone(),
            min_transfer_qty,
            time_limit: Duration::from_millis(time_limit_ms),
        })
    }

    /// Solves one SKU; `field` names it in errors (e.g. `skus[3]`).
    pub fn solve_sku(&self, sku: &SkuBalance, field: &str) -> Result<SkuRebalancePlan> {
        let sku = self.validate_sku(sku, field)?;
        let lanes = self.profitable_lanes(&sku);
        // Stores that share no lane share no constraint: each connected group of lanes (a
        // region, typically) is its own smaller problem, often one that needs no MIP.
        let mut quantities = vec![0u32; lanes.len()];
        let mut methods = Vec::new();
        for group in components(&lanes) {
            let part: Vec<Lane> = group.iter().map(|&l| lanes[l].clone()).collect();
            let (solved, method) = self.solve_group(&sku, &part)?;
            for (&l, qty) in group.iter().zip(solved) {
                quantities[l] = qty;
            }
            methods.push(method);
        }
        if methods.contains(&Method::Greedy) {
            let reason = format!(
                "time limit of {} ms reached before the optimiser proved a plan for part of it",
                self.time_limit.as_millis()
            );
            let status = SolveStatus::FallbackGreedy { reason };
            return Ok(self.plan(&sku, &lanes, &quantities, status, Method::Greedy));
        }
        // The plan is named after the strongest means any group needed.
        let method = [Method::Mip, Method::Relaxation]
            .into_iter()
            .find(|method| methods.contains(method))
            .unwrap_or(Method::Trivial);
        Ok(self.plan(&sku, &lanes, &quantities, SolveStatus::Optimal, method))
    }

    /// One connected group of lanes: used in full when no two share a store, else by the
    /// relaxation when its plan is feasible, else by the MIP (`Greedy` when that timed out).
    fn solve_group(&self, sku: &ValidSku, part: &[Lane]) -> Result<(Vec<u32>, Method)> {
        if lanes_are_independent(part) {
            return Ok((part.iter().map(|lane| lane.most).collect(), Method::Trivial));
        }
        if let Some(solved) = relaxed_optimum(sku, part, self) {
            return Ok((solved, Method::Relaxation));
        }
        let within = sku.within(part);
        Ok(match solve_mip(&within, part, self)? {
            Some(solved) => (solved, Method::Mip),
            None => (greedy(&within, part, self), Method::Greedy),
        })
    }

    /// The greedy baseline for one SKU.
    pub fn greedy_sku(&self, sku: &SkuBalance, field: &str) -> Result<SkuRebalancePlan> {
        let sku = self.validate_sku(sku, field)?;
        let lanes = self.profitable_lanes(&sku);
        let quantities = greedy(&sku, &lanes, self);
        let status = SolveStatus::FallbackGreedy {
            reason: "greedy baseline requested".to_string(),
        };
        Ok(self.plan(&sku, &lanes, &quantities, status, Method::Greedy))
    }

    fn validate_sku(&self, sku: &SkuBalance, field: &str) -> Result<ValidSku> {
        let margin_per_unit =
            check::non_negative(|| format!("{field}.margin_per_unit"), sku.margin_per_unit)?;
        check::count(
            &format!("{field}.stores"),
            sku.stores.len(),
            false,
            self.stores.len(),
        )?;
        let (mut surplus, mut shortfall) = (Vec::new(), Vec::new());
        let mut seen = vec![false; self.stores.len()];
        for (i, balance) in sku.stores.iter().enumerate() {
            let entry = |name: &str| format!("{field}.stores[{i}].{name}");
            let Some(&store) = self.index.get(&balance.location) else {
                return Err(SolveError::UnknownLocation {
                    field: entry("location"),
                    location: balance.location.0.clone(),
                });
            };
            if std::mem::replace(&mut seen[store], true) {
                return Err(SolveError::Duplicate {
                    field: entry("location"),
                    value: balance.location.0.clone(),
                });
            }
            let spare = check::units(|| entry("surplus"), balance.surplus, STOCK_UNITS_MAX)?;
            let short = check::units(|| entry("shortfall"), balance.shortfall, STOCK_UNITS_MAX)?;
            match (spare, short) {
                (0, 0) => {}
                (spare, 0) => surplus.push((store, spare)),
                (0, short) => shortfall.push((store, short)),
                _ => {
                    return Err(SolveError::Invalid {
                        field: entry("shortfall"),
                        reason: "a store cannot have both a surplus and a shortfall".to_string(),
                    })
                }
            }
        }
        Ok(ValidSku {
            sku: sku.sku.clone(),
            margin_per_unit,
            surplus,
            shortfall,
        })
    }

    /// Lanes within reach whose best use earns more than its fixed cost (see module docs).
    fn profitable_lanes(&self, sku: &ValidSku) -> Vec<Lane> {
        let costs = &self.costs;
        let mut lanes = Vec::new();
        for &(to, short) in &sku.shortfall {
            for &(from, spare) in &sku.surplus {
                let most = spare.min(short);
                if most < self.min_transfer_qty {
                    continue;
                }
                let distance_km =
                    haversine_km(self.stores[from].position, self.stores[to].position);
                if distance_km > costs.transfer_km_max {
                    continue;
                }
                let gain_per_unit = sku.margin_per_unit
                    - costs.transfer_per_unit
                    - costs.transfer_per_unit_km * distance_km;
                if gain_per_unit * f64::from(most) - costs.transfer_fixed > 0.0 {
                    lanes.push(Lane {
                        from,
                        to,
                        most,
                        gain_per_unit,
                        distance_km,
                    });
                }
            }
        }
        lanes
    }

    fn plan(
        &self,
        sku: &ValidSku,
        lanes: &[Lane],
        quantities: &[u32],
        status: SolveStatus,
        method: Method,
    ) -> SkuRebalancePlan {
        let mut transfers = Vec::new();
        let mut net_gain = 0.0;
        for (lane, &qty) in lanes.iter().zip(quantities).filter(|(_, &qty)| qty > 0) {
            net_gain += lane.gain_per_unit * f64::from(qty) - self.costs.transfer_fixed;
            transfers.push(StoreTransfer {
                from: self.stores[lane.from].location.clone(),
                to: self.stores[lane.to].location.clone(),
                qty,
                distance_km: lane.distance_km,
            });
        }
        SkuRebalancePlan {
            sku: sku.sku.clone(),
            status,
            method,
            transfers,
            net_gain,
        }
    }
}

/// Lanes grouped by the stores they connect (union-find), each group in lane order.
fn components(lanes: &[Lane]) -> Vec<Vec<usize>> {
    fn root(parent: &mut HashMap<usize, usize>, store: usize) -> usize {
        let mut at = store;
        while let Some(&up) = parent.get(&at).filter(|&&up| up != at) {
            at = up;
        }
        parent.insert(store, at);
        at
    }
    // Surplus and shortfall stores are told apart, so a store index means one node.
    let node = |lane: &Lane| (lane.from * 2, lane.to * 2 + 1);
    let mut parent: HashMap<usize, usize> = HashMap::new();
    for lane in lanes {
        let (a, b) = node(lane);
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        parent.insert(ra, rb);
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for (l, lane) in lanes.iter().enumerate() {
        let group = root(&mut parent, node(lane).0);
        groups.entry(group).or_default().push(l);
    }
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    groups.sort_by_key(|group| group[0]);
    groups
}

/// Most steps [`best_intake`] may take for one store (units × lanes × a lane's units);
/// beyond, the MIP decides.
const RELAXATION_STEPS_MAX: u64 = 4_000_000;

/// The optimum of `lanes`, when dropping one side's limits (what surplus stores can spare, or
/// what shortfall stores can sell) yields a plan that respects them anyway.
///
/// Without one side's limits every lane belongs to one store of the other side only, so the
/// relaxation splits into a small problem per store, solved exactly by [`best_intake`]. The
/// relaxation can only do better than the full model; when its plan is feasible for the full
/// model it is therefore optimal. In a chain where a few overstocked stores feed many stores
/// short of a few units, the surplus limits rarely bind and no MIP is needed.
fn relaxed_optimum(
    sku: &ValidSku,
    lanes: &[Lane],
    network: &RebalancingNetwork,
) -> Option<Vec<u32>> {
    let by_receiver = |lane: &Lane| (lane.to, lane.from);
    let by_sender = |lane: &Lane| (lane.from, lane.to);
    [
        (
            by_receiver as fn(&Lane) -> (usize, usize),
            &sku.shortfall,
            &sku.surplus,
        ),
        (by_sender, &sku.surplus, &sku.shortfall),
    ]
    .into_iter()
    .find_map(|(side, kept, dropped)| {
        let limit: HashMap<usize, u32> = kept.iter().copied().collect();
        let mut quantities = vec![0u32; lanes.len()];
        let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
        for (l, lane) in lanes.iter().enumerate() {
            groups.entry(side(lane).0).or_default().push(l);
        }
        for (store, group) in groups {
            let part: Vec<&Lane> = group.iter().map(|&l| &lanes[l]).collect();
            let best = best_intake(&part, limit.get(&store).copied()?, network)?;
            for (&l, qty) in group.iter().zip(best) {
                quantities[l] = qty;
            }
        }
        let mut used: HashMap<usize, u32> = HashMap::new();
        for (lane, &qty) in lanes.iter().zip(&quantities) {
            *used.entry(side(lane).1).or_default() += qty;
        }
        let fits = dropped
            .iter()
            .all(|(store, most)| used.get(store).copied().unwrap_or(0) <= *most);
        fits.then_some(quantities)
    })
}

/// The best quantities on lanes that share one store with `capacity` units, each lane carrying
/// nothing or between the minimum transfer and its `most` (a knapsack, by dynamic programming
/// over the units used); `None` when that would take too long.
fn best_intake(lanes: &[&Lane], capacity: u32, network: &RebalancingNetwork) -> Option<Vec<u32>> {
    let reachable: u64 = lanes.iter().map(|lane| u64::from(lane.most)).sum();
    let capacity = u64::from(capacity).min(reachable);
    let steps: u64 = lanes
        .iter()
        .map(|lane| (capacity + 1) * u64::from(lane.most).min(capacity))
        .sum();
    if steps > RELAXATION_STEPS_MAX {
        return None;
    }
    let capacity = capacity as usize;
    let (fixed, min_qty) = (
        network.costs.transfer_fixed,
        network.min_transfer_qty as usize,
    );
    // best[q]: the most gain with exactly q units over the lanes so far.
    let mut best = vec![f64::NEG_INFINITY; capacity + 1];
    best[0] = 0.0;
    let mut chosen = vec![vec![0u32; capacity + 1]; lanes.len()];
    for (lane, chosen) in lanes.iter().zip(&mut chosen) {
        let previous = best.clone();
        for q in min_qty..=capacity {
            for x in min_qty..=q.min(lane.most as usize) {
                let gain = previous[q - x] + lane.gain_per_unit * x as f64 - fixed;
                if gain > best[q] {
                    best[q] = gain;
                    chosen[q] = x as u32;
                }
            }
        }
    }
    let mut q = (0..=capacity).max_by(|&a, &b| best[a].total_cmp(&best[b]))?;
    let mut quantities = vec![0u32; lanes.len()];
    for (l, chosen) in chosen.iter().enumerate().rev() {
        quantities[l] = chosen[q];
        q -= chosen[q] as usize;
    }
    Some(quantities)
}

/// True when no two lanes share a store: each is then used in full, independently.
fn lanes_are_independent(lanes: &[Lane]) -> bool {
    let mut from: Vec<usize> = lanes.iter().map(|lane| lane.from).collect();
    let mut to: Vec<usize> = lanes.iter().map(|lane| lane.to).collect();
    from.sort_unstable();
    to.sort_unstable();
    from.windows(2).all(|pair| pair[0] != pair[1]) && to.windows(2).all(|pair| pair[0] != pair[1])
}

/// The per-SKU MIP; `None` when the time limit passed before optimality was proven.
fn solve_mip(
    sku: &ValidSku,
    lanes: &[Lane],
    network: &RebalancingNetwork,
) -> Result<Option<Vec<u32>>> {
    let mut variables = ProblemVariables::new();
    let moved: Vec<Variable> = lanes
        .iter()
        .map(|lane| variables.add(variable().integer().clamp(0, lane.most)))
        .collect();
    let used: Vec<Variable> = lanes
        .iter()
        .map(|_| variables.add(variable().binary()))
        .collect();
    let fixed = network.costs.transfer_fixed;
    let margin: Expression = lanes
        .iter()
        .zip(&moved)
        .map(|(lane, &x)| lane.gain_per_unit * x)
        .sum();
    let transfer_costs: Expression = used.iter().map(|&u| fixed * u).sum();
    let mut model = variables
        .maximise(margin - transfer_costs)
        .using(highs)
        .set_time_limit(network.time_limit.as_secs_f64())
        // Closing the last 1e-7 of the gap on symmetric instances can take minutes; plans
        // within it are optimal to the 1e-6 the reference comparison requires.
        .set_option("mip_rel_gap", MIP_RELATIVE_GAP)
        .set_option("mip_abs_gap", 1e-6)
        // SKUs are solved in parallel already; HiGHS's own threads would only contend with
        // them (measured: a quarter faster with one).
        .set_option("threads", 1)
        // Heuristics and restarts that cost more than they save on these small models
        // (measured on the planning benchmark's SKUs, same optima): feasibility jump looks
        // for a first feasible plan, but moving nothing is one (a quarter of the time); RINS,
        // RENS and restarts after root presolve together a further sixth.
        .set_option("mip_heuristic_run_feasibility_jump", false)
        .set_option("mip_heuristic_run_rins", false)
        .set_option("mip_heuristic_run_rens", false)
        .set_option("mip_allow_restart", false);
    for &(store, spare) in &sku.surplus {
        let sent: Expression = lanes_of(lanes, &moved, |lane| lane.from == store);
        model.add_constraint(constraint!(sent <= spare as f64));
    }
    for &(store, short) in &sku.shortfall {
        let received: Expression = lanes_of(lanes, &moved, |lane| lane.to == store);
        model.add_constraint(constraint!(received <= short as f64));
    }
    let min_qty = f64::from(network.min_transfer_qty);
    for ((lane, &x), &u) in lanes.iter().zip(&moved).zip(&used) {
        model.add_constraint(constraint!(x >= min_qty * u));
        model.add_constraint(constraint!(x <= f64::from(lane.most) * u));
    }
    let solution = match model.solve() {
        Ok(solution) => solution,
        Err(ResolutionError::Infeasible) => {
            // x = 0 is always feasible, so this is a solver fault.
            return Err(SolveError::Solver(format!(
                "rebalancing model for sku {} reported infeasible",
                sku.sku
            )));
        }
        Err(error) => return Err(SolveError::Solver(error.to_string())),
    };
    if matches!(solution.status(), SolutionStatus::TimeLimit) {
        return Ok(None);
    }
    Ok(Some(
        moved
            .iter()
            .map(|&x| solution.value(x).round().max(0.0) as u32)
            .collect(),
    ))
}

fn lanes_of(lanes: &[Lane], moved: &[Variable], keep: impl Fn(&Lane) -> bool) -> Expression {
    lanes
        .iter()
        .zip(moved)
        .filter(|(lane, _)| keep(lane))
        .map(|(_, &x)| x)
        .sum()
}

/// Serves each shortfall store, in input order, from its nearest surplus stores, moving as
/// much as both sides allow whenever that amount still passes the gain test.
fn greedy(sku: &ValidSku, lanes: &[Lane], network: &RebalancingNetwork) -> Vec<u32> {
    let mut spare: HashMap<usize, u32> = sku.surplus.iter().copied().collect();
    let mut quantities = vec![0u32; lanes.len()];
    for &(store, short) in &sku.shortfall {
        let mut nearest: Vec<usize> = (0..lanes.len()).filter(|&l| lanes[l].to == store).collect();
        nearest.sort_by(|&a, &b| lanes[a].distance_km.total_cmp(&lanes[b].distance_km));
        let mut missing = short;
        for l in nearest {
            let lane = &lanes[l];
            let available = spare.get(&lane.from).copied().unwrap_or(0);
            let qty = missing.min(available);
            let worth_it = qty >= network.min_transfer_qty
                && lane.gain_per_unit * f64::from(qty) > network.costs.transfer_fixed;
            if worth_it {
                quantities[l] = qty;
                missing -= qty;
                spare.insert(lane.from, available - qty);
            }
        }
    }
    quantities
}

/// Solves every SKU of `problem` on a bounded number of threads.
pub fn solve_rebalancing(problem: &RebalancingProblem) -> Result<RebalancingPlan> {
    let network = RebalancingNetwork::parse(problem)?;
    check::count("skus", problem.skus.len(), false, REBALANCING_SKUS_MAX)?;
    let threads = worker_count(problem.threads)?;
    let plans = solve_in_parallel(&problem.skus, threads, |index, sku| {
        network.solve_sku(sku, &format!("skus[{index}]"))
    })?;
    Ok(summarise(plans))
}

/// The greedy baseline for every SKU of `problem`.
pub fn solve_rebalancing_greedy(problem: &RebalancingProblem) -> Result<RebalancingPlan> {
    let network = RebalancingNetwork::parse(problem)?;
    check::count("skus", problem.skus.len(), false, REBALANCING_SKUS_MAX)?;
    let threads = worker_count(problem.threads)?;
    let plans = solve_in_parallel(&problem.skus, threads, |index, sku| {
        network.greedy_sku(sku, &format!("skus[{index}]"))
    })?;
    Ok(summarise(plans))
}

fn worker_count(requested: Option<usize>) -> Result<usize> {
    match requested {
        Some(0) => Err(SolveError::OutOfRange {
            field: "threads".to_string(),
            value: 0.0,
            min: 1.0,
            max: REBALANCING_THREADS_MAX as f64,
        }),
        Some(count) if count > REBALANCING_THREADS_MAX => Err(SolveError::OutOfRange {
            field: "threads".to_string(),
            value: count as f64,
            min: 1.0,
            max: REBALANCING_THREADS_MAX as f64,
        }),
        Some(count) => Ok(count),
        None => Ok(std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(REBALANCING_THREADS_MAX)),
    }
}

/// Runs `solve` over `skus` on `threads` scoped threads, each taking the next unsolved SKU, so
/// each thread holds one model at a time. Stops at the first error.
fn solve_in_parallel<F>(
    skus: &[SkuBalance],
    threads: usize,
    solve: F,
) -> Result<Vec<SkuRebalancePlan>>
where
    F: Fn(usize, &SkuBalance) -> Result<SkuRebalancePlan> + Sync,
{
    let next = AtomicUsize::new(0);
    let failed = Mutex::new(None);
    let results: Vec<Mutex<Option<SkuRebalancePlan>>> =
        skus.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(skus.len().max(1)) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= skus.len() {
                    break;
                }
                match solve(index, &skus[index]) {
                    Ok(plan) => *lock(&results[index]) = Some(plan),
                    Err(error) => {
                        lock(&failed).get_or_insert(error);
                        // Make every worker stop after its current SKU.
                        next.store(skus.len(), Ordering::Relaxed);
                        break;
                    }
                }
            });
        }
    });
    if let Some(error) = lock(&failed).take() {
        return Err(error);
    }
    Ok(results
        .into_iter()
        .filter_map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        })
        .collect())
}

/// A poisoned lock only means another worker panicked; its data is still a plain value.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn summarise(skus: Vec<SkuRebalancePlan>) -> RebalancingPlan {
    let fallbacks = skus.iter().filter(|plan| !plan.status.is_optimal()).count();
    let status = if fallbacks == 0 {
        SolveStatus::Optimal
    } else {
        SolveStatus::FallbackGreedy {
            reason: format!("{fallbacks} of {} SKUs fell back to greedy", skus.len()),
        }
    };
    RebalancingPlan {
        status,
        net_gain: skus.iter().map(|plan| plan.net_gain).sum(),
        transfers: skus.iter().map(|plan| plan.transfers.len()).sum(),
        skus,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Every whole-unit plan over every pair of stores within reach, pruned or not.
    fn brute_force_gain(problem: &RebalancingProblem) -> f64 {
        let sku = &problem.skus[0];
        let position = |id: &LocationId| {
            problem
                .stores
                .iter()
                .find(|store| &store.location == id)
                .map(|store| store.position)
                .unwrap()
        };
        let costs = &problem.costs;
        let mut pairs = Vec::new();
        for from in sku.stores.iter().filter(|s| s.surplus > 0) {
            for to in sku.stores.iter().filter(|s| s.shortfall > 0) {
                let km = haversine_km(position(&from.location), position(&to.location));
                if km <= costs.transfer_km_max {
                    let gain = sku.margin_per_unit
                        - costs.transfer_per_unit
                        - costs.transfer_per_unit_km * km;
                    pairs.push((&from.location, &to.location, gain));
                }
            }
        }
        let mut best = 0.0f64;
        let mut qty = vec![0i64; pairs.len()];
        loop {
            let feasible = sku.stores.iter().all(|store| {
                let sent: i64 = pairs
                    .iter()
                    .zip(&qty)
                    .filter(|((from, _, _), _)| **from == store.location)
                    .map(|(_, q)| q)
                    .sum();
                let received: i64 = pairs
                    .iter()
                    .zip(&qty)
                    .filter(|((_, to, _), _)| **to == store.location)
                    .map(|(_, q)| q)
                    .sum();
                sent <= store.surplus && received <= store.shortfall
            }) && qty.iter().all(|&q| q == 0 || q >= problem.min_transfer_qty);
            if feasible {
                let gain: f64 = pairs
                    .iter()
                    .zip(&qty)
                    .filter(|(_, &q)| q > 0)
                    .map(|((_, _, g), &q)| g * q as f64 - costs.transfer_fixed)
                    .sum();
                best = best.max(gain);
            }
            // Next combination, each lane 0..=3 units.
            let Some(position) = qty.iter().position(|&q| q < 3) else {
                return best;
            };
            qty[position] += 1;
            qty[..position].fill(0);
        }
    }

    /// One SKU over stores at (lat, lon) offsets in hundredths of a degree around Taipei, each
    /// with a surplus (positive) or a shortfall (negative).
    fn chain(
        stores: &[((i32, i32), i64)],
        costs: RebalancingCosts,
        min_transfer_qty: i64,
        margin_per_unit: f64,
    ) -> RebalancingProblem {
        let location = |i: usize| LocationId(format!("s{i}"));
        RebalancingProblem {
            stores: stores
                .iter()
                .enumerate()
                .map(|(i, ((dlat, dlon), _))| StorePosition {
                    location: location(i),
                    position: Coordinates {
                        lat: 25.0 + f64::from(*dlat) / 100.0,
                        lon: 121.5 + f64::from(*dlon) / 100.0,
                    },
                })
                .collect(),
            costs,
            min_transfer_qty,
            skus: vec![SkuBalance {
                sku: "mug".into(),
                margin_per_unit,
                stores: stores
                    .iter()
                    .enumerate()
                    .map(|(i, (_, balance))| StoreBalance {
                        location: location(i),
                        surplus: (*balance).max(0),
                        shortfall: (-balance).max(0),
                    })
                    .collect(),
            }],
            threads: Some(1),
            time_limit_ms_per_sku: 10_000,
        }
    }

    fn small_rebalance() -> impl Strategy<Value = RebalancingProblem> {
        (
            proptest::collection::vec(((-8..=8i32, -8..=8i32), -3..=3i64), 2..=4),
            (0..=60u32, 0..=10u32, 0..=10u32, 1..=3i64, 50..=150u32),
        )
            .prop_map(|(stores, (fixed, per_unit, per_km, min_qty, margin))| {
                let costs = RebalancingCosts {
                    transfer_fixed: f64::from(fixed) / 10.0,
                    transfer_per_unit: f64::from(per_unit) / 10.0,
                    transfer_per_unit_km: f64::from(per_km) / 10.0,
                    transfer_km_max: 15.0,
                };
                chain(&stores, costs, min_qty, f64::from(margin) / 10.0)
            })
    }

    /// A chain of up to 16 stores with larger imbalances than brute force can search.
    fn medium_rebalance() -> impl Strategy<Value = RebalancingProblem> {
        (
            proptest::collection::vec(((-8..=8i32, -8..=8i32), -30..=30i64), 4..=16),
            (0..=400u32, 1..=4i64),
        )
            .prop_map(|(stores, (fixed, min_qty))| {
                let costs = RebalancingCosts {
                    transfer_fixed: f64::from(fixed) / 10.0,
                    transfer_per_unit: 1.0,
                    transfer_per_unit_km: 0.5,
                    transfer_km_max: 15.0,
                };
                chain(&stores, costs, min_qty, 12.0)
            })
    }

    fn objective(lanes: &[Lane], quantities: &[u32], fixed: f64) -> f64 {
        lanes
            .iter()
            .zip(quantities)
            .filter(|(_, &qty)| qty > 0)
            .map(|(lane, &qty)| lane.gain_per_unit * f64::from(qty) - fixed)
            .sum()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn a_relaxed_optimum_is_feasible_and_as_good_as_the_mip(problem in medium_rebalance()) {
            let network = RebalancingNetwork::parse(&problem).unwrap();
            let sku = network.validate_sku(&problem.skus[0], "skus[0]").unwrap();
            let lanes = network.profitable_lanes(&sku);
            prop_assume!(!lanes.is_empty());
            let Some(relaxed) = relaxed_optimum(&sku, &lanes, &network) else {
                return Ok(());
            };
            let mip = solve_mip(&sku, &lanes, &network).unwrap().unwrap();
            for (lane, &qty) in lanes.iter().zip(&relaxed) {
                prop_assert!(qty == 0 || (qty >= network.min_transfer_qty && qty <= lane.most));
            }
            for &(store, spare) in &sku.surplus {
                let sent: u32 = lanes.iter().zip(&relaxed).filter(|(l, _)| l.from == store).map(|(_, q)| q).sum();
                prop_assert!(sent <= spare);
            }
            for &(store, short) in &sku.shortfall {
                let got: u32 = lanes.iter().zip(&relaxed).filter(|(l, _)| l.to == store).map(|(_, q)| q).sum();
                prop_assert!(got <= short);
            }
            let fixed = network.costs.transfer_fixed;
            let (relaxed, mip) = (objective(&lanes, &relaxed, fixed), objective(&lanes, &mip, fixed));
            prop_assert!((relaxed - mip).abs() <= 1e-6 * mip.abs().max(1.0), "{} vs {}", relaxed, mip);
        }

        #[test]
        fn rebalancing_gain_equals_brute_force(problem in small_rebalance()) {
            let plan = solve_rebalancing(&problem).unwrap();
            let best = brute_force_gain(&problem);
            prop_assert_eq!(&plan.status, &SolveStatus::Optimal);
            prop_assert!((plan.net_gain - best).abs() <= 1e-6 * best.abs().max(1.0),
                "{} vs {}", plan.net_gain, best);
        }

        #[test]
        fn rebalancing_is_never_worse_than_greedy(problem in small_rebalance()) {
            let plan = solve_rebalancing(&problem).unwrap();
            let greedy = solve_rebalancing_greedy(&problem).unwrap();
            prop_assert!(plan.net_gain >= greedy.net_gain - 1e-9);
            for transfer in plan.skus.iter().flat_map(|sku| &sku.transfers) {
                prop_assert!(i64::from(transfer.qty) >= problem.min_transfer_qty);
            }
        }
    }
}
