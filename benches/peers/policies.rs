//! The peers' routing rules, re-implemented over an order's `SourcingProblem` (its candidates
//! are the locations with stock of the order's SKUs, with their positions; in pickup mode the
//! pickup store is among them). Each rule returns an allocation covering every line, or `None`
//! when it cannot (no partial orders). Lines have distinct SKUs.

use super::score::Allocation;
use allot_solver::{haversine_km, Coordinates, Fulfilment, SourcingProblem};

/// Where the units go: the customer's point (ship) or the pickup store (pickup); and in pickup
/// mode the store's own candidate index.
fn origin(problem: &SourcingProblem) -> (Coordinates, Option<usize>) {
    match &problem.fulfilment {
        Fulfilment::Ship { destination } => (*destination, None),
        Fulfilment::Pickup { store } => {
            let index = problem
                .candidates
                .iter()
                .position(|c| c.location == *store)
                .expect("the pickup store is a candidate");
            (problem.candidates[index].position, Some(index))
        }
    }
}

/// Candidate indices nearest first (to the customer, or to the pickup store); the pickup store's
/// own shelf comes first whatever the distances.
fn nearest_first(problem: &SourcingProblem) -> Vec<usize> {
    let (to, shelf) = origin(problem);
    let km: Vec<f64> = problem
        .candidates
        .iter()
        .map(|c| haversine_km(c.position, to))
        .collect();
    let mut order: Vec<usize> = (0..problem.candidates.len()).collect();
    order.sort_by(|&a, &b| {
        let first = |i| Some(i) != shelf;
        first(a).cmp(&first(b)).then(km[a].total_cmp(&km[b]))
    });
    order
}

/// Units each candidate has of each line's SKU: `left[candidate][line]`.
fn stock(problem: &SourcingProblem) -> Vec<Vec<u32>> {
    problem
        .candidates
        .iter()
        .map(|candidate| {
            problem
                .lines
                .iter()
                .map(|line| {
                    candidate
                        .stock
                        .iter()
                        .find(|level| level.sku == line.sku)
                        .map_or(0, |level| {
                            u32::try_from(level.available).expect("generated stock")
                        })
                })
                .collect()
        })
        .collect()
}

fn quantities(problem: &SourcingProblem) -> Vec<u32> {
    problem
        .lines
        .iter()
        .map(|line| u32::try_from(line.qty).expect("a generated quantity"))
        .collect()
}

/// Magento MSI's source selection by distance priority: each line on its own, from the nearest
/// source that has the SKU, the shortfall from the next nearest, and so on. In pickup mode the
/// pickup store's shelf first, then transfers from the sources nearest the store.
pub fn msi_distance(problem: &SourcingProblem) -> Option<Allocation> {
    let order = nearest_first(problem);
    let left = stock(problem);
    let mut allocation = Allocation::default();
    for (line, qty) in quantities(problem).into_iter().enumerate() {
        let mut need = qty;
        let mut sources = Vec::new();
        for &candidate in &order {
            let take = need.min(left[candidate][line]);
            if take > 0 {
                sources.push((candidate, take));
                need -= take;
            }
            if need == 0 {
                break;
            }
        }
        if need > 0 {
            return None;
        }
        allocation.lines.push(sources);
    }
    Some(allocation)
}

/// What is still to source: units per line, units per candidate per line, and the allocation.
struct Open {
    need: Vec<u32>,
    left: Vec<Vec<u32>>,
    allocation: Allocation,
}

impl Open {
    fn remaining(&self) -> u32 {
        self.need.iter().sum()
    }

    /// Units of the remaining need `candidate` can give.
    fn covers(&self, candidate: usize) -> u32 {
        let has = &self.left[candidate];
        self.need.iter().zip(has).map(|(&n, &h)| n.min(h)).sum()
    }

    /// Takes everything `candidate` can give towards the remaining need.
    fn take_all(&mut self, candidate: usize) {
        for (line, wanted) in self.need.iter_mut().enumerate() {
            let take = (*wanted).min(self.left[candidate][line]);
            if take > 0 {
                self.allocation.lines[line].push((candidate, take));
                self.left[candidate][line] -= take;
                *wanted -= take;
            }
        }
    }
}

/// Shopify's default routing: the nearest single location that can fulfil the whole order;
/// if none can, the fewest locations (greedily: the location that covers the most remaining
/// units, the nearest of those on a tie, then again for what is left). In pickup mode the
/// pickup store's shelf gives what it has first, and the rest is transferred by the same rule.
pub fn shopify_default(problem: &SourcingProblem) -> Option<Allocation> {
    let order = nearest_first(problem);
    let need = quantities(problem);
    let mut open = Open {
        allocation: Allocation {
            lines: vec![Vec::new(); need.len()],
        },
        need,
        left: stock(problem),
    };
    if let (_, Some(shelf)) = origin(problem) {
        open.take_all(shelf);
    }
    let whole = order
        .iter()
        .copied()
        .find(|&c| open.covers(c) == open.remaining());
    if let Some(single) = whole.filter(|_| open.remaining() > 0) {
        open.take_all(single);
    }
    while open.remaining() > 0 {
        // Most units covered; on a tie the nearest (the first in `order`).
        let best = order
            .iter()
            .copied()
            .fold(None, |best: Option<(usize, u32)>, c| {
                let covered = open.covers(c);
                match best {
                    Some((_, most)) if most >= covered => best,
                    _ => Some((c, covered)),
                }
            });
        match best {
            Some((c, covered)) if covered > 0 => open.take_all(c),
            _ => return None,
        }
    }
    Some(open.allocation)
}
