//! HTTP only: parse requests into domain types, call the ledger, shape responses. One module per
//! resource, each with its `configure`.

pub mod discrepancies;
pub mod error;
pub mod extract;
pub mod holds;
pub mod locations;
pub mod movements;
pub mod openapi;
pub mod ops;
// Its long functions are being rewritten (issue 14, item 7); remove this when clippy says
// the expectation is no longer met.
#[expect(clippy::too_many_lines)]
pub mod orders;
pub mod pages;
pub mod plans;
pub mod skus;
pub mod stock;
// Its long functions are being rewritten (issue 14, item 7); remove this when clippy says
// the expectation is no longer met.
#[expect(clippy::too_many_lines)]
pub mod transfers;

use crate::holds::Redis;
use actix_web::web;
use deadpool_postgres::Pool;

/// What every handler may use.
pub struct State {
    pub pool: Pool,
    pub redis: std::sync::Arc<Redis>,
    pub stock: crate::lookup::StockCache,
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(extract::query_error))
        .app_data(web::PathConfig::default().error_handler(extract::path_error))
        // Routes are matched in this order: the hot paths (clerk lookups, holds) come first.
        .configure(stock::configure)
        .configure(holds::configure)
        .configure(ops::configure)
        .configure(openapi::configure)
        .configure(locations::configure)
        .configure(skus::configure)
        .configure(movements::configure)
        .configure(discrepancies::configure)
        .configure(orders::configure)
        .configure(transfers::configure)
        .configure(plans::configure)
        .configure(pages::configure);
}

/// Parses a code from a path segment, naming the segment on failure.
pub fn path_code<T>(
    parse: fn(&str, &str) -> Result<T, crate::domain::Invalid>,
    field: &str,
    raw: &str,
) -> Result<T, error::ApiError> {
    parse(field, raw).map_err(error::ApiError::from)
}

impl State {
    pub async fn client(&self) -> Result<deadpool_postgres::Object, error::ApiError> {
        self.pool
            .get()
            .await
            .map_err(|error| crate::ledger::Error::from(error).into())
    }
}

/// Location and SKU filters of a listing, as ids: `None` when not given; an unknown code is a
/// 404 naming its field.
pub async fn filter_ids(
    client: &impl deadpool_postgres::GenericClient,
    location: Option<&str>,
    sku: Option<&str>,
) -> Result<(Option<i64>, Option<i64>), error::ApiError> {
    use crate::domain::codes::{LocationCode, SkuCode};
    use crate::ledger::stock::{id_of, IdTable};
    if let Some(location) = location {
        LocationCode::parse("location", location)?;
    }
    if let Some(sku) = sku {
        SkuCode::parse("sku", sku)?;
    }
    let location_id = id_of(client, IdTable::Locations, location).await?;
    if location_id == Some(None) {
        return Err(error::ApiError::not_found("no such location").with_field("location"));
    }
    let sku_id = id_of(client, IdTable::Skus, sku).await?;
    if sku_id == Some(None) {
        return Err(error::ApiError::not_found("no such SKU").with_field("sku"));
    }
    Ok((location_id.flatten(), sku_id.flatten()))
}
