use super::error::ApiError;
use super::State;
use crate::app::queries;
use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::geo::Point;
use crate::domain::location::LocationKind;
use crate::domain::Invalid;
use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(stock_of_sku);
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StockQuery {
    /// Sort by distance from this point: `LAT,LON`.
    #[param(value_type = Option<crate::domain::geo::LatLon>)]
    pub near: Option<String>,
    /// Sort by distance from this store (its code); not with `near`.
    #[param(value_type = Option<LocationCode>)]
    pub store: Option<String>,
    /// The ledger as it stood at this instant (RFC 3339); live holds are not historical.
    pub as_of: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SkuStock {
    pub sku: String,
    pub name: String,
    pub as_of: Option<DateTime<Utc>>,
    /// True when Redis could not be asked: `held` then shows 0 and `available` may be high.
    pub holds_unavailable: bool,
    pub locations: Vec<LocationStock>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LocationStock {
    pub location: String,
    pub name: String,
    pub kind: LocationKind,
    /// Kilometres from `near` or `store`; absent when neither was given.
    pub distance_km: Option<f64>,
    pub on_hand: i64,
    pub allocated: i64,
    pub held: i64,
    pub in_transit: i64,
    pub safety_stock: i64,
    /// on hand − allocated − held − safety stock, never below 0.
    pub available: i64,
}

/// Where a SKU is, nearest first: every location with stock of it, with all its figures.
#[utoipa::path(
    tag = "stock",
    params(("sku" = SkuCode, Path, description = "SKU code"), StockQuery),
    responses((status = 200, body = SkuStock), (status = 404, body = ApiError), (status = 422, body = ApiError))
)]
#[get("/v1/stock/{sku}")]
pub async fn stock_of_sku(
    state: web::Data<State>,
    sku: web::Path<String>,
    query: web::Query<StockQuery>,
) -> Result<web::Json<SkuStock>, ApiError> {
    let sku = SkuCode::parse("sku", &sku)?;
    let query = query.into_inner();
    let origin = match (&query.near, &query.store) {
        (Some(_), Some(_)) => {
            return Err(Invalid::new("store", "give either near or store, not both").into())
        }
        (_, Some(store)) => {
            let code = LocationCode::parse("store", store)?;
            match queries::location(&state, &code).await? {
                Some(location) => Some(location.point),
                None => {
                    return Err(
                        ApiError::not_found(format!("no location '{code}'")).with_field("store")
                    )
                }
            }
        }
        (Some(near), None) => Some(Point::parse_pair("near", near)?),
        (None, None) => None,
    };
    let answer = queries::stock(&state, &sku, query.as_of)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no SKU '{sku}'")))?;
    let mut locations: Vec<LocationStock> = answer
        .rows
        .into_iter()
        .map(|row| LocationStock {
            distance_km: origin.map(|origin| round_km(origin.distance_km(row.location.point))),
            location: row.location.code.to_string(),
            name: row.location.name.clone(),
            kind: row.location.kind,
            on_hand: row.balance.on_hand,
            allocated: row.balance.allocated,
            held: row.held,
            in_transit: row.balance.in_transit,
            safety_stock: row.location.safety_stock,
            available: row.balance.available(row.held, row.location.safety_stock),
        })
        .collect();
    locations.sort_by(|a, b| {
        a.distance_km
            .unwrap_or(0.0)
            .total_cmp(&b.distance_km.unwrap_or(0.0))
            .then_with(|| a.location.cmp(&b.location))
    });
    Ok(web::Json(SkuStock {
        sku: sku.to_string(),
        name: answer.name,
        as_of: query.as_of,
        holds_unavailable: answer.holds_unavailable,
        locations,
    }))
}

fn round_km(km: f64) -> f64 {
    (km * 100.0).round() / 100.0
}
