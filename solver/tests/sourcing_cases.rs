//! Hand-made sourcing cases with known answers. Each states its story first.

use allot_solver::{
    solve_sourcing, solve_sourcing_greedy, Candidate, Coordinates, Fulfilment, Lane, LocationKind,
    OrderLine, Route, SolveError, SolveStatus, SourcingCosts, SourcingProblem, StockLevel,
};

/// Taipei Main Station; other points are offsets from it.
const ORIGIN: Coordinates = Coordinates {
    lat: 25.0478,
    lon: 121.5170,
};
/// One hundredth of a degree of latitude is about 1.11 km.
const KM_PER_HUNDREDTH_LAT: f64 = 1.112;

fn north_km(km: f64) -> Coordinates {
    Coordinates {
        lat: ORIGIN.lat + km / KM_PER_HUNDREDTH_LAT / 100.0,
        lon: ORIGIN.lon,
    }
}

fn candidate(
    id: &str,
    kind: LocationKind,
    km: f64,
    handling: f64,
    stock: &[(&str, i64)],
) -> Candidate {
    Candidate {
        location: id.into(),
        kind,
        position: north_km(km),
        stock: stock
            .iter()
            .map(|&(sku, available)| StockLevel {
                sku: sku.into(),
                available,
                protected: 0,
            })
            .collect(),
        handling_per_unit: handling,
        handling_hours: 1.0,
        capacity_units: None,
    }
}

fn costs(split_penalty: f64) -> SourcingCosts {
    SourcingCosts {
        shipment_fixed: 6.0,
        shipping_per_unit_km: 0.02,
        split_penalty,
        protection_per_unit: 0.0,
        unfulfilled_per_unit: 0.0,
        shipping_per_unit: 0.0,
        wait_per_hour: 0.0,
    }
}

fn order(
    lines: &[(&str, i64)],
    fulfilment: Fulfilment,
    candidates: Vec<Candidate>,
) -> SourcingProblem {
    SourcingProblem {
        lines: lines
            .iter()
            .map(|&(sku, qty)| OrderLine {
                sku: sku.into(),
                qty,
            })
            .collect(),
        fulfilment,
        candidates,
        lanes: Vec::new(),
        costs: costs(10.0),
        allow_partial: false,
        time_limit_ms: 5_000,
    }
}

fn ship_home() -> Fulfilment {
    Fulfilment::Ship {
        destination: ORIGIN,
    }
}

fn lane(from: &str, to: &str, fixed: f64, per_unit: f64, hours: f64) -> Lane {
    Lane {
        from: from.into(),
        to: to.into(),
        cost_fixed: fixed,
        cost_per_unit: per_unit,
        lead_time_hours: hours,
    }
}

/// (location, qty, route) of every source of line `line`.
fn sources(plan: &allot_solver::SourcingPlan, line: usize) -> Vec<(String, u32, Route)> {
    plan.lines[line]
        .sources
        .iter()
        .map(|s| (s.location.0.clone(), s.qty, s.route))
        .collect()
}

#[test]
fn one_transfer_of_three_beats_two_pickup_batches() {
    // The pickup store has 2 of the 3 units; a store 3 km away has all 3. Taking 2 from the
    // shelf and transferring 1 costs a second batch (split penalty 10); one transfer of all 3
    // costs only 1.5 more in handling and lane fees.
    let mut problem = order(
        &[("jacket-m", 3)],
        Fulfilment::Pickup {
            store: "pickup".into(),
        },
        vec![
            candidate("pickup", LocationKind::Store, 0.0, 1.0, &[("jacket-m", 2)]),
            candidate("nearby", LocationKind::Store, 3.0, 1.0, &[("jacket-m", 3)]),
        ],
    );
    problem.lanes = vec![lane("nearby", "pickup", 4.0, 0.5, 5.0)];
    let plan = solve_sourcing(&problem).unwrap();
    assert_eq!(plan.status, SolveStatus::Optimal);
    assert_eq!(
        sources(&plan, 0),
        vec![("nearby".to_string(), 3, Route::TransferThenPickup)]
    );
    assert_eq!(plan.transfers.len(), 1);
    assert_eq!(plan.transfers[0].qty, 3);
    assert_eq!(plan.pickup_batches.len(), 1);
    assert_eq!(plan.pickup_batches[0].ready_in_hours, 1.0 + 5.0);
    // Handling 3, lane 4 + 1.5, no split.
    assert!((plan.cost.total - 8.5).abs() < 1e-9, "{:?}", plan.cost);

    // Greedy takes the shelf first and pays for two batches.
    let greedy = solve_sourcing_greedy(&problem).unwrap();
    assert_eq!(greedy.pickup_batches.len(), 2);
    assert!(greedy.cost.total > plan.cost.total);
}

#[test]
fn cheap_split_lets_the_customer_take_the_shelf_units_now() {
    // Same shelf and neighbour, but batches cost nothing extra: the 2 shelf units cost 2 in
    // handling, and only 1 unit pays the lane fees.
    let mut problem = order(
        &[("jacket-m", 3)],
        Fulfilment::Pickup {
            store: "pickup".into(),
        },
        vec![
            candidate("pickup", LocationKind::Store, 0.0, 1.0, &[("jacket-m", 2)]),
            candidate("nearby", LocationKind::Store, 3.0, 1.0, &[("jacket-m", 3)]),
        ],
    );
    problem.lanes = vec![lane("nearby", "pickup", 4.0, 0.5, 5.0)];
    problem.costs.split_penalty = 0.0;
    let plan = solve_sourcing(&problem).unwrap();
    assert_eq!(
        sources(&plan, 0),
        vec![
            ("pickup".to_string(), 2, Route::PickupFromShelf),
            ("nearby".to_string(), 1, Route::TransferThenPickup),
        ]
    );
    assert_eq!(plan.pickup_batches[0].ready_in_hours, 1.0);
    assert!((plan.cost.total - (3.0 + 4.5)).abs() < 1e-9);
}

#[test]
fn warehouse_handling_beats_the_dearer_nearby_store() {
    // The store 2 km away has the 3 units but picking there costs 2.0 a unit; the warehouse
    // 40 km away picks at 0.5. Parcel distance adds 0.02 a unit-km: 3·(2 + 0.04) = 6.12
    // against 3·(0.5 + 0.8) = 3.9, so the warehouse ships.
    let problem = order(
        &[("socks", 3)],
        ship_home(),
        vec![
            candidate("store", LocationKind::Store, 2.0, 2.0, &[("socks", 10)]),
            candidate(
                "warehouse",
                LocationKind::Warehouse,
                40.0,
                0.5,
                &[("socks", 500)],
            ),
        ],
    );
    let plan = solve_sourcing(&problem).unwrap();
    assert_eq!(
        sources(&plan, 0),
        vec![("warehouse".to_string(), 3, Route::ShipDirect)]
    );
    assert_eq!(plan.shipments.len(), 1);
    assert!((plan.shipments[0].distance_km - 40.0).abs() < 0.5);
    assert!((plan.cost.handling - 1.5).abs() < 1e-9);
    assert!((plan.cost.shipping - (6.0 + 3.0 * 0.02 * plan.shipments[0].distance_km)).abs() < 1e-9);
}

#[test]
fn one_parcel_from_the_warehouse_beats_two_from_stores_when_splits_cost() {
    // Store A has the shirt, store B the trousers, both next door; the warehouse 30 km away
    // has both. Two parcels cost a second fixed fee (6) and the split penalty (10); one parcel
    // from the warehouse costs 2·0.6 more in distance.
    let problem = order(
        &[("shirt", 1), ("trousers", 1)],
        ship_home(),
        vec![
            candidate("store-a", LocationKind::Store, 1.0, 1.0, &[("shirt", 1)]),
            candidate("store-b", LocationKind::Store, 1.0, 1.0, &[("trousers", 1)]),
            candidate(
                "warehouse",
                LocationKind::Warehouse,
                30.0,
                1.0,
                &[("shirt", 9), ("trousers", 9)],
            ),
        ],
    );
    let plan = solve_sourcing(&problem).unwrap();
    assert_eq!(plan.shipments.len(), 1);
    assert_eq!(plan.shipments[0].from.0, "warehouse");
    assert_eq!(plan.cost.split_penalty, 0.0);

    // Without the penalty and with free parcels, the two nearby stores win.
    let mut cheap_splits = problem.clone();
    cheap_splits.costs.split_penalty = 0.0;
    cheap_splits.costs.shipment_fixed = 0.0;
    let plan = solve_sourcing(&cheap_splits).unwrap();
    let mut from: Vec<_> = plan.shipments.iter().map(|s| s.from.0.clone()).collect();
    from.sort();
    assert_eq!(from, ["store-a", "store-b"]);
}

#[test]
fn a_protected_display_unit_is_left_on_the_shelf() {
    // The nearest store's only unit is its display piece (protected, penalty 20); a store
    // 5 km away has a spare one. Shipping from farther costs 0.08 more; taking the display
    // unit would cost 20.
    let mut problem = order(
        &[("lamp", 1)],
        ship_home(),
        vec![
            candidate("near", LocationKind::Store, 1.0, 1.0, &[("lamp", 1)]),
            candidate("far", LocationKind::Store, 5.0, 1.0, &[("lamp", 2)]),
        ],
    );
    problem.candidates[0].stock[0].protected = 1;
    problem.costs.protection_per_unit = 20.0;
    let plan = solve_sourcing(&problem).unwrap();
    assert_eq!(
        sources(&plan, 0),
        vec![("far".to_string(), 1, Route::ShipDirect)]
    );
    assert_eq!(plan.cost.protection_penalty, 0.0);

    // When no other store has one, the display unit goes, and the plan says what it cost.
    problem.candidates[1].stock[0].available = 0;
    let plan = solve_sourcing(&problem).unwrap();
    assert_eq!(
        sources(&plan, 0),
        vec![("near".to_string(), 1, Route::ShipDirect)]
    );
    assert_eq!(plan.cost.protection_penalty, 20.0);
}

#[test]
fn a_full_picking_day_sends_the_order_elsewhere() {
    // The nearest store can pick only 1 more unit today, so the 2 units come from the second
    // nearest (one parcel) rather than from both (two parcels).
    let mut problem = order(
        &[("cap", 2)],
        ship_home(),
        vec![
            candidate("busy", LocationKind::Store, 1.0, 1.0, &[("cap", 5)]),
            candidate("quiet", LocationKind::Store, 4.0, 1.0, &[("cap", 5)]),
        ],
    );
    problem.candidates[0].capacity_units = Some(1);
    let plan = solve_sourcing(&problem).unwrap();
    assert_eq!(
        sources(&plan, 0),
        vec![("quiet".to_string(), 2, Route::ShipDirect)]
    );
}

#[test]
fn missing_units_are_unfulfilled_when_partial_is_allowed_and_infeasible_otherwise() {
    // Only 2 of the 3 units exist anywhere.
    let mut problem = order(
        &[("scarf", 3)],
        ship_home(),
        vec![candidate(
            "store",
            LocationKind::Store,
            1.0,
            1.0,
            &[("scarf", 2)],
        )],
    );
    let plan = solve_sourcing(&problem).unwrap();
    match &plan.status {
        SolveStatus::Infeasible { reason } => assert!(reason.contains("scarf"), "{reason}"),
        other => panic!("expected infeasible, got {other:?}"),
    }
    assert_eq!(plan.lines[0].unfulfilled, 3);

    problem.allow_partial = true;
    problem.costs.unfulfilled_per_unit = 50.0;
    let plan = solve_sourcing(&problem).unwrap();
    assert_eq!(plan.status, SolveStatus::Optimal);
    assert_eq!(plan.lines[0].unfulfilled, 1);
    assert_eq!(plan.cost.unfulfilled_penalty, 50.0);

    // When shipping costs more than the sale is worth, nothing ships.
    problem.costs.unfulfilled_per_unit = 1.0;
    let plan = solve_sourcing(&problem).unwrap();
    assert_eq!(plan.lines[0].unfulfilled, 3);
    assert!(plan.shipments.is_empty());
}

#[test]
fn a_store_without_a_lane_cannot_transfer() {
    // The only store with the item has no lane into the pickup store: infeasible.
    let problem = order(
        &[("boots", 1)],
        Fulfilment::Pickup {
            store: "pickup".into(),
        },
        vec![
            candidate("pickup", LocationKind::Store, 0.0, 1.0, &[]),
            candidate("other", LocationKind::Store, 2.0, 1.0, &[("boots", 4)]),
        ],
    );
    let plan = solve_sourcing(&problem).unwrap();
    assert!(matches!(plan.status, SolveStatus::Infeasible { .. }));
}

fn base_problem() -> SourcingProblem {
    order(
        &[("tee", 1)],
        ship_home(),
        vec![
            candidate("a", LocationKind::Store, 1.0, 1.0, &[("tee", 1)]),
            candidate("b", LocationKind::Store, 2.0, 1.0, &[("tee", 1)]),
        ],
    )
}

fn error_of(change: impl FnOnce(&mut SourcingProblem)) -> String {
    let mut problem = base_problem();
    change(&mut problem);
    let error: SolveError = solve_sourcing(&problem).unwrap_err();
    error.to_string()
}

#[test]
fn invalid_input_is_an_error_naming_the_field() {
    assert_eq!(
        error_of(|p| p.candidates[1].stock[0].available = -2),
        "candidates[1].stock[0].available is negative (-2)"
    );
    assert_eq!(
        error_of(|p| p.candidates[1].handling_per_unit = f64::NAN),
        "candidates[1].handling_per_unit is NaN, expected a finite number"
    );
    assert_eq!(
        error_of(|p| p.lanes.push(lane("a", "nowhere", 1.0, 1.0, 1.0))),
        "lanes[0].to names unknown location \"nowhere\""
    );
    assert_eq!(error_of(|p| p.lines.clear()), "lines is empty");
    assert_eq!(
        error_of(|p| p.lines[0].qty = 0),
        "lines[0].qty is 0, expected 1 to 100000"
    );
    assert_eq!(
        error_of(|p| p.costs.split_penalty = f64::INFINITY),
        "costs.split_penalty is inf, expected a finite number"
    );
    assert_eq!(
        error_of(|p| p.candidates[1].location = "a".into()),
        "candidates[1].location repeats \"a\""
    );
    assert_eq!(
        error_of(|p| p.fulfilment = Fulfilment::Pickup { store: "z".into() }),
        "fulfilment.store names unknown location \"z\""
    );
    assert_eq!(
        error_of(|p| p.time_limit_ms = 0),
        "time_limit_ms is 0, expected 1 to 60000"
    );
    assert_eq!(
        error_of(|p| p.allow_partial = true),
        "costs.unfulfilled_per_unit: must be positive when allow_partial is true"
    );
}
