//! The generated chain, its opening stock, walk-in rates and the seeded order stream.

use allot::domain::codes::SkuCode;
use allot::domain::geo::Point;
use allot::domain::location::{Location, LocationKind};
use allot::domain::quantity::Qty;
use allot::routing::{CandidateRow, Fulfilment, Request};

pub const STORES: usize = 60;
pub const WAREHOUSES: usize = 2;
pub const SKUS: usize = 200;
pub const ORDERS: usize = 2_000;
/// Share of the SKUs each store carries, in percent.
const CARRIED_PERCENT: u64 = 40;
/// Share of the orders shipped to a point (the rest are collected at a store), in percent.
const SHIP_PERCENT: u64 = 60;
/// Share of a store's SKUs on the shelf that sell to walk-in customers, in percent.
const WALK_IN_PERCENT: u64 = 30;
/// The chain's centre (Taipei), and how far around it stores and customers are, in degrees.
const CENTRE: (f64, f64) = (25.04, 121.53);
const STORE_SPREAD: f64 = 0.12;
const CUSTOMER_SPREAD: f64 = 0.15;
const KM_PER_DEGREE: f64 = 111.195;

pub use crate::common::Random;

/// Where an order goes: shipped to a point, or collected at a store (an index into `locations`).
#[derive(Debug, Clone, Copy)]
pub enum Destination {
    Ship(Point),
    Pickup(usize),
}

/// One order of the stream: distinct SKUs (indices) with quantities.
#[derive(Debug, Clone)]
pub struct Order {
    pub lines: Vec<(usize, i64)>,
    pub destination: Destination,
}

/// Units per location (index into `Chain::locations`) per SKU (index into `Chain::skus`).
pub type Stock = Vec<Vec<i64>>;

pub struct Chain {
    /// Stores first (`S00`…), then the warehouses (`W0`, `W1`).
    pub locations: Vec<Location>,
    pub skus: Vec<SkuCode>,
    pub opening: Stock,
    /// Walk-in sales per day, per location per SKU (0 for warehouses and most SKUs).
    pub walk_in: Vec<Vec<f64>>,
    /// Each warehouse's distance from the chain's centre, in km.
    pub warehouse_km: Vec<f64>,
}

use crate::common::location;

fn point_around(random: &mut Random, spread: f64) -> Point {
    let latitude = random.between(CENTRE.0 - spread, CENTRE.0 + spread);
    let longitude = random.between(CENTRE.1 - spread, CENTRE.1 + spread);
    Point::parse("", latitude, longitude).expect("a generated point near the centre")
}

/// A point `km` from the centre at a random bearing.
fn out_of_town(random: &mut Random, km: f64) -> Point {
    let bearing = random.between(0.0, std::f64::consts::TAU);
    let latitude = CENTRE.0 + km * bearing.cos() / KM_PER_DEGREE;
    let longitude = CENTRE.1 + km * bearing.sin() / (KM_PER_DEGREE * CENTRE.0.to_radians().cos());
    Point::parse("", latitude, longitude).expect("a generated warehouse point")
}

impl Chain {
    /// 60 stores around the centre and 2 warehouses 45–60 km out; each store carries a random
    /// 40 % of the 200 SKUs with 0–6 units, the warehouses every SKU with 40–200 units; 30 % of
    /// a store's SKUs on its shelf (1 unit or more) sell 0.2–2 units a day to walk-in customers.
    pub fn generate(seed: u64) -> Self {
        let mut random = Random::new(seed);
        let mut locations: Vec<Location> = (0..STORES)
            .map(|index| {
                let point = point_around(&mut random, STORE_SPREAD);
                location(format!("S{index:02}"), LocationKind::Store, point)
            })
            .collect();
        let centre = Point::parse("", CENTRE.0, CENTRE.1).expect("the centre");
        let mut warehouse_km = Vec::new();
        for index in 0..WAREHOUSES {
            let km = random.between(45.0, 60.0);
            let point = out_of_town(&mut random, km);
            warehouse_km.push(point.distance_km(centre));
            locations.push(location(
                format!("W{index}"),
                LocationKind::Warehouse,
                point,
            ));
        }
        let skus = (0..SKUS)
            .map(|sku| SkuCode::parse("sku", &format!("SKU{sku:03}")).expect("a generated SKU"))
            .collect();
        let mut opening = vec![vec![0; SKUS]; locations.len()];
        let mut walk_in = vec![vec![0.0; SKUS]; locations.len()];
        for (index, location) in locations.iter().enumerate() {
            for sku in 0..SKUS {
                match location.kind {
                    LocationKind::Warehouse => opening[index][sku] = 40 + random.next(161) as i64,
                    LocationKind::Store if random.next(100) < CARRIED_PERCENT => {
                        opening[index][sku] = random.next(7) as i64;
                        if opening[index][sku] > 0 && random.next(100) < WALK_IN_PERCENT {
                            walk_in[index][sku] = random.between(0.2, 2.0);
                        }
                    }
                    LocationKind::Store => {}
                }
            }
        }
        Self {
            locations,
            skus,
            opening,
            walk_in,
            warehouse_km,
        }
    }

    /// 1–4 lines of distinct SKUs, 1–2 units each; 60 % shipped to a random point around the
    /// centre, 40 % collected at a random store.
    pub fn orders(&self, seed: u64) -> Vec<Order> {
        let mut random = Random::new(seed);
        (0..ORDERS)
            .map(|_| {
                let count = 1 + random.next(4) as usize;
                let mut lines: Vec<(usize, i64)> = Vec::new();
                while lines.len() < count {
                    let sku = random.next(SKUS as u64) as usize;
                    if lines.iter().all(|&(other, _)| other != sku) {
                        lines.push((sku, 1 + random.next(2) as i64));
                    }
                }
                let destination = if random.next(100) < SHIP_PERCENT {
                    Destination::Ship(point_around(&mut random, CUSTOMER_SPREAD))
                } else {
                    Destination::Pickup(random.next(STORES as u64) as usize)
                };
                Order { lines, destination }
            })
            .collect()
    }

    pub fn index_of(&self, code: &str) -> usize {
        self.locations
            .iter()
            .position(|location| location.code.as_str() == code)
            .expect("a plan names only the chain's locations")
    }

    /// The order as Allot's order path receives it: split allowed, partial not.
    pub fn request(&self, order: &Order) -> Request {
        let lines = order
            .lines
            .iter()
            .map(|&(sku, qty)| {
                let qty = Qty::parse("qty", qty).expect("a generated quantity");
                (self.skus[sku].clone(), qty)
            })
            .collect();
        let fulfilment = match order.destination {
            Destination::Ship(point) => Fulfilment::Ship(point),
            Destination::Pickup(store) => Fulfilment::Pickup(self.locations[store].code.clone()),
        };
        Request {
            lines,
            fulfilment,
            allow_split: true,
            allow_partial: false,
            restock: false,
            own_held: Vec::new(),
        }
    }

    /// A candidate row for every location with units of an order SKU in `stock`; with
    /// `walk_in_rates` a store's rows carry its walk-in sales per day, else 0.
    pub fn rows(&self, order: &Order, stock: &Stock, walk_in_rates: bool) -> Vec<CandidateRow> {
        let mut rows = Vec::new();
        for &(sku, _) in &order.lines {
            for (index, location) in self.locations.iter().enumerate() {
                let available = stock[index][sku];
                if available > 0 {
                    rows.push(CandidateRow {
                        location: location.clone(),
                        sku: self.skus[sku].to_string(),
                        available,
                        sold_per_day: if walk_in_rates {
                            self.walk_in[index][sku]
                        } else {
                            0.0
                        },
                        capacity_left: None,
                    });
                }
            }
        }
        rows
    }

    pub fn pickup_store(&self, order: &Order) -> Option<&Location> {
        match order.destination {
            Destination::Ship(_) => None,
            Destination::Pickup(store) => Some(&self.locations[store]),
        }
    }
}
