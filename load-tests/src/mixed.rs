//! `mixed`: the e-shop and the stores at once — about 70% clerk lookups, 20% holds and
//! promises, 10% orders (ship to home and pick up in store) over the seeded chain.

use crate::assortment::{Assortment, Rng};
use crate::runner::{expect_status, Done, Failed, Scenario};
use crate::target::Target;
use serde_json::json;

pub struct Mixed<'a> {
    pub chain: &'a Assortment,
    pub carried: Vec<Vec<u32>>,
    /// Distinguishes this run's order ids from earlier runs' (orders are idempotent by id).
    pub run: u64,
}

impl<'a> Mixed<'a> {
    pub fn new(chain: &'a Assortment, run: u64) -> Self {
        Self {
            chain,
            carried: (0..chain.stores)
                .map(|store| chain.carried(store))
                .collect(),
            run,
        }
    }

    /// A store and a SKU it carries (the chain's stores all carry something at 30%).
    fn pick(&self, rng: &mut Rng) -> (u32, u32) {
        loop {
            let store = rng.below(u64::from(self.chain.stores)) as u32;
            let carried = &self.carried[store as usize];
            if !carried.is_empty() {
                return (store, carried[rng.below(carried.len() as u64) as usize]);
            }
        }
    }
}

impl Scenario for Mixed<'_> {
    async fn step(
        &self,
        client: &awc::Client,
        target: &Target,
        index: u64,
        rng: &mut Rng,
    ) -> Result<Done, Failed> {
        let (store, sku) = self.pick(rng);
        let (store, sku) = (Assortment::store_code(store), Assortment::sku_code(sku));
        let roll = rng.below(100);
        let (op, response, accepted): (&'static str, _, &[u16]) = if roll < 70 {
            let path = format!("/v1/stock/{sku}?store={store}");
            ("lookup", client.get(target.url(&path)).send().await, &[200])
        } else if roll < 80 {
            let body = json!({"lines": [{"sku": sku, "location": store, "qty": 1}], "ttl_s": 2});
            (
                "hold",
                client.post(target.url("/v1/holds")).send_json(&body).await,
                &[201, 409],
            )
        } else if roll < 90 {
            let body = json!({"lines": [{"sku": sku, "qty": 1}],
                              "fulfilment": {"mode": "pickup", "store": store}});
            (
                "promise",
                client
                    .post(target.url("/v1/promise"))
                    .send_json(&body)
                    .await,
                &[200],
            )
        } else {
            let fulfilment = if roll < 95 {
                let (latitude, longitude) = self
                    .chain
                    .store_point(rng.below(u64::from(self.chain.stores)) as u32);
                json!({"mode": "ship", "latitude": latitude, "longitude": longitude})
            } else {
                json!({"mode": "pickup", "store": store})
            };
            let body = json!({"id": format!("LOAD-{}-{index}", self.run),
                              "lines": [{"sku": sku, "qty": 1}], "fulfilment": fulfilment});
            let op = if roll < 95 {
                "order (ship)"
            } else {
                "order (pickup)"
            };
            // 409: the chain ran out of that SKU; an answer, counted with the rest.
            (
                op,
                client.post(target.url("/v1/orders")).send_json(&body).await,
                &[201, 409],
            )
        };
        expect_status(op, response, accepted).await?;
        Ok(Done { op, units: 1 })
    }
}
