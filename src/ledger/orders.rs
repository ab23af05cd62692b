//! Orders: the plan routing chose, committed as allocations at its sources (and transfers into
//! the pickup store) in one transaction, then fulfilled, picked up, cancelled or returned — each
//! step a ledger movement under the order's row lock, so steps cannot happen out of order.

use super::idempotency::{self, Key};
use super::movements::{record_in, Line, Reply, TouchedBalance};
use super::transfers::{self, NewTransfer, Reason, TransferView};
use super::{in_transaction, Cached, Error, Result};
use crate::domain::access::Actor;
use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::costs::CostVersion;
use crate::domain::decision::Decision;
use crate::domain::geo::Point;
use crate::domain::hold::{HoldOutcome, HoldUse};
use crate::domain::ledger::Movement;
use crate::domain::quantity::Qty;
use chrono::{DateTime, SubsecRound, Utc};
use deadpool_postgres::{GenericClient, Pool};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// An order has at most one line per (SKU, source), so at most this many transfers.
const TRANSFERS_PER_ORDER_MAX: i64 = 10_000;

pub use crate::domain::order::{OrderStatus, Route, TransferStatus};

#[derive(Debug, Clone)]
pub enum Destination {
    Ship(Point),
    Pickup(LocationCode),
}

#[derive(Debug, Clone)]
pub struct Referrer {
    pub store: LocationCode,
    pub clerk: String,
    /// Whether the referral was within its validity window when the order was placed.
    pub credited: bool,
}

#[derive(Debug, Clone)]
pub struct PlannedLine {
    pub sku: SkuCode,
    pub source: LocationCode,
    pub route: Route,
    pub qty: Qty,
    pub ready_at: DateTime<Utc>,
    /// For the transfer route: the lane's lead time.
    pub lead_time_hours: f64,
}

#[derive(Debug, Clone)]
pub struct NewOrder {
    pub client_order_id: String,
    pub request_hash: Vec<u8>,
    pub destination: Destination,
    pub allow_split: bool,
    pub referrer: Option<Referrer>,
    pub lines: Vec<PlannedLine>,
    pub cost: Value,
    /// How the optimiser decided, with the cost model's version.
    pub decision: Decision,
    /// The cart hold it was placed with; its id is unique among orders.
    pub hold: Option<HoldUse>,
    /// The actor placing it, as recorded.
    pub placed_by: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AllocationView {
    pub sku: String,
    pub qty: i64,
    pub source: String,
    pub route: String,
    pub ready_at: DateTime<Utc>,
    pub fulfilled: i64,
    pub cancelled: i64,
    pub returned: i64,
    pub transfer: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PickupBatch {
    pub source: String,
    pub units: i64,
    pub ready_at: DateTime<Utc>,
    /// `ready` on the shelf now, or the status of the transfer bringing it.
    pub status: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReferrerView {
    pub store: String,
    pub clerk: String,
    pub credited: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    pub id: String,
    pub status: OrderStatus,
    #[schema(value_type = Object)]
    pub fulfilment: Value,
    pub allow_split: bool,
    pub referrer: Option<ReferrerView>,
    pub allocations: Vec<AllocationView>,
    pub transfers: Vec<TransferView>,
    pub pickup_batches: Vec<PickupBatch>,
    /// The cost the optimiser weighed, by component.
    #[schema(value_type = Object)]
    pub cost: Value,
    /// How the optimiser decided (absent on orders from before costs were data).
    pub decision: Option<Decision>,
    /// The cart hold the order was placed with, and what became of it.
    pub hold: Option<HoldUse>,
    /// Who placed it: `key:<id>`, `user:<name>`, `system:<job>`.
    pub placed_by: String,
    pub created_at: DateTime<Utc>,
}

/// Writes the order and its allocations; with a fresh order come the balances it changed.
pub async fn place(
    pool: &Pool,
    actor: &Actor,
    order: &NewOrder,
) -> Result<(Reply<OrderView>, Vec<TouchedBalance>)> {
    let cause = super::Cause::Order {
        id: &order.client_order_id,
        hold: order.hold.as_ref().map(|hold| hold.id.as_str()),
    };
    in_transaction(pool, actor, &cause, async |transaction| {
        place_in(transaction, order).await
    })
    .await
}

async fn place_in(
    transaction: &deadpool_postgres::Transaction<'_>,
    order: &NewOrder,
) -> Result<(Reply<OrderView>, Vec<TouchedBalance>)> {
    let now = Utc::now();
    let direct = direct_allocations(order, now);
    // What the customer is answered: for an order without transfers it follows from the plan
    // and goes in with the order row; with transfers it is read back once they exist.
    let transferred = order.lines.iter().any(|line| line.route == Route::Transfer);
    let created_at = now.trunc_subsecs(6);
    let planned = (!transferred).then(|| planned_view(order, created_at));
    let response = match &planned {
        Some(view) => serde_json::to_value(view).expect("an order view serialises"),
        None => Value::Object(Default::default()),
    };
    let Some(order_id) = insert_order(transaction, order, &response, created_at).await? else {
        // The insert waited for the order that took the id; this statement sees it.
        let replayed = replay(transaction, &order.client_order_id, &order.request_hash)
            .await?
            .ok_or_else(|| Error::Conflict("the order vanished while being placed".into()))?;
        return Ok((replayed, Vec::new()));
    };
    let Some(view) = planned else {
        return place_with_transfers(transaction, order, order_id, &direct).await;
    };
    // Nothing else waits on the database: the allocation and the lines go out together.
    let no_transfers = vec![None; order.lines.len()];
    let (recorded, ()) = tokio::try_join!(
        record_in(transaction, "lines", &direct),
        insert_lines(transaction, order_id, &order.lines, &no_transfers),
    )?;
    Ok((Reply::Fresh(view), recorded.balances))
}

/// The allocations at the sources of every line that does not travel by transfer (a
/// transfer allocates its own units).
fn direct_allocations(order: &NewOrder, now: DateTime<Utc>) -> Vec<Line> {
    order
        .lines
        .iter()
        .filter(|line| line.route != Route::Transfer)
        .map(|line| Line {
            location: line.source.clone(),
            sku: line.sku.clone(),
            movement: Movement::Allocate(line.qty),
            occurred_at: now,
        })
        .collect()
}

/// The order row; `None` when an order with this client id exists already. Not pipelined with
/// the allocation: a refused row (an unknown referrer store, say) must surface as its own
/// constraint error.
async fn insert_order(
    transaction: &impl GenericClient,
    order: &NewOrder,
    response: &Value,
    created_at: DateTime<Utc>,
) -> Result<Option<i64>> {
    let (mode, pickup, latitude, longitude) = match &order.destination {
        Destination::Ship(point) => ("ship", None, Some(point.latitude), Some(point.longitude)),
        Destination::Pickup(store) => ("pickup", Some(store.as_str()), None, None),
    };
    let referrer = order.referrer.as_ref();
    let hold = order.hold.as_ref();
    let decision = serde_json::to_value(&order.decision).expect("a decision serialises");
    let inserted = transaction
        .cached_query_opt(
            "INSERT INTO orders (client_order_id, request_hash, mode, pickup_location_id, latitude,
                 longitude, allow_split, referrer_location_id, referrer_clerk, referrer_credited, cost,
                 status, response, created_at, hold_id, hold_outcome, placed_by, cost_version,
                 decision)
             VALUES ($1, $2, $3, (SELECT id FROM locations WHERE code = $4), $5, $6, $7,
                 (SELECT id FROM locations WHERE code = $8), $9, $10, $11, $12, $13, $14,
                 $15::text::uuid, $16, $17, $18, $19)
             ON CONFLICT (client_order_id) DO NOTHING
             RETURNING id",
            &[
                &order.client_order_id,
                &order.request_hash,
                &mode,
                &pickup,
                &latitude,
                &longitude,
                &order.allow_split,
                &referrer.map(|r| r.store.as_str()),
                &referrer.map(|r| r.clerk.as_str()),
                &referrer.is_some_and(|r| r.credited),
                &order.cost,
                &OrderStatus::Open.as_str(),
                response,
                &created_at,
                &hold.map(|hold| hold.id.as_str()),
                &hold.map(|hold| hold.outcome.as_str()),
                &order.placed_by,
                &order.decision.cost_model_version,
                &decision,
            ],
        )
        .await?;
    Ok(inserted.map(|row| row.get(0)))
}

/// A pickup order with transfers: its allocations, its transfers (which allocate their own
/// units at their sources), its lines pointing at them, and the view read back and stored.
async fn place_with_transfers(
    transaction: &impl GenericClient,
    order: &NewOrder,
    order_id: i64,
    direct: &[Line],
) -> Result<(Reply<OrderView>, Vec<TouchedBalance>)> {
    let mut balances = record_in(transaction, "lines", direct).await?.balances;
    let new_transfers: Vec<NewTransfer> = match &order.destination {
        Destination::Pickup(store) => order
            .lines
            .iter()
            .filter(|line| line.route == Route::Transfer)
            .map(|line| NewTransfer {
                sku: line.sku.clone(),
                from: line.source.clone(),
                to: store.clone(),
                qty: line.qty,
                reason: Reason::Order,
                order_id: Some(order_id),
                lead_time_hours: line.lead_time_hours,
                cost_version: Some(CostVersion(order.decision.cost_model_version)),
            })
            .collect(),
        Destination::Ship(_) => Vec::new(),
    };
    let (transfer_ids, transferred) = transfers::create_in(transaction, &new_transfers).await?;
    balances.extend(transferred);
    // Ids follow `new_transfers`, which follows the transfer lines in order.
    let mut ids = transfer_ids.into_iter();
    let transfers: Vec<Option<i64>> = order
        .lines
        .iter()
        .map(|line| match (line.route, &order.destination) {
            (Route::Transfer, Destination::Pickup(_)) => ids.next(),
            _ => None,
        })
        .collect();
    insert_lines(transaction, order_id, &order.lines, &transfers).await?;
    let view = view(transaction, order_id).await?;
    let response = serde_json::to_value(&view).expect("an order view serialises");
    store_response(transaction, order_id, &response).await?;
    Ok((Reply::Fresh(view), balances))
}

/// One statement for every line; ids follow the lines' order, as the view lists them.
async fn insert_lines(
    transaction: &impl GenericClient,
    order_id: i64,
    lines: &[PlannedLine],
    transfers: &[Option<i64>],
) -> Result<()> {
    let skus: Vec<&str> = lines.iter().map(|l| l.sku.as_str()).collect();
    let sources: Vec<&str> = lines.iter().map(|l| l.source.as_str()).collect();
    let routes: Vec<&str> = lines.iter().map(|l| l.route.as_str()).collect();
    let quantities: Vec<i64> = lines.iter().map(|l| l.qty.get()).collect();
    let ready: Vec<DateTime<Utc>> = lines.iter().map(|l| l.ready_at).collect();
    transaction
        .cached_execute(
            "INSERT INTO order_lines (order_id, sku_id, source_location_id, route, transfer_id,
                 qty, ready_at)
             SELECT $1, (SELECT id FROM skus WHERE code = u.sku),
                    (SELECT id FROM locations WHERE code = u.source),
                    u.route, u.transfer_id, u.qty, u.ready_at
             FROM unnest($2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[],
                         $7::timestamptz[]) WITH ORDINALITY
                  AS u(sku, source, route, transfer_id, qty, ready_at, n)
             ORDER BY u.n",
            &[
                &order_id,
                &skus,
                &sources,
                &routes,
                &transfers,
                &quantities,
                &ready,
            ],
        )
        .await?;
    Ok(())
}

/// The answer a retry of this order replays.
async fn store_response(
    transaction: &impl GenericClient,
    order_id: i64,
    response: &Value,
) -> Result<()> {
    transaction
        .cached_execute(
            "UPDATE orders SET response = $2 WHERE id = $1",
            &[&order_id, response],
        )
        .await?;
    Ok(())
}

/// The view of a just-placed order without transfers, as [`view`] would read it back.
fn planned_view(order: &NewOrder, created_at: DateTime<Utc>) -> OrderView {
    let allocations: Vec<AllocationView> = order
        .lines
        .iter()
        .map(|line| AllocationView {
            sku: line.sku.to_string(),
            qty: line.qty.get(),
            source: line.source.to_string(),
            route: line.route.as_str().to_owned(),
            // What the database keeps of a timestamp: whole microseconds.
            ready_at: line.ready_at.trunc_subsecs(6),
            fulfilled: 0,
            cancelled: 0,
            returned: 0,
            transfer: None,
        })
        .collect();
    let (fulfilment, pickup_batches) = match &order.destination {
        Destination::Ship(point) => (
            fulfilment_json("ship", None, Some(point.latitude), Some(point.longitude)),
            Vec::new(),
        ),
        Destination::Pickup(store) => (
            fulfilment_json("pickup", Some(store.to_string()), None, None),
            pickup_batches(&allocations, allocations.iter().map(|_| None)),
        ),
    };
    OrderView {
        decision: Some(order.decision.clone()),
        id: order.client_order_id.clone(),
        status: OrderStatus::Open,
        fulfilment,
        allow_split: order.allow_split,
        referrer: order.referrer.as_ref().map(|referrer| ReferrerView {
            store: referrer.store.to_string(),
            clerk: referrer.clerk.clone(),
            credited: referrer.credited,
        }),
        allocations,
        transfers: Vec::new(),
        pickup_batches,
        cost: order.cost.clone(),
        hold: order.hold.clone(),
        placed_by: order.placed_by.clone(),
        created_at,
    }
}

fn fulfilment_json(
    mode: &str,
    store: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
) -> Value {
    match mode {
        "pickup" => serde_json::json!({"mode": "pickup", "store": store}),
        _ => serde_json::json!({"mode": "ship", "latitude": latitude, "longitude": longitude}),
    }
}

/// Units the customer collects per source, with when each batch is ready: `ready` on the shelf,
/// or the status of the transfer bringing it (`transfer_statuses` follows `allocations`).
fn pickup_batches(
    allocations: &[AllocationView],
    transfer_statuses: impl Iterator<Item = Option<TransferStatus>>,
) -> Vec<PickupBatch> {
    let mut batches: BTreeMap<String, PickupBatch> = BTreeMap::new();
    for (allocation, transfer_status) in allocations.iter().zip(transfer_statuses) {
        let status = match transfer_status {
            None | Some(TransferStatus::Received) => "ready",
            Some(status) => status.as_str(),
        }
        .to_owned();
        let batch = batches
            .entry(allocation.source.clone())
            .or_insert(PickupBatch {
                source: allocation.source.clone(),
                units: 0,
                ready_at: allocation.ready_at,
                status,
            });
        batch.units += allocation.qty;
        batch.ready_at = batch.ready_at.max(allocation.ready_at);
    }
    let mut pickup_batches: Vec<PickupBatch> = batches.into_values().collect();
    pickup_batches.sort_by_key(|batch| batch.ready_at);
    pickup_batches
}

/// The stored response of an order already placed under this id, if any; a different request
/// under the same id is refused.
pub async fn replay(
    client: &impl GenericClient,
    client_order_id: &str,
    request_hash: &[u8],
) -> Result<Option<Reply<OrderView>>> {
    let Some(row) = client
        .cached_query_opt(
            "SELECT request_hash, response FROM orders WHERE client_order_id = $1",
            &[&client_order_id],
        )
        .await?
    else {
        return Ok(None);
    };
    if row.get::<_, &[u8]>(0) != request_hash {
        return Err(Error::Refused {
            field: "id".into(),
            message: "was already used for a different order".into(),
        });
    }
    Ok(Some(Reply::Replayed(row.get(1))))
}

/// The order's id for its client order id, if it exists.
pub async fn id_of(client: &impl GenericClient, client_order_id: &str) -> Result<i64> {
    client
        .cached_query_opt(
            "SELECT id FROM orders WHERE client_order_id = $1",
            &[&client_order_id],
        )
        .await?
        .map(|row| row.get(0))
        .ok_or_else(|| Error::NotFound(format!("no order '{client_order_id}'")))
}

pub async fn view(client: &impl GenericClient, order_id: i64) -> Result<OrderView> {
    // The order, its lines and its transfers: three reads sent together.
    let id: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&order_id];
    let filter = transfers::Filter {
        order_id: Some(order_id),
        limit: TRANSFERS_PER_ORDER_MAX,
        ..Default::default()
    };
    let (order, lines, transfers) = tokio::try_join!(
        client.cached_query_one(
            "SELECT o.client_order_id, o.status, o.mode, p.code, o.latitude, o.longitude,
                    o.allow_split, r.code, o.referrer_clerk, o.referrer_credited, o.cost, o.created_at,
                    o.hold_id::text, o.hold_outcome, o.placed_by, o.decision
             FROM orders o
             LEFT JOIN locations p ON p.id = o.pickup_location_id
             LEFT JOIN locations r ON r.id = o.referrer_location_id
             WHERE o.id = $1",
            &id,
        ),
        client.cached_query(
            // Codes by key lookups per line: an order has a few lines, and a join let the
            // planner hash the whole SKU table once its statistics lagged (3 ms per order).
            "SELECT (SELECT s.code FROM skus s WHERE s.id = ol.sku_id), ol.qty,
                    (SELECT l.code FROM locations l WHERE l.id = ol.source_location_id),
                    ol.route, ol.ready_at, ol.fulfilled, ol.cancelled, ol.returned,
                    ol.transfer_id,
                    (SELECT t.status FROM transfers t WHERE t.id = ol.transfer_id) AS transfer_status
             FROM order_lines ol
             WHERE ol.order_id = $1 ORDER BY ol.id",
            &id,
        ),
        transfers::list(client, &filter),
    )?;
    let allocations: Vec<AllocationView> = lines.iter().map(allocation).collect();
    let mode: String = order.get(2);
    let pickup_batches = match mode.as_str() {
        "pickup" => pickup_batches(&allocations, lines.iter().map(transfer_status)),
        _ => Vec::new(),
    };
    let fulfilment = fulfilment_json(&mode, order.get(3), order.get(4), order.get(5));
    let referrer = order.get::<_, Option<String>>(7).map(|store| ReferrerView {
        store,
        clerk: order.get::<_, Option<String>>(8).unwrap_or_default(),
        credited: order.get(9),
    });
    Ok(OrderView {
        id: order.get(0),
        status: order_status(&order),
        fulfilment,
        allow_split: order.get(6),
        referrer,
        allocations,
        transfers,
        pickup_batches,
        cost: order.get(10),
        hold: hold_use(order.get(12), order.get(13)),
        placed_by: order.get(14),
        decision: order
            .get::<_, Option<Value>>(15)
            .and_then(|decision| serde_json::from_value(decision).ok()),
        created_at: order.get(11),
    })
}

fn allocation(row: &tokio_postgres::Row) -> AllocationView {
    AllocationView {
        sku: row.get(0),
        qty: row.get(1),
        source: row.get(2),
        route: row.get(3),
        ready_at: row.get(4),
        fulfilled: row.get(5),
        cancelled: row.get(6),
        returned: row.get(7),
        transfer: row.get(8),
    }
}

fn hold_use(id: Option<String>, outcome: Option<&str>) -> Option<HoldUse> {
    Some(HoldUse {
        id: id?,
        outcome: HoldOutcome::from_stored(outcome?)?,
    })
}

/// Status and route columns, read by name; the tables' CHECK constraints keep them known.
fn order_status(row: &tokio_postgres::Row) -> OrderStatus {
    OrderStatus::from_stored(row.get("status")).expect("the CHECK keeps order statuses known")
}

fn transfer_status(row: &tokio_postgres::Row) -> Option<TransferStatus> {
    let raw: Option<&str> = row.get("transfer_status");
    raw.map(|raw| {
        TransferStatus::from_stored(raw).expect("the CHECK keeps transfer statuses known")
    })
}

fn route(row: &tokio_postgres::Row) -> Route {
    Route::from_stored(row.get("route")).expect("the CHECK keeps routes known")
}

/// One order line row as the lifecycle steps see it, locked.
#[derive(Clone)]
struct Locked {
    id: i64,
    sku: String,
    source: String,
    route: Route,
    qty: i64,
    fulfilled: i64,
    cancelled: i64,
    transfer_id: Option<i64>,
    transfer_status: Option<TransferStatus>,
    transfer_received: Option<i64>,
}

impl Locked {
    fn remaining(&self) -> i64 {
        self.qty - self.fulfilled - self.cancelled
    }

    /// Units at the pickup store that the customer may collect now.
    fn ready_for_pickup(&self) -> i64 {
        match (self.route, self.transfer_status) {
            (Route::Pickup, _) => self.remaining(),
            (Route::Transfer, Some(TransferStatus::Received)) => {
                (self.transfer_received.unwrap_or(0) - self.fulfilled - self.cancelled).max(0)
            }
            _ => 0,
        }
    }
}

/// Locks the order and its lines; the order must be open for `action`.
async fn lock(
    client: &impl GenericClient,
    order_id: i64,
    action: &str,
) -> Result<(String, Option<String>, Vec<Locked>)> {
    let order = client
        .cached_query_one(
            "SELECT o.status, o.mode, p.code FROM orders o
             LEFT JOIN locations p ON p.id = o.pickup_location_id
             WHERE o.id = $1 FOR UPDATE OF o",
            &[&order_id],
        )
        .await?;
    let status = order_status(&order);
    if status != OrderStatus::Open {
        return Err(Error::Conflict(format!(
            "the order is {}; it cannot be {action}",
            status.as_str()
        )));
    }
    let rows = client
        .cached_query(
            "SELECT ol.id, s.code, l.code, ol.route, ol.qty, ol.fulfilled, ol.cancelled, ol.returned,
                    ol.transfer_id, t.status AS transfer_status, t.received
             FROM order_lines ol
             JOIN skus s ON s.id = ol.sku_id
             JOIN locations l ON l.id = ol.source_location_id
             LEFT JOIN transfers t ON t.id = ol.transfer_id
             WHERE ol.order_id = $1 ORDER BY ol.id FOR UPDATE OF ol",
            &[&order_id],
        )
        .await?;
    let lines = rows
        .iter()
        .map(|row| Locked {
            id: row.get(0),
            sku: row.get(1),
            source: row.get(2),
            route: route(row),
            qty: row.get(4),
            fulfilled: row.get(5),
            cancelled: row.get(6),
            transfer_id: row.get(8),
            transfer_status: transfer_status(row),
            transfer_received: row.get(10),
        })
        .collect();
    Ok((order.get(1), order.get(2), lines))
}

/// Runs one lifecycle step of an order in a transaction, under its optional idempotency key.
/// `work` returns the balances it changed; a replayed step changed none.
async fn step<F>(pool: &Pool, by: Step<'_>, order_id: i64, work: F) -> Result<Stepped>
where
    F: AsyncFn(&deadpool_postgres::Transaction<'_>) -> Result<Vec<TouchedBalance>>,
{
    let key = by.key;
    let cause = super::Cause::OrderStep {
        id: by.order,
        step: by.step,
    };
    in_transaction(pool, by.actor, &cause, async |transaction| {
        if let Some(key) = key {
            if let Some(response) = idempotency::claim(transaction, key).await? {
                return Ok((Reply::Replayed(response), Vec::new()));
            }
        }
        let balances = work(transaction).await?;
        complete_if_done(transaction, order_id).await?;
        let view = view(transaction, order_id).await?;
        if let Some(key) = key {
            let response = serde_json::to_value(&view).expect("an order view serialises");
            idempotency::store(transaction, key, 200, &response).await?;
        }
        Ok((Reply::Fresh(view), balances))
    })
    .await
}

/// An open order whose every line is fulfilled or cancelled is completed.
async fn complete_if_done(transaction: &impl GenericClient, order_id: i64) -> Result<()> {
    transaction
        .cached_execute(
            "UPDATE orders SET status = $2
             WHERE id = $1 AND status = $3
               AND NOT EXISTS (SELECT 1 FROM order_lines
                               WHERE order_id = $1 AND fulfilled + cancelled < qty)",
            &[
                &order_id,
                &OrderStatus::Completed.as_str(),
                &OrderStatus::Open.as_str(),
            ],
        )
        .await?;
    Ok(())
}

/// Who runs an order step, and its optional idempotency key.
#[derive(Clone, Copy)]
pub struct Step<'a> {
    pub actor: &'a Actor,
    pub key: Option<&'a Key>,
    /// The client order id and the step's name, for the stock events' cause.
    pub order: &'a str,
    pub step: &'static str,
}

/// An order step's answer, and the balances it changed.
pub type Stepped = (Reply<OrderView>, Vec<TouchedBalance>);

fn code_pair(sku: &str, location: &str) -> Result<(SkuCode, LocationCode)> {
    Ok((
        SkuCode::parse("sku", sku)?,
        LocationCode::parse("location", location)?,
    ))
}

/// Takes `wanted` units from lines in order, each giving at most what `available` says.
fn take(lines: &[Locked], wanted: i64, available: impl Fn(&Locked) -> i64) -> Vec<(usize, i64)> {
    let mut left = wanted;
    let mut taken = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if left == 0 {
            break;
        }
        let units = available(line).min(left);
        if units > 0 {
            taken.push((index, units));
            left -= units;
        }
    }
    taken
}

/// The customer collects units at the pickup store.
pub async fn pick_up(
    pool: &Pool,
    by: Step<'_>,
    order_id: i64,
    lines: &[(SkuCode, Qty)],
) -> Result<Stepped> {
    step(pool, by, order_id, async |transaction| {
        let (mode, store, locked) = lock(transaction, order_id, "picked up").await?;
        let store = match (mode.as_str(), store) {
            ("pickup", Some(store)) => LocationCode::parse("store", &store)?,
            _ => {
                return Err(Error::Conflict(
                    "the order is shipped, not picked up".into(),
                ))
            }
        };
        let mut movements = Vec::new();
        for (index, (sku, qty)) in lines.iter().enumerate() {
            let of_sku: Vec<&Locked> = locked.iter().filter(|l| l.sku == sku.as_str()).collect();
            let ready: i64 = of_sku.iter().map(|l| l.ready_for_pickup()).sum();
            if ready < qty.get() {
                return Err(Error::Shortage {
                    field: format!("lines[{index}].qty"),
                    message: format!(
                        "{} unit(s) of {sku} are ready for pickup; {} asked",
                        ready,
                        qty.get()
                    ),
                });
            }
            let owned: Vec<Locked> = of_sku.into_iter().cloned().collect();
            for (position, units) in take(&owned, qty.get(), Locked::ready_for_pickup) {
                transaction
                    .cached_execute(
                        "UPDATE order_lines SET fulfilled = fulfilled + $2 WHERE id = $1",
                        &[&owned[position].id, &units],
                    )
                    .await?;
            }
            movements.push(Line {
                location: store.clone(),
                sku: sku.clone(),
                movement: Movement::Fulfil(*qty),
                occurred_at: Utc::now(),
            });
        }
        Ok(record_in(transaction, "lines", &movements).await?.balances)
    })
    .await
}

/// Units leave a source for the customer (ship orders).
pub async fn fulfil(
    pool: &Pool,
    by: Step<'_>,
    order_id: i64,
    lines: &[(SkuCode, LocationCode, Qty)],
) -> Result<Stepped> {
    step(pool, by, order_id, async |transaction| {
        let (mode, _, locked) = lock(transaction, order_id, "fulfilled").await?;
        if mode != "ship" {
            return Err(Error::Conflict("a pickup order is fulfilled by its pickups".into()));
        }
        let mut movements = Vec::new();
        for (index, (sku, source, qty)) in lines.iter().enumerate() {
            let line = locked
                .iter()
                .find(|l| l.sku == sku.as_str() && l.source == source.as_str())
                .ok_or_else(|| Error::Refused {
                    field: format!("lines[{index}]"),
                    message: format!("the order takes no {sku} from {source}"),
                })?;
            if line.remaining() < qty.get() {
                return Err(Error::Conflict(format!(
                    "lines[{index}]: {} unit(s) of {sku} from {source} are left to fulfil; {} asked",
                    line.remaining(),
                    qty.get()
                )));
            }
            transaction
                .cached_execute("UPDATE order_lines SET fulfilled = fulfilled + $2 WHERE id = $1", &[&line.id, &qty.get()])
                .await?;
            movements.push(Line {
                location: source.clone(),
                sku: sku.clone(),
                movement: Movement::Fulfil(*qty),
                occurred_at: Utc::now(),
            });
        }
        Ok(record_in(transaction, "lines", &movements).await?.balances)
    })
    .await
}

/// Cancels what has not happened yet: allocations are released, planned transfers cancelled.
/// Units already in transit arrive as ordinary stock of the pickup store.
pub async fn cancel(pool: &Pool, by: Step<'_>, order_id: i64) -> Result<Stepped> {
    step(pool, by, order_id, async |transaction| {
        let (_, store, locked) = lock(transaction, order_id, "cancelled").await?;
        let mut movements = Vec::new();
        let mut balances = Vec::new();
        for line in &locked {
            let remaining = line.remaining();
            if remaining == 0 {
                continue;
            }
            match (line.route, line.transfer_status) {
                (Route::Transfer, Some(TransferStatus::Planned)) => {
                    if let Some(transfer) = line.transfer_id {
                        let (_, cancelled) = transfers::cancel_in(transaction, transfer).await?;
                        balances.extend(cancelled.balances);
                    }
                }
                (Route::Transfer, Some(TransferStatus::Received)) => {
                    let arrived = line.ready_for_pickup();
                    if arrived > 0 {
                        let (sku, location) =
                            code_pair(&line.sku, store.as_deref().unwrap_or_default())?;
                        movements.push(Line {
                            location,
                            sku,
                            movement: Movement::Deallocate(Qty::parse("qty", arrived)?),
                            occurred_at: Utc::now(),
                        });
                    }
                }
                (Route::Transfer, _) => {}
                _ => {
                    let (sku, location) = code_pair(&line.sku, &line.source)?;
                    movements.push(Line {
                        location,
                        sku,
                        movement: Movement::Deallocate(Qty::parse("qty", remaining)?),
                        occurred_at: Utc::now(),
                    });
                }
            }
            transaction
                .cached_execute(
                    "UPDATE order_lines SET cancelled = cancelled + $2 WHERE id = $1",
                    &[&line.id, &remaining],
                )
                .await?;
        }
        if !movements.is_empty() {
            balances.extend(record_in(transaction, "lines", &movements).await?.balances);
        }
        transaction
            .cached_execute(
                "UPDATE orders SET status = $2 WHERE id = $1",
                &[&order_id, &OrderStatus::Cancelled.as_str()],
            )
            .await?;
        Ok(balances)
    })
    .await
}

/// Fulfilled units come back at any location and become its sellable stock (also after the
/// order is completed).
pub async fn take_back(
    pool: &Pool,
    by: Step<'_>,
    order_id: i64,
    lines: &[(SkuCode, LocationCode, Qty)],
) -> Result<Stepped> {
    step(pool, by, order_id, async |transaction| {
        transaction
            .cached_execute("SELECT 1 FROM orders WHERE id = $1 FOR UPDATE", &[&order_id])
            .await?;
        let rows = transaction
            .cached_query(
                "SELECT ol.id, s.code, ol.fulfilled - ol.returned FROM order_lines ol
                 JOIN skus s ON s.id = ol.sku_id
                 WHERE ol.order_id = $1 ORDER BY ol.id FOR UPDATE OF ol",
                &[&order_id],
            )
            .await?;
        let mut movements = Vec::new();
        for (index, (sku, location, qty)) in lines.iter().enumerate() {
            let returnable: Vec<(i64, i64)> = rows
                .iter()
                .filter(|row| row.get::<_, &str>(1) == sku.as_str())
                .map(|row| (row.get(0), row.get(2)))
                .collect();
            let total: i64 = returnable.iter().map(|(_, units)| units).sum();
            if total < qty.get() {
                return Err(Error::Conflict(format!(
                    "lines[{index}]: {total} unit(s) of {sku} were fulfilled and not yet returned; {} asked",
                    qty.get()
                )));
            }
            let mut left = qty.get();
            for (id, units) in returnable {
                let units = units.min(left);
                if units > 0 {
                    transaction
                        .cached_execute(
                            "UPDATE order_lines SET returned = returned + $2 WHERE id = $1",
                            &[&id, &units],
                        )
                        .await?;
                    left -= units;
                }
            }
            movements.push(Line {
                location: location.clone(),
                sku: sku.clone(),
                movement: Movement::Return(*qty),
                occurred_at: Utc::now(),
            });
        }
        Ok(record_in(transaction, "lines", &movements).await?.balances)
    })
    .await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttributionRow {
    pub store: String,
    pub clerk: String,
    pub orders: i64,
    pub units_ordered: i64,
    /// Units that reached the customer and were not returned.
    pub units_sold: i64,
}

/// Sales credited to the store and clerk who served the customer, whichever location fulfilled:
/// `limit` (store, clerk) rows after `after`, in that order.
pub async fn attribution(
    client: &impl GenericClient,
    window: (DateTime<Utc>, DateTime<Utc>),
    after: Option<(&str, &str)>,
    limit: i64,
) -> Result<Vec<AttributionRow>> {
    let (after_store, after_clerk) = after.unzip();
    let rows = client
        .cached_query(
            "SELECT r.code, o.referrer_clerk, count(DISTINCT o.id),
                    sum(ol.qty - ol.cancelled)::int8, sum(ol.fulfilled - ol.returned)::int8
             FROM orders o
             JOIN locations r ON r.id = o.referrer_location_id
             JOIN order_lines ol ON ol.order_id = o.id
             WHERE o.referrer_credited AND o.created_at >= $1 AND o.created_at < $2
               AND ($3::text IS NULL OR (r.code, o.referrer_clerk) > ($3, $4::text))
             GROUP BY r.code, o.referrer_clerk
             ORDER BY r.code, o.referrer_clerk
             LIMIT $5",
            &[&window.0, &window.1, &after_store, &after_clerk, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| AttributionRow {
            store: row.get(0),
            clerk: row.get(1),
            orders: row.get(2),
            units_ordered: row.get(3),
            units_sold: row.get(4),
        })
        .collect())
}
