//! Transfers between locations: planned (units allocated at the source) → shipped (they leave
//! the source's on hand and are in transit to the destination) → received (on hand at the
//! destination; for an order, allocated to it there) — or cancelled while still planned.

use super::idempotency::{self, Key};
use super::movements::{record_in, Line, Recorded, Reply, TouchedBalance};
use super::{in_transaction, Cached, Cause, Error, Result};
use crate::domain::access::Actor;
use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::costs::CostVersion;
use crate::domain::ledger::Movement;
use crate::domain::order::{OrderStatus, TransferStatus};
use crate::domain::quantity::{Counted, Qty};
use chrono::{DateTime, Duration, Utc};
use deadpool_postgres::{GenericClient, Pool};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Order,
    Clerk,
    Replenishment,
    Rebalance,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Order => "order",
            Self::Clerk => "clerk",
            Self::Replenishment => "replenishment",
            Self::Rebalance => "rebalance",
        }
    }

    pub fn parse(field: &str, raw: &str) -> std::result::Result<Self, crate::domain::Invalid> {
        [
            Self::Order,
            Self::Clerk,
            Self::Replenishment,
            Self::Rebalance,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == raw)
        .ok_or_else(|| {
            crate::domain::Invalid::new(field, "must be order, clerk, replenishment or rebalance")
        })
    }
}

/// A transfer to create: its units are allocated at the source in the same transaction.
#[derive(Debug, Clone)]
pub struct NewTransfer {
    pub sku: SkuCode,
    pub from: LocationCode,
    pub to: LocationCode,
    pub qty: Qty,
    pub reason: Reason,
    pub order_id: Option<i64>,
    pub lead_time_hours: f64,
    /// The cost model it was decided with (`None`: a clerk named the source).
    pub cost_version: Option<CostVersion>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TransferView {
    pub id: i64,
    pub sku: String,
    pub qty: i64,
    pub from: String,
    pub to: String,
    pub status: TransferStatus,
    pub reason: String,
    /// The client order id when the transfer serves an order.
    pub order: Option<String>,
    pub lead_time_hours: f64,
    /// When the units are expected at the destination.
    pub arrives_at: DateTime<Utc>,
    pub received: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    /// Who asked for it, shipped, received or cancelled it: `key:<id>`, `user:<name>`,
    /// `system:<job>`.
    pub requested_by: String,
    pub shipped_by: Option<String>,
    pub received_by: Option<String>,
    pub cancelled_by: Option<String>,
}

/// Creates transfers inside `transaction` and allocates their units at the sources. A source
/// that lacks the units refuses with a shortage naming `transfers[i]`.
/// Returns the transfers' ids and the sources' balances after the allocation.
pub async fn create_in(
    transaction: &impl GenericClient,
    transfers: &[NewTransfer],
) -> Result<(Vec<i64>, Vec<TouchedBalance>)> {
    if transfers.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let now = Utc::now();
    let lines: Vec<Line> = transfers
        .iter()
        .map(|t| Line {
            location: t.from.clone(),
            sku: t.sku.clone(),
            movement: Movement::Allocate(t.qty),
            occurred_at: now,
        })
        .collect();
    let recorded = record_in(transaction, "transfers", &lines).await?;
    let column = |f: fn(&NewTransfer) -> &str| transfers.iter().map(f).collect::<Vec<&str>>();
    let quantities: Vec<i64> = transfers.iter().map(|t| t.qty.get()).collect();
    let orders: Vec<Option<i64>> = transfers.iter().map(|t| t.order_id).collect();
    let lead_times: Vec<f64> = transfers.iter().map(|t| t.lead_time_hours).collect();
    let versions: Vec<Option<i64>> = transfers
        .iter()
        .map(|t| t.cost_version.map(|v| v.0))
        .collect();
    // One statement for every transfer (a plan commits hundreds per batch); ids come from the
    // identity sequence in insertion order, so sorted they follow `transfers`.
    let mut ids: Vec<i64> = transaction
        .cached_query(
            "INSERT INTO transfers (sku_id, from_location_id, to_location_id, qty, reason,
                 order_id, lead_time_hours, cost_version)
             SELECT (SELECT id FROM skus WHERE code = u.sku),
                    (SELECT id FROM locations WHERE code = u.source),
                    (SELECT id FROM locations WHERE code = u.destination),
                    u.qty, u.reason, u.order_id, u.lead_time_hours, u.cost_version
             FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::int8[],
                         $7::float8[], $8::int8[]) WITH ORDINALITY
                  AS u(sku, source, destination, qty, reason, order_id, lead_time_hours,
                       cost_version, n)
             ORDER BY u.n
             RETURNING id",
            &[
                &column(|t| t.sku.as_str()),
                &column(|t| t.from.as_str()),
                &column(|t| t.to.as_str()),
                &quantities,
                &column(|t| t.reason.as_str()),
                &orders,
                &lead_times,
                &versions,
            ],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    ids.sort_unstable();
    Ok((ids, recorded.balances))
}

const VIEW: &str = "
    SELECT t.id, s.code, t.qty, f.code, d.code, t.status, t.reason, o.client_order_id,
           t.lead_time_hours, t.received, t.created_at, t.shipped_at, t.received_at, t.order_id,
           t.requested_by, t.shipped_by, t.received_by, t.cancelled_by
    FROM transfers t
    JOIN skus s ON s.id = t.sku_id
    JOIN locations f ON f.id = t.from_location_id
    JOIN locations d ON d.id = t.to_location_id
    LEFT JOIN orders o ON o.id = t.order_id";

fn view(row: &tokio_postgres::Row) -> TransferView {
    let lead_time_hours: f64 = row.get(8);
    let created_at: DateTime<Utc> = row.get(10);
    let shipped_at: Option<DateTime<Utc>> = row.get(11);
    let lead = Duration::milliseconds((lead_time_hours * 3_600_000.0) as i64);
    TransferView {
        id: row.get(0),
        sku: row.get(1),
        qty: row.get(2),
        from: row.get(3),
        to: row.get(4),
        status: TransferStatus::from_stored(row.get("status"))
            .expect("the CHECK keeps transfer statuses known"),
        reason: row.get(6),
        order: row.get(7),
        lead_time_hours,
        arrives_at: shipped_at.unwrap_or(created_at) + lead,
        received: row.get(9),
        created_at,
        shipped_at,
        received_at: row.get(12),
        requested_by: row.get(14),
        shipped_by: row.get(15),
        received_by: row.get(16),
        cancelled_by: row.get(17),
    }
}

pub async fn get(client: &impl GenericClient, id: i64) -> Result<TransferView> {
    let row = client
        .cached_query_opt(&format!("{VIEW} WHERE t.id = $1"), &[&id])
        .await?
        .ok_or_else(|| Error::NotFound(format!("no transfer {id}")))?;
    Ok(view(&row))
}

/// Several transfers in one read, in id order.
async fn get_many(client: &impl GenericClient, ids: &[i64]) -> Result<Vec<TransferView>> {
    let rows = client
        .cached_query(
            &format!("{VIEW} WHERE t.id = ANY($1) ORDER BY t.id"),
            &[&ids],
        )
        .await?;
    Ok(rows.iter().map(view).collect())
}

#[derive(Debug, Default)]
pub struct Filter {
    pub location_id: Option<i64>,
    pub status: Option<TransferStatus>,
    pub reason: Option<Reason>,
    /// Only the transfers serving this order (its internal id).
    pub order_id: Option<i64>,
    pub after: Option<i64>,
    pub limit: i64,
}

pub async fn list(client: &impl GenericClient, filter: &Filter) -> Result<Vec<TransferView>> {
    let rows = client
        .cached_query(
            &format!(
                "{VIEW}
                 WHERE ($1::int8 IS NULL OR t.from_location_id = $1 OR t.to_location_id = $1)
                   AND ($2::text IS NULL OR t.status = $2)
                   AND ($3::text IS NULL OR t.reason = $3)
                   AND ($4::int8 IS NULL OR t.id > $4)
                   AND ($6::int8 IS NULL OR t.order_id = $6)
                 ORDER BY t.id LIMIT $5"
            ),
            &[
                &filter.location_id,
                &filter.status.map(TransferStatus::as_str),
                &filter.reason.map(Reason::as_str),
                &filter.after,
                &filter.limit,
                &filter.order_id,
            ],
        )
        .await?;
    Ok(rows.iter().map(view).collect())
}

/// Locks a transfer and checks it is in `expected` status.
async fn lock(
    client: &impl GenericClient,
    id: i64,
    expected: TransferStatus,
    action: &str,
) -> Result<TransferView> {
    let row = client
        .cached_query_opt(&format!("{VIEW} WHERE t.id = $1 FOR UPDATE OF t"), &[&id])
        .await?
        .ok_or_else(|| Error::NotFound(format!("no transfer {id}")))?;
    let transfer = view(&row);
    if transfer.status != expected {
        return Err(Error::Conflict(format!(
            "transfer {id} is {}; only a {} transfer can be {action}",
            transfer.status.as_str(),
            expected.as_str()
        )));
    }
    Ok(transfer)
}

fn codes(transfer: &TransferView) -> Result<(SkuCode, LocationCode, LocationCode, Qty)> {
    Ok((
        SkuCode::parse("sku", &transfer.sku)?,
        LocationCode::parse("from", &transfer.from)?,
        LocationCode::parse("to", &transfer.to)?,
        Qty::parse("qty", transfer.qty)?,
    ))
}

/// The units leave the source and are in transit to the destination.
pub async fn ship(pool: &Pool, actor: &Actor, id: i64) -> Result<(TransferView, Recorded)> {
    let cause = Cause::TransferStep { id, step: "ship" };
    in_transaction(pool, actor, &cause, async |transaction| {
        let transfer = lock(transaction, id, TransferStatus::Planned, "shipped").await?;
        let (sku, from, to, qty) = codes(&transfer)?;
        let now = Utc::now();
        let lines = [
            Line {
                location: from,
                sku: sku.clone(),
                movement: Movement::TransferOut(qty),
                occurred_at: now,
            },
            Line {
                location: to,
                sku,
                movement: Movement::InTransit(qty),
                occurred_at: now,
            },
        ];
        let recorded = record_in(transaction, "transfer", &lines).await?;
        transaction
            .cached_execute(
                "UPDATE transfers SET status = $2, shipped_at = now(),
                     shipped_by = nullif(current_setting('allot.actor', true), '') WHERE id = $1",
                &[&id, &TransferStatus::Shipped.as_str()],
            )
            .await?;
        let transfer = get(transaction, id).await?;
        Ok((transfer, recorded))
    })
    .await
}

/// The units arrive: `received` of them (all when absent); missing units become a discrepancy.
/// Units for an open order are allocated to it at the destination.
pub async fn receive(
    pool: &Pool,
    actor: &Actor,
    id: i64,
    received: Option<Counted>,
) -> Result<(TransferView, Recorded)> {
    let cause = Cause::TransferStep {
        id,
        step: "receive",
    };
    in_transaction(pool, actor, &cause, async |transaction| {
        // The order first (cancel locks order, lines, then transfer): a cancel racing this receipt
        // either finishes first (then the units arrive as the store's own) or waits for it.
        let order_status = lock_order_of(transaction, id).await?;
        let transfer = lock(transaction, id, TransferStatus::Shipped, "received").await?;
        let (sku, _, to, expected) = codes(&transfer)?;
        let received = match received {
            Some(received) if received.get() > expected.get() => {
                return Err(Error::Refused {
                    field: "received".into(),
                    message: format!("at most {} units were sent", expected.get()),
                })
            }
            Some(received) => received,
            None => Counted::parse("received", expected.get())?,
        };
        let now = Utc::now();
        let mut lines = vec![Line {
            location: to.clone(),
            sku: sku.clone(),
            movement: Movement::TransferIn { expected, received },
            occurred_at: now,
        }];
        if order_status == Some(OrderStatus::Open) && received.get() > 0 {
            lines.push(Line {
                location: to,
                sku,
                movement: Movement::AllocateArrived(Qty::parse("received", received.get())?),
                occurred_at: now,
            });
        }
        let recorded = record_in(transaction, "transfer", &lines).await?;
        transaction
            .cached_execute(
                "UPDATE transfers SET status = $3, received = $2, received_at = now(),
                     received_by = nullif(current_setting('allot.actor', true), '') WHERE id = $1",
                &[&id, &received.get(), &TransferStatus::Received.as_str()],
            )
            .await?;
        let transfer = get(transaction, id).await?;
        Ok((transfer, recorded))
    })
    .await
}

/// Locks the order a transfer serves, if any, and says its status.
async fn lock_order_of(
    client: &impl GenericClient,
    transfer_id: i64,
) -> Result<Option<OrderStatus>> {
    Ok(client
        .cached_query_opt(
            "SELECT o.status FROM orders o JOIN transfers t ON t.order_id = o.id
             WHERE t.id = $1 FOR UPDATE OF o",
            &[&transfer_id],
        )
        .await?
        .map(|row| {
            OrderStatus::from_stored(row.get("status"))
                .expect("the CHECK keeps order statuses known")
        }))
}

/// Cancels a planned transfer inside `transaction`, releasing its units at the source.
pub async fn cancel_in(
    transaction: &impl GenericClient,
    id: i64,
) -> Result<(TransferView, Recorded)> {
    let transfer = lock(transaction, id, TransferStatus::Planned, "cancelled").await?;
    let (sku, from, _, qty) = codes(&transfer)?;
    let lines = [Line {
        location: from,
        sku,
        movement: Movement::Deallocate(qty),
        occurred_at: Utc::now(),
    }];
    let recorded = record_in(transaction, "transfer", &lines).await?;
    transaction
        .cached_execute(
            "UPDATE transfers SET status = $2, cancelled_at = now(),
                 cancelled_by = nullif(current_setting('allot.actor', true), '') WHERE id = $1",
            &[&id, &TransferStatus::Cancelled.as_str()],
        )
        .await?;
    Ok((get(transaction, id).await?, recorded))
}

/// Cancels a planned transfer that serves no order (an order's transfers go with the order).
pub async fn cancel(pool: &Pool, actor: &Actor, id: i64) -> Result<(TransferView, Recorded)> {
    let cause = Cause::TransferStep { id, step: "cancel" };
    in_transaction(pool, actor, &cause, async |transaction| {
        let transfer = get(transaction, id).await?;
        if let Some(order) = &transfer.order {
            return Err(Error::Conflict(format!(
                "transfer {id} serves order {order}; cancel the order instead"
            )));
        }
        let cancelled = cancel_in(transaction, id).await?;
        Ok(cancelled)
    })
    .await
}

/// What a request for transfers created, with the cost the optimiser weighed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Created {
    pub transfers: Vec<TransferView>,
    /// The cost the optimiser weighed, by component (null when the source was given).
    #[schema(value_type = Option<Object>)]
    pub cost: Option<serde_json::Value>,
}

/// Creates transfers in one transaction, once per `Idempotency-Key` (a retry gets the first
/// response back); with a fresh answer come the sources' balances after the allocation.
pub async fn create(
    pool: &Pool,
    actor: &Actor,
    key: Option<&Key>,
    transfers: &[NewTransfer],
    cost: Option<serde_json::Value>,
) -> Result<(Reply<Created>, Vec<TouchedBalance>)> {
    in_transaction(pool, actor, &Cause::Transfers, async |transaction| {
        if let Some(key) = key {
            if let Some(stored) = idempotency::claim(transaction, key).await? {
                return Ok((Reply::Replayed(stored), Vec::new()));
            }
        }
        let (ids, balances) = create_in(transaction, transfers).await?;
        let created = Created {
            transfers: get_many(transaction, &ids).await?,
            cost: cost.clone(),
        };
        if let Some(key) = key {
            let response = serde_json::to_value(&created).unwrap_or_default();
            idempotency::store(transaction, key, 201, &response).await?;
        }
        Ok((Reply::Fresh(created), balances))
    })
    .await
}
