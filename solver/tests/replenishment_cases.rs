//! Hand-made replenishment cases with known answers.

use allot_solver::replenishment::{
    solve_replenishment, solve_replenishment_greedy, ReplenishmentProblem, ReplenishmentStore,
    ReplenishmentValues, StockTarget, StoreNeed, WarehouseStock,
};
use allot_solver::SolveStatus;

fn need(sku: &str, on_hand: i64, min: i64, target: i64) -> StoreNeed {
    StoreNeed {
        sku: sku.into(),
        on_hand,
        target: StockTarget::Levels { min, target },
    }
}

fn store(id: &str, truck_cost: f64, needs: Vec<StoreNeed>) -> ReplenishmentStore {
    ReplenishmentStore {
        location: id.into(),
        truck_cost,
        trucks_max: 2,
        receive_capacity_units: None,
        needs,
    }
}

fn problem(stock: i64, stores: Vec<ReplenishmentStore>) -> ReplenishmentProblem {
    ReplenishmentProblem {
        warehouse: "dc".into(),
        warehouse_stock: vec![WarehouseStock {
            sku: "tee".into(),
            available: stock,
        }],
        pick_capacity_units: None,
        handling_per_unit: 0.5,
        truck_capacity_units: 10,
        values: ReplenishmentValues {
            below_min_per_unit: 10.0,
            to_target_per_unit: 2.0,
        },
        stores,
        time_limit_ms: 5_000,
    }
}

fn sent(plan: &allot_solver::replenishment::ReplenishmentPlan, store: &str) -> u32 {
    plan.shipments
        .iter()
        .filter(|s| s.to.0 == store)
        .flat_map(|s| &s.lines)
        .map(|line| line.qty)
        .sum()
}

#[test]
fn scarce_stock_goes_below_minimum_first() {
    // 6 tees left. North is 4 below its minimum and 4 more below target; south is at its
    // minimum, 6 below target. Minimum units are worth 10, target units 2, a truck 8:
    // north gets 4 (minimum) + 2 (target) = 6 on one truck; south would only earn
    // 6·(2 − 0.5) − 8 = 1 with all six, less than north's top-up.
    let problem = problem(
        6,
        vec![
            store("north", 8.0, vec![need("tee", 1, 5, 9)]),
            store("south", 8.0, vec![need("tee", 5, 5, 11)]),
        ],
    );
    let plan = solve_replenishment(&problem).unwrap();
    assert_eq!(plan.status, SolveStatus::Optimal);
    assert_eq!(sent(&plan, "north"), 6);
    assert_eq!(sent(&plan, "south"), 0);
    assert_eq!(plan.value.below_min_covered, 40.0);
    assert_eq!(plan.value.to_target_covered, 4.0);
    assert_eq!(plan.value.net, 40.0 + 4.0 - 3.0 - 8.0);
}

#[test]
fn a_truck_is_not_sent_for_a_top_up_worth_less_than_the_truck() {
    // The only need is 3 units to target (worth 3·2 = 6) and a truck costs 8: send nothing.
    // Greedy, which ignores costs, sends them anyway.
    let problem = problem(50, vec![store("east", 8.0, vec![need("tee", 7, 5, 10)])]);
    let plan = solve_replenishment(&problem).unwrap();
    assert!(plan.shipments.is_empty());
    let greedy = solve_replenishment_greedy(&problem).unwrap();
    assert_eq!(sent(&greedy, "east"), 3);
    assert!(greedy.value.net < plan.value.net);
}

#[test]
fn days_of_cover_become_levels() {
    // 2.5 a day, 2 days minimum and 4 target: levels 5 and 10; 3 on hand, so 2 urgent + 5.
    let mut problem = problem(100, vec![store("west", 1.0, Vec::new())]);
    problem.stores[0].needs.push(StoreNeed {
        sku: "tee".into(),
        on_hand: 3,
        target: StockTarget::DaysOfCover {
            demand_per_day: 2.5,
            min_days: 2.0,
            target_days: 4.0,
        },
    });
    let plan = solve_replenishment(&problem).unwrap();
    assert_eq!(sent(&plan, "west"), 7);
    assert_eq!(plan.shipments[0].trucks, 1);
}

#[test]
fn truck_capacity_limits_what_a_store_receives() {
    // West is 30 below minimum but can take at most 2 trucks of 10.
    let problem = problem(100, vec![store("west", 1.0, vec![need("tee", 0, 30, 30)])]);
    let plan = solve_replenishment(&problem).unwrap();
    assert_eq!(sent(&plan, "west"), 20);
    assert_eq!(plan.shipments[0].trucks, 2);
}

#[test]
fn invalid_replenishment_input_names_the_field() {
    let mut bad = problem(5, vec![store("west", 1.0, vec![need("tee", 0, 9, 4)])]);
    assert_eq!(
        solve_replenishment(&bad).unwrap_err().to_string(),
        "stores[0].needs[0].target: target level 4 is below the minimum 9"
    );
    bad.stores[0].needs[0] = need("tee", -3, 1, 4);
    assert_eq!(
        solve_replenishment(&bad).unwrap_err().to_string(),
        "stores[0].needs[0].on_hand is negative (-3)"
    );
    bad.stores[0].needs[0] = need("tee", 0, 1, 4);
    bad.values.to_target_per_unit = 11.0;
    assert_eq!(
        solve_replenishment(&bad).unwrap_err().to_string(),
        "values.to_target_per_unit: must not exceed values.below_min_per_unit (minimums come first)"
    );
}
