//! Hand-made rebalancing cases with known answers.

use allot_solver::rebalancing::{
    solve_rebalancing, solve_rebalancing_greedy, RebalancingCosts, RebalancingProblem, SkuBalance,
    StoreBalance, StorePosition,
};
use allot_solver::{Coordinates, SolveStatus};

/// Stores on one street, `km` north of the first.
fn store(id: &str, km: f64) -> StorePosition {
    StorePosition {
        location: id.into(),
        position: Coordinates {
            lat: 25.0 + km / 111.2,
            lon: 121.5,
        },
    }
}

fn balance(id: &str, surplus: i64, shortfall: i64) -> StoreBalance {
    StoreBalance {
        location: id.into(),
        surplus,
        shortfall,
    }
}

fn problem(skus: Vec<SkuBalance>) -> RebalancingProblem {
    RebalancingProblem {
        stores: vec![
            store("a", 0.0),
            store("b", 2.0),
            store("c", 10.0),
            store("d", 40.0),
        ],
        costs: RebalancingCosts {
            transfer_fixed: 5.0,
            transfer_per_unit: 0.5,
            transfer_per_unit_km: 0.1,
            transfer_km_max: 30.0,
        },
        min_transfer_qty: 2,
        skus,
        threads: Some(2),
        time_limit_ms_per_sku: 5_000,
    }
}

fn transfers(
    plan: &allot_solver::rebalancing::RebalancingPlan,
) -> Vec<(String, String, String, u32)> {
    let mut all: Vec<_> = plan
        .skus
        .iter()
        .flat_map(|sku| {
            sku.transfers
                .iter()
                .map(|t| (sku.sku.0.clone(), t.from.0.clone(), t.to.0.clone(), t.qty))
        })
        .collect();
    all.sort();
    all
}

#[test]
fn slow_stock_moves_only_where_the_gain_beats_the_cost() {
    // Scarves sit at a; b (2 km) and c (10 km) sell them, margin 3 a unit. To b: 3 units earn
    // 3·(3 − 0.5 − 0.2) − 5 = 1.9. To c: 3 units would earn 3·(3 − 0.5 − 1) − 5 = −0.5, so no.
    // d is 40 km away, beyond reach.
    let plan = solve_rebalancing(&problem(vec![SkuBalance {
        sku: "scarf".into(),
        margin_per_unit: 3.0,
        stores: vec![
            balance("a", 6, 0),
            balance("b", 0, 3),
            balance("c", 0, 3),
            balance("d", 0, 5),
        ],
    }]))
    .unwrap();
    assert_eq!(plan.status, SolveStatus::Optimal);
    assert_eq!(
        transfers(&plan),
        [("scarf".into(), "a".into(), "b".into(), 3)]
    );
    assert!((plan.net_gain - 1.9).abs() < 1e-3, "{}", plan.net_gain);
}

#[test]
fn the_minimum_transfer_quantity_blocks_single_units() {
    // b has one spare mug, a wants one: below the minimum of 2, so nothing moves.
    let plan = solve_rebalancing(&problem(vec![SkuBalance {
        sku: "mug".into(),
        margin_per_unit: 20.0,
        stores: vec![balance("a", 0, 1), balance("b", 1, 0)],
    }]))
    .unwrap();
    assert!(plan.skus[0].transfers.is_empty());
    assert_eq!(plan.net_gain, 0.0);
}

#[test]
fn the_optimiser_beats_nearest_first_when_two_stores_compete() {
    // On one street: shortfall stores at 0 km and 5 km want 4 umbrellas each; surplus stores
    // at 3 km and 16 km have 4 each; stores more than 14 km apart do not exchange. Nearest
    // first serves the 5 km store from 3 km, and the 0 km store then has nothing in reach.
    // The optimum sends 3 km → 0 km and 16 km → 5 km: 4·9.2 − 5 + 4·8.4 − 5 = 60.4.
    let mut problem = problem(vec![SkuBalance {
        sku: "umbrella".into(),
        margin_per_unit: 10.0,
        stores: vec![
            balance("at-5", 0, 4),
            balance("at-0", 0, 4),
            balance("at-3", 4, 0),
            balance("at-16", 4, 0),
        ],
    }]);
    problem.stores = vec![
        store("at-0", 0.0),
        store("at-3", 3.0),
        store("at-5", 5.0),
        store("at-16", 16.0),
    ];
    problem.costs.transfer_km_max = 14.0;
    let optimal = solve_rebalancing(&problem).unwrap();
    let greedy = solve_rebalancing_greedy(&problem).unwrap();
    assert_eq!(
        transfers(&optimal),
        [
            ("umbrella".into(), "at-16".into(), "at-5".into(), 4),
            ("umbrella".into(), "at-3".into(), "at-0".into(), 4),
        ]
    );
    assert!(
        (optimal.net_gain - 60.4).abs() < 0.05,
        "{}",
        optimal.net_gain
    );
    assert_eq!(
        transfers(&greedy),
        [("umbrella".into(), "at-3".into(), "at-5".into(), 4)]
    );
    assert!(greedy.net_gain < optimal.net_gain - 25.0);
}

#[test]
fn skus_are_solved_independently_and_in_input_order() {
    let skus: Vec<SkuBalance> = (0..20)
        .map(|i| SkuBalance {
            sku: format!("sku-{i:02}").as_str().into(),
            margin_per_unit: 5.0,
            stores: vec![balance("a", 3, 0), balance("b", 0, 3)],
        })
        .collect();
    let plan = solve_rebalancing(&problem(skus)).unwrap();
    assert_eq!(plan.skus.len(), 20);
    assert!(plan
        .skus
        .iter()
        .enumerate()
        .all(|(i, sku)| sku.sku.0 == format!("sku-{i:02}")));
    assert_eq!(plan.transfers, 20);
}

#[test]
fn invalid_rebalancing_input_names_the_field() {
    let mut bad = problem(vec![SkuBalance {
        sku: "mug".into(),
        margin_per_unit: 1.0,
        stores: vec![balance("a", 1, 0), balance("zz", 0, 1)],
    }]);
    assert_eq!(
        solve_rebalancing(&bad).unwrap_err().to_string(),
        "skus[0].stores[1].location names unknown location \"zz\""
    );
    bad.skus[0].stores[1] = balance("b", 2, 1);
    assert_eq!(
        solve_rebalancing(&bad).unwrap_err().to_string(),
        "skus[0].stores[1].shortfall: a store cannot have both a surplus and a shortfall"
    );
    bad.skus[0].stores[1] = balance("b", -1, 0);
    assert_eq!(
        solve_rebalancing(&bad).unwrap_err().to_string(),
        "skus[0].stores[1].surplus is negative (-1)"
    );
    bad.skus[0].stores[1] = balance("b", 0, 1);
    bad.costs.transfer_per_unit_km = f64::NAN;
    assert_eq!(
        solve_rebalancing(&bad).unwrap_err().to_string(),
        "costs.transfer_per_unit_km is NaN, expected a finite number"
    );
}
