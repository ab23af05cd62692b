//! The synthetic chain: store and SKU codes, which store carries which SKU, and a small
//! deterministic random generator. Everything derives from a seed, so `seed`, `lookups` and
//! `ingest` agree on the data without talking to each other.

/// Largest chain the generator will make (keeps the precomputed assortment in memory small).
pub const STORES_MAX: u32 = 10_000;
pub const SKUS_MAX: u32 = 1_000_000;
/// Units received per carried (store, SKU) when seeding: enough for many ingest runs of sales.
pub const SEED_QTY_MIN: u64 = 50;
pub const SEED_QTY_MAX: u64 = 500;

/// SplitMix64: tiny, fast, and its sequence never changes with a dependency upgrade.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0), without modulo bias worth speaking of.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high.saturating_sub(low) + 1)
    }
}

/// A stateless hash of a few numbers (one SplitMix64 step per word).
fn mix(words: &[u64]) -> u64 {
    let mut rng = Rng::new(0);
    for word in words {
        rng.0 ^= *word;
        rng.next_u64();
    }
    rng.next_u64()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct Assortment {
    /// Stores in the chain.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=i64::from(STORES_MAX)))]
    pub stores: u32,
    /// SKUs in the catalogue.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=i64::from(SKUS_MAX)))]
    pub skus: u32,
    /// Percentage of the catalogue each store carries (a sparse, realistic assortment).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub carry_percent: u32,
    /// Seed of every random choice; the same seed gives the same chain and the same requests.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

impl Assortment {
    pub fn store_code(store: u32) -> String {
        format!("ST{:05}", store + 1)
    }

    pub fn sku_code(sku: u32) -> String {
        format!("SKU-{:07}", sku + 1)
    }

    pub fn carries(&self, store: u32, sku: u32) -> bool {
        mix(&[self.seed, u64::from(store), u64::from(sku)]) % 100 < u64::from(self.carry_percent)
    }

    /// The SKUs a store carries, ascending.
    pub fn carried(&self, store: u32) -> Vec<u32> {
        (0..self.skus)
            .filter(|&sku| self.carries(store, sku))
            .collect()
    }

    /// Where a store is: spread over about 300 km × 200 km, so distances vary.
    pub fn store_point(&self, store: u32) -> (f64, f64) {
        let mut rng = Rng::new(mix(&[self.seed, 0x5707E, u64::from(store)]));
        let latitude = 22.0 + rng.below(30_000) as f64 / 10_000.0;
        let longitude = 120.0 + rng.below(20_000) as f64 / 10_000.0;
        (latitude, longitude)
    }

    /// Units received when seeding this (store, SKU).
    pub fn seed_qty(&self, store: u32, sku: u32) -> u64 {
        let mut rng = Rng::new(mix(&[self.seed, 0x5EED, u64::from(store), u64::from(sku)]));
        rng.between(SEED_QTY_MIN, SEED_QTY_MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> Assortment {
        Assortment {
            stores: 20,
            skus: 2_000,
            carry_percent: 30,
            seed: 7,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_assortment() {
        let (a, b) = (chain(), chain());
        assert_eq!(a.carried(3), b.carried(3));
        assert_eq!(a.store_point(3), b.store_point(3));
        assert_eq!(a.seed_qty(3, 11), b.seed_qty(3, 11));
        let other = Assortment { seed: 8, ..chain() };
        assert_ne!(a.carried(3), other.carried(3));
    }

    #[test]
    fn stores_carry_about_the_requested_share() {
        let chain = chain();
        for store in 0..chain.stores {
            let share = chain.carried(store).len() as f64 / f64::from(chain.skus);
            assert!((0.25..0.35).contains(&share), "store {store}: {share}");
        }
        // Stores differ from one another.
        assert_ne!(chain.carried(0), chain.carried(1));
    }

    #[test]
    fn draws_stay_in_range() {
        let mut rng = Rng::new(1);
        for _ in 0..10_000 {
            assert!(rng.below(7) < 7);
            assert!((3..=5).contains(&rng.between(3, 5)));
        }
        assert_eq!(rng.below(0), 0);
    }

    #[test]
    fn codes_fit_the_service_format() {
        assert_eq!(Assortment::store_code(0), "ST00001");
        assert_eq!(Assortment::sku_code(9_999), "SKU-0010000");
    }
}
