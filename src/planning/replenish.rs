//! The warehouse-to-stores replenishment: chunks of SKUs are collected into one problem (the
//! warehouse's pick capacity and each store's trucks are shared by every SKU), solved once, and
//! each store's shipment becomes plan lines with the value they cover and their cost.

use super::demand::{replenishment_target, Position};
use super::params::Replenish;
use super::{ChunkPlan, NewLine, SkipReason, SkuRow, StockRow};
use allot_solver::replenishment::{
    solve_replenishment, solve_replenishment_greedy, ReplenishmentProblem, ReplenishmentStore,
    ReplenishmentValues, StockTarget, StoreNeed, StoreShipment, WarehouseStock,
    REPLENISHMENT_NEEDS_MAX, REPLENISHMENT_TIME_MS_DEFAULT,
};
use allot_solver::{haversine_km, Coordinates, SolveError, SolveStatus};
use std::collections::{BTreeMap, HashMap};

/// A location as the replenishment needs it.
#[derive(Debug, Clone)]
pub struct Site {
    pub id: i64,
    pub code: String,
    pub position: Coordinates,
}

struct Need {
    sku_id: i64,
    store_id: i64,
    position: Position,
    min: i64,
    target: i64,
}

/// Gathers the needs of every chunk, then plans them together.
pub struct Collector {
    warehouse: Site,
    stores: HashMap<i64, Site>,
    settings: Replenish,
    skus: HashMap<i64, String>,
    stock: BTreeMap<i64, i64>,
    needs: Vec<Need>,
    skipped: Vec<(i64, SkipReason)>,
    considered: i64,
    /// Most needs one run plans (the solver's limit).
    needs_max: usize,
}

impl Collector {
    pub fn new(warehouse: Site, stores: Vec<Site>, settings: Replenish) -> Self {
        Self {
            warehouse,
            stores: stores.into_iter().map(|s| (s.id, s)).collect(),
            settings,
            skus: HashMap::new(),
            stock: BTreeMap::new(),
            needs: Vec::new(),
            skipped: Vec::new(),
            considered: 0,
            needs_max: REPLENISHMENT_NEEDS_MAX,
        }
    }

    /// Adds one chunk: the stores' rows and the warehouse's rows of its SKUs.
    pub fn add(&mut self, skus: &[SkuRow], store_rows: &[StockRow], warehouse_rows: &[StockRow]) {
        let free: HashMap<i64, i64> = warehouse_rows
            .iter()
            .map(|row| {
                (
                    row.sku_id,
                    (row.on_hand - row.allocated - row.safety_stock).max(0),
                )
            })
            .collect();
        let mut by_sku: HashMap<i64, Vec<&StockRow>> = HashMap::new();
        for row in store_rows
            .iter()
            .filter(|row| self.stores.contains_key(&row.location_id))
        {
            by_sku.entry(row.sku_id).or_default().push(row);
        }
        let settings = &self.settings;
        for sku in skus {
            self.considered += 1;
            let rows = by_sku.remove(&sku.id).unwrap_or_default();
            let mut demand = false;
            let mut needs = Vec::new();
            for row in rows.iter() {
                let position = row.position(settings.demand);
                demand |= position.demand_per_day > 0.0;
                if position.demand_per_day <= 0.0 {
                    continue;
                }
                let StockTarget::Levels { min, target } =
                    replenishment_target(&position, settings.min_days, settings.target_days)
                else {
                    continue;
                };
                if position.net() < target {
                    needs.push(Need {
                        sku_id: sku.id,
                        store_id: row.location_id,
                        position,
                        min,
                        target,
                    });
                }
            }
            let available = free.get(&sku.id).copied().unwrap_or(0);
            let skip = if rows.is_empty() && available == 0 {
                Some(SkipReason::NotStocked)
            } else if !demand {
                Some(SkipReason::NoDemand)
            } else if needs.is_empty() {
                Some(SkipReason::NoShortfall)
            } else if available == 0 {
                Some(SkipReason::WarehouseHasNone)
            } else {
                None
            };
            match skip {
                Some(reason) => self.skipped.push((sku.id, reason)),
                None => {
                    self.skus.insert(sku.id, sku.code.clone());
                    self.stock.insert(sku.id, available);
                    self.needs.extend(needs);
                }
            }
        }
    }

    /// Plans everything collected.
    pub fn solve(mut self) -> Result<ChunkPlan, SolveError> {
        let mut plan = ChunkPlan::default();
        plan.counts.skus = self.considered;
        plan.skipped = std::mem::take(&mut self.skipped);
        plan.skipped.extend(self.keep_most_urgent_needs());
        if self.needs.is_empty() {
            return Ok(plan);
        }
        let problem = self.problem();
        let optimal = solve_replenishment(&problem)?;
        let greedy = solve_replenishment_greedy(&problem)?;
        plan.counts.greedy_net = greedy.value.net;
        plan.counts.greedy_transfers = greedy.shipments.iter().map(|s| s.lines.len() as i64).sum();
        if matches!(optimal.status, SolveStatus::FallbackGreedy { .. }) {
            plan.counts.solver_fallbacks = 1;
        }
        plan.lines = self.lines(&optimal.shipments)?;
        plan.skipped.extend(self.out_of_capacity(&plan.lines));
        Ok(plan)
    }

    /// Keeps the needs within what one run plans, the most urgent (furthest below their minimum)
    /// first; a SKU whose every need is cut is skipped as over the run's limit.
    fn keep_most_urgent_needs(&mut self) -> Vec<(i64, SkipReason)> {
        if self.needs.len() <= self.needs_max {
            return Vec::new();
        }
        self.needs
            .sort_by_key(|need| std::cmp::Reverse(need.min - need.position.net()));
        let cut = self.needs.split_off(self.needs_max);
        let kept: std::collections::HashSet<i64> = self.needs.iter().map(|n| n.sku_id).collect();
        let mut lost: Vec<i64> = cut
            .iter()
            .map(|n| n.sku_id)
            .filter(|s| !kept.contains(s))
            .collect();
        lost.sort_unstable();
        lost.dedup();
        // A SKU cut whole is skipped for that reason only, not also as out of capacity.
        for sku in &lost {
            self.skus.remove(sku);
            self.stock.remove(sku);
        }
        lost.into_iter()
            .map(|sku| (sku, SkipReason::OverRunLimit))
            .collect()
    }

    /// The plan lines of the solver's shipments: each line's value covers its need (below the
    /// minimum first, then up to the target), its cost is handling plus its share of the trucks.
    fn lines(&self, shipments: &[StoreShipment]) -> Result<Vec<NewLine>, SolveError> {
        let sku_of_code: HashMap<&str, i64> = self
            .skus
            .iter()
            .map(|(id, code)| (code.as_str(), *id))
            .collect();
        let store_of_code: HashMap<&str, &Site> =
            self.stores.values().map(|s| (s.code.as_str(), s)).collect();
        let need_of: HashMap<(i64, i64), &Need> = self
            .needs
            .iter()
            .map(|n| ((n.sku_id, n.store_id), n))
            .collect();
        let s = &self.settings;
        let mut lines = Vec::new();
        for shipment in shipments {
            let store = store_of_code
                .get(shipment.to.0.as_str())
                .ok_or_else(|| SolveError::Solver(format!("unknown store {}", shipment.to.0)))?;
            let units: i64 = shipment.lines.iter().map(|l| i64::from(l.qty)).sum();
            let trucks = f64::from(shipment.trucks) * s.truck_cost;
            let distance_km = haversine_km(self.warehouse.position, store.position);
            for line in shipment.lines.iter().filter(|l| l.qty > 0) {
                let sku_id = *sku_of_code
                    .get(line.sku.0.as_str())
                    .ok_or_else(|| SolveError::Solver(format!("unknown SKU {}", line.sku.0)))?;
                let need = need_of
                    .get(&(sku_id, store.id))
                    .ok_or_else(|| SolveError::Solver(format!("unplanned need {}", line.sku.0)))?;
                let qty = i64::from(line.qty);
                let urgent = qty.min((need.min - need.position.net()).max(0));
                let gain = urgent as f64 * s.below_min_per_unit
                    + (qty - urgent) as f64 * s.to_target_per_unit;
                let cost = s.handling_per_unit * qty as f64 + trucks * qty as f64 / units as f64;
                lines.push(NewLine {
                    sku_id,
                    from_id: self.warehouse.id,
                    to_id: store.id,
                    qty,
                    distance_km,
                    lead_time_hours: s.lane.lead_time_hours(distance_km),
                    gain,
                    cost,
                    from_position: self.stock.get(&sku_id).copied().unwrap_or(0),
                    to_position: need.position.net(),
                    to_demand_per_day: need.position.demand_per_day,
                });
            }
        }
        Ok(lines)
    }

    /// The SKUs collected that no line serves: the warehouse's pick or the stores' trucks ran out.
    fn out_of_capacity(&self, lines: &[NewLine]) -> Vec<(i64, SkipReason)> {
        let planned: std::collections::HashSet<i64> = lines.iter().map(|l| l.sku_id).collect();
        let mut unplanned: Vec<i64> = self
            .skus
            .keys()
            .copied()
            .filter(|sku| !planned.contains(sku))
            .collect();
        unplanned.sort_unstable();
        unplanned
            .into_iter()
            .map(|sku| (sku, SkipReason::OutOfCapacity))
            .collect()
    }

    fn problem(&self) -> ReplenishmentProblem {
        let s = &self.settings;
        let mut stores: BTreeMap<i64, ReplenishmentStore> = BTreeMap::new();
        for need in &self.needs {
            let site = &self.stores[&need.store_id];
            stores
                .entry(need.store_id)
                .or_insert_with(|| ReplenishmentStore {
                    location: site.code.as_str().into(),
                    truck_cost: s.truck_cost,
                    trucks_max: s.trucks_per_store,
                    receive_capacity_units: Some(s.store_receive_units),
                    needs: Vec::new(),
                })
                .needs
                .push(StoreNeed {
                    sku: self.skus[&need.sku_id].as_str().into(),
                    on_hand: need.position.net().max(0),
                    target: StockTarget::Levels {
                        min: need.min,
                        target: need.target,
                    },
                });
        }
        ReplenishmentProblem {
            warehouse: self.warehouse.code.as_str().into(),
            warehouse_stock: self
                .stock
                .iter()
                .map(|(sku, available)| WarehouseStock {
                    sku: self.skus[sku].as_str().into(),
                    available: *available,
                })
                .collect(),
            pick_capacity_units: Some(s.pick_capacity_units),
            handling_per_unit: s.handling_per_unit,
            truck_capacity_units: s.truck_capacity_units,
            values: ReplenishmentValues {
                below_min_per_unit: s.below_min_per_unit,
                to_target_per_unit: s.to_target_per_unit,
            },
            stores: stores.into_values().collect(),
            time_limit_ms: REPLENISHMENT_TIME_MS_DEFAULT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planning::fixtures::{self, sku};
    use crate::planning::params::ReplenishParams;

    fn site(id: i64, code: &str, lat: f64) -> Site {
        Site {
            id,
            code: code.into(),
            position: Coordinates { lat, lon: 121.5 },
        }
    }

    fn row(
        sku_id: i64,
        location_id: i64,
        on_hand: i64,
        sold: f64,
        settings: &Replenish,
    ) -> StockRow {
        fixtures::row(sku_id, location_id, on_hand, sold, settings.demand)
    }

    #[test]
    fn fills_minimums_first_within_the_pick_capacity_and_says_what_it_left() {
        let settings = ReplenishParams {
            pick_capacity_units: Some(30),
            ..Default::default()
        }
        .validated()
        .expect("valid");
        let mut collector = Collector::new(
            site(100, "WH", 25.0),
            vec![site(1, "S1", 25.1), site(2, "S2", 25.2)],
            settings.clone(),
        );
        let stores = [
            // SKU 1: S1 sells 1/day and holds 0 (min 7, target 21); S2 sells 1/day, holds 10.
            row(1, 1, 0, 1.0, &settings),
            row(1, 2, 10, 1.0, &settings),
            // SKU 2: S1 sells 1/day with 30 on hand: covered.
            row(2, 1, 30, 1.0, &settings),
            // SKU 3: S2 is short, but the warehouse has none.
            row(3, 2, 0, 1.0, &settings),
        ];
        let warehouse = [row(1, 100, 500, 0.0, &settings)];
        collector.add(&[sku(1), sku(2), sku(3), sku(4)], &stores, &warehouse);
        let plan = collector.solve().expect("solves");
        let units: i64 = plan.lines.iter().map(|l| l.qty).sum();
        assert_eq!(units, 30, "the pick capacity binds: {plan:?}");
        let to_s1: i64 = plan
            .lines
            .iter()
            .filter(|l| l.to_id == 1)
            .map(|l| l.qty)
            .sum();
        assert!(to_s1 >= 7, "S1's minimum is filled first");
        assert!(plan
            .lines
            .iter()
            .all(|l| l.from_id == 100 && l.gain > 0.0 && l.cost > 0.0));
        let mut skipped = plan.skipped.clone();
        skipped.sort_by_key(|(sku, _)| *sku);
        assert_eq!(
            skipped,
            [
                (2, SkipReason::NoShortfall),
                (3, SkipReason::WarehouseHasNone),
                (4, SkipReason::NotStocked)
            ]
        );
        assert_eq!(plan.counts.skus, 4);
    }

    #[test]
    fn a_sku_cut_by_the_run_limit_is_skipped_once_for_that_reason() {
        let settings = ReplenishParams::default().validated().expect("valid");
        let mut collector = Collector::new(
            site(100, "WH", 25.0),
            vec![site(1, "S1", 25.1)],
            settings.clone(),
        );
        collector.needs_max = 2;
        // Three SKUs short at S1, SKU 3 the least urgent (it holds some).
        let stores = [
            row(1, 1, 0, 1.0, &settings),
            row(2, 1, 0, 1.0, &settings),
            row(3, 1, 5, 1.0, &settings),
        ];
        let warehouse = [
            row(1, 100, 500, 0.0, &settings),
            row(2, 100, 500, 0.0, &settings),
            row(3, 100, 500, 0.0, &settings),
        ];
        collector.add(&[sku(1), sku(2), sku(3)], &stores, &warehouse);
        let plan = collector.solve().expect("solves");
        assert_eq!(plan.skipped, [(3, SkipReason::OverRunLimit)]);
        let mut planned: Vec<i64> = plan.lines.iter().map(|l| l.sku_id).collect();
        planned.dedup();
        assert_eq!(planned, [1, 2]);
    }
}
