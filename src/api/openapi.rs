//! `/openapi.json`, generated from the handlers' annotations.

use super::{discrepancies, error, holds, locations, movements, ops, skus, stock};
use actix_web::{get, web, HttpResponse};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Allot",
        description = "One stock ledger for every store and warehouse."
    ),
    paths(
        ops::health,
        ops::ready,
        locations::put_location,
        locations::get_location,
        locations::location_stock,
        skus::put_sku,
        skus::get_sku,
        movements::post_movements,
        movements::list_movements,
        stock::stock_of_sku,
        discrepancies::list_discrepancies,
        holds::place,
        holds::read,
        holds::extend,
        holds::confirm,
        holds::release,
    ),
    components(schemas(error::ApiError))
)]
pub struct ApiDoc;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(openapi_json);
}

#[get("/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
