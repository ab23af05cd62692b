//! `mixed`: the e-shop and the stores at once — about 70% clerk lookups, 20% holds and
//! promises, 10% orders (ship to home and pick up in store) over the seeded chain.

use crate::assortment::{Assortment, Rng};
use crate::runner::{expect_status, Done, Failed, Scenario};
use crate::target::Target;
use serde_json::json;

/// Shares of lookups, holds, promises and orders, in percent (they sum to 100).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Mix {
    pub lookups: u64,
    pub holds: u64,
    pub promises: u64,
    pub orders: u64,
}

impl std::str::FromStr for Mix {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let shares: Vec<u64> = text
            .split(',')
            .map(|share| share.trim().parse::<u64>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("'{text}': four whole percentages, e.g. 70,10,10,10"))?;
        match shares[..] {
            [lookups, holds, promises, orders] if shares.iter().sum::<u64>() == 100 => Ok(Self {
                lookups,
                holds,
                promises,
                orders,
            }),
            _ => Err(format!("'{text}': four percentages that sum to 100")),
        }
    }
}

pub struct Mixed<'a> {
    pub chain: &'a Assortment,
    pub carried: Vec<Vec<u32>>,
    /// Distinguishes this run's order ids from earlier runs' (orders are idempotent by id).
    pub run: u64,
    pub mix: Mix,
}

impl<'a> Mixed<'a> {
    pub fn new(chain: &'a Assortment, run: u64, mix: Mix) -> Self {
        Self {
            chain,
            carried: (0..chain.stores)
                .map(|store| chain.carried(store))
                .collect(),
            run,
            mix,
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
        let Mix {
            lookups,
            holds,
            promises,
            orders,
        } = self.mix;
        let (op, response, accepted): (&'static str, _, &[u16]) = if roll < lookups {
            let path = format!("/v1/stock/{sku}?store={store}");
            ("lookup", client.get(target.url(&path)).send().await, &[200])
        } else if roll < lookups + holds {
            let body = json!({"lines": [{"sku": sku, "location": store, "qty": 1}], "ttl_s": 2});
            (
                "hold",
                client.post(target.url("/v1/holds")).send_json(&body).await,
                &[201, 409],
            )
        } else if roll < lookups + holds + promises {
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
            // Half the orders ship to home, half are picked up.
            let ship = roll < 100 - orders / 2;
            let fulfilment = if ship {
                let (latitude, longitude) = self
                    .chain
                    .store_point(rng.below(u64::from(self.chain.stores)) as u32);
                json!({"mode": "ship", "latitude": latitude, "longitude": longitude})
            } else {
                json!({"mode": "pickup", "store": store})
            };
            let body = json!({"id": format!("LOAD-{}-{index}", self.run),
                              "lines": [{"sku": sku, "qty": 1}], "fulfilment": fulfilment});
            let op = if ship {
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

#[cfg(test)]
mod tests {
    use super::Mix;

    #[test]
    fn a_mix_is_four_shares_that_sum_to_100() {
        let mix: Mix = "0, 0,0,100".parse().unwrap();
        assert_eq!((mix.lookups, mix.orders), (0, 100));
        for bad in ["70,10,10", "70,10,10,20", "a,b,c,d", "", "50,50,0,0,0"] {
            assert!(bad.parse::<Mix>().is_err(), "{bad}");
        }
    }
}
