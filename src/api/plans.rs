//! Planning runs over HTTP: start a replenishment or rebalance (a dry run unless `commit`),
//! read stored plans, commit a proposal, and draw a SKU's stock spread.

use super::error::{ApiError, Code};
use super::extract::{page_limit, Json, PageLimit, PAGE_LIMIT_DEFAULT};
use super::State;
use crate::app::plans::{self, Kind, LineView, Outcome, PlanSummary, RebalanceParams};
use crate::app::plans::{ReplenishParams, Run};
use crate::app::queries::LineCursor;
use crate::app::{queries, Result as AppResult};
use crate::domain::access::Principal;
use crate::domain::Invalid;

use actix_web::{get, post, web, HttpResponse};
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(rebalance)
        .service(replenishment)
        .service(list)
        .service(read)
        .service(commit)
        .service(chart)
        .service(report_csv);
}

/// How long a request waits for its run before answering 202 (the run goes on).
const WAIT: Duration = Duration::from_secs(25);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanView {
    #[serde(flatten)]
    pub plan: PlanSummary,
    /// What the request did: planned, resumed a killed run, or (absent) only read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// One page of the plan's lines, best (highest net) first.
    pub transfers: Vec<LineView>,
    /// Pass as `after` for the next page of lines; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StillRunning {
    pub message: String,
}

async fn respond(
    state: &State,
    kind: Kind,
    run: tokio::task::JoinHandle<AppResult<Run>>,
) -> Result<HttpResponse, ApiError> {
    let run = match tokio::time::timeout(WAIT, run).await {
        Err(_) => {
            let message = format!(
                "still planning; GET /v1/plans?kind={} shows the plan when it is done",
                kind.as_str()
            );
            return Ok(HttpResponse::Accepted().json(StillRunning { message }));
        }
        Ok(joined) => joined.map_err(|error| ApiError::internal(&error))??,
    };
    if run.outcome == Outcome::AlreadyCommitted {
        return Err(ApiError::new(
            Code::AlreadyCommitted,
            format!(
                "plan {} for {} is committed already; this run did nothing",
                run.plan.id, run.plan.date
            ),
        )
        .with_field("date"));
    }
    let (transfers, next) = queries::plan_lines(state, run.plan.id, PAGE_LIMIT_DEFAULT).await?;
    Ok(HttpResponse::Created().json(PlanView {
        plan: run.plan,
        outcome: Some(run.outcome),
        transfers,
        next: next.map(|cursor| cursor.to_string()),
    }))
}

/// Plan the store-to-store rebalance for a night (one committed plan per night).
#[utoipa::path(tag = "plans", request_body = RebalanceParams,
    responses((status = 201, body = PlanView), (status = 202, body = StillRunning),
              (status = 409, body = ApiError), (status = 422, body = ApiError)))]
#[post("/v1/plans/rebalance")]
pub async fn rebalance(
    state: web::Data<State>,
    by: Principal,
    body: Json<RebalanceParams>,
) -> Result<HttpResponse, ApiError> {
    let params = body.value;
    params.validated()?;
    let app = state.clone().into_inner();
    let run =
        tokio::spawn(
            async move { plans::rebalance(&app, &by, &params, &ProgressBar::hidden()).await },
        );
    respond(&state, Kind::Rebalance, run).await
}

/// Plan the warehouse-to-stores replenishment for a day (one committed plan per day).
#[utoipa::path(tag = "plans", request_body = ReplenishParams,
    responses((status = 201, body = PlanView), (status = 202, body = StillRunning),
              (status = 409, body = ApiError), (status = 422, body = ApiError)))]
#[post("/v1/plans/replenishment")]
pub async fn replenishment(
    state: web::Data<State>,
    by: Principal,
    body: Json<ReplenishParams>,
) -> Result<HttpResponse, ApiError> {
    let params = body.value;
    params.validated()?;
    let app = state.clone().into_inner();
    let run =
        tokio::spawn(
            async move { plans::replenish(&app, &by, &params, &ProgressBar::hidden()).await },
        );
    respond(&state, Kind::Replenishment, run).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `rebalance` or `replenishment` (default both).
    #[param(value_type = Option<Kind>)]
    pub kind: Option<String>,
    #[param(value_type = Option<PageLimit>)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanList {
    pub plans: Vec<PlanSummary>,
}

/// The newest plans first.
#[utoipa::path(tag = "plans", params(ListQuery),
    responses((status = 200, body = PlanList), (status = 422, body = ApiError)))]
#[get("/v1/plans")]
pub async fn list(
    state: web::Data<State>,
    query: web::Query<ListQuery>,
) -> Result<web::Json<PlanList>, ApiError> {
    let kind = query
        .kind
        .as_deref()
        .map(|raw| Kind::parse("kind", raw))
        .transpose()?;
    let limit = page_limit(query.limit)?;
    Ok(web::Json(PlanList {
        plans: queries::plans(&state, kind, limit).await?,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReadQuery {
    /// Only lines from or to this location.
    #[param(value_type = Option<crate::domain::codes::LocationCode>)]
    pub store: Option<String>,
    /// Only lines of this SKU.
    #[param(value_type = Option<crate::domain::codes::SkuCode>)]
    pub sku: Option<String>,
    /// The `next` of the previous page.
    #[param(value_type = Option<LineCursorText>)]
    pub after: Option<String>,
    /// Lines per page.
    #[param(value_type = Option<PageLimit>)]
    pub limit: Option<i64>,
}

crate::domain::schema::schema_rule!(
    /// Where a page of plan lines starts: `NET_SKU_FROM_TO` as the previous page's `next` spells
    /// it (`LineCursor`'s `Display`).
    LineCursorText = utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(
            r"^-?[0-9]{1,15}(\.[0-9]{1,15})?(_-?[0-9]{1,18}){3}$"
        ))
        .examples(["-120.5_17_3_9"])
);

/// A stored plan with its lines, best first.
#[utoipa::path(tag = "plans", params(("id" = i64, Path), ReadQuery),
    responses((status = 200, body = PlanView), (status = 404, body = ApiError)))]
#[get("/v1/plans/{id}")]
pub async fn read(
    state: web::Data<State>,
    id: web::Path<i64>,
    query: web::Query<ReadQuery>,
) -> Result<web::Json<PlanView>, ApiError> {
    let (store, sku) = (query.store.as_deref(), query.sku.as_deref());
    let after = match query.after.as_deref() {
        None => None,
        Some(raw) => Some(
            LineCursor::parse(raw)
                .ok_or_else(|| Invalid::new("after", "must be the `next` of a previous page"))?,
        ),
    };
    let limit = page_limit(query.limit)?;
    let (plan, transfers, next) = queries::plan(&state, *id, (store, sku), (after, limit)).await?;
    Ok(web::Json(PlanView {
        plan,
        outcome: None,
        transfers,
        next: next.map(|cursor| cursor.to_string()),
    }))
}

/// Commit a proposed plan: its lines become transfers. Idempotent.
#[utoipa::path(tag = "plans", params(("id" = i64, Path)),
    responses((status = 200, body = PlanView), (status = 404, body = ApiError),
              (status = 409, body = ApiError)))]
#[post("/v1/plans/{id}/commit")]
pub async fn commit(
    state: web::Data<State>,
    by: Principal,
    id: web::Path<i64>,
) -> Result<web::Json<PlanView>, ApiError> {
    let plan = plans::commit(&state, &by, *id, &ProgressBar::hidden()).await?;
    let (transfers, next) = queries::plan_lines(&state, plan.id, PAGE_LIMIT_DEFAULT).await?;
    Ok(web::Json(PlanView {
        plan,
        outcome: None,
        transfers,
        next: next.map(|cursor| cursor.to_string()),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChartQuery {
    /// The SKU to draw (default: the one with the most units moved).
    #[param(value_type = Option<crate::domain::codes::SkuCode>)]
    pub sku: Option<String>,
}

/// The stock spread of one SKU across the locations the plan touches, before and after (SVG).
#[utoipa::path(tag = "plans", params(("id" = i64, Path), ChartQuery),
    responses((status = 200, content_type = "image/svg+xml", body = String),
              (status = 404, body = ApiError)))]
#[get("/v1/plans/{id}/chart.svg")]
pub async fn chart(
    state: web::Data<State>,
    id: web::Path<i64>,
    query: web::Query<ChartQuery>,
) -> Result<HttpResponse, ApiError> {
    let svg = queries::plan_chart(&state, *id, query.sku.as_deref()).await?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}

/// The plan's lines as CSV, one proposed transfer a row.
#[utoipa::path(tag = "plans", params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String),
              (status = 404, body = ApiError)))]
#[get("/v1/plans/{id}/report.csv")]
pub async fn report_csv(
    state: web::Data<State>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (plan, csv) = queries::plan_csv(&state, *id).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"{}-{}-plan-{}.csv\"",
                plan.kind, plan.date, plan.id
            ),
        ))
        .body(csv))
}
