//! Sourcing speed and savings.
//!
//! - `sourcing/3_lines_200_candidates`: the headline figure (target median ≤ 1 ms).
//! - `sourcing/lines_x_candidates`: growth with lines and candidates.
//! - a printed report over a few thousand generated orders: which method proved each plan, the
//!   solve time distribution, and the optimiser's saving over greedy in cost and in splits.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use allot_solver::{solve_sourcing, solve_sourcing_greedy, Method, SourcingPlan};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

fn headline(c: &mut Criterion) {
    let orders: Vec<_> = (0..64)
        .map(|seed| common::sourcing_order(seed, 3, 200))
        .collect();
    let mut next = 0;
    c.bench_function("sourcing/3_lines_200_candidates", |b| {
        b.iter(|| {
            next = (next + 1) % orders.len();
            black_box(solve_sourcing(&orders[next]).expect("valid order"))
        })
    });
}

fn growth(c: &mut Criterion) {
    let mut group = c.benchmark_group("sourcing/lines_x_candidates");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(3));
    for lines in [1, 3, 10] {
        for candidates in [50, 200, 1_000] {
            let orders: Vec<_> = (0..16)
                .map(|seed| common::sourcing_order(1_000 + seed, lines, candidates))
                .collect();
            let mut next = 0;
            let id = BenchmarkId::from_parameter(format!("{lines}x{candidates}"));
            group.bench_function(id, |b| {
                b.iter(|| {
                    next = (next + 1) % orders.len();
                    black_box(solve_sourcing(&orders[next]).expect("valid order"))
                })
            });
        }
    }
    group.finish();
}

fn shipments_or_batches(plan: &SourcingPlan) -> usize {
    plan.shipments.len() + plan.pickup_batches.len()
}

/// Optimiser against greedy on many orders; printed, not timed by criterion.
fn savings_report(_: &mut Criterion) {
    const ORDERS: u64 = 3_000;
    let (mut optimal_cost, mut greedy_cost) = (0.0, 0.0);
    let (mut optimal_parts, mut greedy_parts) = (0usize, 0usize);
    let (mut split_orders_optimal, mut split_orders_greedy) = (0usize, 0usize);
    let (mut by_enumeration, mut by_mip, mut other) = (0usize, 0usize, 0usize);
    let mut compared = 0usize;
    let mut times = Vec::with_capacity(ORDERS as usize);
    for seed in 0..ORDERS {
        let lines = 1 + (seed % 5) as usize;
        let order = common::sourcing_order(50_000 + seed, lines, 200);
        let started = Instant::now();
        let optimal = solve_sourcing(&order).expect("valid order");
        times.push(started.elapsed());
        let greedy = solve_sourcing_greedy(&order).expect("valid order");
        match optimal.method {
            Method::Enumeration => by_enumeration += 1,
            Method::Mip => by_mip += 1,
            _ => other += 1,
        }
        if !optimal.status.is_optimal() || greedy.status.is_optimal() {
            continue;
        }
        if matches!(greedy.status, allot_solver::SolveStatus::Infeasible { .. }) {
            continue;
        }
        compared += 1;
        optimal_cost += optimal.cost.total;
        greedy_cost += greedy.cost.total;
        optimal_parts += shipments_or_batches(&optimal);
        greedy_parts += shipments_or_batches(&greedy);
        split_orders_optimal += usize::from(shipments_or_batches(&optimal) > 1);
        split_orders_greedy += usize::from(shipments_or_batches(&greedy) > 1);
    }
    times.sort();
    let quantile = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!("\nsourcing savings over {ORDERS} orders (1-5 lines, 200 candidates, 1 in 5 pickup):");
    println!(
        "  proved by enumeration: {by_enumeration}, by MIP: {by_mip}, other: {other}; \
         solve time p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
        quantile(0.5),
        quantile(0.9),
        quantile(0.99),
        quantile(1.0)
    );
    println!(
        "  compared {compared} orders both could fulfil: total cost optimiser {optimal_cost:.1} vs \
         greedy {greedy_cost:.1} ({:.1} % saved)",
        100.0 * (greedy_cost - optimal_cost) / greedy_cost
    );
    println!(
        "  parcels + pickup batches: optimiser {optimal_parts} vs greedy {greedy_parts}; \
         split orders: optimiser {split_orders_optimal} vs greedy {split_orders_greedy}"
    );
}

criterion_group!(benches, headline, growth, savings_report);
criterion_main!(benches);
