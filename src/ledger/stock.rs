//! Reading stock: balances now, balances as of a past instant (folded from the ledger), the
//! audit trail and the discrepancies.

use super::{Cached, Error, Result};
use crate::domain::ledger::Balance;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;

/// A SKU and its balance at every location with a non-zero figure.
#[derive(Debug, Clone)]
pub struct SkuFigures {
    pub name: String,
    /// (location id, balance)
    pub balances: Vec<(i64, Balance)>,
}

/// The SKU's figures now, or as the ledger stood at `as_of` (movements that occurred up to and
/// including that instant), in one statement; `None` for an unknown SKU. A past instant adds
/// the retained months to the newest checkpoint; one before it (a detached month) is refused.
pub async fn sku_figures(
    client: &impl GenericClient,
    sku: &str,
    as_of: Option<DateTime<Utc>>,
) -> Result<Option<SkuFigures>> {
    let rows = match as_of {
        None => {
            client
                .cached_query(
                    "SELECT s.name, b.location_id, b.on_hand, b.allocated, b.in_transit
                     FROM skus s LEFT JOIN balances b ON b.sku_id = s.id
                       AND (b.on_hand <> 0 OR b.allocated <> 0 OR b.in_transit <> 0)
                     WHERE s.code = $1",
                    &[&sku],
                )
                .await?
        }
        Some(instant) => {
            let rows = client
                .cached_query(SKU_FIGURES_AS_OF, &[&sku, &instant])
                .await?;
            let horizon = rows
                .first()
                .and_then(|row| row.get::<_, Option<DateTime<Utc>>>(5));
            if let Some(horizon) = horizon.filter(|horizon| instant < *horizon) {
                return Err(Error::Refused {
                    field: "as_of".into(),
                    message: format!(
                        "the ledger starts at {}: the months before it were detached \
                         (archived); ask for an instant from then on",
                        horizon.to_rfc3339()
                    ),
                });
            }
            rows
        }
    };
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(SkuFigures {
        name: first.get(0),
        balances: rows
            .iter()
            .filter_map(|row| Some((row.get::<_, Option<i64>>(1)?, balance_at(row, 2))))
            .collect(),
    }))
}

/// A SKU's figures at `$2`: its checkpoint at the ledger's start (the horizon, the newest
/// detachment) plus the movements since, up to `$2`; the horizon comes along, so an instant
/// before it is refused by the caller (nothing is summed then).
const SKU_FIGURES_AS_OF: &str = "
    SELECT s.name, f.location_id, f.on_hand, f.allocated, f.in_transit, h.horizon
    FROM skus s
    CROSS JOIN (SELECT max(through) AS horizon FROM movement_detachments) h
    LEFT JOIN LATERAL (
        SELECT location_id, sum(on_hand)::int8 AS on_hand, sum(allocated)::int8 AS allocated,
               sum(in_transit)::int8 AS in_transit
        FROM (SELECT c.location_id, c.on_hand, c.allocated, c.in_transit
              FROM movement_checkpoints c WHERE c.sku_id = s.id AND c.through = h.horizon
              UNION ALL
              SELECT m.location_id, m.on_hand_delta, m.allocated_delta, m.in_transit_delta
              FROM movements m WHERE m.sku_id = s.id AND m.occurred_at <= $2) figures
        GROUP BY location_id
        HAVING sum(on_hand) <> 0 OR sum(allocated) <> 0 OR sum(in_transit) <> 0) f
      ON h.horizon IS NULL OR $2 >= h.horizon
    WHERE s.code = $1";

fn balance_at(row: &tokio_postgres::Row, offset: usize) -> Balance {
    Balance {
        on_hand: row.get(offset),
        allocated: row.get(offset + 1),
        in_transit: row.get(offset + 2),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SkuBalance {
    pub sku: String,
    pub name: String,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub balance: Balance,
}

/// One page of a location's stock, ordered by SKU code, after the SKU code `after`.
pub async fn by_location(
    client: &impl GenericClient,
    location_id: i64,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<SkuBalance>> {
    let rows = client
        .cached_query(
            "SELECT s.code, s.name, b.on_hand, b.allocated, b.in_transit
             FROM balances b JOIN skus s ON s.id = b.sku_id
             WHERE b.location_id = $1 AND ($2::text IS NULL OR s.code > $2)
               AND (b.on_hand <> 0 OR b.allocated <> 0 OR b.in_transit <> 0)
             ORDER BY s.code LIMIT $3",
            &[&location_id, &after, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| SkuBalance {
            sku: row.get(0),
            name: row.get(1),
            balance: balance_at(row, 2),
        })
        .collect())
}

#[derive(Debug, Default)]
pub struct MovementFilter {
    pub location_id: Option<i64>,
    pub sku_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub after: Option<i64>,
    pub limit: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MovementRow {
    pub id: i64,
    pub location: String,
    pub sku: String,
    pub kind: String,
    pub qty: i64,
    pub on_hand_delta: i64,
    pub allocated_delta: i64,
    pub in_transit_delta: i64,
    pub reason: Option<String>,
    pub request_id: uuid::Uuid,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it: `key:<id>`, `user:<name>`, `system:<job>`.
    pub actor: String,
}

/// The audit trail's rows matching `condition`, in id order, at most `$limit` of them.
fn movements_sql(condition: &str, limit: &str) -> String {
    format!(
        "SELECT m.id, l.code, s.code, m.kind, m.qty, m.on_hand_delta, m.allocated_delta,
                m.in_transit_delta, m.reason, m.request_id, m.occurred_at, m.recorded_at,
                m.actor
         FROM movements m
         JOIN locations l ON l.id = m.location_id
         JOIN skus s ON s.id = m.sku_id
         WHERE {condition} ORDER BY m.id LIMIT {limit}"
    )
}

/// One page of the whole audit trail after the id `$1`: a keyset read of `movements_by_id`
/// (the page first, then its codes), never a sort of the ledger.
pub const MOVEMENTS_PAGE: &str = "
    SELECT m.id, (SELECT l.code FROM locations l WHERE l.id = m.location_id),
           (SELECT s.code FROM skus s WHERE s.id = m.sku_id), m.kind, m.qty, m.on_hand_delta,
           m.allocated_delta, m.in_transit_delta, m.reason, m.request_id, m.occurred_at,
           m.recorded_at, m.actor
    FROM (SELECT * FROM movements WHERE id > $1 ORDER BY id LIMIT $2) m
    ORDER BY m.id";

/// The audit trail in ledger order (ids ascending), one page after the id `after`.
pub async fn movements(
    client: &impl GenericClient,
    filter: &MovementFilter,
) -> Result<Vec<MovementRow>> {
    let unfiltered = filter.location_id.is_none()
        && filter.sku_id.is_none()
        && filter.from.is_none()
        && filter.to.is_none();
    let rows = if unfiltered {
        let after = filter.after.unwrap_or(0);
        client
            .cached_query(MOVEMENTS_PAGE, &[&after, &filter.limit])
            .await?
    } else {
        client
            .cached_query(
                &movements_sql(
                    "($1::int8 IS NULL OR m.location_id = $1)
                     AND ($2::int8 IS NULL OR m.sku_id = $2)
                     AND ($3::timestamptz IS NULL OR m.occurred_at >= $3)
                     AND ($4::timestamptz IS NULL OR m.occurred_at < $4)
                     AND ($5::int8 IS NULL OR m.id > $5)",
                    "$6",
                ),
                &[
                    &filter.location_id,
                    &filter.sku_id,
                    &filter.from,
                    &filter.to,
                    &filter.after,
                    &filter.limit,
                ],
            )
            .await?
    };
    Ok(rows.iter().map(movement_row).collect())
}

fn movement_row(row: &tokio_postgres::Row) -> MovementRow {
    MovementRow {
        id: row.get(0),
        location: row.get(1),
        sku: row.get(2),
        kind: row.get(3),
        qty: row.get(4),
        on_hand_delta: row.get(5),
        allocated_delta: row.get(6),
        in_transit_delta: row.get(7),
        reason: row.get(8),
        request_id: row.get(9),
        occurred_at: row.get(10),
        recorded_at: row.get(11),
        actor: row.get(12),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DiscrepancyRow {
    pub id: i64,
    pub location: String,
    pub sku: String,
    pub kind: String,
    pub movement_id: i64,
    pub on_hand_before: i64,
    pub on_hand_after: i64,
    pub allocated: i64,
    pub shortfall: i64,
    pub created_at: DateTime<Utc>,
}

pub async fn discrepancies(
    client: &impl GenericClient,
    location_id: Option<i64>,
    sku_id: Option<i64>,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<DiscrepancyRow>> {
    let rows = client
        .cached_query(
            "SELECT d.id, l.code, s.code, d.kind, d.movement_id, d.on_hand_before,
                    d.on_hand_after, d.allocated, d.shortfall, d.created_at
             FROM discrepancies d
             JOIN locations l ON l.id = d.location_id
             JOIN skus s ON s.id = d.sku_id
             WHERE ($1::int8 IS NULL OR d.location_id = $1)
               AND ($2::int8 IS NULL OR d.sku_id = $2)
               AND ($3::int8 IS NULL OR d.id > $3)
             ORDER BY d.id LIMIT $4",
            &[&location_id, &sku_id, &after, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| DiscrepancyRow {
            id: row.get(0),
            location: row.get(1),
            sku: row.get(2),
            kind: row.get(3),
            movement_id: row.get(4),
            on_hand_before: row.get(5),
            on_hand_after: row.get(6),
            allocated: row.get(7),
            shortfall: row.get(8),
            created_at: row.get(9),
        })
        .collect())
}

/// Ids for codes used as filters; `None` in, `None` out; an unknown code is `Some(None)`.
pub async fn id_of(
    client: &impl GenericClient,
    table: IdTable,
    code: Option<&str>,
) -> Result<Option<Option<i64>>> {
    let Some(code) = code else { return Ok(None) };
    let sql = match table {
        IdTable::Locations => "SELECT id FROM locations WHERE code = $1",
        IdTable::Skus => "SELECT id FROM skus WHERE code = $1",
    };
    Ok(Some(
        client
            .cached_query_opt(sql, &[&code])
            .await?
            .map(|row| row.get(0)),
    ))
}

#[derive(Debug, Clone, Copy)]
pub enum IdTable {
    Locations,
    Skus,
}

/// The ledger's own audit: (SKU, location) pairs whose stored balance differs from the fold of
/// their movements (from the newest checkpoint on), or that hold a negative figure. Empty on a
/// healthy ledger.
pub async fn invariant_violations(client: &impl GenericClient) -> Result<Vec<String>> {
    let rows = client
        .cached_query(
            "WITH folded AS (
                 SELECT sku_id, location_id, sum(on_hand) AS on_hand,
                        sum(allocated) AS allocated, sum(in_transit) AS in_transit
                 FROM (SELECT c.sku_id, c.location_id, c.on_hand, c.allocated, c.in_transit
                       FROM movement_checkpoints c
                       WHERE c.through = (SELECT max(through) FROM movement_detachments)
                       UNION ALL
                       SELECT sku_id, location_id, on_hand_delta, allocated_delta, in_transit_delta
                       FROM movements) figures
                 GROUP BY sku_id, location_id)
             SELECT format('sku %s at location %s: stored (%s, %s, %s) vs ledger (%s, %s, %s)',
                           coalesce(b.sku_id, f.sku_id), coalesce(b.location_id, f.location_id),
                           b.on_hand, b.allocated, b.in_transit, f.on_hand, f.allocated, f.in_transit)
             FROM balances b FULL JOIN folded f USING (sku_id, location_id)
             WHERE coalesce(b.on_hand, 0) <> coalesce(f.on_hand, 0)
                OR coalesce(b.allocated, 0) <> coalesce(f.allocated, 0)
                OR coalesce(b.in_transit, 0) <> coalesce(f.in_transit, 0)
                OR f.on_hand < 0 OR f.allocated < 0 OR f.in_transit < 0",
            &[],
        )
        .await?;
    let mut violations: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
    violations.extend(unowned_allocations(client).await?);
    Ok(violations)
}

/// Pairs whose allocated units differ from what open commitments account for: units an order
/// line still owes at its source (or, arrived by transfer, at its pickup store) and units of
/// planned transfers at their source. Every allocated unit has an owner.
async fn unowned_allocations(client: &impl GenericClient) -> Result<Vec<String>> {
    let rows = client
        .cached_query(
            "WITH owed AS (
                 SELECT ol.source_location_id AS location_id, ol.sku_id,
                        ol.qty - ol.fulfilled - ol.cancelled AS units
                 FROM order_lines ol WHERE ol.route <> 'transfer'
                 UNION ALL
                 SELECT o.pickup_location_id, ol.sku_id,
                        greatest(t.received - ol.fulfilled - ol.cancelled, 0)
                 FROM order_lines ol
                 JOIN orders o ON o.id = ol.order_id
                 JOIN transfers t ON t.id = ol.transfer_id
                 WHERE ol.route = 'transfer' AND t.status = 'received'
                 UNION ALL
                 SELECT from_location_id, sku_id, qty FROM transfers WHERE status = 'planned'),
             owned AS (SELECT sku_id, location_id, sum(units) AS units FROM owed
                       GROUP BY sku_id, location_id)
             SELECT format('sku %s at location %s: %s allocated, %s owned by open orders and transfers',
                           coalesce(b.sku_id, o.sku_id), coalesce(b.location_id, o.location_id),
                           coalesce(b.allocated, 0), coalesce(o.units, 0))
             FROM balances b FULL JOIN owned o USING (sku_id, location_id)
             WHERE coalesce(b.allocated, 0) <> coalesce(o.units, 0)",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// What Redis needs to check holds against one (SKU, location): the units the ledger has not
/// promised (on hand − allocated − safety stock, may be negative) and the balance's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    Known { base: i64, version: i64 },
    UnknownSku,
    UnknownLocation,
}

/// One statement per pair, pipelined on the one connection: scalar parameters let PostgreSQL
/// keep a generic plan (an array of pairs made it plan every call, which cost more than the
/// query, and holds call this whenever Redis lacks a base).
pub async fn bases(client: &impl GenericClient, pairs: &[(&str, &str)]) -> Result<Vec<Base>> {
    let rows = futures_util::future::try_join_all(pairs.iter().map(|(sku, location)| async move {
        client
            .cached_query_one(
                "SELECT s.id IS NOT NULL, l.id IS NOT NULL,
                    coalesce(b.on_hand, 0) - coalesce(b.allocated, 0) - coalesce(l.safety_stock, 0),
                    coalesce(b.version, 0)
             FROM (SELECT) AS one
             LEFT JOIN skus s ON s.code = $1
             LEFT JOIN locations l ON l.code = $2
             LEFT JOIN balances b ON b.sku_id = s.id AND b.location_id = l.id",
                &[sku, location],
            )
            .await
    }))
    .await?;
    Ok(rows
        .iter()
        .map(|row| match (row.get(0), row.get(1)) {
            (false, _) => Base::UnknownSku,
            (_, false) => Base::UnknownLocation,
            _ => Base::Known {
                base: row.get(2),
                version: row.get(3),
            },
        })
        .collect())
}
