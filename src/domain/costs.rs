//! The cost model the optimiser weighs routes with, in one currency (e.g. TWD). The figures are
//! a chain's defaults: what a parcel, a pick and a van run cost, and how long they take.

use crate::domain::location::LocationKind;

/// Fixed cost of one parcel to a customer.
pub const SHIPMENT_FIXED: f64 = 80.0;
/// Parcel cost per unit per kilometre.
pub const SHIPPING_PER_UNIT_KM: f64 = 0.6;
/// Each extra parcel or pickup batch: money and the customer's patience.
pub const SPLIT_PENALTY: f64 = 60.0;
/// Per unit taken below a store's protected level (its last units on display).
pub const PROTECTION_PER_UNIT: f64 = 25.0;
/// Per unit left unfulfilled when the customer accepts a partial order.
pub const UNFULFILLED_PER_UNIT: f64 = 1_000.0;
/// Units a store keeps on display before it prefers not to give them to online orders.
pub const STORE_PROTECTED_UNITS: i64 = 1;

/// Picking one unit: a warehouse is built for it, a store clerk has customers too.
pub fn handling_per_unit(kind: LocationKind) -> f64 {
    match kind {
        LocationKind::Warehouse => 6.0,
        LocationKind::Store => 15.0,
    }
}

/// Hours until picked units are ready to leave.
pub fn handling_hours(kind: LocationKind) -> f64 {
    match kind {
        LocationKind::Warehouse => 4.0,
        LocationKind::Store => 0.5,
    }
}

/// A transfer from one location into a store: (fixed cost, cost per unit, lead time in hours).
/// The warehouse runs a daily truck; stores send a courier across town.
pub fn lane(from: LocationKind, distance_km: f64) -> (f64, f64, f64) {
    match from {
        LocationKind::Warehouse => (50.0, 2.0, 24.0),
        LocationKind::Store => (70.0 + 2.0 * distance_km, 1.0, 2.0 + distance_km / 25.0),
    }
}
