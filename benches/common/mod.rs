//! What the service's benches share: a seeded generator and a plain location.

#![allow(dead_code)] // Each bench uses a different part.

use allot::domain::codes::LocationCode;
use allot::domain::geo::Point;
use allot::domain::location::{Location, LocationKind};

/// A small xorshift generator: the run is the same on every machine.
pub struct Random(u64);

impl Random {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }

    /// Uniform in `centre ± spread`.
    pub fn around(&mut self, centre: f64, spread: f64) -> f64 {
        centre + (self.next(20_001) as f64 / 10_000.0 - 1.0) * spread
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.next(1 << 53) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [low, high].
    pub fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.next(1_000_001) as f64 / 1_000_000.0
    }

    /// Poisson-distributed count with the given mean (Knuth's method; the means here are small).
    pub fn poisson(&mut self, mean: f64) -> u32 {
        let limit = (-mean).exp();
        let (mut count, mut product) = (0, self.unit());
        while product > limit {
            count += 1;
            product *= self.unit();
        }
        count
    }
}

/// A location that ships, and offers pickup when it is a store; no overrides.
pub fn location(code: String, kind: LocationKind, point: Point) -> Location {
    Location {
        code: LocationCode::parse("code", &code).expect("a generated code"),
        name: code,
        kind,
        point,
        pickup: kind == LocationKind::Store,
        ship: true,
        safety_stock: 0,
        handling_per_unit: None,
        pick_capacity_per_day: None,
        transfers_out: true,
        low_stock_below: 0,
    }
}
