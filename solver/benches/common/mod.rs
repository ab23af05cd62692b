//! Deterministic instance generators shared by the benches (no random-number dependency).

#![allow(dead_code)] // Each bench uses a different part.

use allot_solver::rebalancing::{
    RebalancingCosts, RebalancingProblem, SkuBalance, StoreBalance, StorePosition,
};
use allot_solver::{
    Candidate, Coordinates, Fulfilment, Lane, LocationKind, OrderLine, SourcingCosts,
    SourcingProblem, StockLevel,
};

/// xorshift64*: reproducible instances from a seed.
pub struct Draw(u64);

impl Draw {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const TAIPEI: Coordinates = Coordinates {
    lat: 25.04,
    lon: 121.53,
};

/// A point within about `radius_deg` degrees of Taipei.
fn around_taipei(draw: &mut Draw, radius_deg: f64) -> Coordinates {
    Coordinates {
        lat: TAIPEI.lat + (draw.unit() * 2.0 - 1.0) * radius_deg,
        lon: TAIPEI.lon + (draw.unit() * 2.0 - 1.0) * radius_deg,
    }
}

pub const CATALOGUE_SKUS: u64 = 20;

/// One order of `lines` lines over `candidates` locations (3 of them warehouses holding every
/// SKU, the rest stores holding each SKU with probability one half, 0 to 5 units, the last
/// one protected). Every fifth order is a pickup, with lanes into the pickup store from the
/// warehouses and from stores within about 20 km.
pub fn sourcing_order(seed: u64, lines: usize, candidates: usize) -> SourcingProblem {
    let mut draw = Draw::new(seed);
    let skus: Vec<String> = (0..CATALOGUE_SKUS).map(|k| format!("sku-{k}")).collect();
    let warehouses = 3.min(candidates);
    let candidates: Vec<Candidate> = (0..candidates)
        .map(|index| {
            let warehouse = index < warehouses;
            let stock = skus
                .iter()
                .filter_map(|sku| {
                    let (available, protected) = if warehouse {
                        (50 + draw.below(150) as i64, 0)
                    } else if draw.below(2) == 0 {
                        let units = draw.below(6) as i64;
                        (units, units.min(1))
                    } else {
                        return None;
                    };
                    Some(StockLevel {
                        sku: sku.as_str().into(),
                        available,
                        protected,
                    })
                })
                .collect();
            Candidate {
                location: format!("loc-{index}").as_str().into(),
                kind: if warehouse {
                    LocationKind::Warehouse
                } else {
                    LocationKind::Store
                },
                position: around_taipei(&mut draw, 0.5),
                stock,
                handling_per_unit: if warehouse { 0.6 } else { 1.5 },
                handling_hours: if warehouse { 4.0 } else { 0.5 },
                capacity_units: Some(if warehouse { 1_000 } else { 30 }),
            }
        })
        .collect();
    let mut chosen: Vec<u64> = Vec::new();
    while chosen.len() < lines.min(CATALOGUE_SKUS as usize) {
        let sku = draw.below(CATALOGUE_SKUS);
        if !chosen.contains(&sku) {
            chosen.push(sku);
        }
    }
    let order_lines = chosen
        .iter()
        .map(|&sku| OrderLine {
            sku: skus[sku as usize].as_str().into(),
            qty: 1 + draw.below(2) as i64,
        })
        .collect();
    let pickup = draw.below(5) == 0 && candidates.len() > warehouses;
    let (fulfilment, lanes) = if pickup {
        let store = warehouses + draw.below((candidates.len() - warehouses) as u64) as usize;
        let to = &candidates[store];
        let lanes = candidates
            .iter()
            .enumerate()
            .filter(|&(index, from)| {
                index != store
                    && (index < warehouses
                        || allot_solver::haversine_km(from.position, to.position) < 20.0)
            })
            .map(|(index, from)| {
                let km = allot_solver::haversine_km(from.position, to.position);
                Lane {
                    from: from.location.clone(),
                    to: to.location.clone(),
                    cost_fixed: if index < warehouses {
                        12.0
                    } else {
                        5.0 + 0.2 * km
                    },
                    cost_per_unit: 0.3,
                    lead_time_hours: if index < warehouses { 24.0 } else { 4.0 },
                }
            })
            .collect();
        (
            Fulfilment::Pickup {
                store: to.location.clone(),
            },
            lanes,
        )
    } else {
        (
            Fulfilment::Ship {
                destination: around_taipei(&mut draw, 0.4),
            },
            Vec::new(),
        )
    };
    SourcingProblem {
        lines: order_lines,
        fulfilment,
        candidates,
        lanes,
        costs: SourcingCosts {
            shipment_fixed: 6.0,
            shipping_per_unit_km: 0.03,
            split_penalty: 8.0,
            protection_per_unit: 5.0,
            unfulfilled_per_unit: 0.0,
            shipping_per_unit: 0.0,
            wait_per_hour: 0.0,
        },
        allow_partial: false,
        time_limit_ms: 2_000,
    }
}

/// `stores` stores within about 33 km of Taipei and `skus` SKUs; for each SKU, `percent` % of
/// the stores hold a surplus (1 to 8 units) and as many a shortfall (1 to 8 units). Stores
/// exchange stock within 8 km.
pub fn rebalancing_run(
    seed: u64,
    stores: usize,
    skus: usize,
    percent: u64,
    threads: usize,
) -> RebalancingProblem {
    let mut draw = Draw::new(seed);
    let positions: Vec<StorePosition> = (0..stores)
        .map(|index| StorePosition {
            location: format!("store-{index}").as_str().into(),
            position: around_taipei(&mut draw, 0.3),
        })
        .collect();
    let skus = (0..skus)
        .map(|k| SkuBalance {
            sku: format!("sku-{k}").as_str().into(),
            margin_per_unit: 4.0 + draw.unit() * 8.0,
            stores: positions
                .iter()
                .filter_map(|store| {
                    let roll = draw.below(100);
                    let units = 1 + draw.below(8) as i64;
                    let (surplus, shortfall) = if roll < percent {
                        (units, 0)
                    } else if roll < 2 * percent {
                        (0, units)
                    } else {
                        return None;
                    };
                    Some(StoreBalance {
                        location: store.location.clone(),
                        surplus,
                        shortfall,
                    })
                })
                .collect(),
        })
        .collect();
    RebalancingProblem {
        stores: positions,
        costs: RebalancingCosts {
            transfer_fixed: 6.0,
            transfer_per_unit: 0.4,
            transfer_per_unit_km: 0.08,
            transfer_km_max: 8.0,
        },
        min_transfer_qty: 2,
        skus,
        threads: Some(threads),
        time_limit_ms_per_sku: 10_000,
    }
}
