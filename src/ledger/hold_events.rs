//! Hold events: what Redis holds per (SKU, location), written to the feed when it changed since
//! the feed last said, in one statement for a whole coalesced round.

use super::{Cached, Result};
use deadpool_postgres::GenericClient;

/// Writes an `availability_changed` event for every (SKU code, location code, units held now)
/// whose held units differ from what the feed last said; says how many.
pub async fn record(client: &impl GenericClient, held: &[(String, String, i64)]) -> Result<u64> {
    let skus: Vec<&str> = held.iter().map(|(sku, _, _)| sku.as_str()).collect();
    let locations: Vec<&str> = held
        .iter()
        .map(|(_, location, _)| location.as_str())
        .collect();
    let units: Vec<i64> = held.iter().map(|(_, _, units)| *units).collect();
    client
        .cached_execute(
            "WITH input AS (
                 SELECT * FROM unnest($1::text[], $2::text[], $3::int8[]) AS i(sku, location, held)),
             now_held AS (
                 SELECT s.id AS sku_id, l.id AS location_id, i.held, coalesce(p.held, 0) AS before
                 FROM input i
                 JOIN skus s ON s.code = i.sku
                 JOIN locations l ON l.code = i.location
                 LEFT JOIN held_published p ON p.sku_id = s.id AND p.location_id = l.id),
             changed AS (SELECT * FROM now_held WHERE held <> before),
             kept AS (
                 INSERT INTO held_published (sku_id, location_id, held)
                 SELECT sku_id, location_id, held FROM changed
                 ON CONFLICT (sku_id, location_id) DO UPDATE SET held = excluded.held)
             INSERT INTO stock_events (sku_id, location_id, sequence, kind,
                 on_hand_before, allocated_before, in_transit_before, available_before,
                 on_hand_after, allocated_after, in_transit_after, available_after,
                 held_before, held_after, cause)
             SELECT c.sku_id, c.location_id, b.version, 'availability_changed',
                    b.on_hand, b.allocated, b.in_transit,
                    greatest(b.on_hand - b.allocated - l.safety_stock - c.before, 0),
                    b.on_hand, b.allocated, b.in_transit,
                    greatest(b.on_hand - b.allocated - l.safety_stock - c.held, 0),
                    c.before, c.held, '{\"holds\": true}'::jsonb
             FROM changed c
             JOIN balances b ON b.sku_id = c.sku_id AND b.location_id = c.location_id
             JOIN locations l ON l.id = c.location_id",
            &[&skus, &locations, &units],
        )
        .await
}
