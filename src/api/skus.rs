use super::error::ApiError;
use super::extract::Json;
use super::State;
use crate::domain::codes::SkuCode;
use crate::domain::sku::{Sku, SkuBody};
use crate::ledger::locations::Upserted;
use crate::ledger::skus;
use actix_web::{get, put, web, HttpResponse};
use serde::Serialize;
use serde_json::{Map, Value};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(put_sku).service(get_sku);
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SkuView {
    pub code: String,
    pub name: String,
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
}

impl From<Sku> for SkuView {
    fn from(sku: Sku) -> Self {
        Self {
            code: sku.code.to_string(),
            name: sku.name,
            attributes: sku.attributes,
        }
    }
}

/// Create or update a SKU.
#[utoipa::path(
    tag = "skus",
    request_body = SkuBody,
    params(("code" = String, Path, description = "SKU code")),
    responses(
        (status = 201, description = "Created", body = SkuView),
        (status = 200, description = "Updated", body = SkuView),
        (status = 422, description = "Invalid field", body = ApiError),
    )
)]
#[put("/v1/skus/{code}")]
pub async fn put_sku(
    state: web::Data<State>,
    code: web::Path<String>,
    body: Json<SkuBody>,
) -> Result<HttpResponse, ApiError> {
    let code = SkuCode::parse("code", &code)?;
    let sku = body.value.parse(code)?;
    let client = state.client().await?;
    let upserted = skus::upsert_many(&client, std::slice::from_ref(&sku)).await?;
    let view = SkuView::from(sku);
    Ok(match upserted.first() {
        Some(Upserted::Created) => HttpResponse::Created().json(view),
        _ => HttpResponse::Ok().json(view),
    })
}

/// Read a SKU.
#[utoipa::path(
    tag = "skus",
    params(("code" = String, Path, description = "SKU code")),
    responses((status = 200, body = SkuView), (status = 404, body = ApiError))
)]
#[get("/v1/skus/{code}")]
pub async fn get_sku(
    state: web::Data<State>,
    code: web::Path<String>,
) -> Result<web::Json<SkuView>, ApiError> {
    let code = SkuCode::parse("code", &code)?;
    let client = state.client().await?;
    let (_, sku) = skus::get(&client, &code)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no SKU '{code}'")))?;
    Ok(web::Json(sku.into()))
}
