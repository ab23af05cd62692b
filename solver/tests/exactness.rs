//! Exact where it claims to be: on random sourcing problems (ship and pickup, transfers, split
//! penalties, protected units, waiting priced, capacities), every plan the solver calls
//! optimal costs what an independent MILP (load-tests/exactness/check.py, HiGHS through
//! scipy; `make deps` installs it) proves optimal, within 0.01 %.

use allot_solver::{
    solve_sourcing, Candidate, Coordinates, Fulfilment, Lane, LocationId, LocationKind, OrderLine,
    SourcingCosts, SourcingProblem, StockLevel,
};
use std::io::Write;
use std::process::Command;

const PROBLEMS: u64 = 60;
const SKUS: [&str; 3] = ["A", "B", "C"];

/// A small deterministic generator (SplitMix64), so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn real(&mut self, high: f64) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * high
    }
}

fn candidate(rng: &mut Rng, index: u64) -> Candidate {
    let warehouse = index == 0;
    Candidate {
        location: LocationId(format!("L{index}")),
        kind: if warehouse {
            LocationKind::Warehouse
        } else {
            LocationKind::Store
        },
        position: Coordinates {
            lat: 25.0 + rng.real(0.5),
            lon: 121.3 + rng.real(0.5),
        },
        stock: SKUS
            .iter()
            .map(|sku| StockLevel {
                sku: (*sku).into(),
                available: rng.below(if warehouse { 20 } else { 4 }) as i64,
                protected: rng.below(2) as i64,
            })
            .collect(),
        handling_per_unit: 2.0 + rng.real(15.0),
        handling_hours: 1.0 + rng.real(24.0),
        capacity_units: (rng.below(4) == 0).then(|| rng.below(4) as i64),
    }
}

fn problem(rng: &mut Rng) -> SourcingProblem {
    let candidates: Vec<Candidate> = (0..2 + rng.below(5)).map(|i| candidate(rng, i)).collect();
    let lines = (0..1 + rng.below(3))
        .map(|i| OrderLine {
            sku: SKUS[i as usize].into(),
            qty: 1 + rng.below(3) as i64,
        })
        .collect();
    let pickup = rng.below(2) == 0;
    let store = candidates.last().expect("two or more").location.clone();
    let lanes = match pickup {
        true => candidates[..candidates.len() - 1]
            .iter()
            .map(|from| Lane {
                from: from.location.clone(),
                to: store.clone(),
                cost_fixed: 10.0 + rng.real(60.0),
                cost_per_unit: rng.real(3.0),
                lead_time_hours: 2.0 + rng.real(30.0),
            })
            .collect(),
        false => Vec::new(),
    };
    SourcingProblem {
        lines,
        fulfilment: match pickup {
            true => Fulfilment::Pickup { store },
            false => Fulfilment::Ship {
                destination: Coordinates {
                    lat: 25.0 + rng.real(0.5),
                    lon: 121.3 + rng.real(0.5),
                },
            },
        },
        candidates,
        lanes,
        costs: SourcingCosts {
            shipment_fixed: 20.0 + rng.real(80.0),
            shipping_per_unit_km: rng.real(1.0),
            split_penalty: rng.real(60.0),
            protection_per_unit: rng.real(30.0),
            unfulfilled_per_unit: 500.0,
            shipping_per_unit: rng.real(5.0),
            wait_per_hour: rng.real(3.0),
        },
        allow_partial: rng.below(3) == 0,
        time_limit_ms: 5_000,
    }
}

/// One line of the checker's input: the problem, the solver's total and status.
fn line(problem: &SourcingProblem) -> String {
    let (total, status) = match solve_sourcing(problem) {
        Ok(plan) => {
            let status = serde_json::to_value(&plan.status).expect("a status serialises");
            (Some(plan.cost.total), status["status"].clone())
        }
        Err(_) => (None, "error".into()),
    };
    let line =
        serde_json::json!({"problem": problem, "allot_total": total, "allot_status": status});
    serde_json::to_string(&line).expect("a problem serialises")
}

#[test]
fn optimal_plans_cost_what_an_independent_milp_proves_optimal() {
    let mut rng = Rng(20_261_203);
    let path = std::env::temp_dir().join(format!("allot-exactness-{}.jsonl", std::process::id()));
    let mut file = std::fs::File::create(&path).expect("a scratch file");
    for _ in 0..PROBLEMS {
        writeln!(file, "{}", line(&problem(&mut rng))).expect("written");
    }
    drop(file);
    let checker = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../load-tests/exactness/check.py"
    );
    let output = Command::new("python3")
        .arg(checker)
        .arg(&path)
        .output()
        .expect("python3 runs");
    let _ = std::fs::remove_file(&path);
    let printed = String::from_utf8_lossy(&output.stdout);
    let errors = String::from_utf8_lossy(&output.stderr);
    println!("{printed}");
    assert!(
        !errors.contains("No module named"),
        "the checker needs scipy: pip install -r load-tests/exactness/requirements.txt\n{errors}"
    );
    assert!(
        output.status.success(),
        "the checker found a mismatch:\n{printed}\n{errors}"
    );
}
