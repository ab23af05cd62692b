use super::error::ApiError;
use super::extract::{next_page, page_limit, Cursor, PageLimit};
use super::State;
use crate::app::queries::{self, DiscrepancyRow, Listing};
use crate::domain::codes::{LocationCode, SkuCode};
use actix_web::{get, web};
use serde::{Deserialize, Serialize};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list_discrepancies);
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DiscrepancyQuery {
    #[param(value_type = Option<LocationCode>)]
    pub location: Option<String>,
    #[param(value_type = Option<SkuCode>)]
    pub sku: Option<String>,
    #[param(value_type = Option<Cursor>)]
    pub after: Option<i64>,
    #[param(value_type = Option<PageLimit>)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DiscrepancyPage {
    pub items: Vec<DiscrepancyRow>,
    pub next_after: Option<i64>,
}

/// Conflicts between what happened and what was promised, for a person to resolve.
#[utoipa::path(
    tag = "movements",
    params(DiscrepancyQuery),
    responses((status = 200, body = DiscrepancyPage), (status = 404, body = ApiError))
)]
#[get("/v1/discrepancies")]
pub async fn list_discrepancies(
    state: web::Data<State>,
    query: web::Query<DiscrepancyQuery>,
) -> Result<web::Json<DiscrepancyPage>, ApiError> {
    let query = query.into_inner();
    let limit = page_limit(query.limit)?;
    let listing = Listing {
        location: query.location.as_deref(),
        sku: query.sku.as_deref(),
        after: query.after,
        limit,
    };
    let items = queries::discrepancies(&state, listing).await?;
    let next_after = next_page(&items, limit, |item| item.id);
    Ok(web::Json(DiscrepancyPage { items, next_after }))
}
