//! The nightly rebalance of one chunk of SKUs: store positions become surpluses and shortfalls,
//! the solver pairs them at the least cost per unit of margin, and each pairing becomes a plan
//! line with its gain and cost. The greedy baseline runs on the same data for the report.

use super::demand::{imbalance, Position};
use super::params::Rebalance;
use super::{ChunkPlan, NewLine, SkipReason, SkuRow, StockRow};
use allot_solver::rebalancing::{
    solve_rebalancing, solve_rebalancing_greedy, RebalancingProblem, SkuBalance, StoreBalance,
    StorePosition, StoreTransfer, REBALANCING_SKU_TIME_MS_DEFAULT,
};
use allot_solver::{Coordinates, SolveError, SolveStatus};
use std::collections::HashMap;

/// The chain's stores, as the solver names them and as the ledger numbers them.
#[derive(Debug, Clone)]
pub struct Stores {
    positions: Vec<StorePosition>,
    index_of_id: HashMap<i64, usize>,
    index_of_code: HashMap<String, usize>,
    ids: Vec<i64>,
}

impl Stores {
    pub fn new(stores: impl IntoIterator<Item = (i64, String, Coordinates)>) -> Self {
        let mut this = Self {
            positions: Vec::new(),
            index_of_id: HashMap::new(),
            index_of_code: HashMap::new(),
            ids: Vec::new(),
        };
        for (id, code, position) in stores {
            let index = this.ids.len();
            this.index_of_id.insert(id, index);
            this.index_of_code.insert(code.clone(), index);
            this.ids.push(id);
            this.positions.push(StorePosition {
                location: code.as_str().into(),
                position,
            });
        }
        this
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn index(&self, code: &str) -> Result<usize, SolveError> {
        self.index_of_code
            .get(code)
            .copied()
            .ok_or_else(|| SolveError::Solver(format!("the plan names an unknown store {code}")))
    }
}

/// What the transfer of `qty` units over `distance_km` earns and costs.
pub fn economics(settings: &Rebalance, margin: f64, qty: i64, distance_km: f64) -> (f64, f64) {
    let c = &settings.costs;
    let units = qty as f64;
    let cost =
        c.transfer_fixed + (c.transfer_per_unit + c.transfer_per_unit_km * distance_km) * units;
    (margin * units, cost)
}

/// One SKU sent to the solver, with what the lines need to know afterwards.
struct Candidate<'a> {
    sku: &'a SkuRow,
    margin: f64,
    positions: HashMap<usize, Position>,
}

/// Plans one chunk. `rows` are the stores' balances of the chunk's SKUs; `threads` bounds the
/// solver's workers (absent: one per core).
pub fn plan_chunk(
    stores: &Stores,
    skus: &[SkuRow],
    rows: &[StockRow],
    settings: &Rebalance,
    threads: Option<usize>,
) -> Result<ChunkPlan, SolveError> {
    let mut by_sku: HashMap<i64, Vec<&StockRow>> = HashMap::new();
    for row in rows {
        by_sku.entry(row.sku_id).or_default().push(row);
    }
    let mut plan = ChunkPlan::default();
    plan.counts.skus = skus.len() as i64;
    let (mut candidates, mut balances) = (Vec::new(), Vec::new());
    for sku in skus {
        let rows = by_sku.get(&sku.id).map_or(&[][..], Vec::as_slice);
        match candidate(stores, sku, rows, settings) {
            Ok((candidate, balance)) => {
                balances.push(balance);
                candidates.push(candidate);
            }
            Err(reason) => plan.skipped.push((sku.id, reason)),
        }
    }
    if balances.is_empty() {
        return Ok(plan);
    }
    let problem = RebalancingProblem {
        stores: stores.positions.clone(),
        costs: settings.costs.clone(),
        min_transfer_qty: settings.min_transfer_qty,
        skus: balances,
        threads,
        time_limit_ms_per_sku: REBALANCING_SKU_TIME_MS_DEFAULT,
    };
    let optimal = solve_rebalancing(&problem)?;
    let greedy = solve_rebalancing_greedy(&problem)?;
    plan.counts.greedy_net = greedy.net_gain;
    plan.counts.greedy_transfers = greedy.transfers as i64;
    for (candidate, solved) in candidates.iter().zip(&optimal.skus) {
        if matches!(solved.status, SolveStatus::FallbackGreedy { .. }) {
            plan.counts.solver_fallbacks += 1;
        }
        if solved.transfers.is_empty() {
            plan.skipped
                .push((candidate.sku.id, SkipReason::NoProfitableLane));
            continue;
        }
        for transfer in &solved.transfers {
            plan.lines
                .push(line(stores, settings, candidate, transfer)?);
        }
    }
    Ok(plan)
}

/// A SKU's surpluses and shortfalls across the stores (`rows` its balances there), to send to
/// the solver; or why there is nothing to rebalance.
fn candidate<'a>(
    stores: &Stores,
    sku: &'a SkuRow,
    rows: &[&StockRow],
    settings: &Rebalance,
) -> Result<(Candidate<'a>, SkuBalance), SkipReason> {
    let positions: HashMap<usize, Position> = rows
        .iter()
        .filter_map(|row| {
            let index = stores.index_of_id.get(&row.location_id)?;
            Some((*index, row.position(settings.demand)))
        })
        .collect();
    let mut entries: Vec<StoreBalance> = Vec::new();
    let (mut demand, mut short, mut spare) = (false, false, false);
    let mut ordered: Vec<(&usize, &Position)> = positions.iter().collect();
    ordered.sort_by_key(|(index, _)| **index);
    for (&index, position) in ordered {
        demand |= position.demand_per_day > 0.0;
        let found = imbalance(position, settings.cover_days, settings.keep_days);
        short |= found.shortfall > 0;
        spare |= found.surplus > 0;
        if found.shortfall > 0 || found.surplus > 0 {
            entries.push(StoreBalance {
                location: stores.positions[index].location.clone(),
                surplus: found.surplus,
                shortfall: found.shortfall,
            });
        }
    }
    if positions.is_empty() {
        return Err(SkipReason::NotStocked);
    } else if !demand {
        return Err(SkipReason::NoDemand);
    } else if !short {
        return Err(SkipReason::NoShortfall);
    } else if !spare {
        return Err(SkipReason::NoSurplus);
    }
    let margin = sku.margin.unwrap_or(settings.margin_per_unit);
    let balance = SkuBalance {
        sku: sku.code.as_str().into(),
        margin_per_unit: margin,
        stores: entries,
    };
    Ok((
        Candidate {
            sku,
            margin,
            positions,
        },
        balance,
    ))
}

/// The plan line of one transfer the solver chose, with its economics and both ends' positions.
fn line(
    stores: &Stores,
    settings: &Rebalance,
    candidate: &Candidate,
    transfer: &StoreTransfer,
) -> Result<NewLine, SolveError> {
    let (from, to) = (
        stores.index(&transfer.from.0)?,
        stores.index(&transfer.to.0)?,
    );
    let qty = i64::from(transfer.qty);
    let (gain, cost) = economics(settings, candidate.margin, qty, transfer.distance_km);
    let (source, destination) = (&candidate.positions[&from], &candidate.positions[&to]);
    Ok(NewLine {
        sku_id: candidate.sku.id,
        from_id: stores.ids[from],
        to_id: stores.ids[to],
        qty,
        distance_km: transfer.distance_km,
        lead_time_hours: settings.lane.lead_time_hours(transfer.distance_km),
        gain,
        cost,
        from_position: source.net(),
        to_position: destination.net(),
        to_demand_per_day: destination.demand_per_day,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planning::fixtures::{self, sku};
    use crate::planning::params::RebalanceParams;
    use proptest::prelude::*;

    /// Stores 1–3 in one town, store 4 three hundred km away.
    fn stores() -> Stores {
        Stores::new([
            (
                1,
                "A".to_string(),
                Coordinates {
                    lat: 25.03,
                    lon: 121.56,
                },
            ),
            (
                2,
                "B".to_string(),
                Coordinates {
                    lat: 25.05,
                    lon: 121.52,
                },
            ),
            (
                3,
                "C".to_string(),
                Coordinates {
                    lat: 25.01,
                    lon: 121.46,
                },
            ),
            (
                4,
                "FAR".to_string(),
                Coordinates {
                    lat: 22.63,
                    lon: 120.30,
                },
            ),
        ])
    }

    fn row(sku_id: i64, location_id: i64, on_hand: i64, sold_per_day: f64) -> StockRow {
        let settings = RebalanceParams::default()
            .validated()
            .expect("defaults are valid");
        fixtures::row(sku_id, location_id, on_hand, sold_per_day, settings.demand)
    }

    #[test]
    fn moves_dead_stock_to_the_store_that_sells_it_and_explains_the_rest() {
        let settings = RebalanceParams::default()
            .validated()
            .expect("defaults are valid");
        let rows = [
            // SKU 1: A sells 2/day and has nothing; B sells nothing and holds 40.
            row(1, 1, 0, 2.0),
            row(1, 2, 40, 0.0),
            // SKU 2: nobody sells it.
            row(2, 1, 5, 0.0),
            // SKU 3: A is short, only FAR (300 km) can spare.
            row(3, 1, 0, 2.0),
            row(3, 4, 40, 0.0),
        ];
        let plan = plan_chunk(
            &stores(),
            &[sku(1), sku(2), sku(3), sku(4)],
            &rows,
            &settings,
            Some(1),
        )
        .expect("plans");
        assert_eq!(plan.lines.len(), 1, "{plan:?}");
        let line = &plan.lines[0];
        // A needs 2 × 14 = 28 days of cover; B spares all 40 (it keeps 0 without demand).
        assert_eq!(
            (line.sku_id, line.from_id, line.to_id, line.qty),
            (1, 2, 1, 28)
        );
        let (gain, cost) = economics(&settings, 150.0, 28, line.distance_km);
        assert_eq!((line.gain, line.cost), (gain, cost));
        assert!(line.gain > line.cost);
        assert_eq!((line.from_position, line.to_position), (40, 0));
        let mut skipped = plan.skipped.clone();
        skipped.sort_by_key(|(sku, _)| *sku);
        assert_eq!(
            skipped,
            [
                (2, SkipReason::NoDemand),
                (3, SkipReason::NoProfitableLane),
                (4, SkipReason::NotStocked)
            ]
        );
        assert_eq!(plan.counts.skus, 4);
        assert!((plan.counts.greedy_net - (gain - cost)).abs() < 1e-6);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// Whatever the stock and demand, a plan never takes more than a store can spare, never
        /// sends more than a store lacks, every line earns more than it costs, and the plan is
        /// never worse than the greedy baseline.
        #[test]
        fn lines_respect_surplus_and_shortfall(
            stock in proptest::collection::vec((0i64..60, 0.0f64..4.0), 3),
        ) {
            let settings = RebalanceParams::default().validated().expect("defaults are valid");
            let rows: Vec<StockRow> = stock
                .iter()
                .enumerate()
                .map(|(i, &(on_hand, demand))| row(1, i as i64 + 1, on_hand, demand))
                .collect();
            let plan = plan_chunk(&stores(), &[sku(1)], &rows, &settings, Some(1)).expect("plans");
            let mut sent: HashMap<i64, i64> = HashMap::new();
            let mut received: HashMap<i64, i64> = HashMap::new();
            let mut net = 0.0;
            for line in &plan.lines {
                *sent.entry(line.from_id).or_default() += line.qty;
                *received.entry(line.to_id).or_default() += line.qty;
                prop_assert!(line.gain > line.cost);
                net += line.gain - line.cost;
            }
            for row in &rows {
                let position = row.position(settings.demand);
                let found = imbalance(&position, settings.cover_days, settings.keep_days);
                prop_assert!(sent.get(&row.location_id).copied().unwrap_or(0) <= found.surplus);
                prop_assert!(received.get(&row.location_id).copied().unwrap_or(0) <= found.shortfall);
            }
            prop_assert!(net >= plan.counts.greedy_net - 1e-6);
        }
    }
}
