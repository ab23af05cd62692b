//! `seed`: the chain through the public API — stores (PUT /v1/locations), the catalogue
//! (PUT /v1/skus), then each store's opening stock as receipts in batches (POST /v1/movements).
//! Stores that already have stock are skipped, so a second run adds nothing.

use crate::assortment::{Assortment, Rng};
use crate::runner::{expect_status, Done, Failed, Scenario};
use crate::target::Target;
use serde::Serialize;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};

/// Units each store keeps back from online selling.
pub const STORE_SAFETY_STOCK: i64 = 2;
const CATEGORIES: [&str; 6] = ["apparel", "shoes", "home", "beauty", "toys", "food"];

pub struct PutLocations<'a>(pub &'a Assortment);

impl Scenario for PutLocations<'_> {
    async fn step(
        &self,
        client: &awc::Client,
        target: &Target,
        index: u64,
        _: &mut Rng,
    ) -> Result<Done, Failed> {
        let store = u32::try_from(index).unwrap_or(u32::MAX);
        let code = Assortment::store_code(store);
        let (latitude, longitude) = self.0.store_point(store);
        let body = json!({
            "name": format!("Store {code}"), "kind": "store",
            "latitude": latitude, "longitude": longitude,
            "pickup": true, "ship": true, "safety_stock": STORE_SAFETY_STOCK,
        });
        let response = client
            .put(target.url(&format!("/v1/locations/{code}")))
            .send_json(&body)
            .await;
        expect_status("put location", response, &[200, 201]).await?;
        Ok(Done {
            op: "put location",
            units: 1,
        })
    }
}

pub struct PutSkus;

impl Scenario for PutSkus {
    async fn step(
        &self,
        client: &awc::Client,
        target: &Target,
        index: u64,
        _: &mut Rng,
    ) -> Result<Done, Failed> {
        let sku = u32::try_from(index).unwrap_or(u32::MAX);
        let code = Assortment::sku_code(sku);
        let category = CATEGORIES[index as usize % CATEGORIES.len()];
        let body = json!({
            "name": format!("Item {code}"),
            "attributes": {"category": category, "pack": 1 + index % 12},
        });
        let response = client
            .put(target.url(&format!("/v1/skus/{code}")))
            .send_json(&body)
            .await;
        expect_status("put sku", response, &[200, 201]).await?;
        Ok(Done {
            op: "put sku",
            units: 1,
        })
    }
}

/// Marks which stores already hold stock (`GET /v1/locations/{code}/stock?limit=1`).
pub struct ProbeStock {
    pub stocked: Vec<AtomicBool>,
}

impl Scenario for ProbeStock {
    async fn step(
        &self,
        client: &awc::Client,
        target: &Target,
        index: u64,
        _: &mut Rng,
    ) -> Result<Done, Failed> {
        let code = Assortment::store_code(u32::try_from(index).unwrap_or(u32::MAX));
        let response = client
            .get(target.url(&format!("/v1/locations/{code}/stock?limit=1")))
            .send()
            .await;
        let body = expect_status("probe stock", response, &[200]).await?;
        let page: serde_json::Value = serde_json::from_slice(&body).map_err(|error| Failed {
            op: "probe stock",
            message: error.to_string(),
        })?;
        let has_stock = page["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty());
        if let Some(flag) = self.stocked.get(index as usize) {
            flag.store(has_stock, Ordering::Relaxed);
        }
        Ok(Done {
            op: "probe stock",
            units: 1,
        })
    }
}

/// One movement line on the wire.
#[derive(Serialize)]
pub struct Line<'a> {
    pub kind: &'static str,
    pub location: &'a str,
    pub sku: String,
    pub qty: u64,
}

#[derive(Serialize)]
pub struct Batch<'a> {
    pub movements: Vec<Line<'a>>,
}

/// Opening stock: job `index` is one batch of receipts for one store.
pub struct Receipts<'a> {
    pub chain: &'a Assortment,
    /// (store, its carried SKUs in this batch).
    pub jobs: Vec<(u32, Vec<u32>)>,
}

impl<'a> Receipts<'a> {
    pub fn plan(chain: &'a Assortment, stores: &[u32], batch_size: usize) -> Self {
        let jobs = stores
            .iter()
            .flat_map(|&store| {
                chain
                    .carried(store)
                    .chunks(batch_size.max(1))
                    .map(|chunk| (store, chunk.to_vec()))
                    .collect::<Vec<_>>()
            })
            .collect();
        Self { chain, jobs }
    }

    pub fn lines(&self) -> u64 {
        self.jobs.iter().map(|(_, skus)| skus.len() as u64).sum()
    }
}

impl Scenario for Receipts<'_> {
    async fn step(
        &self,
        client: &awc::Client,
        target: &Target,
        index: u64,
        _: &mut Rng,
    ) -> Result<Done, Failed> {
        let op = "receipts";
        let Some((store, skus)) = self.jobs.get(index as usize) else {
            return Err(Failed {
                op,
                message: format!("no job {index}"),
            });
        };
        let location = Assortment::store_code(*store);
        let batch = Batch {
            movements: skus
                .iter()
                .map(|&sku| Line {
                    kind: "receipt",
                    location: &location,
                    sku: Assortment::sku_code(sku),
                    qty: self.chain.seed_qty(*store, sku),
                })
                .collect(),
        };
        let response = client
            .post(target.url("/v1/movements"))
            .send_json(&batch)
            .await;
        expect_status(op, response, &[201]).await?;
        Ok(Done {
            op,
            units: skus.len() as u64,
        })
    }
}
