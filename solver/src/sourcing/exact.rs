//! Exact sourcing without an LP solver, for the common small case, and the pruning that makes
//! the MIP small otherwise.
//!
//! Once the set `S` of sources is fixed, the rest of the model (which units come from where,
//! protection, unfulfilled units) is a min-cost flow: lines → (source, SKU) → source → sink,
//! with stock, protected stock and capacity as arc capacities. Its optimum is whole. So the
//! optimum of the model is the least, over sets `S`, of
//! `Σ_{i∈S} fixed[i] + split·(|S|−1) + flow_cost(S)`. A set whose flow leaves a source idle is
//! over-charged, but the same allocation is priced correctly at the smaller set, so the least
//! value is still the optimum.
//!
//! **Lower bound.** Let `m[s]` be the cheapest per-unit cost any source (or, with partial
//! fulfilment, the unfulfilled penalty) offers for SKU `s`, and `base = Σ_l qty[l]·m[sku[l]]`:
//! every plan pays at least `base` for its units. A used source `i` serves at least one unit of
//! some SKU `s` it holds, paying `unit_cost[i] ≥ m[s] + δ[i]` for it, with
//! `δ[i] = min_{s held by i} (unit_cost[i] − m[s]) ≥ 0`, and different sources serve different
//! units. So a plan that uses exactly the set `S` costs at least
//! `LB(S) = base + Σ_{i∈S} (fixed[i] + δ[i]) + split·(|S|−1)`.
//!
//! **Pruning (with proof).** Let `U` be the cost of a known plan (greedy's). A source with
//! `base + fixed[i] + δ[i] > U` cannot be in any plan costing `≤ U`, since `LB(S) ≥` that for
//! any `S ∋ i`; so no optimal plan uses it, and dropping it (here and from the MIP) keeps the
//! optimum exact. Sets are searched by size, sources sorted by `fixed + δ`, and a branch is cut
//! as soon as `LB` of its cheapest completion reaches the best plan so far. When the search
//! would evaluate more than [`EVALUATIONS_MAX`] sets, it hands the surviving sources to the MIP.

use super::flow::{EdgeId, FlowNetwork};
use super::valid::{Allocation, Sourcing};

/// Most sets of sources priced by min-cost flow before the MIP takes over.
pub(crate) const EVALUATIONS_MAX: usize = 600;
/// Most branch-and-bound nodes visited before the MIP takes over.
const SEARCH_NODES_MAX: usize = 20_000;

pub(crate) enum Outcome {
    Optimal(Allocation),
    Infeasible,
    /// Too many sets to enumerate: these sources (indices into `Sourcing::sources`) survive
    /// pruning and go to the MIP.
    TooLarge(Vec<usize>),
}

/// Solves exactly, or says which sources the MIP must consider.
pub(crate) fn solve(sourcing: &Sourcing, greedy: Option<&Allocation>) -> Outcome {
    if sourcing.unfulfilled_per_unit.is_none() && !stock_can_cover(sourcing) {
        return Outcome::Infeasible;
    }
    let mut search = Search::new(sourcing);
    if let Some(allocation) = greedy {
        search.offer(sourcing.cost(allocation).total, allocation.clone());
    }
    if sourcing.unfulfilled_per_unit.is_some() {
        let nothing = Allocation::empty(sourcing.lines.len(), sourcing.sources.len());
        search.offer(sourcing.cost(&nothing).total, nothing);
    }
    search.prune();
    let sizes = (search.kept.len()).min(sourcing.total_qty() as usize);
    for size in 1..=sizes {
        if search.lower_bound(0, size, 0.0) >= search.best_cost {
            break;
        }
        let mut chosen = Vec::with_capacity(size);
        if search.sets_of(size, 0, &mut chosen, 0.0).is_err() {
            let mut kept = search.kept;
            kept.sort_unstable();
            return Outcome::TooLarge(kept);
        }
    }
    match search.best {
        Some(allocation) => Outcome::Optimal(allocation),
        None => Outcome::Infeasible,
    }
}

/// A necessary condition for a full plan: for every SKU, the sources together hold enough.
fn stock_can_cover(sourcing: &Sourcing) -> bool {
    sourcing.demand().iter().enumerate().all(|(sku, &asked)| {
        let held: u64 = sourcing
            .sources
            .iter()
            .map(|source| u64::from(source.available[sku].min(source.capacity)))
            .sum();
        held >= u64::from(asked)
    })
}

/// The search budget ran out.
struct TooLarge;

struct Search<'a> {
    sourcing: &'a Sourcing,
    /// Least cost any plan pays for its units.
    base: f64,
    /// Per source: `fixed + δ`, the least a plan pays beyond `base` for using it.
    entry_cost: Vec<f64>,
    /// Surviving sources, cheapest entry first, and prefix sums of their entry costs.
    kept: Vec<usize>,
    kept_entry_prefix: Vec<f64>,
    best_cost: f64,
    best: Option<Allocation>,
    evaluations: usize,
    nodes: usize,
}

impl<'a> Search<'a> {
    fn new(sourcing: &'a Sourcing) -> Self {
        let cheapest_per_sku: Vec<f64> = (0..sourcing.skus.len())
            .map(|sku| {
                let from_sources = sourcing
                    .sources
                    .iter()
                    .filter(|source| source.available[sku] > 0)
                    .map(|source| source.unit_cost())
                    .fold(f64::INFINITY, f64::min);
                from_sources.min(sourcing.unfulfilled_per_unit.unwrap_or(f64::INFINITY))
            })
            .collect();
        let base = sourcing
            .lines
            .iter()
            .map(|line| f64::from(line.qty) * cheapest_per_sku[line.sku])
            .sum();
        let entry_cost = sourcing
            .sources
            .iter()
            .map(|source| {
                let least_excess = cheapest_per_sku
                    .iter()
                    .zip(&source.available)
                    .filter(|(_, &available)| available > 0)
                    .map(|(&cheapest, _)| (source.unit_cost() - cheapest).max(0.0))
                    .fold(f64::INFINITY, f64::min);
                source.fixed_cost() + least_excess
            })
            .collect();
        Self {
            sourcing,
            base,
            entry_cost,
            kept: Vec::new(),
            kept_entry_prefix: Vec::new(),
            best_cost: f64::INFINITY,
            best: None,
            evaluations: 0,
            nodes: 0,
        }
    }

    fn offer(&mut self, cost: f64, allocation: Allocation) {
        if cost < self.best_cost {
            self.best_cost = cost;
            self.best = Some(allocation);
        }
    }

    /// Keeps the sources that could be in a plan cheaper than the best known one.
    fn prune(&mut self) {
        // Round-off must never prune a source that could tie the optimum.
        let slack = 1e-9 * self.best_cost.abs().max(1.0);
        let mut kept: Vec<usize> = (0..self.sourcing.sources.len())
            .filter(|&i| self.base + self.entry_cost[i] <= self.best_cost + slack)
            .collect();
        kept.sort_by(|&a, &b| self.entry_cost[a].total_cmp(&self.entry_cost[b]));
        let mut prefix = Vec::with_capacity(kept.len() + 1);
        prefix.push(0.0);
        for &i in &kept {
            prefix.push(prefix[prefix.len() - 1] + self.entry_cost[i]);
        }
        self.kept = kept;
        self.kept_entry_prefix = prefix;
    }

    /// `LB` of the cheapest set of `size` sources whose next pick is at position `next` or
    /// later, given entry costs `chosen_entry` already chosen.
    fn lower_bound(&self, next: usize, size: usize, chosen_entry: f64) -> f64 {
        let prefix = &self.kept_entry_prefix;
        let cheapest_completion = prefix[next + size] - prefix[next];
        let splits = self.sourcing.split_penalty * (size.saturating_sub(1)) as f64;
        self.base + chosen_entry + cheapest_completion + splits
    }

    /// Prices every promising set of `size` sources extending `chosen`.
    fn sets_of(
        &mut self,
        size: usize,
        start: usize,
        chosen: &mut Vec<usize>,
        chosen_entry: f64,
    ) -> Result<(), TooLarge> {
        self.nodes += 1;
        if self.nodes > SEARCH_NODES_MAX {
            return Err(TooLarge);
        }
        let missing = size - chosen.len();
        if missing == 0 {
            return self.price(chosen);
        }
        for next in start..=(self.kept.len() - missing) {
            let bound = self.lower_bound(next, missing, chosen_entry)
                + self.sourcing.split_penalty * chosen.len() as f64;
            // Later positions have dearer entries, so their bounds are no lower.
            if bound >= self.best_cost {
                break;
            }
            let source = self.kept[next];
            chosen.push(source);
            let result = self.sets_of(
                size,
                next + 1,
                chosen,
                chosen_entry + self.entry_cost[source],
            );
            chosen.pop();
            result?;
        }
        Ok(())
    }

    /// Prices the set `chosen` by min-cost flow and keeps it if it beats the best plan.
    fn price(&mut self, chosen: &[usize]) -> Result<(), TooLarge> {
        let sourcing = self.sourcing;
        if sourcing.unfulfilled_per_unit.is_none() && !set_can_cover(sourcing, chosen) {
            return Ok(());
        }
        self.evaluations += 1;
        if self.evaluations > EVALUATIONS_MAX {
            return Err(TooLarge);
        }
        let mut network = SetNetwork::build(sourcing, chosen);
        let Some(units_cost) = network.solve(sourcing) else {
            return Ok(());
        };
        let fixed: f64 = chosen
            .iter()
            .map(|&i| sourcing.sources[i].fixed_cost())
            .sum();
        let splits = sourcing.split_penalty * (chosen.len() - 1) as f64;
        let cost = fixed + splits + units_cost;
        if cost < self.best_cost {
            let allocation = network.allocation(sourcing, chosen);
            // Price it with the model's own cost function (it may leave a chosen source idle).
            self.offer(sourcing.cost(&allocation).total, allocation);
        }
        Ok(())
    }
}

/// Whether the sources in `chosen` together hold enough of every SKU.
fn set_can_cover(sourcing: &Sourcing, chosen: &[usize]) -> bool {
    let total_capacity: u64 = chosen
        .iter()
        .map(|&i| u64::from(sourcing.sources[i].capacity))
        .sum();
    total_capacity >= u64::from(sourcing.total_qty())
        && sourcing.demand().iter().enumerate().all(|(sku, &asked)| {
            let held: u64 = chosen
                .iter()
                .map(|&i| u64::from(sourcing.sources[i].available[sku]))
                .sum();
            held >= u64::from(asked)
        })
}

/// The flow network pricing one set of sources.
struct SetNetwork {
    network: FlowNetwork,
    source: usize,
    sink: usize,
    /// `(line, position in chosen, edge)` for every line → (source, SKU) arc.
    supply_edges: Vec<(usize, usize, EdgeId)>,
}

impl SetNetwork {
    fn build(sourcing: &Sourcing, chosen: &[usize]) -> Self {
        let mut network = FlowNetwork::default();
        let source = network.add_node();
        let sink = network.add_node();
        let line_nodes: Vec<usize> = sourcing
            .lines
            .iter()
            .map(|line| {
                let node = network.add_node();
                network.add_edge(source, node, line.qty, 0.0);
                if let Some(penalty) = sourcing.unfulfilled_per_unit {
                    network.add_edge(node, sink, line.qty, penalty);
                }
                node
            })
            .collect();
        let mut supply_edges = Vec::new();
        for (position, &i) in chosen.iter().enumerate() {
            let location = &sourcing.sources[i];
            let location_node = network.add_node();
            network.add_edge(location_node, sink, location.capacity, 0.0);
            for sku in 0..sourcing.skus.len() {
                let available = location.available[sku];
                if available == 0 {
                    continue;
                }
                let stock_node = network.add_node();
                let unprotected = location.unprotected[sku];
                network.add_edge(stock_node, location_node, unprotected, 0.0);
                network.add_edge(
                    stock_node,
                    location_node,
                    available - unprotected,
                    sourcing.protection_per_unit,
                );
                for (l, line) in sourcing.lines.iter().enumerate() {
                    if line.sku == sku {
                        let edge = network.add_edge(
                            line_nodes[l],
                            stock_node,
                            line.qty.min(available),
                            location.unit_cost(),
                        );
                        supply_edges.push((l, position, edge));
                    }
                }
            }
        }
        Self {
            network,
            source,
            sink,
            supply_edges,
        }
    }

    /// The least cost of the units (everything but fixed costs and splits), or `None` when the
    /// set cannot cover the order.
    fn solve(&mut self, sourcing: &Sourcing) -> Option<f64> {
        let total = sourcing.total_qty();
        let (sent, cost) = self.network.min_cost_flow(self.source, self.sink, total);
        (sent == total).then_some(cost)
    }

    fn allocation(&self, sourcing: &Sourcing, chosen: &[usize]) -> Allocation {
        let mut allocation = Allocation::empty(sourcing.lines.len(), sourcing.sources.len());
        for &(line, position, edge) in &self.supply_edges {
            allocation.add(line, chosen[position], self.network.flow(edge));
        }
        allocation
    }
}
