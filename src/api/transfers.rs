//! Transfers: a clerk's "bring 2 of SKU X to my store", and the planned → shipped → received
//! lifecycle of every transfer.

use super::error::ApiError;
use super::extract::{page_limit, Json, OptionalJson};
use super::State;
use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::costs;
use crate::domain::quantity::{Counted, Qty};
use crate::domain::Invalid;
use crate::holds::lifecycle;
use crate::ledger::movements::Reply;
use crate::ledger::stock::{self as ledger_stock, IdTable};
use crate::ledger::transfers::{self, Created, Filter, NewTransfer, Reason, TransferView};
use crate::routing::{self, Fulfilment};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(read)
        .service(ship)
        .service(receive)
        .service(cancel);
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    pub sku: String,
    pub qty: i64,
    /// The store that needs the units.
    pub to: String,
    /// Where they come from; when absent the optimiser chooses (possibly several sources).
    pub from: Option<String>,
}

/// Request units for a store, from a given location or from wherever the optimiser says.
#[utoipa::path(tag = "transfers", request_body = TransferBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe (a double click sends one request)")),
    responses((status = 201, body = Created), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
#[post("/v1/transfers")]
pub async fn create(
    state: web::Data<State>,
    request: HttpRequest,
    body: Json<TransferBody>,
) -> Result<HttpResponse, ApiError> {
    let key = super::movements::idempotency_key(&request, "transfers", || body.document())?;
    let body = &body.value;
    let sku = SkuCode::parse("sku", &body.sku)?;
    let qty = Qty::parse("qty", body.qty)?;
    let to = LocationCode::parse("to", &body.to)?;
    let from = body
        .from
        .as_deref()
        .map(|from| LocationCode::parse("from", from))
        .transpose()?;
    if from.as_ref() == Some(&to) {
        return Err(Invalid::new("from", "must differ from to").into());
    }
    let reply = transfers::create_once(&state.pool, key.as_ref(), || {
        plan(&state, sku.clone(), qty, to.clone(), from.clone())
    })
    .await?;
    Ok(match reply {
        Reply::Fresh(created) => {
            refresh(&state, &created.transfers).await;
            HttpResponse::Created().json(created)
        }
        Reply::Replayed(document) => HttpResponse::Created()
            .insert_header(("Idempotent-Replayed", "true"))
            .json(document),
    })
}

/// The transfers that bring `qty` of `sku` to `to`: from `from`, or as the optimiser routes.
async fn plan(
    state: &State,
    sku: SkuCode,
    qty: Qty,
    to: LocationCode,
    from: Option<LocationCode>,
) -> Result<(Vec<NewTransfer>, Option<Value>), ApiError> {
    let client = state.client().await?;
    let (_, destination) = crate::ledger::locations::get(&client, &to)
        .await?
        .ok_or_else(|| {
            ApiError::from(crate::ledger::Error::UnknownLocation {
                field: "to".into(),
                code: to.to_string(),
            })
        })?;
    let (planned, cost) = match from {
        Some(from) => {
            let (_, source) = crate::ledger::locations::get(&client, &from)
                .await?
                .ok_or_else(|| {
                    ApiError::from(crate::ledger::Error::UnknownLocation {
                        field: "from".into(),
                        code: from.to_string(),
                    })
                })?;
            let (_, _, lead_time_hours) =
                costs::lane(source.kind, source.point.distance_km(destination.point));
            (vec![(from, qty, lead_time_hours)], None)
        }
        None => {
            drop(client);
            let request = routing::Request {
                lines: vec![(sku.clone(), qty)],
                fulfilment: Fulfilment::Pickup(to.clone()),
                allow_split: true,
                allow_partial: false,
                restock: true,
                own_held: Vec::new(),
            };
            let routed = routing::route(&state.stock, &state.pool, &state.redis, &request).await?;
            if !routed.is_feasible() {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::CONFLICT,
                    "insufficient_stock",
                    format!("no location can send {} of {sku} to {to}", qty.get()),
                )
                .with_field("qty"));
            }
            let planned = routed
                .plan
                .transfers
                .iter()
                .map(|t| {
                    Ok((
                        LocationCode::parse("from", &t.from.0)?,
                        Qty::parse("qty", i64::from(t.qty))?,
                        t.lead_time_hours,
                    ))
                })
                .collect::<Result<Vec<_>, Invalid>>()?;
            (
                planned,
                Some(serde_json::to_value(routed.plan.cost).unwrap_or_default()),
            )
        }
    };
    let new = planned
        .into_iter()
        .map(|(from, qty, lead_time_hours)| NewTransfer {
            sku: sku.clone(),
            from,
            to: to.clone(),
            qty,
            reason: Reason::Clerk,
            order_id: None,
            lead_time_hours,
        })
        .collect();
    Ok((new, cost))
}

async fn refresh(state: &State, views: &[TransferView]) {
    let pairs: Vec<(&str, &str)> = views
        .iter()
        .flat_map(|t| {
            [
                (t.sku.as_str(), t.from.as_str()),
                (t.sku.as_str(), t.to.as_str()),
            ]
        })
        .collect();
    lifecycle::refresh(&state.redis, &state.pool, &pairs).await;
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TransferQuery {
    /// Transfers from or to this location.
    pub location: Option<String>,
    pub status: Option<String>,
    pub reason: Option<String>,
    pub after: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TransferPage {
    pub items: Vec<TransferView>,
    pub next_after: Option<i64>,
}

/// Transfers by location, status and reason.
#[utoipa::path(tag = "transfers", params(TransferQuery),
    responses((status = 200, body = TransferPage), (status = 422, body = ApiError)))]
#[get("/v1/transfers")]
pub async fn list(
    state: web::Data<State>,
    query: web::Query<TransferQuery>,
) -> Result<web::Json<TransferPage>, ApiError> {
    let limit = page_limit(query.limit)?;
    if let Some(status) = &query.status {
        if !["planned", "shipped", "received", "cancelled"].contains(&status.as_str()) {
            return Err(
                Invalid::new("status", "must be planned, shipped, received or cancelled").into(),
            );
        }
    }
    let reason = query
        .reason
        .as_deref()
        .map(|raw| Reason::parse("reason", raw))
        .transpose()?;
    if let Some(location) = &query.location {
        LocationCode::parse("location", location)?;
    }
    let client = state.client().await?;
    let location_id =
        ledger_stock::id_of(&client, IdTable::Locations, query.location.as_deref()).await?;
    if location_id == Some(None) {
        return Err(ApiError::not_found("no such location").with_field("location"));
    }
    let items = transfers::list(
        &client,
        &Filter {
            location_id: location_id.flatten(),
            status: query.status.clone(),
            reason,
            order_id: None,
            after: query.after,
            limit,
        },
    )
    .await?;
    let next_after = (items.len() as i64 == limit)
        .then(|| items.last().map(|t| t.id))
        .flatten();
    Ok(web::Json(TransferPage { items, next_after }))
}

fn transfer_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Invalid::new("id", "must be a transfer id (a positive number)").into())
}

#[utoipa::path(tag = "transfers", params(("id" = i64, Path)),
    responses((status = 200, body = TransferView), (status = 404, body = ApiError)))]
#[get("/v1/transfers/{id}")]
pub async fn read(
    state: web::Data<State>,
    id: web::Path<String>,
) -> Result<web::Json<TransferView>, ApiError> {
    let id = transfer_id(&id)?;
    let client = state.client().await?;
    Ok(web::Json(transfers::get(&client, id).await?))
}

/// The units leave the source: off its on hand, in transit at the destination.
#[utoipa::path(tag = "transfers", params(("id" = i64, Path)),
    responses((status = 200, body = TransferView), (status = 409, body = ApiError)))]
#[post("/v1/transfers/{id}/ship")]
pub async fn ship(
    state: web::Data<State>,
    id: web::Path<String>,
) -> Result<web::Json<TransferView>, ApiError> {
    let (view, _) = transfers::ship(&state.pool, transfer_id(&id)?).await?;
    refresh(&state, std::slice::from_ref(&view)).await;
    Ok(web::Json(view))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveBody {
    /// Units that arrived; all of them when absent. Missing units become a discrepancy.
    pub received: Option<i64>,
}

/// The units arrive at the destination.
#[utoipa::path(tag = "transfers", params(("id" = i64, Path)), request_body = ReceiveBody,
    responses((status = 200, body = TransferView), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
#[post("/v1/transfers/{id}/receive")]
pub async fn receive(
    state: web::Data<State>,
    id: web::Path<String>,
    body: OptionalJson<ReceiveBody>,
) -> Result<web::Json<TransferView>, ApiError> {
    let id = transfer_id(&id)?;
    let received = body
        .0
        .and_then(|body| body.value.received)
        .map(|raw| Counted::parse("received", raw))
        .transpose()?;
    let (view, _) = transfers::receive(&state.pool, id, received).await?;
    refresh(&state, std::slice::from_ref(&view)).await;
    Ok(web::Json(view))
}

/// Cancel a planned transfer (one that serves an order goes with its order).
#[utoipa::path(tag = "transfers", params(("id" = i64, Path)),
    responses((status = 200, body = TransferView), (status = 409, body = ApiError)))]
#[post("/v1/transfers/{id}/cancel")]
pub async fn cancel(
    state: web::Data<State>,
    id: web::Path<String>,
) -> Result<web::Json<TransferView>, ApiError> {
    let (view, _) = transfers::cancel(&state.pool, transfer_id(&id)?).await?;
    refresh(&state, std::slice::from_ref(&view)).await;
    Ok(web::Json(view))
}
