//! `holds`: carts holding one unit of a SKU their store carries, for a few seconds.

use crate::assortment::{Assortment, Rng};
use crate::runner::{expect_status, Done, Failed, Scenario};
use crate::target::Target;

/// Seconds a cart's hold lives: short, so stock frees itself during a long run.
pub const HOLD_TTL_S: u64 = 2;

pub struct Holds<'a> {
    pub chain: &'a Assortment,
    pub carried: Vec<Vec<u32>>,
}

impl<'a> Holds<'a> {
    pub fn new(chain: &'a Assortment) -> Self {
        Self {
            chain,
            carried: (0..chain.stores)
                .map(|store| chain.carried(store))
                .collect(),
        }
    }
}

impl Scenario for Holds<'_> {
    async fn step(
        &self,
        client: &awc::Client,
        target: &Target,
        _: u64,
        rng: &mut Rng,
    ) -> Result<Done, Failed> {
        let store = rng.below(u64::from(self.chain.stores)) as u32;
        let carried = &self.carried[store as usize];
        if carried.is_empty() {
            return Ok(Done {
                op: "hold (store carries nothing)",
                units: 0,
            });
        }
        let sku = carried[rng.below(carried.len() as u64) as usize];
        let body = serde_json::json!({
            "lines": [{"sku": Assortment::sku_code(sku), "location": Assortment::store_code(store), "qty": 1}],
            "ttl_s": HOLD_TTL_S,
        });
        let response = client.post(target.url("/v1/holds")).send_json(&body).await;
        // A 409 (every unit already held) is an answer too; it is counted apart.
        let answer = expect_status("hold", response, &[201, 409]).await?;
        let op = if answer.starts_with(b"{\"code\"") {
            "hold refused (409)"
        } else {
            "hold"
        };
        Ok(Done { op, units: 1 })
    }
}
