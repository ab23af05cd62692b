//! The JSON form of problems and plans, and the `allot-solve` binary that reads it.

use std::process::Command;

use allot_solver::{solve, Plan, Problem, Route, SolveStatus};

fn example(name: &str) -> String {
    let path = format!("{}/problems/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

#[test]
fn every_example_problem_parses_and_solves_to_an_optimal_plan() {
    for name in [
        "sourcing-pickup.json",
        "rebalancing.json",
        "replenishment.json",
    ] {
        let problem: Problem = serde_json::from_str(&example(name)).unwrap();
        let plan = solve(&problem).unwrap();
        let status = match &plan {
            Plan::Sourcing(plan) => &plan.status,
            Plan::Replenishment(plan) => &plan.status,
            Plan::Rebalancing(plan) => &plan.status,
        };
        assert_eq!(status, &SolveStatus::Optimal, "{name}");
        // Plans read back into the same value.
        let text = serde_json::to_string(&plan).unwrap();
        assert_eq!(serde_json::from_str::<Plan>(&text).unwrap(), plan);
    }
}

#[test]
fn the_pickup_example_hands_over_the_shelf_units_now_and_one_jacket_later() {
    // The pickup store has 2 of 3 jackets and the scarf; the store next door has all 3
    // jackets; the warehouse lane costs 25 a run. Shelf units plus one jacket transferred from
    // next door (one extra batch, 10) beat bringing all 3 jackets from next door (also two
    // batches, since the scarf is on the shelf) and the warehouse run.
    let problem: Problem = serde_json::from_str(&example("sourcing-pickup.json")).unwrap();
    let Plan::Sourcing(plan) = solve(&problem).unwrap() else {
        panic!("not a sourcing plan");
    };
    let jackets: Vec<_> = plan.lines[0]
        .sources
        .iter()
        .map(|s| (s.location.0.as_str(), s.qty, s.route))
        .collect();
    assert_eq!(
        jackets,
        [
            ("taipei-101", 2, Route::PickupFromShelf),
            ("xinyi-a11", 1, Route::TransferThenPickup)
        ]
    );
    assert_eq!(plan.lines[1].sources[0].route, Route::PickupFromShelf);
    let ready: Vec<f64> = plan
        .pickup_batches
        .iter()
        .map(|b| b.ready_in_hours)
        .collect();
    assert_eq!(ready, [0.5, 3.5]);
    assert!((plan.cost.total - 19.3).abs() < 1e-9, "{:?}", plan.cost);
}

#[test]
fn unknown_fields_are_rejected() {
    let text = example("sourcing-pickup.json").replace("\"allow_partial\"", "\"allow_partiall\"");
    let error = serde_json::from_str::<Problem>(&text)
        .unwrap_err()
        .to_string();
    assert!(error.contains("allow_partiall"), "{error}");
}

#[test]
fn allot_solve_prints_the_plan_as_json() {
    let path = format!("{}/problems/rebalancing.json", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(env!("CARGO_BIN_EXE_allot-solve"))
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let plan: Plan = serde_json::from_slice(&output.stdout).unwrap();
    assert!(matches!(plan, Plan::Rebalancing(ref p) if p.transfers == 2));
}

#[test]
fn allot_solve_names_the_invalid_field() {
    let output = Command::new(env!("CARGO_BIN_EXE_allot-solve"))
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            let text = example("rebalancing.json").replace("\"surplus\": 4 }", "\"surplus\": -4 }");
            child.stdin.take().unwrap().write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("skus[0].stores[2].surplus is negative (-4)"),
        "{message}"
    );
}
