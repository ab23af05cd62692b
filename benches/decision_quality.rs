//! Decision quality: Allot's routing (the sourcing model with the chain's cost model) against
//! nearest-store greedy routing, on the same generated orders, in the same run.
//!
//! `cargo bench --bench decision_quality` prints total cost, split shipments/batches and solve
//! time for both. The chain: 200 stores around Taipei and 2 warehouses; each store carries about
//! 30% of 1,000 SKUs (1–8 units), the warehouses most of the range. Each order is routed against
//! the same opening stock (orders are independent), so the comparison is per decision.

#[path = "common/mod.rs"]
mod common;

use allot::domain::codes::SkuCode;
use allot::domain::costs::CostModel;
use allot::domain::geo::Point;
use allot::domain::location::LocationKind;
use allot::domain::quantity::Qty;
use allot::routing::{problem, CandidateRow, Fulfilment, Request};
use allot_solver::{solve_sourcing, solve_sourcing_greedy, SolveStatus, SourcingPlan};
use common::{location, Random};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const STORES: usize = 200;
const SKUS: usize = 1_000;
const ORDERS: usize = 3_000;

struct Totals {
    cost: f64,
    splits: usize,
    infeasible: usize,
    time: Duration,
}

/// Solves and their time per way the plan was decided: the mean hides a few slow MIPs.
#[derive(Default)]
struct ByMethod(Vec<(String, usize, usize, Duration)>);

impl ByMethod {
    fn add(&mut self, plan: &SourcingPlan, time: Duration) {
        let how = match &plan.status {
            SolveStatus::Optimal => format!("optimal by {:?}", plan.method),
            SolveStatus::FallbackGreedy { .. } => "fell back to greedy".to_string(),
            SolveStatus::Infeasible { .. } => "infeasible".to_string(),
            SolveStatus::Unsolved { .. } => "unsolved".to_string(),
        };
        let explained = usize::from(plan.runner_up.is_some());
        match self.0.iter_mut().find(|(key, _, _, _)| *key == how) {
            Some((_, count, with_runner_up, total)) => {
                (*count, *with_runner_up, *total) =
                    (*count + 1, *with_runner_up + explained, *total + time);
            }
            None => self.0.push((how, 1, explained, time)),
        }
    }

    fn print(&self) {
        for (how, count, with_runner_up, total) in &self.0 {
            let mean_us = total.as_secs_f64() * 1e6 / *count as f64;
            println!(
                "  {how:<22} {count:>5} solves ({with_runner_up} with a runner-up), \
                 {total:>10.1?} in all, {mean_us:>9.1} µs each"
            );
        }
    }
}

fn sources(plan: &SourcingPlan) -> usize {
    let mut used: Vec<&str> = plan
        .lines
        .iter()
        .flat_map(|line| line.sources.iter().map(|s| s.location.0.as_str()))
        .collect();
    used.sort_unstable();
    used.dedup();
    used.len()
}

fn main() {
    let mut random = Random::new(0x9e37_79b9_7f4a_7c15);
    let mut locations = Vec::new();
    for index in 0..STORES {
        let point = Point::parse("", random.around(25.04, 0.15), random.around(121.53, 0.15))
            .expect("a point near Taipei");
        locations.push(location(format!("S{index:03}"), LocationKind::Store, point));
    }
    for (index, (latitude, longitude)) in [(25.0, 121.3), (24.95, 121.6)].into_iter().enumerate() {
        let point = Point::parse("", latitude, longitude).expect("a warehouse point");
        locations.push(location(
            format!("W{index}"),
            LocationKind::Warehouse,
            point,
        ));
    }
    let mut stock: HashMap<String, Vec<CandidateRow>> = HashMap::new();
    for sku in 0..SKUS {
        let code = format!("SKU{sku:04}");
        for location in &locations {
            let units = match location.kind {
                LocationKind::Store if random.next(100) < 30 => 1 + random.next(8) as i64,
                LocationKind::Warehouse if random.next(100) < 85 => 20 + random.next(180) as i64,
                _ => 0,
            };
            if units > 0 {
                stock.entry(code.clone()).or_default().push(CandidateRow {
                    location: location.clone(),
                    sku: code.clone(),
                    available: units,
                    sold_per_day: 0.0,
                    capacity_left: None,
                });
            }
        }
    }

    let mut optimal = Totals {
        cost: 0.0,
        splits: 0,
        infeasible: 0,
        time: Duration::ZERO,
    };
    let mut greedy = Totals {
        cost: 0.0,
        splits: 0,
        infeasible: 0,
        time: Duration::ZERO,
    };
    let (mut compared, mut not_optimal) = (0, 0);
    let mut by_method = ByMethod::default();
    for _ in 0..ORDERS {
        let line_count = 1 + random.next(4) as usize;
        let mut lines: Vec<(SkuCode, Qty)> = Vec::new();
        while lines.len() < line_count {
            let sku = SkuCode::parse("sku", &format!("SKU{:04}", random.next(SKUS as u64)))
                .expect("code");
            if lines.iter().all(|(code, _)| *code != sku) {
                lines.push((
                    sku,
                    Qty::parse("qty", 1 + random.next(2) as i64).expect("qty"),
                ));
            }
        }
        let pickup = random.next(100) < 30;
        let store = &locations[random.next(STORES as u64) as usize];
        let fulfilment = if pickup {
            Fulfilment::Pickup(store.code.clone())
        } else {
            let point = Point::parse("", random.around(25.04, 0.2), random.around(121.53, 0.2))
                .expect("point");
            Fulfilment::Ship(point)
        };
        let request = Request {
            lines,
            fulfilment,
            allow_split: true,
            allow_partial: false,
            restock: false,
            own_held: Vec::new(),
        };
        let rows: Vec<CandidateRow> = request
            .lines
            .iter()
            .flat_map(|(sku, _)| stock.get(sku.as_str()).cloned().unwrap_or_default())
            .collect();
        let sourcing = problem(
            &request,
            pickup.then_some(store),
            &rows,
            &HashMap::new(),
            &CostModel::default(),
        );

        let started = Instant::now();
        let best = solve_sourcing(&sourcing).expect("a valid problem");
        optimal.time += started.elapsed();
        by_method.add(&best, started.elapsed());
        let started = Instant::now();
        let nearest = solve_sourcing_greedy(&sourcing).expect("a valid problem");
        greedy.time += started.elapsed();

        let best_ok = !matches!(
            best.status,
            SolveStatus::Infeasible { .. } | SolveStatus::Unsolved { .. }
        );
        let nearest_ok = !matches!(
            nearest.status,
            SolveStatus::Infeasible { .. } | SolveStatus::Unsolved { .. }
        );
        optimal.infeasible += usize::from(!best_ok);
        greedy.infeasible += usize::from(!nearest_ok);
        not_optimal += usize::from(best_ok && !best.status.is_optimal());
        if best_ok && nearest_ok {
            compared += 1;
            optimal.cost += best.cost.total;
            greedy.cost += nearest.cost.total;
            optimal.splits += sources(&best).saturating_sub(1);
            greedy.splits += sources(&nearest).saturating_sub(1);
        }
    }
    let saving = 100.0 * (greedy.cost - optimal.cost) / greedy.cost;
    println!("decision quality on {ORDERS} generated orders ({STORES} stores, 2 warehouses, {SKUS} SKUs)");
    println!(
        "orders compared (both feasible): {compared}; optimiser fell back to greedy: {not_optimal}"
    );
    println!(
        "{:<10} {:>14} {:>16} {:>12} {:>14}",
        "router", "total cost", "extra parcels", "infeasible", "solve time"
    );
    for (name, totals) in [("optimiser", &optimal), ("greedy", &greedy)] {
        println!(
            "{name:<10} {:>14.0} {:>16} {:>12} {:>12.1?}",
            totals.cost, totals.splits, totals.infeasible, totals.time
        );
    }
    println!(
        "saving: {saving:.1}% of cost, {} fewer extra parcels/batches ({:.1} µs per optimal solve)",
        greedy.splits as i64 - optimal.splits as i64,
        optimal.time.as_secs_f64() * 1e6 / ORDERS as f64
    );
    println!("optimiser's solves (with their runner-up) by how the plan was decided:");
    by_method.print();
    assert!(
        optimal.cost <= greedy.cost + 1e-6,
        "the optimiser is never worse than greedy"
    );
}
