//! The rule-based baseline: for each line in order, take units from the nearest source that
//! still has the SKU and capacity (in pickup mode the pickup store's shelf comes first), until
//! the line is covered. It ignores costs, which is what the optimiser's saving is measured
//! against, and it is the plan returned when the optimiser runs out of time.

use super::valid::{Allocation, Sourcing};
use crate::sourcing::Route;

/// The greedy allocation, or `None` when it cannot cover the order and partial fulfilment is
/// not allowed.
pub(crate) fn allocate(sourcing: &Sourcing) -> Option<Allocation> {
    let mut nearest_first: Vec<usize> = (0..sourcing.sources.len()).collect();
    nearest_first.sort_by(|&a, &b| {
        let (a, b) = (&sourcing.sources[a], &sourcing.sources[b]);
        let shelf_first = |route: Route| route != Route::PickupFromShelf;
        shelf_first(a.route)
            .cmp(&shelf_first(b.route))
            .then(a.distance_km.total_cmp(&b.distance_km))
    });
    let mut stock: Vec<Vec<u32>> = sourcing
        .sources
        .iter()
        .map(|source| source.available.clone())
        .collect();
    let mut capacity: Vec<u32> = sourcing.sources.iter().map(|s| s.capacity).collect();
    let mut allocation = Allocation::empty(sourcing.lines.len(), sourcing.sources.len());
    for (l, line) in sourcing.lines.iter().enumerate() {
        let mut missing = line.qty;
        for &i in &nearest_first {
            if missing == 0 {
                break;
            }
            let take = missing.min(stock[i][line.sku]).min(capacity[i]);
            if take > 0 {
                allocation.add(l, i, take);
                stock[i][line.sku] -= take;
                capacity[i] -= take;
                missing -= take;
            }
        }
        if missing > 0 && sourcing.unfulfilled_per_unit.is_none() {
            return None;
        }
    }
    Some(allocation)
}
