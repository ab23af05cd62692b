//! The rebalancing model against an independent reference in the same run: the same
//! instances, written as problem JSON, solved by `reference_scipy.py` (scipy's HiGHS MIP,
//! without this crate's lane pruning). Prints the optimum of each side, their relative
//! difference (must be ≤ 1e-6) and the time ratio. Skips with a note when python3 or scipy is
//! missing.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use allot_solver::rebalancing::{solve_rebalancing, RebalancingProblem};
use allot_solver::Problem;

const RELATIVE_TOLERANCE: f64 = 1e-6;

struct Reference {
    net_gain: f64,
    seconds: f64,
}

fn reference(problem: &RebalancingProblem, name: &str) -> Option<Reference> {
    let dir = std::env::temp_dir().join("allot-solver-reference");
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(format!("{name}.json"));
    let json = serde_json::to_string(&Problem::Rebalancing(problem.clone())).ok()?;
    std::fs::write(&path, json).ok()?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/reference_scipy.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(&path)
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!(
            "reference skipped: {}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    // HiGHS may print notes on standard output before the script's one JSON line.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(value) = stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
    else {
        eprintln!("reference skipped: no JSON line in its output");
        return None;
    };
    Some(Reference {
        net_gain: value["net_gain"].as_f64()?,
        seconds: value["seconds"].as_f64()?,
    })
}

fn compare(name: &str, problem: &RebalancingProblem) -> bool {
    let started = Instant::now();
    let plan = solve_rebalancing(problem).expect("valid problem");
    let ours: Duration = started.elapsed();
    let Some(theirs) = reference(problem, name) else {
        return true;
    };
    let difference = (plan.net_gain - theirs.net_gain).abs()
        / plan.net_gain.abs().max(theirs.net_gain.abs()).max(1.0);
    let agrees = difference <= RELATIVE_TOLERANCE;
    println!(
        "{name}: allot {:.6} in {:.3} s ({} threads) | scipy-HiGHS {:.6} in {:.3} s | relative \
         difference {difference:.1e} {} | time ratio scipy/allot {:.1}",
        plan.net_gain,
        ours.as_secs_f64(),
        problem.threads.unwrap_or(1),
        theirs.net_gain,
        theirs.seconds,
        if agrees { "(agrees)" } else { "(DISAGREES)" },
        theirs.seconds / ours.as_secs_f64()
    );
    agrees
}

fn main() {
    // Cargo passes `--bench`; this bench takes no other arguments.
    let cases = [
        (
            "one_sku_1000_stores",
            common::rebalancing_run(7, 1_000, 1, 5, 1),
        ),
        (
            "200_stores_1000_skus_1_thread",
            common::rebalancing_run(8, 200, 1_000, 10, 1),
        ),
        (
            "200_stores_1000_skus_2_threads",
            common::rebalancing_run(8, 200, 1_000, 10, 2),
        ),
    ];
    let mut all_agree = true;
    for (name, problem) in &cases {
        all_agree &= compare(name, problem);
    }
    if !all_agree {
        eprintln!("allot and the reference disagree beyond {RELATIVE_TOLERANCE}");
        std::process::exit(1);
    }
}
