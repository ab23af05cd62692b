//! `ingest`: POS uploads. Batch `index` comes from store `index % stores` (so concurrent
//! batches come from different stores, as tills do), with lines drawn from that store's
//! assortment: mostly sales of one unit, some returns.

use crate::assortment::{Assortment, Rng};
use crate::runner::{expect_status, Done, Failed, Scenario};
use crate::seed::{Batch, Line};
use crate::target::Target;

/// Share of lines that are returns, in percent; the rest are sales.
pub const RETURN_PERCENT: u64 = 5;
/// A sale or return is of 1 to this many units.
pub const LINE_QTY_MAX: u64 = 2;

pub struct Ingest<'a> {
    pub chain: &'a Assortment,
    pub batch_size: usize,
    /// Each store's carried SKUs, computed once.
    pub carried: Vec<Vec<u32>>,
}

impl<'a> Ingest<'a> {
    pub fn new(chain: &'a Assortment, batch_size: usize) -> Self {
        Self {
            chain,
            batch_size,
            carried: (0..chain.stores)
                .map(|store| chain.carried(store))
                .collect(),
        }
    }
}

impl Scenario for Ingest<'_> {
    async fn step(
        &self,
        client: &awc::Client,
        target: &Target,
        index: u64,
        rng: &mut Rng,
    ) -> Result<Done, Failed> {
        let op = "ingest";
        let store = (index % u64::from(self.chain.stores)) as u32;
        let location = Assortment::store_code(store);
        let carried = self
            .carried
            .get(store as usize)
            .filter(|carried| !carried.is_empty())
            .ok_or_else(|| Failed {
                op,
                message: format!("store {location} carries nothing"),
            })?;
        let batch = Batch {
            movements: (0..self.batch_size)
                .map(|_| {
                    let sku = carried[rng.below(carried.len() as u64) as usize];
                    Line {
                        kind: if rng.below(100) < RETURN_PERCENT {
                            "return"
                        } else {
                            "sale"
                        },
                        location: &location,
                        sku: Assortment::sku_code(sku),
                        qty: rng.between(1, LINE_QTY_MAX),
                    }
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
            units: self.batch_size as u64,
        })
    }
}
