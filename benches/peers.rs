//! Peers: Allot's routing side by side with two platforms' default rules, on one seeded order
//! stream, every policy scored with the cost model Allot is configured with.
//!
//! `cargo bench --bench peers` prints, per cost regime, a markdown table (orders fully served,
//! units × km, parcels, transfers, split share, total cost-to-serve) and Allot's solve statuses;
//! then the walk-in protection result.
//!
//! **The chain** (seeded): 60 stores spread over about 27 × 24 km around Taipei's centre and 2
//! warehouses 45–60 km out (the distances are printed); each store carries a random 40 % of 200
//! SKUs with 0–6 units, the warehouses every SKU with 40–200 units. **The stream**: 2,000 orders
//! of 1–4 lines (distinct SKUs, 1–2 units each); 60 % ship to a random point around the centre,
//! 40 % are collected at a random store; split allowed, partial not, none cancelled. Stock
//! depletes: each policy runs on its own copy of the opening stock, the orders in the same
//! sequence, and a served order's units leave that policy's stock (so the policies diverge).
//!
//! **The policies**, each deciding from the order's `SourcingProblem` (built by
//! `allot::routing::problem` from the policy's current stock: a row for every location with units
//! of an order SKU, no holds, walk-in sales 0):
//! - *Allot*: that problem solved by `allot_solver::solve_sourcing` (the real order path minus
//!   the I/O), its plan applied.
//! - *Magento MSI, distance priority*: each line from the nearest source with stock, the
//!   shortfall from the next nearest; in pickup mode the store's shelf first, then transfers from
//!   the sources nearest the store ([`policies::msi_distance`]).
//! - *Shopify default*: the nearest single location that fills the whole order, else the fewest
//!   locations (greedily most remaining units covered, the nearest on a tie); in pickup mode the
//!   shelf first, then the same rule for the rest ([`policies::shopify_default`]).
//!
//! **The score**: [`score::price`] prices any policy's allocation with the order's problem, term
//! for term as the sourcing model does (parcel fixed + per unit + per unit·km per shipment, lane
//! fixed + per unit per transfer, handling per unit by kind, the customer's wait per hour until
//! each parcel or batch is ready, protection per unit below the protected level, the split
//! penalty per source beyond the first). Every Allot plan is re-priced by it and must equal the
//! plan's own `cost.total` within 1e-6, which proves the scorer is the model.
//!
//! **The regimes** (everything not named is `CostModel::default()`):
//! - *balanced*: `CostModel::default()` (parcel 80 + 0.6 per unit·km, split 60, wait 10/h,
//!   handling store 15/unit 0.5 h, warehouse 6/unit 4 h; lanes from a warehouse 50 + 2/unit 24 h,
//!   from a store 70 + 2/km + 1/unit, 2 h + 0.04 h/km; protection 1 unit or 2 days' sales at
//!   25/unit).
//! - *parcel-dominated*: parcel 300 fixed + 0.05 per unit·km; both transfer lanes 300 fixed and
//!   0 per km.
//! - *distance-dominated*: parcel 10 fixed + 3.0 per unit·km; split penalty 10; both lanes
//!   10 fixed + 3.0 per unit·km (a store's lane keeps its 2 per km of the run).
//!
//! Target: in each regime Allot's total cost-to-serve ≥ 10 % below the best peer's, with no
//! fewer orders fully served; the bench prints whether each regime meets it.
//!
//! **Exactness**: every 10th order of the balanced stream (200) is written as
//! `{"problem", "allot_total", "allot_status"}` JSON lines to `$PEERS_EXACTNESS_OUT` (default
//! `target/peers-exactness.jsonl`) for `python3 load-tests/exactness/check.py FILE`.
//!
//! **Protection** ([`protection`]): the same stream over 10 days with walk-in customers at the
//! stores; Allot protecting each store's SKU by its walk-in sales (`cover_days` 2, at least 1
//! unit) against a constant 1 unit (`cover_days` 0), in the balanced regime: walk-in stock-outs
//! and online cost-to-serve of both.

#![warn(clippy::too_many_lines)]

#[path = "peers/chain.rs"]
mod chain;
#[path = "common/mod.rs"]
mod common;
#[path = "peers/policies.rs"]
mod policies;
#[path = "peers/protection.rs"]
mod protection;
#[path = "peers/score.rs"]
mod score;

use allot::domain::costs::CostModel;
use allot::routing::problem;
use allot_solver::{solve_sourcing, Fulfilment, SolveStatus, SourcingPlan, SourcingProblem};
use chain::{Chain, Order, Stock, ORDERS, SKUS, STORES, WAREHOUSES};
use score::{price, Allocation, Priced};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Instant;

const CHAIN_SEED: u64 = 0x9e37_79b9_7f4a_7c15;
const ORDER_SEED: u64 = 0x2545_f491_4f6c_dd1d;
const WALK_IN_SEED: u64 = 0x5851_f42d_4c95_7f2d;
/// Every how many orders of the balanced stream one is written for the exactness checker.
const EXACTNESS_EVERY: usize = 10;
/// How close the scorer's price of an Allot plan must be to the plan's own total.
const SCORER_TOLERANCE: f64 = 1e-6;
const TARGET_SAVING: f64 = 0.10;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Policy {
    Allot,
    Msi,
    Shopify,
}

const POLICIES: [Policy; 3] = [Policy::Allot, Policy::Msi, Policy::Shopify];

impl Policy {
    fn name(self) -> &'static str {
        match self {
            Policy::Allot => "Allot",
            Policy::Msi => "Magento MSI (distance priority)",
            Policy::Shopify => "Shopify (default)",
        }
    }
}

struct Regime {
    name: &'static str,
    costs: CostModel,
    /// Write the exactness sample from this regime's stream.
    sample: bool,
}

fn regimes() -> Vec<Regime> {
    let balanced = CostModel::default();
    let mut parcel = CostModel::default();
    parcel.parcel.fixed = 300.0;
    parcel.parcel.per_unit_km = 0.05;
    for lane in [
        &mut parcel.transfer.from_warehouse,
        &mut parcel.transfer.from_store,
    ] {
        lane.fixed = 300.0;
        lane.per_km = 0.0;
    }
    let mut distance = CostModel::default();
    distance.parcel.fixed = 10.0;
    distance.parcel.per_unit_km = 3.0;
    distance.split_penalty = 10.0;
    for lane in [
        &mut distance.transfer.from_warehouse,
        &mut distance.transfer.from_store,
    ] {
        lane.fixed = 10.0;
        lane.per_unit_km = 3.0;
    }
    for regime in [&balanced, &parcel, &distance] {
        regime.validate().expect("a valid cost model");
    }
    vec![
        Regime {
            name: "balanced",
            costs: balanced,
            sample: true,
        },
        Regime {
            name: "parcel-dominated",
            costs: parcel,
            sample: false,
        },
        Regime {
            name: "distance-dominated",
            costs: distance,
            sample: false,
        },
    ]
}

/// Every figure of a cost model, on one line.
fn figures(costs: &CostModel) -> String {
    let lane = |l: &allot::domain::costs::Lane| {
        format!(
            "{} + {}/km + {}/unit + {}/unit·km, {} h + {} h/km",
            l.fixed, l.per_km, l.per_unit, l.per_unit_km, l.hours, l.hours_per_km
        )
    };
    let (store, warehouse) = (&costs.handling.store, &costs.handling.warehouse);
    format!(
        "parcel {} + {}/unit + {}/unit·km; split {}; wait {}/h; handling store {}/unit {} h, \
         warehouse {}/unit {} h; lane from warehouse {}; lane from store {}; protection {} \
         unit(s) or {} days' sales, {}/unit",
        costs.parcel.fixed,
        costs.parcel.per_unit,
        costs.parcel.per_unit_km,
        costs.split_penalty,
        costs.wait_per_hour,
        store.per_unit,
        store.hours,
        warehouse.per_unit,
        warehouse.hours,
        lane(&costs.transfer.from_warehouse),
        lane(&costs.transfer.from_store),
        costs.protection.units,
        costs.protection.cover_days,
        costs.protection.per_unit,
    )
}

/// The order's sourcing problem over `stock`, through Allot's own `routing::problem`.
fn sourcing_problem(
    chain: &Chain,
    order: &Order,
    stock: &Stock,
    costs: &CostModel,
    walk_in_rates: bool,
) -> SourcingProblem {
    let request = chain.request(order);
    let rows = chain.rows(order, stock, walk_in_rates);
    problem(
        &request,
        chain.pickup_store(order),
        &rows,
        &HashMap::new(),
        costs,
    )
}

/// Allot's decision: the plan (or the solver's error, which fails the order on the real path),
/// and its allocation when it covers the order. The plan is re-priced by the bench's scorer,
/// which must agree with the plan's own total.
struct Decision {
    allocation: Option<Allocation>,
    plan: Result<SourcingPlan, String>,
    /// |scorer − plan.cost.total| (0 without a plan that covers the order).
    scorer_gap: f64,
}

/// Where the problems the solver failed on are kept, to reproduce them.
const SOLVER_ERRORS_OUT: &str = "target/peers-solver-errors.jsonl";

fn decide_allot(problem: &SourcingProblem) -> Decision {
    let plan = match solve_sourcing(problem) {
        Ok(plan) => plan,
        Err(error) => {
            keep_failed(problem, &error.to_string());
            return Decision {
                allocation: None,
                plan: Err(error.to_string()),
                scorer_gap: 0.0,
            };
        }
    };
    let covers = !matches!(
        plan.status,
        SolveStatus::Infeasible { .. } | SolveStatus::Unsolved { .. }
    );
    if !covers {
        return Decision {
            allocation: None,
            plan: Ok(plan),
            scorer_gap: 0.0,
        };
    }
    let allocation = Allocation::of_plan(problem, &plan);
    let scorer_gap = (price(problem, &allocation).total - plan.cost.total).abs();
    assert!(
        scorer_gap <= SCORER_TOLERANCE,
        "the scorer prices Allot's plan at {} but the plan says {}",
        price(problem, &allocation).total,
        plan.cost.total
    );
    Decision {
        allocation: Some(allocation),
        plan: Ok(plan),
        scorer_gap,
    }
}

/// Appends a problem the solver failed on, with its error, to [`SOLVER_ERRORS_OUT`].
fn keep_failed(problem: &SourcingProblem, error: &str) {
    use std::io::Write as _;
    let line = serde_json::json!({ "error": error, "problem": problem });
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(SOLVER_ERRORS_OUT)
        .expect("the solver-errors file is writable");
    writeln!(file, "{line}").expect("the solver-errors file is writable");
}

/// Takes a served order's units out of the policy's stock.
fn apply(
    chain: &Chain,
    order: &Order,
    problem: &SourcingProblem,
    allocation: &Allocation,
    stock: &mut Stock,
) {
    for (&(sku, _), sources) in order.lines.iter().zip(&allocation.lines) {
        for &(candidate, qty) in sources {
            let location = chain.index_of(&problem.candidates[candidate].location.0);
            let units = &mut stock[location][sku];
            *units -= i64::from(qty);
            assert!(*units >= 0, "a policy took more than the stock");
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Tally {
    served: usize,
    units_km: f64,
    parcels: usize,
    transfers: usize,
    split_orders: usize,
    cost: f64,
    optimal: usize,
    fallback: usize,
    infeasible: usize,
    /// The solver returned an error (the real order path would fail the order).
    errors: usize,
    scorer_gap: f64,
    /// Allot's run only: on the stock Allot had at each order, what Allot's plan and each
    /// peer's rule would cost, per mode (`[ship, pickup]`).
    same_state: SameState,
}

/// Costs of Allot and of the peers' rules on the same decisions (same order, same stock).
#[derive(Debug, Clone, Default)]
struct SameState {
    allot: [f64; 2],
    /// `[MSI, Shopify][ship, pickup]`.
    peers: [[f64; 2]; 2],
}

impl SameState {
    /// Prices the peers' rules on `problem`, where Allot's plan costs `allot`.
    fn add(&mut self, problem: &SourcingProblem, allot: f64) {
        let mode = usize::from(matches!(problem.fulfilment, Fulfilment::Pickup { .. }));
        let rules = [policies::msi_distance, policies::shopify_default];
        let peers: Vec<f64> = rules
            .iter()
            .map(|rule| {
                let allocation = rule(problem).expect("a peer covers what Allot covers");
                price(problem, &allocation).total
            })
            .collect();
        for (sum, cost) in self.peers.iter_mut().zip(peers) {
            assert!(cost >= allot - SCORER_TOLERANCE, "Allot's plan is optimal");
            sum[mode] += cost;
        }
        self.allot[mode] += allot;
    }

    /// "+x % (ship +y %, pickup +z %)" for peer `peer`.
    fn excess(&self, peer: usize) -> String {
        let percent = |cost: f64, allot: f64| 100.0 * (cost / allot - 1.0);
        let [ship, pickup] = self.peers[peer];
        format!(
            "{:+.1} % (ship {:+.1} %, pickup {:+.1} %)",
            percent(ship + pickup, self.allot[0] + self.allot[1]),
            percent(ship, self.allot[0]),
            percent(pickup, self.allot[1]),
        )
    }
}

impl Tally {
    fn add(&mut self, priced: &Priced) {
        self.served += 1;
        self.units_km += priced.units_km;
        self.parcels += priced.parcels;
        self.transfers += priced.transfers;
        self.split_orders += usize::from(priced.sources > 1);
        self.cost += priced.total;
    }

    fn status(&mut self, decision: &Decision) {
        match decision.plan.as_ref().map(|plan| &plan.status) {
            Ok(SolveStatus::Optimal) => self.optimal += 1,
            Ok(SolveStatus::FallbackGreedy { .. }) => self.fallback += 1,
            Ok(SolveStatus::Infeasible { .. } | SolveStatus::Unsolved { .. }) => {
                self.infeasible += 1;
            }
            Err(_) => self.errors += 1,
        }
        self.scorer_gap = self.scorer_gap.max(decision.scorer_gap);
    }
}

/// One exactness line: the problem, Allot's total and its status tag ("error", with no total,
/// when the solver failed).
fn exactness_line(problem: &SourcingProblem, plan: &Result<SourcingPlan, String>) -> String {
    let (total, status) = match plan {
        Ok(plan) => {
            let status = serde_json::to_value(&plan.status).expect("a status serialises");
            (Some(plan.cost.total), status["status"].clone())
        }
        Err(_) => (None, "error".into()),
    };
    let line = serde_json::json!({
        "problem": problem,
        "allot_total": total,
        "allot_status": status,
    });
    serde_json::to_string(&line).expect("a problem serialises")
}

/// Runs the stream through one policy under one regime, on its own copy of the opening stock.
fn run(
    chain: &Chain,
    orders: &[Order],
    regime: &Regime,
    policy: Policy,
    sample: &mut Vec<String>,
) -> Tally {
    let mut tally = Tally::default();
    let mut stock = chain.opening.clone();
    for (index, order) in orders.iter().enumerate() {
        let problem = sourcing_problem(chain, order, &stock, &regime.costs, false);
        let allocation = match policy {
            Policy::Allot => {
                let decision = decide_allot(&problem);
                tally.status(&decision);
                if regime.sample && index % EXACTNESS_EVERY == 0 {
                    sample.push(exactness_line(&problem, &decision.plan));
                }
                decision.allocation
            }
            Policy::Msi => policies::msi_distance(&problem),
            Policy::Shopify => policies::shopify_default(&problem),
        };
        let Some(allocation) = allocation else {
            continue;
        };
        let priced = price(&problem, &allocation);
        if policy == Policy::Allot {
            tally.same_state.add(&problem, priced.total);
        }
        tally.add(&priced);
        apply(chain, order, &problem, &allocation, &mut stock);
    }
    tally
}

/// A lower bound on what any policy, a clairvoyant one included, pays for the stream: the sum of
/// each order's own optimum on the *opening* stock. Every policy serves an order from stock that
/// earlier orders can only have shrunk, and no term of the model gets cheaper with less stock (a
/// row with fewer units offers a subset of the allocations, and more of them reach below the
/// protected level), so each order costs it at least that order's optimum with nothing taken.
/// An order whose solve is not proven optimal adds 0, which keeps the bound valid.
#[derive(Debug, Clone, Copy, Default)]
struct Bound {
    total: f64,
    proven: usize,
    unproven: usize,
}

/// Where the balanced stream's problems on the opening stock go, for the clairvoyant optimum
/// (`python3 load-tests/exactness/hindsight.py FILE`).
const HINDSIGHT_OUT: &str = "target/peers-hindsight.jsonl";

/// The bound, and in the sampled regime the stream's problems on the opening stock written to
/// [`HINDSIGHT_OUT`].
fn no_depletion_bound(chain: &Chain, orders: &[Order], regime: &Regime) -> Bound {
    let mut bound = Bound::default();
    let mut stream = String::new();
    for order in orders {
        let problem = sourcing_problem(chain, order, &chain.opening, &regime.costs, false);
        if regime.sample {
            let line = serde_json::json!({ "problem": &problem });
            let _ = writeln!(stream, "{line}");
        }
        match solve_sourcing(&problem) {
            Ok(plan) if plan.status.is_optimal() => {
                bound.total += plan.cost.total;
                bound.proven += 1;
            }
            _ => bound.unproven += 1,
        }
    }
    if regime.sample {
        std::fs::write(HINDSIGHT_OUT, stream).expect("the hindsight file is writable");
        println!(
            "The stream's problems on the opening stock: {HINDSIGHT_OUT}; the clairvoyant \
             optimum with `python3 load-tests/exactness/hindsight.py {HINDSIGHT_OUT}`."
        );
    }
    bound
}

/// The cheapest peer's name and tally.
fn best_peer(tallies: &[Tally]) -> (Policy, &Tally) {
    let (best, peer) = POLICIES
        .iter()
        .zip(tallies)
        .skip(1)
        .min_by(|a, b| a.1.cost.total_cmp(&b.1.cost))
        .expect("two peers");
    (*best, peer)
}

/// What the bound says about the target: the most any policy could save against the best peer.
fn reachable(tallies: &[Tally], bound: &Bound) -> String {
    let (best, peer) = best_peer(tallies);
    let most = 1.0 - bound.total / peer.cost;
    format!(
        "Lower bound for any policy, clairvoyant included (each order's own optimum on the \
         opening stock; {} proven, {} unproven counted as 0): {:.0}, {:.1} % below {}. Allot is \
         {:.1} % above the bound. A 10 % saving is {} on this stream.\n",
        bound.proven,
        bound.unproven,
        bound.total,
        100.0 * most,
        best.name(),
        100.0 * (tallies[0].cost / bound.total - 1.0),
        if most >= TARGET_SAVING {
            "not ruled out by this bound (load-tests/exactness/master.py computes a tighter one)"
        } else {
            "out of reach for every policy"
        },
    )
}

fn table(regime: &Regime, tallies: &[Tally]) -> String {
    let allot = &tallies[0];
    let mut out = format!("\n### {}\n\n{}\n\n", regime.name, figures(&regime.costs));
    out.push_str("| policy | orders fully served | units×km | parcels | transfers | split share | total cost | vs Allot |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (policy, tally) in POLICIES.iter().zip(tallies) {
        let versus = match policy {
            Policy::Allot => "—".to_string(),
            _ => format!("{:+.1} %", 100.0 * (tally.cost / allot.cost - 1.0)),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} | {} | {:.1} % | {:.0} | {} |",
            policy.name(),
            tally.served,
            tally.units_km,
            tally.parcels,
            tally.transfers,
            100.0 * tally.split_orders as f64 / tally.served.max(1) as f64,
            tally.cost,
            versus,
        );
    }
    let _ = writeln!(
        out,
        "\nAllot's solves: {} optimal, {} fallback (greedy), {} infeasible, {} solver errors; the \
         scorer matched every plan's own total (max |difference| {:.1e}).",
        allot.optimal, allot.fallback, allot.infeasible, allot.errors, allot.scorer_gap
    );
    let _ = writeln!(
        out,
        "Same decisions (each peer's rule priced on the stock Allot had at each order, against \
         Allot's proven-optimal plan): MSI {}, Shopify {}.",
        allot.same_state.excess(0),
        allot.same_state.excess(1),
    );
    out.push_str(&verdict(tallies));
    out
}

/// Whether Allot is ≥ 10 % below the best peer's total, serving no fewer orders.
fn verdict(tallies: &[Tally]) -> String {
    let allot = &tallies[0];
    let (best, peer) = best_peer(tallies);
    let saving = 1.0 - allot.cost / peer.cost;
    let most_served = tallies[1..].iter().map(|t| t.served).max().unwrap_or(0);
    let met = saving >= TARGET_SAVING && allot.served >= most_served;
    format!(
        "Target (≥ 10 % below the best peer, no fewer orders served): Allot is {:.1} % below {} \
         ({:.1} vs {:.1} per served order), serving {} vs the peers' best {}: {}.\n",
        100.0 * saving,
        best.name(),
        allot.cost / allot.served.max(1) as f64,
        peer.cost / peer.served.max(1) as f64,
        allot.served,
        most_served,
        if met {
            "MET".to_string()
        } else {
            format!(
                "MISSED by {:.1} points",
                100.0 * (TARGET_SAVING - saving).max(0.0)
            )
        },
    )
}

fn write_exactness(sample: &[String]) {
    let path = std::env::var("PEERS_EXACTNESS_OUT")
        .unwrap_or_else(|_| "target/peers-exactness.jsonl".to_string());
    if let Some(parent) = std::path::Path::new(&path).parent() {
        std::fs::create_dir_all(parent).expect("the exactness file's directory");
    }
    let mut text = sample.join("\n");
    text.push('\n');
    std::fs::write(&path, text).expect("the exactness file is writable");
    println!(
        "\nExactness sample: {} orders of the balanced stream (every {EXACTNESS_EVERY}th) \
         written to {path}; check with `python3 load-tests/exactness/check.py {path}`.",
        sample.len()
    );
}

fn protection_result(chain: &Chain, orders: &[Order]) {
    let customers = protection::walk_ins(chain, orders.len(), WALK_IN_SEED);
    let by_demand = CostModel::default();
    let mut constant = CostModel::default();
    constant.protection.units = 1;
    constant.protection.cover_days = 0.0;
    let demand = protection::simulate(chain, orders, &customers, &by_demand, &constant);
    let flat = protection::simulate(chain, orders, &customers, &constant, &constant);
    let floor = protection::without_online(chain, orders.len(), &customers);
    let rated = chain.walk_in[..STORES]
        .iter()
        .flatten()
        .filter(|&&rate| rate > 0.0)
        .count();
    println!(
        "\n### Protection by walk-in sales (balanced regime, {} days, {} walk-in customers at {} \
         store/SKU pairs with a rate, stores topped up to their opening stock each night)\n",
        protection::DAYS,
        customers.len(),
        rated
    );
    print!(
        "{}",
        protection_table(customers.len(), &demand, &flat, floor)
    );
    let avoided = flat.stock_outs as f64 - demand.stock_outs as f64;
    let caused = flat.stock_outs.saturating_sub(floor).max(1) as f64;
    let extra = demand.cost_without_protection - flat.cost_without_protection;
    println!(
        "\nBoth runs priced with the constant-protection model. Protection by sales avoids \
         {avoided:.0} walk-in stock-outs ({:.1} % of all, {:.1} % of the {caused:.0} the online \
         orders cause with constant protection) for {extra:+.0} online cost-to-serve without the \
         protection penalty ({:+.2} %), {:.1} per stock-out avoided.",
        100.0 * avoided / flat.stock_outs.max(1) as f64,
        100.0 * avoided / caused,
        100.0 * extra / flat.cost_without_protection,
        extra / avoided.max(1.0),
    );
    if demand.solver_errors + flat.solver_errors > 0 {
        println!(
            "Solver errors: {} with protection by sales, {} with constant protection (those \
             orders are not served).",
            demand.solver_errors, flat.solver_errors
        );
    }
}

fn protection_table(
    customers: usize,
    demand: &protection::Outcome,
    flat: &protection::Outcome,
    floor: usize,
) -> String {
    let share = |stock_outs: usize| 100.0 * stock_outs as f64 / customers.max(1) as f64;
    let mut out = String::from(
        "| Allot protecting | walk-in stock-outs | online orders served | online cost-to-serve \
         | without protection penalty |\n|---|---:|---:|---:|---:|\n",
    );
    for (name, outcome) in [
        ("by walk-in sales (cover_days 2, ≥ 1 unit)", demand),
        ("a constant 1 unit (cover_days 0)", flat),
    ] {
        let _ = writeln!(
            out,
            "| {name} | {} ({:.2} %) | {} | {:.0} | {:.0} |",
            outcome.stock_outs,
            share(outcome.stock_outs),
            outcome.served,
            outcome.cost,
            outcome.cost_without_protection
        );
    }
    let _ = writeln!(
        out,
        "| (no online orders: walk-in demand beyond the shelf alone) | {floor} ({:.2} %) | — | — \
         | — |",
        share(floor)
    );
    out
}

fn main() {
    let started = Instant::now();
    // A fresh record of solver failures for this run (none is the normal case).
    let _ = std::fs::remove_file(SOLVER_ERRORS_OUT);
    let chain = Chain::generate(CHAIN_SEED);
    let orders = chain.orders(ORDER_SEED);
    let warehouses: Vec<String> = chain
        .warehouse_km
        .iter()
        .map(|km| format!("{km:.1} km"))
        .collect();
    println!(
        "# Peers: {ORDERS} orders, {STORES} stores, {WAREHOUSES} warehouses ({} from the centre), \
         {SKUS} SKUs",
        warehouses.join(", ")
    );
    for regime in regimes() {
        let mut sample = Vec::new();
        let tallies: Vec<Tally> = POLICIES
            .iter()
            .map(|&policy| run(&chain, &orders, &regime, policy, &mut sample))
            .collect();
        print!("{}", table(&regime, &tallies));
        print!(
            "{}",
            reachable(&tallies, &no_depletion_bound(&chain, &orders, &regime))
        );
        if regime.sample {
            write_exactness(&sample);
        }
    }
    protection_result(&chain, &orders);
    if std::path::Path::new(SOLVER_ERRORS_OUT).exists() {
        println!("\nThe solver failed on some orders: their problems are in {SOLVER_ERRORS_OUT}.");
    }
    println!("\n(ran in {:.1?})", started.elapsed());
}
