//! `/openapi.json`, generated from the handlers' annotations.

use super::{
    credentials, discrepancies, error, holds, locations, movements, ops, orders, plans, skus,
    stock, transfers,
};
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
        credentials::sign_in,
        credentials::whoami,
        credentials::sign_out,
        credentials::create_key,
        credentials::list_keys,
        credentials::revoke_key,
        credentials::create_user,
        credentials::list_users,
        credentials::disable_user,
        locations::list_locations,
        locations::put_location,
        locations::get_location,
        locations::location_stock,
        skus::search_skus,
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
        orders::promise,
        orders::place,
        orders::read,
        orders::cancel,
        orders::fulfil,
        orders::pickups,
        orders::returns,
        orders::attribution,
        transfers::create,
        transfers::list,
        transfers::read,
        transfers::ship,
        transfers::receive,
        transfers::cancel,
        plans::rebalance,
        plans::replenishment,
        plans::list,
        plans::read,
        plans::commit,
        plans::chart,
        plans::report_csv,
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
