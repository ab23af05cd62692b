//! Planning runs over HTTP: start a replenishment or rebalance (a dry run unless `commit`),
//! read stored plans, commit a proposal, and draw a SKU's stock spread.

use super::error::{ApiError, Code};
use super::extract::{page_limit, Json, PageLimit, PAGE_LIMIT_DEFAULT};
use super::State;
use crate::app::plans::{self, Kind, LineView, Outcome, PlanSummary, RebalanceParams};
use crate::app::plans::{ReplenishParams, RunView};
use crate::app::queries;
use crate::app::queries::LineCursor;
use crate::domain::access::Principal;
use crate::domain::plan::{Failure, RunStatus};
use crate::domain::Invalid;

use actix_web::{get, post, web, HttpResponse};
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(rebalance)
        .service(replenishment)
        .service(list)
        .service(read_run)
        .service(read)
        .service(commit)
        .service(chart)
        .service(report_csv);
}

/// Longest a request waits for its run before answering 202 (the run goes on), and the
/// default: under the usual 30 s of a proxy in front.
const WAIT_S_MAX: u64 = 25;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    /// Seconds to wait for the run before answering 202 with the queued run.
    #[param(value_type = Option<RunWaitS>)]
    pub wait_s: Option<u64>,
}

crate::domain::schema::schema_rule!(
    /// Seconds a planning request waits for its run (default the most).
    RunWaitS = crate::domain::schema::integer(0, WAIT_S_MAX as i64)
        .default(Some(WAIT_S_MAX.into()))
);

impl RunQuery {
    fn wait(&self) -> Result<Duration, Invalid> {
        match self.wait_s {
            Some(seconds) if seconds > WAIT_S_MAX => Err(Invalid::new(
                "wait_s",
                format!("must be 0 to {WAIT_S_MAX} seconds"),
            )),
            seconds => Ok(Duration::from_secs(seconds.unwrap_or(WAIT_S_MAX))),
        }
    }
}

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
    /// The queued run; `GET /v1/plans/runs/{id}` follows it.
    pub run: RunView,
}

/// Queues the run, waits for it up to `wait`, and answers with its plan (201), or with the
/// run as it stands (202: it goes on, queued or running).
async fn request(
    state: &State,
    by: &Principal,
    kind: Kind,
    (params, wait): (serde_json::Value, Duration),
) -> Result<HttpResponse, ApiError> {
    let queued = plans::request(state, by, kind, params).await?;
    let run = plans::wait(state, queued.id, wait).await?;
    match (run.status, run.plan, run.outcome) {
        (RunStatus::Finished, Some(plan), Some(outcome)) => finished(state, plan, outcome).await,
        (RunStatus::Failed, ..) => Err(failed(&run)),
        _ => {
            let message = format!(
                "{} run {} is {}; GET /v1/plans/runs/{} shows it and its plan when it is done",
                kind.as_str(),
                run.id,
                run.status.as_str(),
                run.id
            );
            Ok(HttpResponse::Accepted().json(StillRunning { message, run }))
        }
    }
}

async fn finished(state: &State, plan: i64, outcome: Outcome) -> Result<HttpResponse, ApiError> {
    let (plan, transfers, next) =
        queries::plan(state, plan, (None, None), (None, PAGE_LIMIT_DEFAULT)).await?;
    if outcome == Outcome::AlreadyCommitted {
        return Err(ApiError::new(
            Code::AlreadyCommitted,
            format!(
                "plan {} for {} is committed already; this run did nothing",
                plan.id, plan.date
            ),
        )
        .with_field("date"));
    }
    Ok(HttpResponse::Created().json(PlanView {
        plan,
        outcome: Some(outcome),
        transfers,
        next: next.map(|cursor| cursor.to_string()),
    }))
}

/// A run that failed answers as it would have had it run in the request.
fn failed(run: &RunView) -> ApiError {
    let message = run.message.clone().unwrap_or_default();
    match run.failure {
        Some(Failure::Conflict) => ApiError::new(Code::Conflict, message),
        // The planner logged the cause; the client gets the run to point support at.
        _ => ApiError::new(
            Code::Internal,
            format!("planning run {} failed; it was logged", run.id),
        ),
    }
}

/// Plan the store-to-store rebalance for a night (one committed plan per night).
#[utoipa::path(tag = "plans", request_body = RebalanceParams, params(RunQuery),
    responses((status = 201, body = PlanView), (status = 202, body = StillRunning),
              (status = 409, body = ApiError), (status = 422, body = ApiError)))]
#[post("/v1/plans/rebalance")]
pub async fn rebalance(
    state: web::Data<State>,
    by: Principal,
    query: web::Query<RunQuery>,
    body: Json<RebalanceParams>,
) -> Result<HttpResponse, ApiError> {
    let wait = query.wait()?;
    body.value.validated()?;
    request(&state, &by, Kind::Rebalance, (body.document(), wait)).await
}

/// Plan the warehouse-to-stores replenishment for a day (one committed plan per day).
#[utoipa::path(tag = "plans", request_body = ReplenishParams, params(RunQuery),
    responses((status = 201, body = PlanView), (status = 202, body = StillRunning),
              (status = 409, body = ApiError), (status = 422, body = ApiError)))]
#[post("/v1/plans/replenishment")]
pub async fn replenishment(
    state: web::Data<State>,
    by: Principal,
    query: web::Query<RunQuery>,
    body: Json<ReplenishParams>,
) -> Result<HttpResponse, ApiError> {
    let wait = query.wait()?;
    body.value.validated()?;
    request(&state, &by, Kind::Replenishment, (body.document(), wait)).await
}

/// A queued planning run: queued, running, finished (with its plan) or failed (with why).
#[utoipa::path(tag = "plans", params(("id" = i64, Path)),
    responses((status = 200, body = RunView), (status = 404, body = ApiError)))]
#[get("/v1/plans/runs/{id}")]
pub async fn read_run(
    state: web::Data<State>,
    id: web::Path<i64>,
) -> Result<web::Json<RunView>, ApiError> {
    Ok(web::Json(queries::plan_run(&state, *id).await?))
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
    /// The newest planning runs asked for (queued, running, finished, failed), newest first.
    pub runs: Vec<RunView>,
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
        runs: queries::plan_runs(&state, kind, limit).await?,
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
    let plan = queries::plan_summary(&state, *id).await?;
    let disposition = format!(
        "attachment; filename=\"{}-{}-plan-{}.csv\"",
        plan.kind, plan.date, plan.id
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", disposition))
        .streaming(csv_parts(state.into_inner(), plan.id)))
}

/// A plan's CSV read and sent a page of lines at a time: a plan of millions of lines never
/// sits in memory whole. A failure part-way ends the response early (logged).
fn csv_parts(
    state: std::sync::Arc<State>,
    id: i64,
) -> impl futures_util::Stream<Item = Result<web::Bytes, std::io::Error>> {
    let first: Option<Option<LineCursor>> = Some(None);
    futures_util::stream::unfold(first, move |part| {
        let state = state.clone();
        async move {
            let after = part?;
            match queries::plan_csv_part(&state, id, after).await {
                Ok((csv, next)) => Some((Ok(web::Bytes::from(csv)), next.map(Some))),
                Err(error) => {
                    tracing::error!(plan = id, %error, "the plan's CSV stopped part-way");
                    Some((Err(std::io::Error::other(error.to_string())), None))
                }
            }
        }
    })
}
