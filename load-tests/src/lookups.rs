//! `lookups`: what a clerk's screen asks, at random over the chain.

use crate::assortment::{Assortment, Rng};
use crate::runner::{expect_status, Done, Failed, Scenario};
use crate::target::Target;

/// Rows asked for by a location page (a screenful).
pub const LOCATION_PAGE_ROWS: u32 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LookupKind {
    /// `GET /v1/stock/{sku}?store={store}`: where is this SKU, nearest to my store first.
    StockNearStore,
    /// `GET /v1/stock/{sku}`: the same without the distance (one query fewer).
    Stock,
    /// `GET /v1/locations/{store}/stock?limit=20&after={sku}`: a page of a store's stock.
    LocationPage,
    /// `GET /health`: HTTP alone, no database; the ceiling of this machine and client.
    Health,
}

pub struct Lookups<'a> {
    pub chain: &'a Assortment,
    pub kind: LookupKind,
}

impl Scenario for Lookups<'_> {
    async fn step(
        &self,
        client: &awc::Client,
        target: &Target,
        _: u64,
        rng: &mut Rng,
    ) -> Result<Done, Failed> {
        let store = Assortment::store_code(rng.below(u64::from(self.chain.stores)) as u32);
        let sku = Assortment::sku_code(rng.below(u64::from(self.chain.skus)) as u32);
        let (op, path) = match self.kind {
            LookupKind::StockNearStore => {
                ("stock near store", format!("/v1/stock/{sku}?store={store}"))
            }
            LookupKind::Stock => ("stock", format!("/v1/stock/{sku}")),
            LookupKind::LocationPage => (
                "location page",
                format!("/v1/locations/{store}/stock?limit={LOCATION_PAGE_ROWS}&after={sku}"),
            ),
            LookupKind::Health => ("health", "/health".to_owned()),
        };
        let response = client.get(target.url(&path)).send().await;
        expect_status(op, response, &[200]).await?;
        Ok(Done { op, units: 1 })
    }
}
