//! The stock events the balances trigger writes (sql/V8), numbered for consumers.

use super::{Cached, Result};
use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool};
use serde::Serialize;
use serde_json::Value;
use tokio_postgres::Row;

/// The advisory lock under which one relay at a time numbers events.
const NUMBERING_LOCK: i64 = 7_261_017;

/// Numbers committed events that have no position yet (at most `limit`), after the highest
/// position given so far, in (SKU, location, sequence) order; says how many. Another relay
/// numbering at the moment: nothing, this round.
pub async fn number(pool: &Pool, limit: i64) -> Result<u64> {
    let mut client = pool.get().await?;
    let transaction = client.transaction().await?;
    let locked: bool = transaction
        .cached_query_one("SELECT pg_try_advisory_xact_lock($1)", &[&NUMBERING_LOCK])
        .await?
        .get(0);
    if !locked {
        return Ok(0);
    }
    let numbered = transaction
        .cached_execute(
            "WITH top AS (SELECT coalesce(max(position), 0) AS position FROM stock_events),
                  batch AS (
                      SELECT id, row_number() OVER (ORDER BY sku_id, location_id, sequence, kind) AS n
                      FROM (SELECT id, sku_id, location_id, sequence, kind FROM stock_events
                            WHERE position IS NULL
                            ORDER BY sku_id, location_id, sequence, kind LIMIT $1) unnumbered)
             UPDATE stock_events e SET position = top.position + batch.n
             FROM batch, top WHERE e.id = batch.id",
            &[&limit],
        )
        .await?;
    transaction.commit().await?;
    Ok(numbered)
}

/// A (location, SKU)'s figures before or after a change.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Figures {
    pub on_hand: i64,
    pub allocated: i64,
    pub in_transit: i64,
    /// On hand − allocated − safety stock (at least 0), before holds.
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
    let figures = |first: usize| Figures {
        on_hand: row.get(first),
        allocated: row.get(first + 1),
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
        before: figures(6),
        after: figures(10),
        cause: row.get(14),
        at: row.get(15),
    }
}

/// Numbered events after `position`, in order, at most `limit`.
pub async fn after(
    client: &impl GenericClient,
    position: i64,
    limit: i64,
) -> Result<Vec<EventView>> {
    let rows = client
        .cached_query(
            "SELECT e.id, e.position, e.sequence, e.kind, s.code, l.code,
                    e.on_hand_before, e.allocated_before, e.in_transit_before, e.available_before,
                    e.on_hand_after, e.allocated_after, e.in_transit_after, e.available_after,
                    e.cause, e.at
             FROM stock_events e
             JOIN skus s ON s.id = e.sku_id
             JOIN locations l ON l.id = e.location_id
             WHERE e.position > $1 ORDER BY e.position LIMIT $2",
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
            "SELECT e.id, e.position, e.sequence, e.kind, s.code, l.code,
                    e.on_hand_before, e.allocated_before, e.in_transit_before, e.available_before,
                    e.on_hand_after, e.allocated_after, e.in_transit_after, e.available_after,
                    e.cause, e.at
             FROM stock_events e
             JOIN skus s ON s.id = e.sku_id
             JOIN locations l ON l.id = e.location_id
             WHERE e.position > $1 AND e.position <= $2 AND e.kind = ANY($3)
               AND ($4::int8 IS NULL OR e.sku_id = $4)
               AND ($5::int8 IS NULL OR e.location_id = $5)
             ORDER BY e.position LIMIT $6",
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
