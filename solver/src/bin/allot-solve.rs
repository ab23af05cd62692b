//! `allot-solve <problem.json>`: reads one problem (see `allot_solver::Problem`), prints its
//! plan as JSON on standard output. `-` reads standard input. Exit status 1 on unreadable or
//! invalid input, with the reason on standard error.

use std::io::Read;
use std::process::ExitCode;

use allot_solver::{solve, Problem};

const USAGE: &str = "usage: allot-solve <problem.json | ->";

fn main() -> ExitCode {
    match run() {
        Ok(plan) => {
            println!("{plan}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("allot-solve: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<String, String> {
    let mut arguments = std::env::args().skip(1);
    let (Some(path), None) = (arguments.next(), arguments.next()) else {
        return Err(USAGE.to_string());
    };
    let text = if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|error| format!("reading standard input: {error}"))?;
        text
    } else {
        std::fs::read_to_string(&path).map_err(|error| format!("reading {path}: {error}"))?
    };
    let problem: Problem =
        serde_json::from_str(&text).map_err(|error| format!("{path}: {error}"))?;
    let plan = solve(&problem).map_err(|error| format!("{path}: {error}"))?;
    serde_json::to_string_pretty(&plan).map_err(|error| format!("writing the plan: {error}"))
}
