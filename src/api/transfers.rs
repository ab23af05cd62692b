//! Transfers: a clerk's "bring 2 of SKU X to my store", and the planned → shipped → received
//! lifecycle of every transfer.

use super::error::ApiError;
use super::extract::{next_page, page_limit, Cursor, Json, OptionalJson, PageLimit, PositiveId};
use super::State;
use crate::app::queries::{self, Listing};
use crate::app::transfers::{self, Created, Reason, TransferRequest, TransferView};
use crate::app::Reply;
use crate::domain::access::Principal;
use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::order::TransferStatus;
use crate::domain::quantity::{Counted, Qty};
use crate::domain::Invalid;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

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
#[schema(example = json!({"sku": "TSHIRT-BLK-M", "qty": 2, "to": "TPE-001", "from": "TPE-002"}))]
pub struct TransferBody {
    #[schema(value_type = SkuCode)]
    pub sku: String,
    #[schema(value_type = Qty)]
    pub qty: i64,
    /// The store that needs the units.
    #[schema(value_type = LocationCode)]
    pub to: String,
    /// Where they come from (not `to`); when absent the optimiser chooses (possibly several
    /// sources).
    #[schema(value_type = Option<LocationCode>)]
    pub from: Option<String>,
}

/// Request units for a store, from a given location or from wherever the optimiser says.
#[utoipa::path(tag = "transfers", request_body = TransferBody,
    params(("Idempotency-Key" = Option<IdempotencyKey>, Header, description = "Makes retries safe (a double click sends one request)")),
    responses((status = 201, body = Created), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
#[post("/v1/transfers")]
pub async fn create(
    state: web::Data<State>,
    by: Principal,
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
    let request = TransferRequest { sku, qty, to, from };
    Ok(
        match transfers::request(&state, &by, key.as_ref(), &request).await? {
            Reply::Fresh(created) => HttpResponse::Created().json(created),
            Reply::Replayed(document) => HttpResponse::Created()
                .insert_header(("Idempotent-Replayed", "true"))
                .json(document),
        },
    )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TransferQuery {
    /// Transfers from or to this location.
    #[param(value_type = Option<LocationCode>)]
    pub location: Option<String>,
    #[param(value_type = Option<TransferStatus>)]
    pub status: Option<String>,
    #[param(value_type = Option<Reason>)]
    pub reason: Option<String>,
    #[param(value_type = Option<Cursor>)]
    pub after: Option<i64>,
    #[param(value_type = Option<PageLimit>)]
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
    let status = query
        .status
        .as_deref()
        .map(|raw| TransferStatus::parse("status", raw))
        .transpose()?;
    let reason = query
        .reason
        .as_deref()
        .map(|raw| Reason::parse("reason", raw))
        .transpose()?;
    if let Some(location) = &query.location {
        LocationCode::parse("location", location)?;
    }
    let listing = Listing {
        location: query.location.as_deref(),
        after: query.after,
        limit,
        ..Listing::default()
    };
    let items = queries::transfers(&state, listing, status, reason).await?;
    let next_after = next_page(&items, limit, |t| t.id);
    Ok(web::Json(TransferPage { items, next_after }))
}

fn transfer_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Invalid::new("id", "must be a transfer id (a positive number)").into())
}

#[utoipa::path(tag = "transfers", params(("id" = PositiveId, Path)),
    responses((status = 200, body = TransferView), (status = 404, body = ApiError)))]
#[get("/v1/transfers/{id}")]
pub async fn read(
    state: web::Data<State>,
    id: web::Path<String>,
) -> Result<web::Json<TransferView>, ApiError> {
    let id = transfer_id(&id)?;
    Ok(web::Json(queries::transfer(&state, id).await?))
}

/// The units leave the source: off its on hand, in transit at the destination.
#[utoipa::path(tag = "transfers", params(("id" = PositiveId, Path)),
    responses((status = 200, body = TransferView), (status = 409, body = ApiError)))]
#[post("/v1/transfers/{id}/ship")]
pub async fn ship(
    state: web::Data<State>,
    by: Principal,
    id: web::Path<String>,
) -> Result<web::Json<TransferView>, ApiError> {
    Ok(web::Json(
        transfers::ship(&state, &by, transfer_id(&id)?).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveBody {
    /// Units that arrived; all of them when absent. Missing units become a discrepancy.
    #[schema(value_type = Option<Counted>)]
    pub received: Option<i64>,
}

/// The units arrive at the destination.
#[utoipa::path(tag = "transfers", params(("id" = PositiveId, Path)), request_body = ReceiveBody,
    responses((status = 200, body = TransferView), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
#[post("/v1/transfers/{id}/receive")]
pub async fn receive(
    state: web::Data<State>,
    by: Principal,
    id: web::Path<String>,
    body: OptionalJson<ReceiveBody>,
) -> Result<web::Json<TransferView>, ApiError> {
    let id = transfer_id(&id)?;
    let received = body
        .0
        .and_then(|body| body.value.received)
        .map(|raw| Counted::parse("received", raw))
        .transpose()?;
    Ok(web::Json(
        transfers::receive(&state, &by, id, received).await?,
    ))
}

/// Cancel a planned transfer (one that serves an order goes with its order).
#[utoipa::path(tag = "transfers", params(("id" = PositiveId, Path)),
    responses((status = 200, body = TransferView), (status = 409, body = ApiError)))]
#[post("/v1/transfers/{id}/cancel")]
pub async fn cancel(
    state: web::Data<State>,
    by: Principal,
    id: web::Path<String>,
) -> Result<web::Json<TransferView>, ApiError> {
    Ok(web::Json(
        transfers::cancel(&state, &by, transfer_id(&id)?).await?,
    ))
}
