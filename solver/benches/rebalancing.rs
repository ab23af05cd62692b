//! Rebalancing speed: one SKU over 1,000 stores, 5 % of them with a surplus and 5 % with a
//! shortfall (criterion), and a 200 stores × 10,000 SKUs run end to end, 10 % + 10 % per SKU
//! (timed once, printed, with the greedy baseline's gain beside it).

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use allot_solver::rebalancing::{solve_rebalancing, solve_rebalancing_greedy};
use criterion::{criterion_group, criterion_main, Criterion};

fn one_sku(c: &mut Criterion) {
    let problem = common::rebalancing_run(7, 1_000, 1, 5, 1);
    let mut group = c.benchmark_group("rebalancing");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("one_sku_1000_stores", |b| {
        b.iter(|| black_box(solve_rebalancing(&problem).expect("valid problem")))
    });
    group.finish();
}

fn end_to_end(_: &mut Criterion) {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let problem = common::rebalancing_run(9, 200, 10_000, 10, threads);
    let started = Instant::now();
    let plan = solve_rebalancing(&problem).expect("valid problem");
    let optimal_time = started.elapsed();
    let started = Instant::now();
    let greedy = solve_rebalancing_greedy(&problem).expect("valid problem");
    let greedy_time = started.elapsed();
    let mip_skus = plan
        .skus
        .iter()
        .filter(|sku| sku.method == allot_solver::Method::Mip)
        .count();
    println!(
        "\nrebalancing 200 stores x 10000 SKUs on {threads} threads: {:.1} s ({} SKUs needed the \
         MIP), status {:?}, {} transfers, net gain {:.1}; greedy {:.2} s, {} transfers, net gain \
         {:.1} ({:.1} % less)",
        optimal_time.as_secs_f64(),
        mip_skus,
        plan.status,
        plan.transfers,
        plan.net_gain,
        greedy_time.as_secs_f64(),
        greedy.transfers,
        greedy.net_gain,
        100.0 * (plan.net_gain - greedy.net_gain) / plan.net_gain
    );
}

criterion_group!(benches, one_sku, end_to_end);
criterion_main!(benches);
