//! Hold events: what Redis holds per (SKU, location), written to the feed when it changed since
//! the feed last said, in one statement for a whole coalesced round.

use super::{Cached, Result};
use deadpool_postgres::GenericClient;

/// The advisory lock under which one instance at a time writes hold events: two instances
/// that noted the same place would otherwise both read the same "before" and both write it.
const RECORDING_LOCK: i64 = 7_261_018;

/// Writes an `availability_changed` event for every (SKU code, location code, units held now)
/// whose held units differ from what the feed last said; says how many.
pub async fn record(
    client: &mut deadpool_postgres::Client,
    held: &[(String, String, i64)],
) -> Result<u64> {
    let transaction = client.transaction().await?;
    transaction
        .cached_query("SELECT pg_advisory_xact_lock($1)", &[&RECORDING_LOCK])
        .await?;
    let written = write_changed(&transaction, held).await?;
    transaction.commit().await?;
    Ok(written)
}

async fn write_changed(client: &impl GenericClient, held: &[(String, String, i64)]) -> Result<u64> {
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

/// Claims the next sweep of held places unless one ran less than `interval_s` ago, and gives up
/// to `limit` (SKU code, location code)s the feed last said have units held, after where the
/// last sweep stopped; the next goes on after these, or from the start after a short page.
/// Not this instance's turn: `None`.
pub async fn sweep(
    client: &mut deadpool_postgres::Client,
    interval_s: f64,
    limit: i64,
) -> Result<Option<Vec<(String, String)>>> {
    let transaction = client.transaction().await?;
    let Some(after) = transaction
        .cached_query_opt(
            "UPDATE hold_sweep SET swept_at = now()
             WHERE swept_at <= now() - $1 * interval '1 second'
             RETURNING after_sku_id, after_location_id",
            &[&interval_s],
        )
        .await?
    else {
        return Ok(None);
    };
    let rows = transaction
        .cached_query(
            "SELECT p.sku_id, p.location_id, s.code, l.code FROM held_published p
             JOIN skus s ON s.id = p.sku_id
             JOIN locations l ON l.id = p.location_id
             WHERE p.held > 0 AND (p.sku_id, p.location_id) > ($1, $2)
             ORDER BY p.sku_id, p.location_id LIMIT $3",
            &[&after.get::<_, i64>(0), &after.get::<_, i64>(1), &limit],
        )
        .await?;
    let next: (i64, i64) = match rows.last() {
        Some(last) if rows.len() as i64 == limit => (last.get(0), last.get(1)),
        _ => (0, 0),
    };
    transaction
        .cached_execute(
            "UPDATE hold_sweep SET after_sku_id = $1, after_location_id = $2",
            &[&next.0, &next.1],
        )
        .await?;
    transaction.commit().await?;
    Ok(Some(
        rows.iter().map(|row| (row.get(2), row.get(3))).collect(),
    ))
}
