//! Demand and positions. Daily demand is an exponentially weighted mean of the daily POS sales
//! in a window: a sale `a` whole days before the run weighs `0.5^(a / half_life)`, and the
//! weighted sum (computed in SQL, next to the movements) is divided by the weights of every
//! day in the window, so a store that sold `r` units every day has a demand of exactly `r`.

use allot_solver::replenishment::StockTarget;

/// Σ of the day weights of a `window_days` window: the divisor of the weighted sales.
pub fn weight_sum(window_days: u32, half_life_days: f64) -> f64 {
    (0..window_days)
        .map(|age| 0.5_f64.powf(f64::from(age) / half_life_days))
        .sum()
}

/// Units per day from the weighted sales sum of one (location, SKU).
pub fn daily_demand(weighted_sales: f64, window_days: u32, half_life_days: f64) -> f64 {
    let sum = weight_sum(window_days, half_life_days);
    if sum > 0.0 {
        (weighted_sales / sum).max(0.0)
    } else {
        0.0
    }
}

/// One (location, SKU) as the planner sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub on_hand: i64,
    pub allocated: i64,
    pub in_transit: i64,
    pub safety_stock: i64,
    pub demand_per_day: f64,
}

impl Position {
    /// Units the location has or will have for new demand: promised units do not count,
    /// units on their way do.
    pub fn net(&self) -> i64 {
        self.on_hand - self.allocated + self.in_transit
    }

    /// Units physically on the shelf and promised to nobody, above the safety stock.
    pub fn free_on_hand(&self) -> i64 {
        (self.on_hand - self.allocated - self.safety_stock).max(0)
    }

    /// Days the net position lasts at the current demand; `None` without demand.
    pub fn cover_days(&self) -> Option<f64> {
        (self.demand_per_day > 0.0).then(|| self.net() as f64 / self.demand_per_day)
    }

    fn level(&self, days: f64) -> i64 {
        self.safety_stock + (self.demand_per_day * days).ceil() as i64
    }
}

/// What a store can spare or lacks of one SKU, for the rebalance (one of the two is zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Imbalance {
    pub surplus: i64,
    pub shortfall: i64,
}

/// A store lacks units up to `cover_days` of demand and can spare what it holds beyond
/// `keep_days` (never more than its free shelf stock). `keep_days ≥ cover_days` keeps a
/// store from being both; a store without demand only spares, above its safety stock.
pub fn imbalance(position: &Position, cover_days: f64, keep_days: f64) -> Imbalance {
    let net = position.net();
    let shortfall = if position.demand_per_day > 0.0 {
        (position.level(cover_days) - net).max(0)
    } else {
        0
    };
    let surplus = if shortfall > 0 {
        0
    } else {
        (net - position.level(keep_days))
            .max(0)
            .min(position.free_on_hand())
    };
    Imbalance { surplus, shortfall }
}

/// A store's minimum and target levels for the replenishment, as the solver takes them.
pub fn replenishment_target(position: &Position, min_days: f64, target_days: f64) -> StockTarget {
    StockTarget::Levels {
        min: position.level(min_days),
        target: position.level(target_days),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn position(on_hand: i64, allocated: i64, in_transit: i64, demand: f64) -> Position {
        Position {
            on_hand,
            allocated,
            in_transit,
            safety_stock: 1,
            demand_per_day: demand,
        }
    }

    #[test]
    fn a_steady_seller_has_its_daily_rate_as_demand() {
        let (window, half_life) = (28, 7.0);
        let weighted: f64 = (0..window)
            .map(|age| 3.0 * 0.5_f64.powf(f64::from(age) / half_life))
            .sum();
        assert!((daily_demand(weighted, window, half_life) - 3.0).abs() < 1e-9);
    }

    #[test]
    fn recent_sales_weigh_more_than_old_ones() {
        let recent = 0.5_f64.powf(1.0 / 7.0);
        let old = 0.5_f64.powf(20.0 / 7.0);
        assert!(daily_demand(recent, 28, 7.0) > daily_demand(old, 28, 7.0));
    }

    #[test]
    fn a_short_store_asks_for_cover_and_a_full_one_spares_the_excess() {
        // 2/day, 14 days of cover, safety 1: needs 29; holds 10 with 5 on the way.
        let short = imbalance(&position(10, 0, 5, 2.0), 14.0, 28.0);
        assert_eq!(
            short,
            Imbalance {
                surplus: 0,
                shortfall: 14
            }
        );
        // Keeps 1 + 56 = 57 of its 100; 3 are promised, so 97 − 57 = 40 spare.
        let full = imbalance(&position(100, 3, 0, 2.0), 14.0, 28.0);
        assert_eq!(
            full,
            Imbalance {
                surplus: 40,
                shortfall: 0
            }
        );
    }

    #[test]
    fn units_in_transit_cannot_be_sent_on() {
        let arriving = imbalance(&position(2, 0, 50, 0.0), 14.0, 28.0);
        assert_eq!(
            arriving,
            Imbalance {
                surplus: 1,
                shortfall: 0
            }
        );
    }

    proptest! {
        #[test]
        fn never_both_and_never_beyond_the_shelf(
            on_hand in 0i64..500, allocated in 0i64..500, in_transit in 0i64..200,
            safety in 0i64..10, demand in 0.0f64..20.0, cover in 1.0f64..30.0, extra in 0.0f64..30.0,
        ) {
            let allocated = allocated.min(on_hand);
            let p = Position { on_hand, allocated, in_transit, safety_stock: safety, demand_per_day: demand };
            let Imbalance { surplus, shortfall } = imbalance(&p, cover, cover + extra);
            prop_assert!(surplus >= 0 && shortfall >= 0);
            prop_assert!(surplus == 0 || shortfall == 0);
            prop_assert!(surplus <= p.free_on_hand());
            // After sending the surplus the store still covers keep_days.
            prop_assert!(surplus == 0 || p.net() - surplus >= p.level(cover + extra));
        }
    }
}
