//! The sourcing MIP of the module documentation, built with good_lp and solved by HiGHS, over a
//! given subset of the sources (those that survive pruning).

use std::time::Duration;

use good_lp::solvers::highs::highs;
use good_lp::{
    constraint, variable, Expression, ProblemVariables, ResolutionError, Solution, SolutionStatus,
    SolverModel, Variable,
};

use super::valid::{Allocation, Sourcing};
use crate::error::{Result, SolveError};

pub(crate) enum Outcome {
    Optimal(Allocation),
    Infeasible,
    TimeLimit,
}

/// Decision variables of one source.
struct SourceVariables {
    /// Index into `Sourcing::sources`.
    source: usize,
    used: Variable,
    /// Units per order line (`None` where the source lacks the line's SKU).
    units: Vec<Option<Variable>>,
    /// Units taken below the protected level, per order SKU.
    below_protected: Vec<Option<Variable>>,
}

/// Solves the model restricted to `sources` within `time_limit`.
pub(crate) fn solve(
    sourcing: &Sourcing,
    sources: &[usize],
    time_limit: Duration,
) -> Result<Outcome> {
    if time_limit.is_zero() {
        return Ok(Outcome::TimeLimit);
    }
    let started = std::time::Instant::now();
    let mut variables = ProblemVariables::new();
    let chosen: Vec<SourceVariables> = sources
        .iter()
        .map(|&i| source_variables(&mut variables, sourcing, i))
        .collect();
    let unfulfilled: Vec<Option<Variable>> = sourcing
        .lines
        .iter()
        .map(|line| {
            sourcing
                .unfulfilled_per_unit
                .map(|_| variables.add(variable().integer().clamp(0, line.qty)))
        })
        .collect();
    let extra_sources = variables.add(variable().min(0));

    let objective = fixed_costs(sourcing, &chosen)
        + sourcing.split_penalty * extra_sources
        + unit_costs(sourcing, &chosen)
        + protection_penalties(sourcing, &chosen)
        + unfulfilled_penalties(sourcing, &unfulfilled);
    let mut model = variables
        .minimise(objective)
        .using(highs)
        .set_time_limit(time_limit.as_secs_f64())
        // Exactly optimal, not within HiGHS's default 0.01 % gap.
        .set_option("mip_rel_gap", 0.0)
        .set_option("mip_abs_gap", 1e-9);

    for (l, line) in sourcing.lines.iter().enumerate() {
        let sourced: Expression = chosen.iter().filter_map(|s| s.units[l]).sum();
        let short: Expression = unfulfilled[l].map_or_else(Expression::default, Expression::from);
        model.add_constraint(constraint!(sourced + short == line.qty));
    }
    for source in &chosen {
        let location = &sourcing.sources[source.source];
        for sku in 0..sourcing.skus.len() {
            let taken = units_of_sku(sourcing, source, sku);
            model.add_constraint(constraint!(taken.clone() <= location.available[sku]));
            if let Some(below) = source.below_protected[sku] {
                model.add_constraint(constraint!(below >= taken - location.unprotected[sku]));
            }
        }
        let picked: Expression = source.units.iter().flatten().sum();
        model.add_constraint(constraint!(
            picked <= f64::from(location.capacity) * source.used
        ));
        for (l, units) in source.units.iter().enumerate() {
            if let Some(units) = *units {
                let line_qty = f64::from(sourcing.lines[l].qty);
                model.add_constraint(constraint!(units <= line_qty * source.used));
            }
        }
    }
    let sources_used: Expression = chosen.iter().map(|s| s.used).sum();
    model.add_constraint(constraint!(extra_sources >= sources_used - 1));

    let solution = match model.solve() {
        Ok(solution) => solution,
        Err(ResolutionError::Infeasible) => return Ok(Outcome::Infeasible),
        // HiGHS stopped at its time limit before finding any solution ("NoSolutionFound"):
        // out of time, not a fault, so the caller falls back to the greedy plan.
        Err(_) if started.elapsed() >= time_limit => return Ok(Outcome::TimeLimit),
        Err(error) => return Err(SolveError::Solver(error.to_string())),
    };
    if matches!(solution.status(), SolutionStatus::TimeLimit) {
        return Ok(Outcome::TimeLimit);
    }
    let mut allocation = Allocation::empty(sourcing.lines.len(), sourcing.sources.len());
    for source in &chosen {
        for (l, units) in source.units.iter().enumerate() {
            if let Some(units) = *units {
                // Integer variables come back as floats within HiGHS's tolerance.
                let value = solution.value(units).round().max(0.0) as u32;
                allocation.add(l, source.source, value);
            }
        }
    }
    Ok(Outcome::Optimal(allocation))
}

fn source_variables(
    variables: &mut ProblemVariables,
    sourcing: &Sourcing,
    source: usize,
) -> SourceVariables {
    let location = &sourcing.sources[source];
    let used = variables.add(variable().binary());
    let units = sourcing
        .lines
        .iter()
        .map(|line| {
            let most = line.qty.min(location.available[line.sku]);
            (most > 0).then(|| variables.add(variable().integer().clamp(0, most)))
        })
        .collect();
    let below_protected = (0..sourcing.skus.len())
        .map(|sku| {
            let protected = location.available[sku] - location.unprotected[sku];
            (protected > 0 && sourcing.protection_per_unit > 0.0)
                .then(|| variables.add(variable().clamp(0, protected)))
        })
        .collect();
    SourceVariables {
        source,
        used,
        units,
        below_protected,
    }
}

fn units_of_sku(sourcing: &Sourcing, source: &SourceVariables, sku: usize) -> Expression {
    sourcing
        .lines
        .iter()
        .zip(&source.units)
        .filter(|(line, _)| line.sku == sku)
        .filter_map(|(_, units)| *units)
        .sum()
}

fn fixed_costs(sourcing: &Sourcing, chosen: &[SourceVariables]) -> Expression {
    chosen
        .iter()
        .map(|s| sourcing.sources[s.source].fixed_cost() * s.used)
        .sum()
}

fn unit_costs(sourcing: &Sourcing, chosen: &[SourceVariables]) -> Expression {
    chosen
        .iter()
        .flat_map(|s| {
            let unit_cost = sourcing.sources[s.source].unit_cost();
            s.units
                .iter()
                .flatten()
                .map(move |&units| unit_cost * units)
        })
        .sum()
}

fn protection_penalties(sourcing: &Sourcing, chosen: &[SourceVariables]) -> Expression {
    chosen
        .iter()
        .flat_map(|s| s.below_protected.iter().flatten())
        .map(|&below| sourcing.protection_per_unit * below)
        .sum()
}

fn unfulfilled_penalties(sourcing: &Sourcing, unfulfilled: &[Option<Variable>]) -> Expression {
    let penalty = sourcing.unfulfilled_per_unit.unwrap_or(0.0);
    unfulfilled
        .iter()
        .flatten()
        .map(|&short| penalty * short)
        .sum()
}
