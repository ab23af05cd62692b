//! The stock events the balances trigger writes (sql/V8), numbered for consumers.

use super::{Cached, Result};
use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool};
use serde::Serialize;
use serde_json::Value;
use tokio_postgres::Row;

/// The advisory lock under which one relay at a time numbers events.
const NUMBERING_LOCK: i64 = 7_261_017;

/// Numbers committed events that have no position yet (the oldest, at most `limit`), after the
/// highest position given so far, in (SKU, location, sequence) order, then adds them to the
/// chain's figures and numbers the chain's crossings after them; says how many it numbered.
/// Another relay numbering at the moment: nothing, this round.
pub async fn number(pool: &Pool, limit: i64, chain_low_stock_below: i64) -> Result<u64> {
    let mut client = pool.get().await?;
    let transaction = client.transaction().await?;
    let locked: bool = transaction
        .cached_query_one("SELECT pg_try_advisory_xact_lock($1)", &[&NUMBERING_LOCK])
        .await?
        .get(0);
    if !locked {
        return Ok(0);
    }
    let top: i64 = transaction
        .cached_query_one("SELECT coalesce(max(position), 0) FROM stock_events", &[])
        .await?
        .get(0);
    let numbered = transaction
        .cached_execute(
            "WITH batch AS (
                 SELECT id, row_number() OVER (ORDER BY sku_id, location_id, sequence, kind) AS n
                 FROM (SELECT id, sku_id, location_id, sequence, kind FROM stock_events
                       WHERE position IS NULL ORDER BY id LIMIT $1) unnumbered)
             UPDATE stock_events e SET position = $2 + batch.n
             FROM batch WHERE e.id = batch.id",
            &[&limit, &top],
        )
        .await?;
    let range = (top, top + numbered as i64);
    let crossings = chain(&transaction, range, chain_low_stock_below).await?;
    transaction.commit().await?;
    Ok(numbered + crossings)
}

/// Adds the changes numbered in `(from, to]` to the chain's figures per SKU, and writes the
/// chain's crossings as events numbered after `to`; says how many.
async fn chain(
    client: &impl GenericClient,
    (from, to): (i64, i64),
    low_stock_below: i64,
) -> Result<u64> {
    if to == from {
        return Ok(0);
    }
    // Rows first (an upsert would check a negative change as a row of its own).
    client
        .cached_execute(
            "INSERT INTO chain_stock (sku_id, on_hand, allocated, in_transit, available)
             SELECT DISTINCT sku_id, 0, 0, 0, 0 FROM stock_events
             WHERE position > $1 AND position <= $2 AND location_id IS NOT NULL
             ON CONFLICT (sku_id) DO NOTHING",
            &[&from, &to],
        )
        .await?;
    client
        .cached_execute(
            "WITH changes AS (
                 SELECT sku_id,
                        sum(on_hand_after - on_hand_before)::int8 AS on_hand,
                        sum(allocated_after - allocated_before)::int8 AS allocated,
                        sum(in_transit_after - in_transit_before)::int8 AS in_transit,
                        sum(available_after - available_before)::int8 AS available
                 FROM stock_events
                 WHERE position > $1 AND position <= $2 AND kind = 'availability_changed'
                   AND location_id IS NOT NULL
                 GROUP BY sku_id),
             moved AS (
                 UPDATE chain_stock c SET
                     on_hand = c.on_hand + ch.on_hand,
                     allocated = c.allocated + ch.allocated,
                     in_transit = c.in_transit + ch.in_transit,
                     available = c.available + ch.available,
                     version = c.version + 1
                 FROM changes ch WHERE c.sku_id = ch.sku_id
                 -- The change rides along: joining `changes` again was a nested loop over
                 -- both CTEs whenever the planner guessed one row each (1.7 s a round).
                 RETURNING c.sku_id, c.on_hand, c.allocated, c.in_transit, c.available, c.version,
                           ch.on_hand AS d_on_hand, ch.allocated AS d_allocated,
                           ch.in_transit AS d_in_transit, c.available - ch.available AS before),
             crossed AS (
                 SELECT m.*, k.kind
                 FROM moved m
                 CROSS JOIN LATERAL (
                     SELECT 'out_of_stock' AS kind WHERE m.before > 0 AND m.available = 0
                     UNION ALL SELECT 'back_in_stock' WHERE m.before = 0 AND m.available > 0
                     UNION ALL SELECT 'low_stock' WHERE m.before >= $3 AND m.available < $3
                 ) k)
             INSERT INTO stock_events (position, sku_id, location_id, sequence, kind,
                 on_hand_before, allocated_before, in_transit_before, available_before,
                 on_hand_after, allocated_after, in_transit_after, available_after, cause)
             SELECT $2 + row_number() OVER (ORDER BY sku_id, kind), sku_id, NULL, version, kind,
                    on_hand - d_on_hand, allocated - d_allocated, in_transit - d_in_transit, before,
                    on_hand, allocated, in_transit, available, '{\"chain\": true}'::jsonb
             FROM crossed",
            &[&from, &to, &low_stock_below],
        )
        .await
}

/// A (location, SKU)'s figures before or after a change.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Figures {
    pub on_hand: i64,
    pub allocated: i64,
    /// Units in live holds (Redis): given by hold events, absent (null) from the ledger's own.
    pub held: Option<i64>,
    pub in_transit: i64,
    /// On hand − allocated − safety stock (at least 0), before holds; less `held` too where
    /// `held` is given.
    pub available: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    /// Stable: the same event has the same id however often it is delivered.
    pub id: i64,
    /// The global order; a consumer keeps the last one it saw and asks for what follows.
    pub position: i64,
    /// The (location, SKU)'s balance version after the change: per (location, SKU) it only
    /// grows.
    pub sequence: i64,
    /// `availability_changed`, `out_of_stock`, `back_in_stock` or `low_stock` (the location's
    /// `low_stock_below` crossed downwards).
    pub kind: String,
    pub sku: String,
    pub location: String,
    pub before: Figures,
    pub after: Figures,
    /// What changed it: movements and their kinds, an order (and the hold it consumed), an
    /// order or transfer step, a plan; and the actor.
    #[schema(value_type = Object)]
    pub cause: Value,
    pub at: DateTime<Utc>,
}

fn event(row: &Row) -> EventView {
    let figures = |first: usize, held: usize| Figures {
        on_hand: row.get(first),
        allocated: row.get(first + 1),
        held: row.get(held),
        in_transit: row.get(first + 2),
        available: row.get(first + 3),
    };
    EventView {
        id: row.get(0),
        position: row.get(1),
        sequence: row.get(2),
        kind: row.get(3),
        sku: row.get(4),
        location: row.get(5),
        before: figures(6, 16),
        after: figures(10, 17),
        cause: row.get(14),
        at: row.get(15),
    }
}

/// An event as [`event`] reads it (a chain-wide event has no location: `*`).
const EVENT_SELECT: &str = "
    SELECT e.id, e.position, e.sequence, e.kind, s.code, coalesce(l.code, '*'),
           e.on_hand_before, e.allocated_before, e.in_transit_before, e.available_before,
           e.on_hand_after, e.allocated_after, e.in_transit_after, e.available_after,
           e.cause, e.at, e.held_before, e.held_after
    FROM stock_events e
    JOIN skus s ON s.id = e.sku_id
    LEFT JOIN locations l ON l.id = e.location_id";

/// Numbered events after `position`, in order, at most `limit`.
pub async fn after(
    client: &impl GenericClient,
    position: i64,
    limit: i64,
) -> Result<Vec<EventView>> {
    let rows = client
        .cached_query(
            &format!("{EVENT_SELECT} WHERE e.position > $1 ORDER BY e.position LIMIT $2"),
            &[&position, &limit],
        )
        .await?;
    Ok(rows.iter().map(event).collect())
}

/// Numbered events in `(from, to]` of the given kinds (and SKU, location when given), in
/// order, at most `limit`: a webhook's batch.
pub async fn matching(
    client: &impl GenericClient,
    (from, to): (i64, i64),
    (kinds, sku_id, location_id): (&[String], Option<i64>, Option<i64>),
    limit: i64,
) -> Result<Vec<EventView>> {
    let rows = client
        .cached_query(
            &format!(
                "{EVENT_SELECT}
                 WHERE e.position > $1 AND e.position <= $2 AND e.kind = ANY($3)
                   AND ($4::int8 IS NULL OR e.sku_id = $4)
                   AND ($5::int8 IS NULL OR e.location_id = $5)
                 ORDER BY e.position LIMIT $6"
            ),
            &[&from, &to, &kinds, &sku_id, &location_id, &limit],
        )
        .await?;
    Ok(rows.iter().map(event).collect())
}

/// Hands the numbered events after `sink`'s position (at most `limit`) to `deliver`, and moves
/// the position past them once it succeeded; says how many it delivered. The sink's row is
/// locked meanwhile: an instance that finds it locked delivers nothing this round.
pub async fn deliver<E>(
    pool: &Pool,
    sink: &str,
    limit: i64,
    deliver: impl AsyncFnOnce(&[EventView]) -> std::result::Result<(), E>,
) -> Result<std::result::Result<usize, E>> {
    let mut client = pool.get().await?;
    let transaction = client.transaction().await?;
    transaction
        .cached_execute(
            "INSERT INTO event_sinks (name) VALUES ($1) ON CONFLICT DO NOTHING",
            &[&sink],
        )
        .await?;
    let row = transaction
        .cached_query_opt(
            "SELECT position FROM event_sinks WHERE name = $1 FOR UPDATE SKIP LOCKED",
            &[&sink],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Ok(0));
    };
    let events = after(&transaction, row.get(0), limit).await?;
    let Some(last) = events.last().map(|event| event.position) else {
        return Ok(Ok(0));
    };
    if let Err(error) = deliver(&events).await {
        return Ok(Err(error));
    }
    transaction
        .cached_execute(
            "UPDATE event_sinks SET position = $2 WHERE name = $1",
            &[&sink, &last],
        )
        .await?;
    transaction.commit().await?;
    Ok(Ok(events.len()))
}

/// One (location, SKU)'s figures in an export, with the sequence its events continue from.
#[derive(Debug, Clone, Serialize)]
pub struct ExportRow {
    pub sku: String,
    pub location: String,
    #[serde(flatten)]
    pub figures: Figures,
    /// Events of this (location, SKU) with a higher sequence came after this row.
    pub sequence: i64,
}

/// Every balance, read in one snapshot with the highest position numbered in it: every event
/// up to that position is reflected in the rows, and a later event of a row has a higher
/// sequence than the row. The connection leaves the pool and closes with the stream, so an
/// export cut short leaves no open transaction behind.
pub async fn export(
    pool: &Pool,
) -> Result<(i64, impl futures_util::Stream<Item = Result<ExportRow>>)> {
    use futures_util::StreamExt;
    let client = deadpool_postgres::Object::take(pool.get().await?);
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    let position: i64 = client
        .query_one("SELECT coalesce(max(position), 0) FROM stock_events", &[])
        .await?
        .get(0);
    let rows = client
        .query_raw(
            "SELECT s.code, l.code, b.on_hand, b.allocated, b.in_transit,
                    greatest(b.on_hand - b.allocated - l.safety_stock, 0), b.version
             FROM balances b
             JOIN skus s ON s.id = b.sku_id
             JOIN locations l ON l.id = b.location_id
             ORDER BY b.sku_id, b.location_id",
            std::iter::empty::<i64>(),
        )
        .await?;
    let stream =
        futures_util::stream::unfold((client, Box::pin(rows)), |(client, mut rows)| async {
            let row = rows.next().await?;
            Some((
                row.map(|row| export_row(&row)).map_err(Into::into),
                (client, rows),
            ))
        });
    Ok((position, stream))
}

fn export_row(row: &Row) -> ExportRow {
    ExportRow {
        sku: row.get(0),
        location: row.get(1),
        figures: Figures {
            on_hand: row.get(2),
            allocated: row.get(3),
            held: None,
            in_transit: row.get(4),
            available: row.get(5),
        },
        sequence: row.get(6),
    }
}

/// Deletes the oldest numbered events recorded before `before` (at most `limit`), but none a
/// sink in `sinks` has not delivered yet; says how many.
pub async fn purge(
    client: &impl GenericClient,
    before: DateTime<Utc>,
    sinks: &[&str],
    limit: i64,
) -> Result<u64> {
    client
        .cached_execute(
            "DELETE FROM stock_events WHERE position IN (
                 SELECT position FROM stock_events
                 WHERE position IS NOT NULL AND at < $1
                   AND position <= coalesce(
                       (SELECT min(coalesce(s.position, 0)) FROM unnest($2::text[]) AS n(name)
                        LEFT JOIN event_sinks s ON s.name = n.name),
                       'infinity'::numeric)
                   -- and every enabled webhook has
                   AND position <= coalesce(
                       (SELECT min(w.position) FROM webhooks w WHERE w.status = 'enabled'),
                       'infinity'::numeric)
                 ORDER BY position LIMIT $3)",
            &[&before, &sinks, &limit],
        )
        .await
}
