//! HTTP only: parse requests into domain types, call the application layer (`crate::app`),
//! shape responses. One module per resource, each with its `configure`. Nothing here knows
//! PostgreSQL, Redis or the solver.

pub mod access;
pub mod costs;
pub mod credentials;
pub mod discrepancies;
pub mod error;
pub mod events;
pub mod extract;
pub mod holds;
pub mod locations;
pub mod movements;
pub mod openapi;
pub mod ops;
pub mod orders;
pub mod pages;
pub mod plans;
pub mod skus;
pub mod stock;
pub mod transfers;
pub mod webhooks;

use actix_web::web;

/// What every handler may use: the application layer.
pub use crate::app::App as State;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(extract::query_error))
        .app_data(web::PathConfig::default().error_handler(extract::path_error))
        // Routes are matched in this order: the hot paths (clerk lookups, holds) come first.
        .configure(stock::configure)
        .configure(holds::configure)
        .configure(ops::configure)
        .configure(credentials::configure)
        .configure(openapi::configure)
        .configure(locations::configure)
        .configure(skus::configure)
        .configure(costs::configure)
        .configure(movements::configure)
        .configure(discrepancies::configure)
        .configure(events::configure)
        .configure(orders::configure)
        .configure(transfers::configure)
        .configure(plans::configure)
        .configure(webhooks::configure)
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
