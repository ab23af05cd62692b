//! Brute force for the property tests: enumerate every whole-unit allocation of a tiny order,
//! keep the feasible ones, price each with the model's cost function, return the least.

use super::valid::{Allocation, Sourcing};

/// The least cost over all feasible allocations, or `None` when none is feasible.
pub(crate) fn least_cost(sourcing: &Sourcing) -> Option<f64> {
    let mut allocation = Allocation::empty(sourcing.lines.len(), sourcing.sources.len());
    let mut best = None;
    enumerate(sourcing, 0, 0, &mut allocation, &mut best);
    best
}

/// Tries every quantity for cell `cell` (line-major), given `line_sum` units already on its
/// line.
fn enumerate(
    sourcing: &Sourcing,
    cell: usize,
    line_sum: u32,
    allocation: &mut Allocation,
    best: &mut Option<f64>,
) {
    if cell == allocation.units.len() {
        if sourcing.is_feasible(allocation) {
            let cost = sourcing.cost(allocation).total;
            if best.is_none_or(|b| cost < b) {
                *best = Some(cost);
            }
        }
        return;
    }
    let (line, source) = (cell / allocation.sources, cell % allocation.sources);
    let qty = sourcing.lines[line].qty;
    let most = (qty - line_sum).min(sourcing.sources[source].available[sourcing.lines[line].sku]);
    let last_of_line = source + 1 == allocation.sources;
    for units in 0..=most {
        allocation.units[cell] = units;
        let next_sum = if last_of_line { 0 } else { line_sum + units };
        enumerate(sourcing, cell + 1, next_sum, allocation, best);
    }
    allocation.units[cell] = 0;
}
