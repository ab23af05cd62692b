use super::error::{ApiError, Code};
use super::extract::Json;
use super::State;
use crate::app::holds;
use crate::domain::access::Principal;
use crate::domain::hold::{parse_ttl, HoldBody, HoldTtl, HoldView};
use actix_web::{delete, get, post, web, HttpResponse};
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(place)
        .service(read)
        .service(extend)
        .service(confirm)
        .service(release);
}

/// Hold stock for a cart or an order being placed: every line or none.
///
/// A retry with the same `client_id` and lines returns the same hold (200).
#[utoipa::path(
    tag = "holds",
    request_body = HoldBody,
    responses(
        (status = 201, description = "Held", body = HoldView),
        (status = 200, description = "The earlier hold of this client_id", body = HoldView),
        (status = 409, description = "Short lines, with what is available", body = ApiError),
        (status = 422, description = "Invalid field", body = ApiError),
        (status = 503, description = "Redis unreachable", body = ApiError),
    )
)]
#[post("/v1/holds")]
pub async fn place(
    state: web::Data<State>,
    by: Principal,
    body: Json<HoldBody>,
) -> Result<HttpResponse, ApiError> {
    let request = body.value.parse()?;
    let (hold, replayed) = holds::place(&state, &by, &request).await?;
    Ok(if replayed {
        HttpResponse::Ok().json(hold)
    } else {
        HttpResponse::Created().json(hold)
    })
}

fn hold_id(raw: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(raw)
        .map(|id| id.to_string())
        .map_err(|_| crate::domain::Invalid::new("id", "must be a hold id (UUID)").into())
}

/// Read a hold and how it stands.
#[utoipa::path(
    tag = "holds",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = HoldView), (status = 404, body = ApiError), (status = 503, body = ApiError))
)]
#[get("/v1/holds/{id}")]
pub async fn read(
    state: web::Data<State>,
    id: web::Path<String>,
) -> Result<web::Json<HoldView>, ApiError> {
    Ok(web::Json(holds::get(&state, &hold_id(&id)?).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendBody {
    #[schema(value_type = HoldTtl)]
    pub ttl_s: i64,
}

/// Keep a live hold for `ttl_s` more seconds from now (e.g. while a payment runs).
#[utoipa::path(
    tag = "holds",
    params(("id" = uuid::Uuid, Path)),
    request_body = ExtendBody,
    responses((status = 200, body = HoldView), (status = 404, body = ApiError), (status = 409, body = ApiError))
)]
#[post("/v1/holds/{id}/extend")]
pub async fn extend(
    state: web::Data<State>,
    by: Principal,
    id: web::Path<String>,
    body: Json<ExtendBody>,
) -> Result<web::Json<HoldView>, ApiError> {
    let ttl_ms = parse_ttl("ttl_s", body.value.ttl_s)?;
    Ok(web::Json(
        holds::extend(&state, &by, &hold_id(&id)?, ttl_ms).await?,
    ))
}

/// Gone: a confirmed hold left allocated units that no order owned. Place the order with the
/// hold instead (`POST /v1/orders` with `hold_id`): it consumes the hold, once.
#[utoipa::path(
    tag = "holds",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 410, description = "Order with `hold_id` instead", body = ApiError))
)]
#[post("/v1/holds/{id}/confirm")]
pub async fn confirm(id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    hold_id(&id)?;
    Err(ApiError::new(
        Code::Gone,
        "confirming a hold is replaced by placing its order: POST /v1/orders with hold_id",
    ))
}

/// Release a live hold.
#[utoipa::path(
    tag = "holds",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = HoldView), (status = 404, body = ApiError), (status = 409, body = ApiError))
)]
#[delete("/v1/holds/{id}")]
pub async fn release(
    state: web::Data<State>,
    by: Principal,
    id: web::Path<String>,
) -> Result<web::Json<HoldView>, ApiError> {
    Ok(web::Json(
        holds::release(&state, &by, &hold_id(&id)?).await?,
    ))
}
