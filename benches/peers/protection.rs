//! Walk-in customers alongside the online stream: does protecting a store's SKU by its own
//! walk-in sales lower walk-in stock-outs, and at what online cost-to-serve?
//!
//! The 2,000 orders are spread over 10 days (200 a day). Each store/SKU with a walk-in rate
//! sells Poisson(rate) units a day, at seeded random moments between the day's orders; a walk-in
//! customer who finds no unit is a stock-out. Every night each store is topped back up to its
//! opening stock (a replenishment run; warehouses are not refilled). Only Allot routes here,
//! once per protection setting, on the same orders and the same walk-in customers.

use super::chain::{Chain, Order, Random, Stock, STORES};
use super::score::{price, Allocation};
use super::{apply, decide_allot, sourcing_problem};
use allot::domain::costs::CostModel;
use std::iter::Peekable;

pub const DAYS: usize = 10;

/// A walk-in customer for one unit: before order `slot`, at store `store`, of SKU `sku`.
#[derive(Debug, Clone, Copy)]
pub struct WalkIn {
    slot: usize,
    store: usize,
    sku: usize,
}

/// Every walk-in customer of the run, in the order they arrive.
pub fn walk_ins(chain: &Chain, orders: usize, seed: u64) -> Vec<WalkIn> {
    let mut random = Random::new(seed);
    let per_day = orders / DAYS;
    let mut customers = Vec::new();
    for day in 0..DAYS {
        for store in 0..STORES {
            for (sku, &rate) in chain.walk_in[store].iter().enumerate() {
                if rate == 0.0 {
                    continue;
                }
                for _ in 0..random.poisson(rate) {
                    let slot = day * per_day + random.next(per_day as u64) as usize;
                    customers.push(WalkIn { slot, store, sku });
                }
            }
        }
    }
    customers.sort_by_key(|c| (c.slot, c.store, c.sku));
    customers
}

/// Each night every store is topped back up to its opening stock.
fn top_up(chain: &Chain, stock: &mut Stock) {
    stock[..STORES].clone_from_slice(&chain.opening[..STORES]);
}

/// Serves the walk-in customers who come before order `slot`; returns how many found nothing.
fn walk_ins_before<'a>(
    slot: usize,
    customers: &mut Peekable<impl Iterator<Item = &'a WalkIn>>,
    stock: &mut Stock,
) -> usize {
    let mut stock_outs = 0;
    while let Some(customer) = customers.next_if(|c| c.slot == slot) {
        match &mut stock[customer.store][customer.sku] {
            units if *units > 0 => *units -= 1,
            _ => stock_outs += 1,
        }
    }
    stock_outs
}

/// Walk-in stock-outs with no online orders at all: demand beyond the shelf, which no
/// protection level can avoid.
pub fn without_online(chain: &Chain, orders: usize, customers: &[WalkIn]) -> usize {
    let per_day = orders / DAYS;
    let mut stock = chain.opening.clone();
    let mut next = customers.iter().peekable();
    let mut stock_outs = 0;
    for slot in 0..orders {
        if slot > 0 && slot % per_day == 0 {
            top_up(chain, &mut stock);
        }
        stock_outs += walk_ins_before(slot, &mut next, &mut stock);
    }
    stock_outs
}

/// What one protection setting gave.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    pub stock_outs: usize,
    pub served: usize,
    /// Orders the solver failed on (not served).
    pub solver_errors: usize,
    /// Online cost-to-serve, every plan priced with the same yardstick model.
    pub cost: f64,
    /// The same without the protection penalty (which is the model's price of the walk-in
    /// stock-out risk, not money spent on the order).
    pub cost_without_protection: f64,
}

/// Runs the online stream with Allot configured with `costs`, walk-in customers in between, and
/// prices every plan with `yardstick`.
pub fn simulate(
    chain: &Chain,
    orders: &[Order],
    customers: &[WalkIn],
    costs: &CostModel,
    yardstick: &CostModel,
) -> Outcome {
    let per_day = orders.len() / DAYS;
    let mut stock: Stock = chain.opening.clone();
    let mut outcome = Outcome::default();
    let mut next = customers.iter().peekable();
    for (slot, order) in orders.iter().enumerate() {
        if slot > 0 && slot % per_day == 0 {
            top_up(chain, &mut stock);
        }
        outcome.stock_outs += walk_ins_before(slot, &mut next, &mut stock);
        let problem = sourcing_problem(chain, order, &stock, costs, true);
        let decision = decide_allot(&problem);
        outcome.solver_errors += usize::from(decision.plan.is_err());
        let Some(allocation) = decision.allocation else {
            continue;
        };
        let same = sourcing_problem(chain, order, &stock, yardstick, true);
        let priced = price(&same, &Allocation::of_problem(&problem, &same, &allocation));
        outcome.served += 1;
        outcome.cost += priced.total;
        outcome.cost_without_protection += priced.total - priced.protection;
        apply(chain, order, &problem, &allocation, &mut stock);
    }
    outcome
}
