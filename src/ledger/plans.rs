//! Planning runs in PostgreSQL: the run record, the demand signal read next to the movements,
//! plan lines saved chunk by chunk, and the commit that turns lines into transfers batch by
//! batch. Every step is one transaction, so a killed run resumes without repeating one.

use super::movements::TouchedBalance;
use super::transfers::{create_in, NewTransfer, Reason};
use super::{Cached, Error, Result};
use crate::domain::access::Actor;
use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::costs::CostVersion;
use crate::domain::plan::PlanStatus;
use crate::domain::plan::{
    ChunkCounts, Demand, Kind, NewLine, SkipReason, SkuRow, Spread, StockRow,
};
use crate::domain::quantity::Qty;
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::{GenericClient, Pool};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// A session-level advisory lock on one (kind, night), held by the connection that runs the
/// job; a killed job's connection closes and releases it.
pub async fn try_lock(client: &impl GenericClient, kind: Kind, date: NaiveDate) -> Result<bool> {
    Ok(client
        .cached_query_one(
            "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
            &[&lock_key(kind, date)],
        )
        .await?
        .get(0))
}

pub async fn unlock(client: &impl GenericClient, kind: Kind, date: NaiveDate) -> Result<()> {
    client
        .cached_query_one(
            "SELECT pg_advisory_unlock(hashtextextended($1, 0))",
            &[&lock_key(kind, date)],
        )
        .await?;
    Ok(())
}

fn lock_key(kind: Kind, date: NaiveDate) -> String {
    format!("allot:plan:{}:{date}", kind.as_str())
}

/// Where a run for (kind, night) starts, decided under the advisory lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// A plan was committed for this night already: nothing to do.
    Committed(i64),
    /// A commit was interrupted: finish it.
    Committing(i64),
    /// Plan SKUs after `cursor` (zero for a new plan, more when resuming).
    Compute { id: i64, cursor: i64, resumed: bool },
}

/// Finds this night's plan for `kind`, or creates one.
pub async fn open(
    client: &impl GenericClient,
    kind: Kind,
    date: NaiveDate,
    commit: bool,
    params: &Value,
    actor: &Actor,
) -> Result<Start> {
    // Who asked for the commit is who commits; a dry run names nobody yet.
    let committer = commit.then(|| actor.to_string());
    // Every plan of the night but its proposals (a dry run's plan is never resumed).
    let unfinished_or_committed = texts(&[
        PlanStatus::Running,
        PlanStatus::Committing,
        PlanStatus::Committed,
    ]);
    let existing = client
        .cached_query(
            "SELECT id, status, cursor_sku_id FROM plans
             WHERE kind = $1 AND run_date = $2 AND status = ANY($3)
             ORDER BY id",
            &[&kind.as_str(), &date, &unfinished_or_committed],
        )
        .await?;
    for row in &existing {
        let id: i64 = row.get("id");
        match status(row) {
            PlanStatus::Committed => return Ok(Start::Committed(id)),
            PlanStatus::Committing => return Ok(Start::Committing(id)),
            PlanStatus::Running | PlanStatus::Proposed => {}
        }
    }
    if let Some(row) = existing.first() {
        let id: i64 = row.get("id");
        // The resumed run keeps its parameters; only whether it commits follows the new ask.
        client
            .cached_execute(
                "UPDATE plans SET commit_requested = commit_requested OR $2,
                                  committed_by = coalesce(committed_by, $3)
                 WHERE id = $1",
                &[&id, &commit, &committer],
            )
            .await?;
        return Ok(Start::Compute {
            id,
            cursor: row.get("cursor_sku_id"),
            resumed: true,
        });
    }
    let row = client
        .cached_query_one(
            "INSERT INTO plans (kind, run_date, commit_requested, params, committed_by, cost_version)
             VALUES ($1, $2, $3, $4, $5, (SELECT max(version) FROM cost_models)) RETURNING id",
            &[&kind.as_str(), &date, &commit, params, &committer],
        )
        .await?;
    Ok(Start::Compute {
        id: row.get("id"),
        cursor: 0,
        resumed: false,
    })
}

/// A plan row's `status`, which the table's CHECK keeps to the statuses [`PlanStatus`] knows.
fn status(row: &tokio_postgres::Row) -> PlanStatus {
    let raw: &str = row.get("status");
    PlanStatus::parse(raw).expect("database CHECK keeps plan statuses known")
}

/// Statuses as the `text[]` a query compares `status` with.
fn texts(statuses: &[PlanStatus]) -> Vec<&'static str> {
    statuses.iter().map(|status| status.as_str()).collect()
}

/// The parameters a plan was started with (a resumed run plans with these).
pub async fn params(client: &impl GenericClient, id: i64) -> Result<Value> {
    Ok(client
        .cached_query_one("SELECT params FROM plans WHERE id = $1", &[&id])
        .await?
        .get(0))
}

#[derive(Debug, Clone)]
pub struct Store {
    pub id: i64,
    pub code: String,
    pub latitude: f64,
    pub longitude: f64,
}

pub async fn stores(client: &impl GenericClient) -> Result<Vec<Store>> {
    let rows = client
        .cached_query(
            "SELECT id, code, latitude, longitude FROM locations WHERE kind = 'store' ORDER BY id",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| Store {
            id: row.get(0),
            code: row.get(1),
            latitude: row.get(2),
            longitude: row.get(3),
        })
        .collect())
}

/// The warehouse that ships: the one named, or the chain's only one.
pub async fn warehouse(client: &impl GenericClient, code: Option<&str>) -> Result<Store> {
    let rows = client
        .cached_query(
            "SELECT id, code, latitude, longitude FROM locations
             WHERE kind = 'warehouse' AND ($1::text IS NULL OR code = $1) ORDER BY code LIMIT 2",
            &[&code],
        )
        .await?;
    match (rows.as_slice(), code) {
        ([row], _) => Ok(Store {
            id: row.get(0),
            code: row.get(1),
            latitude: row.get(2),
            longitude: row.get(3),
        }),
        ([], Some(code)) => Err(Error::UnknownLocation {
            field: "warehouse".into(),
            code: code.into(),
        }),
        ([], None) => Err(Error::Refused {
            field: "warehouse".into(),
            message: "the chain has no warehouse".into(),
        }),
        _ => Err(Error::Refused {
            field: "warehouse".into(),
            message: "the chain has several warehouses; name one".into(),
        }),
    }
}

/// The next `limit` SKUs after `after`, in id order.
pub async fn next_skus(client: &impl GenericClient, after: i64, limit: i64) -> Result<Vec<SkuRow>> {
    let rows = client
        .cached_query(
            "SELECT id, code, CASE WHEN jsonb_typeof(attributes -> 'margin') = 'number'
                                   THEN (attributes ->> 'margin')::float8 END
             FROM skus WHERE id > $1 ORDER BY id LIMIT $2",
            &[&after, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| SkuRow {
            id: row.get(0),
            code: row.get(1),
            margin: row.get(2),
        })
        .collect())
}

pub async fn sku_count(client: &impl GenericClient, after: i64) -> Result<i64> {
    Ok(client
        .cached_query_one("SELECT count(*) FROM skus WHERE id > $1", &[&after])
        .await?
        .get(0))
}

/// Weighted POS sales per (SKU, location) in the window ending at `$2`: a sale `a` whole days
/// old weighs 0.5^(a / half-life). Reads only the window's movements, by (sku_id, occurred_at).
const SALES: &str = "
    sales AS (
        SELECT m.sku_id, m.location_id,
               sum(m.qty * power(0.5::float8,
                   floor(extract(epoch FROM ($2 - m.occurred_at)) / 86400)::float8 / $4::float8))
                   AS weighted
        FROM movements m
        WHERE m.sku_id = ANY($1) AND m.kind = 'sale'
          AND m.occurred_at > $2 - make_interval(days => $3) AND m.occurred_at <= $2
        GROUP BY m.sku_id, m.location_id),
    inbound AS (
        SELECT sku_id, to_location_id AS location_id, sum(qty)::int8 AS qty
        FROM transfers WHERE status = 'planned' AND sku_id = ANY($1)
        GROUP BY sku_id, to_location_id)";

fn stock_row(row: &tokio_postgres::Row) -> StockRow {
    StockRow {
        sku_id: row.get(0),
        location_id: row.get(1),
        on_hand: row.get(2),
        allocated: row.get(3),
        in_transit: row.get(4),
        safety_stock: row.get(5),
        weighted_sales: row.get(6),
    }
}

/// Every store's balance and sales of the given SKUs, ordered by SKU. Units of planned
/// transfers towards a store count as in transit to it: they are already on their way in the
/// plan, and counting them keeps one run from covering what another already covered.
pub async fn store_stock(
    client: &impl GenericClient,
    sku_ids: &[i64],
    as_of: DateTime<Utc>,
    demand: Demand,
) -> Result<Vec<StockRow>> {
    let rows = client
        .cached_query(
            &format!(
                "WITH {SALES}
                 SELECT b.sku_id, b.location_id, b.on_hand, b.allocated,
                        b.in_transit + coalesce(i.qty, 0), l.safety_stock, coalesce(s.weighted, 0)
                 FROM balances b
                 JOIN locations l ON l.id = b.location_id AND l.kind = 'store'
                 LEFT JOIN sales s ON s.sku_id = b.sku_id AND s.location_id = b.location_id
                 LEFT JOIN inbound i ON i.sku_id = b.sku_id AND i.location_id = b.location_id
                 WHERE b.sku_id = ANY($1)
                 ORDER BY b.sku_id, b.location_id"
            ),
            &[
                &sku_ids,
                &as_of,
                &(demand.window_days as i32),
                &demand.half_life_days,
            ],
        )
        .await?;
    Ok(rows.iter().map(stock_row).collect())
}

/// The warehouse's balances of the given SKUs (its free units are what it can send).
pub async fn location_stock(
    client: &impl GenericClient,
    location_id: i64,
    sku_ids: &[i64],
) -> Result<Vec<StockRow>> {
    let rows = client
        .cached_query(
            "SELECT b.sku_id, b.location_id, b.on_hand, b.allocated, b.in_transit,
                    l.safety_stock, 0::float8
             FROM balances b JOIN locations l ON l.id = b.location_id
             WHERE b.location_id = $1 AND b.sku_id = ANY($2)
             ORDER BY b.sku_id",
            &[&location_id, &sku_ids],
        )
        .await?;
    Ok(rows.iter().map(stock_row).collect())
}

/// Saves one chunk's lines and skipped SKUs and moves the cursor from `from` to `to`, in one
/// transaction; refuses when the cursor is no longer at `from` (the chunk was saved already).
pub async fn save_chunk(
    pool: &Pool,
    id: i64,
    cursor: (i64, i64),
    lines: &[NewLine],
    skipped: &[(i64, SkipReason)],
    counts: ChunkCounts,
) -> Result<()> {
    let mut client = pool.get().await?;
    let transaction = client.transaction().await?;
    save_in(&transaction, id, cursor, lines, skipped, counts).await?;
    transaction.commit().await?;
    Ok(())
}

async fn save_in(
    transaction: &impl GenericClient,
    id: i64,
    cursor: (i64, i64),
    lines: &[NewLine],
    skipped: &[(i64, SkipReason)],
    counts: ChunkCounts,
) -> Result<()> {
    let moved = transaction
        .cached_execute(
            "UPDATE plans SET cursor_sku_id = $3, skus_considered = skus_considered + $4,
                 greedy_net = greedy_net + $5, greedy_transfers = greedy_transfers + $6,
                 solver_fallbacks = solver_fallbacks + $7
             WHERE id = $1 AND cursor_sku_id = $2 AND status = $8",
            &[
                &id,
                &cursor.0,
                &cursor.1,
                &counts.skus,
                &counts.greedy_net,
                &counts.greedy_transfers,
                &counts.solver_fallbacks,
                &PlanStatus::Running.as_str(),
            ],
        )
        .await?;
    if moved != 1 {
        return Err(Error::Conflict(format!(
            "plan {id} is no longer planning from SKU id {}; another run moved it on",
            cursor.0
        )));
    }
    insert_lines(transaction, id, lines).await?;
    let (sku_ids, reasons): (Vec<i64>, Vec<&str>) = skipped
        .iter()
        .map(|(sku, reason)| (*sku, reason.as_str()))
        .unzip();
    transaction
        .cached_execute(
            "INSERT INTO plan_skipped (plan_id, sku_id, reason)
             SELECT $1, * FROM unnest($2::int8[], $3::text[])",
            &[&id, &sku_ids, &reasons],
        )
        .await?;
    Ok(())
}

async fn insert_lines(client: &impl GenericClient, id: i64, lines: &[NewLine]) -> Result<()> {
    let column = |f: fn(&NewLine) -> i64| lines.iter().map(f).collect::<Vec<i64>>();
    let real = |f: fn(&NewLine) -> f64| lines.iter().map(f).collect::<Vec<f64>>();
    client
        .cached_execute(
            "INSERT INTO plan_lines (plan_id, sku_id, from_location_id, to_location_id, qty,
                 from_position, to_position, distance_km, lead_time_hours, gain, cost,
                 to_demand_per_day)
             SELECT $1, * FROM unnest($2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[],
                 $7::int8[], $8::float8[], $9::float8[], $10::float8[], $11::float8[],
                 $12::float8[])",
            &[
                &id,
                &column(|l| l.sku_id),
                &column(|l| l.from_id),
                &column(|l| l.to_id),
                &column(|l| l.qty),
                &column(|l| l.from_position),
                &column(|l| l.to_position),
                &real(|l| l.distance_km),
                &real(|l| l.lead_time_hours),
                &real(|l| l.gain),
                &real(|l| l.cost),
                &real(|l| l.to_demand_per_day),
            ],
        )
        .await?;
    Ok(())
}

/// Saves a plan computed in one piece (the replenishment) and ends its computation, in one
/// transaction: a run killed before it left nothing, so its resumption starts from scratch.
pub async fn save_whole(
    pool: &Pool,
    id: i64,
    lines: &[NewLine],
    skipped: &[(i64, SkipReason)],
    counts: ChunkCounts,
) -> Result<PlanStatus> {
    let mut client = pool.get().await?;
    let transaction = client.transaction().await?;
    save_in(&transaction, id, (0, 0), lines, skipped, counts).await?;
    let status = finish_compute(&transaction, id).await?;
    transaction.commit().await?;
    Ok(status)
}

/// Ends the computation: a dry run is `proposed`, a committing run goes on to its transfers.
pub async fn finish_compute(client: &impl GenericClient, id: i64) -> Result<PlanStatus> {
    let row = client
        .cached_query_one(
            "UPDATE plans SET status = CASE WHEN commit_requested THEN $2 ELSE $3 END,
                              finished_at = now()
             WHERE id = $1 AND status = $4 RETURNING status",
            &[
                &id,
                &PlanStatus::Committing.as_str(),
                &PlanStatus::Proposed.as_str(),
                &PlanStatus::Running.as_str(),
            ],
        )
        .await?;
    Ok(status(&row))
}

/// A proposed plan starts committing; only one plan per (kind, night) may.
pub async fn start_commit(client: &impl GenericClient, id: i64, actor: &Actor) -> Result<()> {
    let row = client
        .cached_query_opt(
            "SELECT p.status, (SELECT q.id FROM plans q
                               WHERE q.kind = p.kind AND q.run_date = p.run_date AND q.id <> p.id
                                 AND q.status = ANY($2)) AS other
             FROM plans p WHERE p.id = $1",
            &[&id, &texts(&PlanStatus::COMMITTING_OR_COMMITTED)],
        )
        .await?
        .ok_or_else(|| Error::NotFound(format!("no plan {id}")))?;
    let other: Option<i64> = row.get("other");
    if let Some(other) = other {
        return Err(Error::Conflict(format!(
            "plan {other} is already committed for this night; plan {id} stays a proposal"
        )));
    }
    match status(&row) {
        PlanStatus::Proposed => {
            client
                .cached_execute(
                    "UPDATE plans SET status = $2, commit_requested = true,
                                      committed_by = coalesce(committed_by, $3)
                     WHERE id = $1",
                    &[&id, &PlanStatus::Committing.as_str(), &actor.to_string()],
                )
                .await?;
            Ok(())
        }
        PlanStatus::Committing | PlanStatus::Committed => Ok(()),
        PlanStatus::Running => Err(Error::Conflict(format!(
            "plan {id} is still being computed; commit it when it is proposed"
        ))),
    }
}

/// What one commit batch did.
#[derive(Debug, Default)]
pub struct Committed {
    pub transfers: usize,
    pub dropped: usize,
    /// Units the sources no longer had (lines cut short or dropped).
    pub units_short: i64,
    /// The sources' balances after the batch's allocations, for Redis.
    pub balances: Vec<TouchedBalance>,
}

const DROPPED: &str = "the source no longer has the units free";

/// Turns up to `limit` uncommitted lines into transfers, in one transaction. A source that sold
/// units since the plan gives what it still has free; a line it cannot serve is dropped.
pub async fn commit_batch(
    pool: &Pool,
    actor: &Actor,
    id: i64,
    reason: Reason,
    limit: i64,
) -> Result<Committed> {
    let mut client = pool.get().await?;
    let transaction = client.transaction().await?;
    super::act_as(&transaction, actor, &super::Cause::Plan { id }).await?;
    let lines = lock_uncommitted(&transaction, id, limit).await?;
    if lines.is_empty() {
        return Ok(Committed::default());
    }
    let free = lock_free_units(&transaction, &lines).await?;
    let served = serve(&lines, free, reason)?;
    let (transfer_ids, balances) = create_in(&transaction, &served.transfers).await?;
    mark_done(
        &transaction,
        id,
        &served.made,
        &transfer_ids,
        &served.dropped,
    )
    .await?;
    transaction.commit().await?;
    Ok(Committed {
        transfers: served.made.len(),
        dropped: served.dropped.len(),
        units_short: served.units_short,
        balances,
    })
}

/// A plan line's key: (SKU, source, destination) ids.
type LineKey = (i64, i64, i64);

/// A line not yet committed, locked for its batch.
struct Uncommitted {
    key: LineKey,
    sku: String,
    from: String,
    to: String,
    qty: i64,
    lead_time_hours: f64,
    cost_version: Option<i64>,
}

/// Up to `limit` of the plan's uncommitted lines, in key order, locked.
async fn lock_uncommitted(
    transaction: &impl GenericClient,
    id: i64,
    limit: i64,
) -> Result<Vec<Uncommitted>> {
    let rows = transaction
        .cached_query(
            "SELECT pl.sku_id, pl.from_location_id, pl.to_location_id, s.code AS sku,
                    f.code AS from_code, t.code AS to_code, pl.qty, pl.lead_time_hours,
                    (SELECT p.cost_version FROM plans p WHERE p.id = $1) AS cost_version
             FROM plan_lines pl
             JOIN skus s ON s.id = pl.sku_id
             JOIN locations f ON f.id = pl.from_location_id
             JOIN locations t ON t.id = pl.to_location_id
             WHERE pl.plan_id = $1 AND pl.transfer_id IS NULL AND pl.dropped IS NULL
             ORDER BY pl.sku_id, pl.from_location_id, pl.to_location_id
             LIMIT $2 FOR UPDATE OF pl",
            &[&id, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| Uncommitted {
            key: (
                row.get("sku_id"),
                row.get("from_location_id"),
                row.get("to_location_id"),
            ),
            sku: row.get("sku"),
            from: row.get("from_code"),
            to: row.get("to_code"),
            qty: row.get("qty"),
            lead_time_hours: row.get("lead_time_hours"),
            cost_version: row.get("cost_version"),
        })
        .collect())
}

/// Units each source of the lines has free (on hand − allocated − safety stock, at least 0),
/// by (SKU, location), with the balances locked in key order, as every ledger write locks them.
async fn lock_free_units(
    transaction: &impl GenericClient,
    lines: &[Uncommitted],
) -> Result<HashMap<(i64, i64), i64>> {
    let (sku_ids, from_ids): (Vec<i64>, Vec<i64>) =
        lines.iter().map(|line| (line.key.0, line.key.1)).unzip();
    let rows = transaction
        .cached_query(
            "SELECT b.sku_id, b.location_id,
                    greatest(b.on_hand - b.allocated - l.safety_stock, 0) AS free
             FROM balances b JOIN locations l ON l.id = b.location_id
             WHERE (b.sku_id, b.location_id) IN (SELECT * FROM unnest($1::int8[], $2::int8[]))
             ORDER BY b.sku_id, b.location_id FOR UPDATE OF b",
            &[&sku_ids, &from_ids],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| ((row.get("sku_id"), row.get("location_id")), row.get("free")))
        .collect())
}

/// A batch's lines as their sources can serve them.
#[derive(Default)]
struct Served {
    transfers: Vec<NewTransfer>,
    /// The lines of `transfers`, in their order.
    made: Vec<LineKey>,
    dropped: Vec<LineKey>,
    units_short: i64,
}

/// Gives each line, in order, what its source still has free: a line the source can no longer
/// fill in full is cut short, one it has nothing left for is dropped.
fn serve(
    lines: &[Uncommitted],
    mut free: HashMap<(i64, i64), i64>,
    reason: Reason,
) -> Result<Served> {
    let mut served = Served::default();
    for line in lines {
        let left = free.entry((line.key.0, line.key.1)).or_insert(0);
        let qty = line.qty.min(*left);
        served.units_short += line.qty - qty;
        if qty <= 0 {
            served.dropped.push(line.key);
            continue;
        }
        *left -= qty;
        served.transfers.push(NewTransfer {
            sku: SkuCode::parse("sku", &line.sku)?,
            from: LocationCode::parse("from", &line.from)?,
            to: LocationCode::parse("to", &line.to)?,
            qty: Qty::parse("qty", qty)?,
            reason,
            order_id: None,
            lead_time_hours: line.lead_time_hours,
            cost_version: line.cost_version.map(CostVersion),
        });
        served.made.push(line.key);
    }
    Ok(served)
}

/// Marks each line done once: `made` with their transfers (`transfer_ids`, in the same order),
/// `dropped` with the reason.
async fn mark_done(
    transaction: &impl GenericClient,
    id: i64,
    made: &[LineKey],
    transfer_ids: &[i64],
    dropped: &[LineKey],
) -> Result<()> {
    let done: Vec<&LineKey> = made.iter().chain(dropped).collect();
    let column = |f: fn(&LineKey) -> i64| done.iter().map(|k| f(k)).collect::<Vec<i64>>();
    let transfer_column: Vec<Option<i64>> = transfer_ids
        .iter()
        .map(|&t| Some(t))
        .chain(dropped.iter().map(|_| None))
        .collect();
    let dropped_column: Vec<Option<&str>> = made
        .iter()
        .map(|_| None)
        .chain(dropped.iter().map(|_| Some(DROPPED)))
        .collect();
    transaction
        .cached_execute(
            "UPDATE plan_lines pl SET transfer_id = u.transfer_id, dropped = u.dropped
             FROM unnest($2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::text[])
                  AS u(sku_id, from_id, to_id, transfer_id, dropped)
             WHERE pl.plan_id = $1 AND pl.sku_id = u.sku_id
               AND pl.from_location_id = u.from_id AND pl.to_location_id = u.to_id",
            &[
                &id,
                &column(|k| k.0),
                &column(|k| k.1),
                &column(|k| k.2),
                &transfer_column,
                &dropped_column,
            ],
        )
        .await?;
    Ok(())
}

pub async fn uncommitted_lines(client: &impl GenericClient, id: i64) -> Result<i64> {
    Ok(client
        .cached_query_one(
            "SELECT count(*) FROM plan_lines
             WHERE plan_id = $1 AND transfer_id IS NULL AND dropped IS NULL",
            &[&id],
        )
        .await?
        .get(0))
}

pub async fn finish_commit(client: &impl GenericClient, id: i64) -> Result<()> {
    client
        .cached_execute(
            "UPDATE plans SET status = $2, committed_at = now()
             WHERE id = $1 AND status = $3",
            &[
                &id,
                &PlanStatus::Committed.as_str(),
                &PlanStatus::Committing.as_str(),
            ],
        )
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Totals {
    /// Planned transfers (lines).
    pub transfers: i64,
    pub units: i64,
    /// Value of the moved units where they go (margin, or the value of covering a need).
    pub gain: f64,
    /// What the transfers cost.
    pub cost: f64,
    /// `gain − cost`.
    pub net: f64,
    /// Net of the greedy baseline on the same data.
    pub greedy_net: f64,
    pub greedy_transfers: i64,
    pub skus_considered: i64,
    /// SKUs with at least one transfer.
    pub skus_planned: i64,
    /// SKUs whose optimisation ran out of time and kept the greedy plan.
    pub solver_fallbacks: i64,
    /// Lines committed as transfers, and lines dropped at commit.
    pub committed: i64,
    pub dropped: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SkippedCount {
    pub reason: String,
    pub skus: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanSummary {
    pub id: i64,
    pub kind: String,
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// `running` → `proposed` (a dry run) or `committing` → `committed`.
    pub status: PlanStatus,
    pub commit_requested: bool,
    #[schema(value_type = Object)]
    pub params: Value,
    pub totals: Totals,
    pub skipped: Vec<SkippedCount>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub committed_at: Option<DateTime<Utc>>,
    /// Who asked for the commit.
    pub committed_by: Option<String>,
}

const SUMMARY: &str = "
    SELECT p.id, p.kind, p.run_date, p.status, p.commit_requested, p.params, p.skus_considered,
           p.greedy_net, p.greedy_transfers, p.solver_fallbacks, p.created_at, p.finished_at,
           p.committed_at, p.committed_by, t.transfers, t.units, t.gain, t.cost, t.skus_planned, t.committed,
           t.dropped, sk.skipped
    FROM plans p
    CROSS JOIN LATERAL (
        SELECT count(*) AS transfers, coalesce(sum(qty), 0)::int8 AS units,
               coalesce(sum(gain), 0) AS gain, coalesce(sum(cost), 0) AS cost,
               count(DISTINCT sku_id) AS skus_planned, count(transfer_id) AS committed,
               count(dropped) AS dropped
        FROM plan_lines WHERE plan_id = p.id) t
    CROSS JOIN LATERAL (
        SELECT coalesce(jsonb_agg(jsonb_build_object('reason', reason, 'skus', n) ORDER BY reason),
                        '[]') AS skipped
        FROM (SELECT reason, count(*) AS n FROM plan_skipped WHERE plan_id = p.id
              GROUP BY reason) r) sk";

fn summary(row: &tokio_postgres::Row) -> PlanSummary {
    let (gain, cost): (f64, f64) = (row.get("gain"), row.get("cost"));
    let skipped: Value = row.get("skipped");
    let skipped = skipped
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|entry| SkippedCount {
                    reason: entry["reason"].as_str().unwrap_or_default().to_owned(),
                    skus: entry["skus"].as_i64().unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    PlanSummary {
        id: row.get("id"),
        kind: row.get("kind"),
        date: row.get("run_date"),
        status: status(row),
        commit_requested: row.get("commit_requested"),
        params: row.get("params"),
        totals: Totals {
            transfers: row.get("transfers"),
            units: row.get("units"),
            gain,
            cost,
            net: gain - cost,
            greedy_net: row.get("greedy_net"),
            greedy_transfers: row.get("greedy_transfers"),
            skus_considered: row.get("skus_considered"),
            skus_planned: row.get("skus_planned"),
            solver_fallbacks: row.get("solver_fallbacks"),
            committed: row.get("committed"),
            dropped: row.get("dropped"),
        },
        skipped,
        created_at: row.get("created_at"),
        finished_at: row.get("finished_at"),
        committed_at: row.get("committed_at"),
        committed_by: row.get("committed_by"),
    }
}

pub async fn get(client: &impl GenericClient, id: i64) -> Result<PlanSummary> {
    let row = client
        .cached_query_opt(&format!("{SUMMARY} WHERE p.id = $1"), &[&id])
        .await?
        .ok_or_else(|| Error::NotFound(format!("no plan {id}")))?;
    Ok(summary(&row))
}

/// The newest plans, of one kind or both.
pub async fn list(
    client: &impl GenericClient,
    kind: Option<Kind>,
    limit: i64,
) -> Result<Vec<PlanSummary>> {
    let rows = client
        .cached_query(
            &format!("{SUMMARY} WHERE $1::text IS NULL OR p.kind = $1 ORDER BY p.id DESC LIMIT $2"),
            &[&kind.map(Kind::as_str), &limit],
        )
        .await?;
    Ok(rows.iter().map(summary).collect())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineView {
    pub sku: String,
    pub from: String,
    pub to: String,
    pub qty: i64,
    pub distance_km: f64,
    pub lead_time_hours: f64,
    pub gain: f64,
    pub cost: f64,
    pub net: f64,
    /// The destination's days of cover before and after (absent without demand).
    pub cover_days_before: Option<f64>,
    pub cover_days_after: Option<f64>,
    pub transfer_id: Option<i64>,
    pub dropped: Option<String>,
}

/// A plan's lines, optionally those touching one location and/or of one SKU.
/// Where a page of plan lines ends: the last line's (cost − gain, SKU, from, to), as the
/// `after` of the next page. Opaque to clients: `"{cost−gain}_{sku}_{from}_{to}"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineCursor {
    pub cost_less_gain: f64,
    pub sku_id: i64,
    pub from_id: i64,
    pub to_id: i64,
}

impl LineCursor {
    pub fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.split('_');
        let cursor = Self {
            cost_less_gain: parts.next()?.parse().ok().filter(|v: &f64| v.is_finite())?,
            sku_id: parts.next()?.parse().ok()?,
            from_id: parts.next()?.parse().ok()?,
            to_id: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(cursor)
    }
}

impl std::fmt::Display for LineCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `{}` of an f64 prints the shortest text that parses back to the same value.
        let (net, sku, from, to) = (self.cost_less_gain, self.sku_id, self.from_id, self.to_id);
        write!(f, "{net}_{sku}_{from}_{to}")
    }
}

/// One page of a plan's lines, best (highest net) first, and where the next page starts.
pub async fn lines_page(
    client: &impl GenericClient,
    id: i64,
    filter: (Option<i64>, Option<i64>),
    after: Option<LineCursor>,
    limit: i64,
) -> Result<(Vec<LineView>, Option<LineCursor>)> {
    let (location_id, sku_id) = filter;
    let after = after.map(|c| (c.cost_less_gain, c.sku_id, c.from_id, c.to_id));
    let rows = client
        .cached_query(
            &format!(
                "{LINE_SELECT}
                 WHERE pl.plan_id = $1
                   AND ($2::int8 IS NULL OR pl.from_location_id = $2 OR pl.to_location_id = $2)
                   AND ($3::int8 IS NULL OR pl.sku_id = $3)
                   AND ($4::float8 IS NULL OR (pl.cost - pl.gain, pl.sku_id, pl.from_location_id,
                        pl.to_location_id) > ($4, $5, $6, $7))
                 ORDER BY pl.cost - pl.gain, pl.sku_id, pl.from_location_id, pl.to_location_id
                 LIMIT $8"
            ),
            &[
                &id,
                &location_id,
                &sku_id,
                &after.map(|a| a.0),
                &after.map(|a| a.1),
                &after.map(|a| a.2),
                &after.map(|a| a.3),
                &limit,
            ],
        )
        .await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last())
        .flatten()
        .map(|row| LineCursor {
            cost_less_gain: row.get::<_, f64>(7) - row.get::<_, f64>(6),
            sku_id: row.get(12),
            from_id: row.get(13),
            to_id: row.get(14),
        });
    Ok((rows.iter().map(line_view).collect(), next))
}

const LINE_SELECT: &str = "
    SELECT s.code, f.code, t.code, pl.qty, pl.distance_km, pl.lead_time_hours, pl.gain,
           pl.cost, pl.to_position, pl.to_demand_per_day, pl.transfer_id, pl.dropped,
           pl.sku_id, pl.from_location_id, pl.to_location_id
    FROM plan_lines pl
    JOIN skus s ON s.id = pl.sku_id
    JOIN locations f ON f.id = pl.from_location_id
    JOIN locations t ON t.id = pl.to_location_id";

/// Every line of a plan, best first: for the report files only (a CLI run, the CSV export).
pub async fn lines(
    client: &impl GenericClient,
    id: i64,
    location_id: Option<i64>,
    sku_id: Option<i64>,
) -> Result<Vec<LineView>> {
    let (lines, _) = lines_page(client, id, (location_id, sku_id), None, i64::MAX).await?;
    Ok(lines)
}

fn line_view(row: &tokio_postgres::Row) -> LineView {
    let (qty, gain, cost): (i64, f64, f64) = (row.get(3), row.get(6), row.get(7));
    let (position, demand): (i64, f64) = (row.get(8), row.get(9));
    let cover = |units: i64| (demand > 0.0).then(|| units as f64 / demand);
    LineView {
        sku: row.get(0),
        from: row.get(1),
        to: row.get(2),
        qty,
        distance_km: row.get(4),
        lead_time_hours: row.get(5),
        gain,
        cost,
        net: gain - cost,
        cover_days_before: cover(position),
        cover_days_after: cover(position + qty),
        transfer_id: row.get(10),
        dropped: row.get(11),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub sku: String,
    pub reason: String,
}

/// Every SKU the plan left alone, for the report file.
pub async fn skipped(client: &impl GenericClient, id: i64) -> Result<Vec<Skipped>> {
    let rows = client
        .cached_query(
            "SELECT s.code, ps.reason FROM plan_skipped ps JOIN skus s ON s.id = ps.sku_id
             WHERE ps.plan_id = $1 ORDER BY ps.reason, s.code",
            &[&id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| Skipped {
            sku: row.get(0),
            reason: row.get(1),
        })
        .collect())
}

/// The SKUs with the most units moved, most first.
pub async fn top_skus(
    client: &impl GenericClient,
    id: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    let rows = client
        .cached_query(
            "SELECT pl.sku_id, s.code FROM plan_lines pl JOIN skus s ON s.id = pl.sku_id
             WHERE pl.plan_id = $1 GROUP BY pl.sku_id, s.code
             ORDER BY sum(pl.qty) DESC, s.code LIMIT $2",
            &[&id, &limit],
        )
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// Net positions of one SKU at the locations its lines touch, before and after the plan.
pub async fn spread(client: &impl GenericClient, id: i64, sku_id: i64) -> Result<Vec<Spread>> {
    let rows = client
        .cached_query(
            "WITH ends AS (
                 SELECT from_location_id AS location_id, from_position AS position, -qty AS change
                 FROM plan_lines WHERE plan_id = $1 AND sku_id = $2
                 UNION ALL
                 SELECT to_location_id, to_position, qty
                 FROM plan_lines WHERE plan_id = $1 AND sku_id = $2)
             SELECT l.code, max(e.position), (max(e.position) + sum(e.change))::int8
             FROM ends e JOIN locations l ON l.id = e.location_id
             GROUP BY l.code ORDER BY max(e.position) DESC, l.code",
            &[&id, &sku_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| Spread {
            location: row.get(0),
            before: row.get(1),
            after: row.get::<_, i64>(2).max(0),
        })
        .collect())
}
