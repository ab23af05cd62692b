//! Transfers between locations: a clerk's request (from a given location, or from wherever the
//! optimiser says) and each step of planned → shipped → received, or cancelled.

use super::{App, Error, Key, Reply, Result};
use crate::domain::access::{Principal, Scope};
use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::quantity::{Counted, Qty};
use crate::ledger::costs::Versioned;
use crate::ledger::{idempotency, transfers};
use crate::routing::{self, Fulfilment};

pub use crate::ledger::transfers::{Created, NewTransfer, Reason, TransferView};

/// "Bring `qty` of `sku` to `to`", from `from` or as the optimiser routes it.
#[derive(Debug, Clone)]
pub struct TransferRequest {
    pub sku: SkuCode,
    pub qty: Qty,
    pub to: LocationCode,
    pub from: Option<LocationCode>,
}

/// Creates the transfers once per idempotency key. The plan is made holding no connection; a
/// retry already answered is replayed without planning again.
/// Only into a location where `by` may request transfers.
pub async fn request(
    app: &App,
    by: &Principal,
    key: Option<&Key>,
    request: &TransferRequest,
) -> Result<Reply<Created>> {
    by.require_at(Scope::RequestTransfers, &request.to)?;
    if let Some(key) = key {
        if let Some(stored) = idempotency::stored(&app.client().await?, key).await? {
            return Ok(Reply::Replayed(stored));
        }
    }
    let (new, cost) = plan(app, request).await?;
    let (reply, balances) = transfers::create(&app.pool, &by.actor, key, &new, cost).await?;
    app.synced(&balances).await;
    Ok(reply)
}

async fn plan(
    app: &App,
    request: &TransferRequest,
) -> Result<(Vec<NewTransfer>, Option<serde_json::Value>)> {
    let known = async |field: &str, code: &LocationCode| {
        super::queries::location(app, code)
            .await?
            .ok_or_else(|| Error::UnknownLocation {
                field: field.into(),
                code: code.to_string(),
            })
    };
    let destination = known("to", &request.to).await?;
    let costs = super::costs::current(app).await?;
    let (planned, cost) = match &request.from {
        Some(from) => {
            let source = known("from", from).await?;
            let distance_km = source.point.distance_km(destination.point);
            let only = routing::RoutedTransfer {
                from: from.clone(),
                qty: request.qty,
                lead_time_hours: costs.model.lane(source.kind, distance_km).lead_time_hours,
            };
            (vec![only], None)
        }
        None => {
            let (planned, cost) = routed(app, request, &costs).await?;
            (planned, Some(cost))
        }
    };
    let new = planned
        .into_iter()
        .map(|planned| NewTransfer {
            sku: request.sku.clone(),
            from: planned.from,
            to: request.to.clone(),
            qty: planned.qty,
            reason: Reason::Clerk,
            order_id: None,
            lead_time_hours: planned.lead_time_hours,
            cost_version: Some(costs.version),
        })
        .collect();
    Ok((new, cost))
}

/// The optimiser's sources for a restock of the store (never its own shelf).
async fn routed(
    app: &App,
    request: &TransferRequest,
    costs: &Versioned,
) -> Result<(Vec<routing::RoutedTransfer>, serde_json::Value)> {
    let routing_request = routing::Request {
        lines: vec![(request.sku.clone(), request.qty)],
        fulfilment: Fulfilment::Pickup(request.to.clone()),
        allow_split: true,
        allow_partial: false,
        restock: true,
        own_held: Vec::new(),
    };
    let routed = app.route(&routing_request, costs).await?;
    if !routed.is_feasible() {
        return Err(Error::Short {
            field: Some("qty".into()),
            message: format!(
                "no location can send {} of {} to {}",
                request.qty.get(),
                request.sku,
                request.to
            ),
            lines: Vec::new(),
        });
    }
    Ok((routed.transfers()?, routed.cost()))
}

/// Which end of a transfer a step happens at.
enum End {
    From,
    To,
}

/// Checks that `by` holds `scope` at the transfer's `end` (a transfer's ends never change).
async fn require_at(app: &App, by: &Principal, id: i64, scope: Scope, end: End) -> Result<()> {
    if by.is_everywhere(scope) {
        return Ok(());
    }
    let transfer = transfers::get(&app.client().await?, id).await?;
    let code = match end {
        End::From => transfer.from,
        End::To => transfer.to,
    };
    Ok(by.require_at(scope, &LocationCode::parse("location", &code)?)?)
}

/// The units leave the source (where `by` works): off its on hand, in transit at the
/// destination.
pub async fn ship(app: &App, by: &Principal, id: i64) -> Result<TransferView> {
    require_at(app, by, id, Scope::MoveTransfers, End::From).await?;
    let (view, recorded) = transfers::ship(&app.pool, &by.actor, id).await?;
    app.synced(&recorded.balances).await;
    Ok(view)
}

/// The units arrive where `by` works (`received` of them, all when absent; missing ones become
/// a discrepancy).
pub async fn receive(
    app: &App,
    by: &Principal,
    id: i64,
    received: Option<Counted>,
) -> Result<TransferView> {
    require_at(app, by, id, Scope::MoveTransfers, End::To).await?;
    let (view, recorded) = transfers::receive(&app.pool, &by.actor, id, received).await?;
    app.synced(&recorded.balances).await;
    Ok(view)
}

/// Cancels a planned transfer that serves no order, into a location where `by` requests them.
pub async fn cancel(app: &App, by: &Principal, id: i64) -> Result<TransferView> {
    require_at(app, by, id, Scope::RequestTransfers, End::To).await?;
    let (view, recorded) = transfers::cancel(&app.pool, &by.actor, id).await?;
    app.synced(&recorded.balances).await;
    Ok(view)
}
