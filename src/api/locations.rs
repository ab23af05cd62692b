use super::error::ApiError;
use super::extract::{next_page, page_limit, Json, PageLimit};
use super::State;
use crate::app::catalog::{self, Upserted};
use crate::app::queries::{self, SkuBalance};
use crate::domain::access::Principal;
use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::location::{Location, LocationBody, LocationKind};
use actix_web::{get, put, web, HttpResponse};
use serde::{Deserialize, Serialize};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list_locations)
        .service(put_location)
        .service(get_location)
        .service(location_stock);
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LocationView {
    pub code: String,
    pub name: String,
    pub kind: LocationKind,
    pub latitude: f64,
    pub longitude: f64,
    pub pickup: bool,
    pub ship: bool,
    pub safety_stock: i64,
    /// Handling cost per unit here, overriding the cost model's.
    pub handling_per_unit: Option<f64>,
    /// Units it can pick per day for online orders (absent: no limit).
    pub pick_capacity_per_day: Option<i64>,
    /// Whether it may send transfers to other stores.
    pub transfers_out: bool,
    /// `low_stock` fires when available falls below this (0: never).
    pub low_stock_below: i64,
}

impl From<Location> for LocationView {
    fn from(location: Location) -> Self {
        Self {
            code: location.code.to_string(),
            name: location.name,
            kind: location.kind,
            latitude: location.point.latitude,
            longitude: location.point.longitude,
            pickup: location.pickup,
            ship: location.ship,
            safety_stock: location.safety_stock,
            handling_per_unit: location.handling_per_unit,
            pick_capacity_per_day: location.pick_capacity_per_day,
            transfers_out: location.transfers_out,
            low_stock_below: location.low_stock_below,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LocationsQuery {
    /// `store` or `warehouse` (default both).
    #[param(value_type = Option<LocationKind>)]
    pub kind: Option<String>,
    /// The `next` of the previous page (the last code it showed).
    #[param(value_type = Option<LocationCode>)]
    pub after: Option<String>,
    /// Locations per page.
    #[param(value_type = Option<PageLimit>)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LocationList {
    /// By code.
    pub locations: Vec<LocationView>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Every location, by code (a chain has hundreds to a few thousand).
#[utoipa::path(tag = "locations", params(LocationsQuery),
    responses((status = 200, body = LocationList), (status = 422, body = ApiError)))]
#[get("/v1/locations")]
pub async fn list_locations(
    state: web::Data<State>,
    query: web::Query<LocationsQuery>,
) -> Result<web::Json<LocationList>, ApiError> {
    let kind = match query.kind.as_deref() {
        None => None,
        Some(raw) => Some(
            LocationKind::from_db(raw)
                .ok_or_else(|| crate::domain::Invalid::new("kind", "must be store or warehouse"))?,
        ),
    };
    let after = query
        .after
        .as_deref()
        .map(|raw| LocationCode::parse("after", raw))
        .transpose()?;
    let limit = page_limit(query.limit)?;
    let locations = queries::locations(&state, kind, after.as_ref(), limit).await?;
    let next = next_page(&locations, limit, |location| location.code.to_string());
    Ok(web::Json(LocationList {
        locations: locations.into_iter().map(LocationView::from).collect(),
        next,
    }))
}

/// Create or update a store or warehouse.
#[utoipa::path(
    tag = "locations",
    request_body = LocationBody,
    params(("code" = LocationCode, Path, description = "Location code")),
    responses(
        (status = 201, description = "Created", body = LocationView),
        (status = 200, description = "Updated", body = LocationView),
        (status = 422, description = "Invalid field", body = ApiError),
    )
)]
#[put("/v1/locations/{code}")]
pub async fn put_location(
    state: web::Data<State>,
    by: Principal,
    code: web::Path<String>,
    body: Json<LocationBody>,
) -> Result<HttpResponse, ApiError> {
    let code = LocationCode::parse("code", &code)?;
    let location = body.value.parse(code)?;
    let upserted = catalog::put_location(&state, &by, &location).await?;
    let view = LocationView::from(location);
    Ok(match upserted {
        Upserted::Created => HttpResponse::Created().json(view),
        Upserted::Updated => HttpResponse::Ok().json(view),
    })
}

/// Read a location.
#[utoipa::path(
    tag = "locations",
    params(("code" = LocationCode, Path, description = "Location code")),
    responses((status = 200, body = LocationView), (status = 404, body = ApiError))
)]
#[get("/v1/locations/{code}")]
pub async fn get_location(
    state: web::Data<State>,
    code: web::Path<String>,
) -> Result<web::Json<LocationView>, ApiError> {
    let code = LocationCode::parse("code", &code)?;
    Ok(web::Json(
        queries::location_record(&state, &code).await?.into(),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StockPageQuery {
    /// Continue after this SKU code (the `next_after` of the previous page).
    #[param(value_type = Option<SkuCode>)]
    pub after: Option<String>,
    #[param(value_type = Option<PageLimit>)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LocationStockPage {
    pub location: String,
    pub items: Vec<SkuBalance>,
    /// Pass as `after` to read the next page; absent on the last page.
    pub next_after: Option<String>,
}

/// A location's stock, one page at a time, by SKU code.
#[utoipa::path(
    tag = "stock",
    params(("code" = LocationCode, Path, description = "Location code"), StockPageQuery),
    responses((status = 200, body = LocationStockPage), (status = 404, body = ApiError))
)]
#[get("/v1/locations/{code}/stock")]
pub async fn location_stock(
    state: web::Data<State>,
    code: web::Path<String>,
    query: web::Query<StockPageQuery>,
) -> Result<web::Json<LocationStockPage>, ApiError> {
    let code = LocationCode::parse("code", &code)?;
    let after = query
        .after
        .as_deref()
        .map(|raw| SkuCode::parse("after", raw))
        .transpose()?;
    let limit = page_limit(query.limit)?;
    let items = queries::location_stock(&state, &code, after.as_ref(), limit).await?;
    let next_after = next_page(&items, limit, |item| item.sku.clone());
    Ok(web::Json(LocationStockPage {
        location: code.to_string(),
        items,
        next_after,
    }))
}
