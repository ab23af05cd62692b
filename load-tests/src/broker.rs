//! The broker's own work with no Allot around it: JetStream storing stock events at a set rate
//! through the service's own publish path (`allot::broker::Broker`: the same stream, subjects,
//! `Nats-Msg-Id` and acknowledgements), with bodies shaped like the relay's. Run beside ingest
//! without events, it shows what storing the events alone takes from the machine's cores: the
//! floor under the outbox's cost to ingest when the broker shares them (load-tests/bench/
//! outbox-overhead.sh, `FLOOR=1`).

use allot::broker::{Broker, Message};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Publishes a tick's events every this often, so the rate is even within a second.
const TICK: Duration = Duration::from_millis(10);
/// Events per second at most (the relay's own peak is well under it on two cores).
pub const RATE_MAX: u64 = 1_000_000;

pub struct Pace<'a> {
    pub url: &'a str,
    pub prefix: &'a str,
    pub stream: &'a str,
    pub rate_per_second: u64,
    pub stores: u32,
    pub skus: u32,
}

/// A body of the relay's shape and size: an availability change caused by a POS sale.
fn body(id: u64, sku: &str, location: &str) -> Value {
    let figures = |on_hand: i64| {
        json!({"on_hand": on_hand, "allocated": 0, "held": null, "in_transit": 0,
               "available": on_hand})
    };
    json!({
        "id": id, "position": id, "sequence": 2 + id % 7, "kind": "availability_changed",
        "sku": sku, "location": location, "before": figures(5), "after": figures(4),
        "cause": {"movements": ["sale"], "actor": "key:bench", "request": "pos-batch-0000000001"},
        "at": "2026-12-03T17:00:00.000000Z",
    })
}

/// Publishes until killed, printing how many events the stream has stored once a second.
pub fn run(pace: &Pace<'_>) -> Result<(), String> {
    let broker = Broker::new(pace.url, pace.prefix, pace.stream);
    let per_tick = (pace.rate_per_second as f64 * TICK.as_secs_f64()).max(1.0);
    actix_rt::System::new().block_on(async {
        let started = Instant::now();
        let (mut published, mut reported_s) = (0_u64, 0_u64);
        for tick in 1_u64.. {
            let due = (per_tick * tick as f64) as u64;
            let bodies: Vec<(String, String, Value)> = (published..due)
                .map(|id| {
                    let sku = format!("SKU-{:05}", id % u64::from(pace.skus.max(1)));
                    let location = format!("S{:03}", id % u64::from(pace.stores.max(1)));
                    let body = body(id, &sku, &location);
                    (sku, location, body)
                })
                .collect();
            let messages: Vec<Message<'_, Value>> = bodies
                .iter()
                .zip(published..)
                .map(|((sku, location, body), id)| Message {
                    sku,
                    location,
                    kind: "availability_changed",
                    id: format!("bench-{id}"),
                    body,
                })
                .collect();
            broker.publish(&messages).await.map_err(|e| e.to_string())?;
            published = due;
            let elapsed = started.elapsed();
            if elapsed.as_secs() > reported_s {
                reported_s = elapsed.as_secs();
                println!(
                    "broker: {published} events stored in {:.1} s ({:.0}/s)",
                    elapsed.as_secs_f64(),
                    published as f64 / elapsed.as_secs_f64()
                );
            }
            if let Some(wait) = TICK.mul_f64(tick as f64).checked_sub(elapsed) {
                actix_rt::time::sleep(wait).await;
            }
        }
        Ok(())
    })
}
