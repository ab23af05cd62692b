use super::error::ApiError;
use super::extract::page_limit;
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
    /// The ledger as it stood at this instant (RFC 3339); live holds are not historical. An
    /// instant in a month retention detached from the ledger is refused (422).
    pub as_of: Option<DateTime<Utc>>,
    /// The `next` of the previous page.
    #[param(value_type = Option<StockCursorText>)]
    pub after: Option<String>,
    /// Locations per page.
    #[param(value_type = Option<crate::api::extract::PageLimit>)]
    pub limit: Option<i64>,
}

crate::domain::schema::schema_rule!(
    /// Where a page of a SKU's locations starts: `KM/CODE` as the previous page's `next` spells it.
    StockCursorText = utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(r"^[0-9]{1,5}(\.[0-9]{1,2})?/[A-Za-z0-9._-]{1,64}$"))
);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SkuStock {
    pub sku: String,
    pub name: String,
    pub as_of: Option<DateTime<Utc>>,
    /// True when Redis could not be asked: `held` then shows 0 and `available` may be high.
    pub holds_unavailable: bool,
    pub locations: Vec<LocationStock>,
    /// Pass as `after` for the next page (the nearer locations came first); absent on the
    /// last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
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
    let limit = page_limit(query.limit)?;
    let after = query.after.as_deref().map(Cursor::parse).transpose()?;
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
    locations.sort_by(|a, b| Cursor::of(a).cmp(&Cursor::of(b)));
    let (locations, next) = page(locations, after, limit);
    Ok(web::Json(SkuStock {
        sku: sku.to_string(),
        name: answer.name,
        as_of: query.as_of,
        holds_unavailable: answer.holds_unavailable,
        locations,
        next: next.map(|cursor| cursor.to_string()),
    }))
}

/// Where a page of locations ends: its last row's distance (0 without an origin) and code, the
/// order rows come in.
#[derive(Debug, Clone, PartialEq)]
struct Cursor {
    distance_km: f64,
    location: String,
}

impl Cursor {
    fn of(row: &LocationStock) -> Self {
        Self {
            distance_km: row.distance_km.unwrap_or(0.0),
            location: row.location.clone(),
        }
    }

    fn parse(raw: &str) -> Result<Self, Invalid> {
        let invalid = || Invalid::new("after", "must be the `next` of a previous page");
        let (distance, location) = raw.split_once('/').ok_or_else(invalid)?;
        let distance_km: f64 = distance.parse().map_err(|_| invalid())?;
        if !distance_km.is_finite() {
            return Err(invalid());
        }
        Ok(Self {
            distance_km,
            location: LocationCode::parse("after", location)?.to_string(),
        })
    }

    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.distance_km
            .total_cmp(&other.distance_km)
            .then_with(|| self.location.cmp(&other.location))
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.distance_km, self.location)
    }
}

/// The `limit` sorted rows after `after`, and the cursor of the next page when more follow.
fn page(
    rows: Vec<LocationStock>,
    after: Option<Cursor>,
    limit: i64,
) -> (Vec<LocationStock>, Option<Cursor>) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut rows: Vec<LocationStock> = rows
        .into_iter()
        .filter(|row| {
            after
                .as_ref()
                .is_none_or(|after| Cursor::of(row).cmp(after).is_gt())
        })
        .collect();
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = more.then(|| rows.last().map(Cursor::of)).flatten();
    (rows, next)
}

fn round_km(km: f64) -> f64 {
    (km * 100.0).round() / 100.0
}
