//! One price for every policy: an allocation of an order's lines to candidates, priced with the
//! data of the order's `SourcingProblem` (the one `allot::routing::problem` builds from the
//! regime's `CostModel`), term for term as the solver prices its own plans (`valid.rs`).

use allot_solver::{haversine_km, Fulfilment, Sku, SourcingPlan, SourcingProblem};

/// Units per order line from each candidate (index into `problem.candidates`).
#[derive(Debug, Clone, Default)]
pub struct Allocation {
    pub lines: Vec<Vec<(usize, u32)>>,
}

impl Allocation {
    /// Allot's plan as an allocation over the same problem.
    pub fn of_plan(problem: &SourcingProblem, plan: &SourcingPlan) -> Self {
        let lines = plan
            .lines
            .iter()
            .map(|line| {
                line.sources
                    .iter()
                    .map(|source| {
                        let index = problem
                            .candidates
                            .iter()
                            .position(|c| c.location == source.location)
                            .expect("a plan's sources are the problem's candidates");
                        (index, source.qty)
                    })
                    .collect()
            })
            .collect();
        Self { lines }
    }

    /// The same allocation over `to`, another problem of the same order (the same candidates,
    /// another cost model).
    pub fn of_problem(from: &SourcingProblem, to: &SourcingProblem, allocation: &Self) -> Self {
        let lines = allocation
            .lines
            .iter()
            .map(|sources| {
                sources
                    .iter()
                    .map(|&(index, qty)| {
                        let location = &from.candidates[index].location;
                        let index = to
                            .candidates
                            .iter()
                            .position(|c| c.location == *location)
                            .expect("both problems have the same candidates");
                        (index, qty)
                    })
                    .collect()
            })
            .collect();
        Self { lines }
    }

    /// Units taken from candidate `index`, per order line.
    fn taken(&self, index: usize) -> Vec<u32> {
        self.lines
            .iter()
            .map(|sources| {
                sources
                    .iter()
                    .filter(|&&(c, _)| c == index)
                    .map(|&(_, qty)| qty)
                    .sum()
            })
            .collect()
    }
}

/// The model's cost of an allocation by component, and what it moves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Priced {
    pub shipping: f64,
    pub handling: f64,
    pub transfer: f64,
    pub split: f64,
    pub wait: f64,
    pub protection: f64,
    pub total: f64,
    /// Parcels to the customer (ship mode: one per source).
    pub parcels: usize,
    /// Transfer runs into the pickup store (one per source other than the store's shelf).
    pub transfers: usize,
    /// Shipped units × km to the customer, plus transferred units × km of the lane.
    pub units_km: f64,
    pub sources: usize,
}

/// Prices a complete allocation (every line covered, within each candidate's stock) exactly as
/// the sourcing model does: per source used, the parcel (fixed + per unit + per unit·km) or the
/// lane (fixed + per unit), handling per unit, the customer's wait (`wait_per_hour` × hours
/// until the parcel leaves or the batch is ready), protection per unit taken below the protected
/// level; then the split penalty per source beyond the first.
pub fn price(problem: &SourcingProblem, allocation: &Allocation) -> Priced {
    let costs = &problem.costs;
    let mut priced = Priced::default();
    for (line, sources) in problem.lines.iter().zip(&allocation.lines) {
        let units: u32 = sources.iter().map(|&(_, qty)| qty).sum();
        assert_eq!(i64::from(units), line.qty, "every line is covered in full");
    }
    for (index, candidate) in problem.candidates.iter().enumerate() {
        let taken = allocation.taken(index);
        let units: u32 = taken.iter().sum();
        if units == 0 {
            continue;
        }
        let units_f = f64::from(units);
        priced.sources += 1;
        match &problem.fulfilment {
            Fulfilment::Ship { destination } => {
                let km = haversine_km(candidate.position, *destination);
                let per_unit = costs.shipping_per_unit + costs.shipping_per_unit_km * km;
                priced.shipping += costs.shipment_fixed + per_unit * units_f;
                priced.wait += costs.wait_per_hour * candidate.handling_hours;
                priced.parcels += 1;
                priced.units_km += units_f * km;
            }
            Fulfilment::Pickup { store } if *store == candidate.location => {
                priced.wait += costs.wait_per_hour * candidate.handling_hours;
            }
            Fulfilment::Pickup { store } => {
                let lane = problem
                    .lanes
                    .iter()
                    .find(|lane| lane.from == candidate.location && lane.to == *store)
                    .expect("routing gives every source a lane into the pickup store");
                let to = problem
                    .candidates
                    .iter()
                    .find(|c| c.location == *store)
                    .expect("the pickup store is a candidate");
                priced.transfer += lane.cost_fixed + lane.cost_per_unit * units_f;
                let ready_in_hours = candidate.handling_hours + lane.lead_time_hours;
                priced.wait += costs.wait_per_hour * ready_in_hours;
                priced.transfers += 1;
                priced.units_km += units_f * haversine_km(candidate.position, to.position);
            }
        }
        priced.handling += candidate.handling_per_unit * units_f;
        // Per SKU: lines of one SKU share its stock and its protected level.
        let mut per_sku: Vec<(&Sku, i64)> = Vec::new();
        for (line, &qty) in problem.lines.iter().zip(&taken) {
            match per_sku.iter_mut().find(|(sku, _)| **sku == line.sku) {
                Some((_, sum)) => *sum += i64::from(qty),
                None => per_sku.push((&line.sku, i64::from(qty))),
            }
        }
        let mut below = 0i64;
        for (sku, qty) in per_sku {
            let level = candidate.stock.iter().find(|level| level.sku == *sku);
            let (available, protected) = level.map_or((0, 0), |l| (l.available, l.protected));
            assert!(qty <= available, "an allocation within stock");
            below += (qty - (available - protected).max(0)).max(0);
        }
        priced.protection += costs.protection_per_unit * below as f64;
    }
    priced.split = costs.split_penalty * priced.sources.saturating_sub(1) as f64;
    priced.total = priced.shipping
        + priced.handling
        + priced.transfer
        + priced.split
        + priced.wait
        + priced.protection;
    priced
}
