use super::error::ApiError;
use super::extract::Json;
use super::State;
use crate::app::catalog::{self, Upserted};
use crate::app::queries;
use crate::domain::access::Principal;
use crate::domain::codes::SkuCode;
use crate::domain::schema::{integer, schema_rule, text};
use crate::domain::sku::{Sku, SkuBody};
use crate::domain::Invalid;
use actix_web::{get, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(search_skus).service(put_sku).service(get_sku);
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// The start of a SKU code, or of its name (any case).
    #[param(value_type = SearchPrefix, required = true)]
    pub q: Option<String>,
    /// At most this many.
    #[param(value_type = Option<SearchLimit>)]
    pub limit: Option<i64>,
}

/// Longest prefix a search takes, in characters.
pub const SEARCH_PREFIX_LENGTH_MAX: usize = 64;
pub const SEARCH_LIMIT_DEFAULT: i64 = 20;
pub const SEARCH_LIMIT_MAX: i64 = 100;

schema_rule!(
    /// The start of a SKU code or name.
    SearchPrefix = text(SEARCH_PREFIX_LENGTH_MAX).examples(["TSHIRT"])
);
schema_rule!(
    /// Matches per answer.
    SearchLimit = integer(1, SEARCH_LIMIT_MAX).default(Some(SEARCH_LIMIT_DEFAULT.into()))
);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SkuMatch {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SkuMatches {
    pub skus: Vec<SkuMatch>,
}

/// Search SKUs by the start of their code or name, for a search box.
#[utoipa::path(tag = "skus", params(SearchQuery),
    responses((status = 200, body = SkuMatches), (status = 422, body = ApiError)))]
#[get("/v1/skus")]
pub async fn search_skus(
    state: web::Data<State>,
    query: web::Query<SearchQuery>,
) -> Result<web::Json<SkuMatches>, ApiError> {
    let prefix = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .ok_or_else(|| Invalid::new("q", "give the start of a SKU code or name"))?;
    if prefix.chars().count() > SEARCH_PREFIX_LENGTH_MAX || prefix.chars().any(char::is_control) {
        return Err(Invalid::new(
            "q",
            format!(
                "must be at most {SEARCH_PREFIX_LENGTH_MAX} characters, none of them control characters"
            ),
        )
        .into());
    }
    let limit = match query.limit {
        None => SEARCH_LIMIT_DEFAULT,
        Some(limit @ 1..=SEARCH_LIMIT_MAX) => limit,
        Some(_) => {
            return Err(
                Invalid::new("limit", format!("must be from 1 to {SEARCH_LIMIT_MAX}")).into(),
            )
        }
    };
    let skus = queries::search_skus(&state, prefix, limit).await?;
    Ok(web::Json(SkuMatches {
        skus: skus
            .into_iter()
            .map(|(code, name)| SkuMatch { code, name })
            .collect(),
    }))
}

/// Create or update a SKU.
#[utoipa::path(
    tag = "skus",
    request_body = SkuBody,
    params(("code" = SkuCode, Path, description = "SKU code")),
    responses(
        (status = 201, description = "Created", body = SkuView),
        (status = 200, description = "Updated", body = SkuView),
        (status = 422, description = "Invalid field", body = ApiError),
    )
)]
#[put("/v1/skus/{code}")]
pub async fn put_sku(
    state: web::Data<State>,
    by: Principal,
    code: web::Path<String>,
    body: Json<SkuBody>,
) -> Result<HttpResponse, ApiError> {
    let code = SkuCode::parse("code", &code)?;
    let sku = body.value.parse(code)?;
    let upserted = catalog::put_sku(&state, &by, &sku).await?;
    let view = SkuView::from(sku);
    Ok(match upserted {
        Upserted::Created => HttpResponse::Created().json(view),
        Upserted::Updated => HttpResponse::Ok().json(view),
    })
}

/// Read a SKU.
#[utoipa::path(
    tag = "skus",
    params(("code" = SkuCode, Path, description = "SKU code")),
    responses((status = 200, body = SkuView), (status = 404, body = ApiError))
)]
#[get("/v1/skus/{code}")]
pub async fn get_sku(
    state: web::Data<State>,
    code: web::Path<String>,
) -> Result<web::Json<SkuView>, ApiError> {
    let code = SkuCode::parse("code", &code)?;
    Ok(web::Json(queries::sku(&state, &code).await?.into()))
}
