//! Promises, orders and their lifecycle: what the e-shop calls every minute.

use super::error::ApiError;
use super::extract::Json;
use super::State;
use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::geo::Point;
use crate::domain::hold::{HoldOutcome, HoldStatus, HoldUse};
use crate::domain::quantity::Qty;
use crate::domain::{parse_text, Invalid};
use crate::holds::lifecycle;
use crate::ledger::movements::Reply;
use crate::ledger::orders::{self, AttributionRow, OrderView};
use crate::routing::{self, Fulfilment};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const ORDER_LINES_MAX: usize = 100;
/// How long a referral by a store clerk counts towards an online order.
pub const REFERRAL_VALIDITY_DAYS: i64 = 30;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(promise)
        .service(place)
        .service(read)
        .service(cancel)
        .service(fulfil)
        .service(pickups)
        .service(returns)
        .service(attribution);
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineBody {
    pub sku: String,
    pub qty: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum FulfilmentBody {
    Ship { latitude: f64, longitude: f64 },
    Pickup { store: String },
}

impl FulfilmentBody {
    fn parse(&self) -> Result<Fulfilment, Invalid> {
        Ok(match self {
            Self::Ship {
                latitude,
                longitude,
            } => Fulfilment::Ship(Point::parse("fulfilment.", *latitude, *longitude)?),
            Self::Pickup { store } => {
                Fulfilment::Pickup(LocationCode::parse("fulfilment.store", store)?)
            }
        })
    }
}

/// Lines summed per SKU, in first-seen order.
fn parse_lines(lines: &[LineBody]) -> Result<Vec<(SkuCode, Qty)>, Invalid> {
    if lines.is_empty() || lines.len() > ORDER_LINES_MAX {
        return Err(Invalid::new(
            "lines",
            format!("must have 1 to {ORDER_LINES_MAX} lines"),
        ));
    }
    let mut summed: Vec<(SkuCode, i64)> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let sku = SkuCode::parse(&format!("lines[{index}].sku"), &line.sku)?;
        let qty = Qty::parse(&format!("lines[{index}].qty"), line.qty)?;
        match summed.iter_mut().find(|(code, _)| *code == sku) {
            Some((_, total)) => *total += qty.get(),
            None => summed.push((sku, qty.get())),
        }
    }
    summed
        .into_iter()
        .enumerate()
        .map(|(index, (sku, qty))| Ok((sku, Qty::parse(&format!("lines[{index}].qty"), qty)?)))
        .collect()
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromiseBody {
    pub lines: Vec<LineBody>,
    pub fulfilment: FulfilmentBody,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PromisedSource {
    pub location: String,
    pub qty: u32,
    pub route: String,
    pub ready_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PromisedLine {
    pub sku: String,
    pub qty: i64,
    pub promisable: i64,
    pub sources: Vec<PromisedSource>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Promise {
    /// Every unit can be promised.
    pub complete: bool,
    pub lines: Vec<PromisedLine>,
    /// When the last promised unit is ready (to ship or to collect).
    pub ready_at: Option<DateTime<Utc>>,
    #[schema(value_type = Object)]
    pub cost: Value,
}

fn route_name(route: allot_solver::Route) -> (&'static str, orders::Route) {
    match route {
        allot_solver::Route::ShipDirect => ("ship", orders::Route::Ship),
        allot_solver::Route::PickupFromShelf => ("pickup", orders::Route::Pickup),
        allot_solver::Route::TransferThenPickup => ("transfer", orders::Route::Transfer),
    }
}

/// When units of `sku` from `source` are ready, and the transfer lead time when they travel.
fn readiness(
    plan: &allot_solver::SourcingPlan,
    source: &str,
    sku: &str,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, f64) {
    let hours = plan
        .shipments
        .iter()
        .find(|s| s.from.0 == source)
        .map(|s| s.ready_in_hours)
        .or_else(|| {
            plan.pickup_batches
                .iter()
                .find(|b| b.source.0 == source)
                .map(|b| b.ready_in_hours)
        })
        .unwrap_or(0.0);
    let lead = plan
        .transfers
        .iter()
        .find(|t| t.from.0 == source && t.sku.0 == sku)
        .map(|t| t.lead_time_hours)
        .unwrap_or(0.0);
    (
        now + Duration::milliseconds((hours * 3_600_000.0) as i64),
        lead,
    )
}

/// What can be promised for a cart, from where and by when, holding nothing.
#[utoipa::path(
    tag = "orders",
    request_body = PromiseBody,
    responses((status = 200, body = Promise), (status = 422, body = ApiError))
)]
#[post("/v1/promise")]
pub async fn promise(
    state: web::Data<State>,
    body: Json<PromiseBody>,
) -> Result<web::Json<Promise>, ApiError> {
    let request = routing::Request {
        lines: parse_lines(&body.value.lines)?,
        fulfilment: body.value.fulfilment.parse()?,
        allow_split: true,
        allow_partial: true,
        restock: false,
        own_held: Vec::new(),
    };
    let routed = routing::route(&state.stock, &state.pool, &state.redis, &request).await?;
    let now = Utc::now();
    let mut ready_at = None;
    let lines = routed
        .plan
        .lines
        .iter()
        .map(|line| {
            let sources: Vec<PromisedSource> = line
                .sources
                .iter()
                .map(|source| {
                    let (at, _) = readiness(&routed.plan, &source.location.0, &line.sku.0, now);
                    ready_at = ready_at.max(Some(at));
                    PromisedSource {
                        location: source.location.0.clone(),
                        qty: source.qty,
                        route: route_name(source.route).0.to_owned(),
                        ready_at: at,
                    }
                })
                .collect();
            PromisedLine {
                sku: line.sku.0.clone(),
                qty: i64::from(line.qty),
                promisable: i64::from(line.qty - line.unfulfilled),
                sources,
            }
        })
        .collect::<Vec<_>>();
    Ok(web::Json(Promise {
        complete: routed.is_feasible() && lines.iter().all(|l| l.promisable == l.qty),
        lines,
        ready_at,
        cost: serde_json::to_value(routed.plan.cost).unwrap_or_default(),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferrerBody {
    pub store: String,
    pub clerk: String,
    /// When the clerk served the customer; defaults to now.
    pub served_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderBody {
    /// The e-shop's order id: a retry with the same id returns the same order.
    pub id: String,
    pub lines: Vec<LineBody>,
    pub fulfilment: FulfilmentBody,
    #[serde(default = "split_allowed")]
    pub allow_split: bool,
    pub referrer: Option<ReferrerBody>,
    /// The cart's hold (`POST /v1/holds`): its units count for this order, and placing the
    /// order consumes it, once. Expired or lost, the order is routed as if it had none.
    pub hold_id: Option<String>,
}

fn split_allowed() -> bool {
    true
}

/// Attempts at placing an order when another request takes the chosen units first.
pub const ROUTING_ATTEMPTS_MAX: usize = 3;
/// How long the chosen units are held while the order is written to the ledger.
const ORDER_HOLD_TTL_MS: i64 = 30_000;

/// Place an order: route it, hold the chosen units, allocate them in the ledger.
#[utoipa::path(
    tag = "orders",
    request_body = OrderBody,
    responses(
        (status = 201, body = OrderView),
        (status = 200, description = "The order already placed with this id", body = OrderView),
        (status = 409, description = "Not enough stock (or not from one location)", body = ApiError),
        (status = 422, body = ApiError),
    )
)]
#[post("/v1/orders")]
pub async fn place(
    state: web::Data<State>,
    body: Json<OrderBody>,
) -> Result<HttpResponse, ApiError> {
    let order = &body.value;
    let client_order_id = LocationCode::parse("id", &order.id)?.to_string();
    let hold_id = order
        .hold_id
        .as_deref()
        .map(|raw| {
            uuid::Uuid::parse_str(raw)
                .map(|id| id.to_string())
                .map_err(|_| Invalid::new("hold_id", "must be a hold id (UUID)"))
        })
        .transpose()?;
    let mut request = routing::Request {
        lines: parse_lines(&order.lines)?,
        fulfilment: order.fulfilment.parse()?,
        allow_split: order.allow_split,
        allow_partial: false,
        restock: false,
        own_held: Vec::new(),
    };
    let now = Utc::now();
    let referrer = order
        .referrer
        .as_ref()
        .map(|referrer| {
            let served_at = referrer.served_at.unwrap_or(now);
            if served_at > now + Duration::minutes(5) {
                return Err(Invalid::new(
                    "referrer.served_at",
                    "must not be in the future",
                ));
            }
            Ok(orders::Referrer {
                store: LocationCode::parse("referrer.store", &referrer.store)?,
                clerk: parse_text("referrer.clerk", &referrer.clerk, 64)?,
                credited: now - served_at <= Duration::days(REFERRAL_VALIDITY_DAYS),
            })
        })
        .transpose()?;
    let request_hash = sha_of(&body.document());
    // A retry of a placed order is answered from the order row: by the insert's conflict when
    // it routes again, or here before any refusal (its own units may be what is missing now).
    let refused = async |error: ApiError| -> Result<HttpResponse, ApiError> {
        match orders::replay(&state.client().await?, &client_order_id, &request_hash).await? {
            Some(Reply::Replayed(document)) => Ok(HttpResponse::Ok().json(document)),
            _ => Err(error),
        }
    };
    let claimed = match &hold_id {
        Some(id) => match claim(&state, id).await {
            Ok(claimed) => Some(claimed),
            Err(error) => return refused(error).await,
        },
        None => None,
    };
    if let Some((_, Some(hold))) = &claimed {
        request.own_held = hold.lines.clone();
    }
    let hold_use = claimed.as_ref().map(|(hold_use, _)| hold_use.clone());
    let cart_hold = claimed.and_then(|(_, hold)| hold);
    let placed = place_routed(
        &state,
        &request,
        &referrer,
        hold_use,
        cart_hold.is_some(),
        &client_order_id,
        &request_hash,
    )
    .await;
    if let Some(hold) = &cart_hold {
        lifecycle::settle_claim(&state.redis, hold, placed.is_ok()).await;
    }
    match placed {
        Ok(response) => Ok(response),
        Err(error) => refused(error).await,
    }
}

/// The cart hold named by `hold_id`, claimed for this order; an expired or lost hold is no
/// error (the order is routed without it), one already used or released is.
async fn claim(
    state: &State,
    id: &str,
) -> Result<(HoldUse, Option<lifecycle::HoldView>), ApiError> {
    let outcome = match lifecycle::claim(&state.redis, id).await {
        Ok(hold) => {
            let hold_use = HoldUse {
                id: id.to_owned(),
                outcome: HoldOutcome::Consumed,
            };
            return Ok((hold_use, Some(hold)));
        }
        Err(lifecycle::Error::NotFound(_)) => HoldOutcome::NotFound,
        Err(lifecycle::Error::Resolved(HoldStatus::Expired)) => HoldOutcome::Expired,
        Err(lifecycle::Error::Unavailable(error)) => {
            tracing::warn!(%error, "placing an order without its cart hold");
            HoldOutcome::Unavailable
        }
        Err(error) => return Err(ApiError::from(error).with_field("hold_id")),
    };
    Ok((
        HoldUse {
            id: id.to_owned(),
            outcome,
        },
        None,
    ))
}

/// Routes and writes the order, routing again (bounded) when other requests take the chosen
/// units first.
async fn place_routed(
    state: &State,
    request: &routing::Request,
    referrer: &Option<orders::Referrer>,
    hold: Option<HoldUse>,
    from_cart_hold: bool,
    client_order_id: &str,
    request_hash: &[u8],
) -> Result<HttpResponse, ApiError> {
    let destination = match &request.fulfilment {
        Fulfilment::Ship(point) => orders::Destination::Ship(*point),
        Fulfilment::Pickup(store) => orders::Destination::Pickup(store.clone()),
    };
    for attempt in 1..=ROUTING_ATTEMPTS_MAX {
        let routed = routing::route(&state.stock, &state.pool, &state.redis, request).await?;
        if !routed.is_feasible() {
            return Err(short_order(&routed.plan));
        }
        if !request.allow_split && routed.sources_used() > 1 {
            return Err(ApiError::new(
                actix_web::http::StatusCode::CONFLICT,
                "insufficient_stock",
                "no single location can fulfil the whole order, and splitting is not allowed",
            ));
        }
        let now = Utc::now();
        let lines: Vec<orders::PlannedLine> = routed
            .plan
            .lines
            .iter()
            .flat_map(|line| line.sources.iter().map(move |source| (line, source)))
            .map(|(line, source)| {
                let (ready_at, lead_time_hours) =
                    readiness(&routed.plan, &source.location.0, &line.sku.0, now);
                Ok(orders::PlannedLine {
                    sku: SkuCode::parse("sku", &line.sku.0)?,
                    source: LocationCode::parse("source", &source.location.0)?,
                    route: route_name(source.route).1,
                    qty: Qty::parse("qty", i64::from(source.qty))?,
                    ready_at,
                    lead_time_hours,
                })
            })
            .collect::<Result<_, Invalid>>()?;
        let new_order = orders::NewOrder {
            client_order_id: client_order_id.to_owned(),
            request_hash: request_hash.to_vec(),
            destination: destination.clone(),
            allow_split: request.allow_split,
            referrer: referrer.clone(),
            lines,
            cost: serde_json::to_value(routed.plan.cost).unwrap_or_default(),
            hold: hold.clone(),
        };
        match commit(state, &new_order, from_cart_hold).await {
            Ok(Reply::Fresh(view)) => return Ok(HttpResponse::Created().json(view)),
            Ok(Reply::Replayed(document)) => return Ok(HttpResponse::Ok().json(document)),
            Err(Lost::Race) if attempt < ROUTING_ATTEMPTS_MAX => {
                tracing::info!(attempt, "lost a race for the chosen units; routing again");
            }
            Err(Lost::Race) => {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::CONFLICT,
                    "insufficient_stock",
                    "the chosen units were taken by other orders; try again",
                ))
            }
            Err(Lost::Error(error)) => return Err(error),
        }
    }
    unreachable!("the loop returns on its last attempt")
}

enum Lost {
    Race,
    Error(ApiError),
}

/// Holds the chosen units in Redis (so carts see them go at once), then writes the order to the
/// ledger, whose guard has the last word. Without Redis the ledger alone decides.
/// An order from a cart hold already has its units counted by that (claimed) hold: the ledger
/// is written directly.
async fn commit(
    state: &State,
    order: &orders::NewOrder,
    from_cart_hold: bool,
) -> Result<Reply<OrderView>, Lost> {
    if from_cart_hold {
        return match orders::place(&state.pool, order).await {
            Ok((reply, balances)) => {
                lifecycle::follow_ledger(&state.redis, &balances).await;
                Ok(reply)
            }
            Err(crate::ledger::Error::Shortage { .. }) => Err(Lost::Race),
            Err(error) => Err(Lost::Error(error.into())),
        };
    }
    let hold_request = crate::domain::hold::HoldRequest {
        lines: order
            .lines
            .iter()
            .map(|line| crate::domain::hold::HoldLine {
                sku: line.sku.clone(),
                location: line.source.clone(),
                qty: line.qty,
            })
            .collect(),
        ttl_ms: ORDER_HOLD_TTL_MS,
        client_id: None,
    };
    let hold = match lifecycle::place_confirming(&state.redis, &state.pool, &hold_request).await {
        Ok(hold) => Some(hold),
        Err(lifecycle::Error::Short(_)) => return Err(Lost::Race),
        Err(lifecycle::Error::Unavailable(error)) => {
            tracing::warn!(%error, "placing an order without a Redis hold");
            None
        }
        Err(error) => return Err(Lost::Error(error.into())),
    };
    let result = lifecycle::consume(&state.redis, hold.as_ref(), async || {
        let (reply, balances) = orders::place(&state.pool, order)
            .await
            .map_err(lifecycle::Error::from)?;
        // Redis learns the allocation before the hold's units stop counting: for a moment the
        // units count twice, never not at all.
        lifecycle::follow_ledger(&state.redis, &balances).await;
        Ok(reply)
    })
    .await;
    match result {
        Ok(reply) => Ok(reply),
        Err(lifecycle::Error::Ledger(crate::ledger::Error::Shortage { .. })) => Err(Lost::Race),
        Err(error) => Err(Lost::Error(error.into())),
    }
}

fn short_order(plan: &allot_solver::SourcingPlan) -> ApiError {
    let short: Vec<String> = plan
        .lines
        .iter()
        .filter(|line| line.unfulfilled > 0 || line.sources.is_empty())
        .map(|line| line.sku.0.clone())
        .collect();
    ApiError::new(
        actix_web::http::StatusCode::CONFLICT,
        "insufficient_stock",
        format!("not enough stock to promise: {}", short.join(", ")),
    )
}

fn sha_of(document: &Value) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(document.to_string().as_bytes()).to_vec()
}

async fn order_id(state: &State, raw: &str) -> Result<i64, ApiError> {
    let code = LocationCode::parse("id", raw)?;
    let client = state.client().await?;
    Ok(orders::id_of(&client, code.as_str()).await?)
}

fn reply(reply: Reply<OrderView>) -> HttpResponse {
    match reply {
        Reply::Fresh(view) => HttpResponse::Ok().json(view),
        Reply::Replayed(document) => HttpResponse::Ok()
            .insert_header(("Idempotent-Replayed", "true"))
            .json(document),
    }
}

/// Read an order with its allocations, transfers and pickup batches.
#[utoipa::path(tag = "orders", params(("id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ApiError)))]
#[get("/v1/orders/{id}")]
pub async fn read(
    state: web::Data<State>,
    id: web::Path<String>,
) -> Result<web::Json<OrderView>, ApiError> {
    let order_id = order_id(&state, &id).await?;
    let client = state.client().await?;
    Ok(web::Json(orders::view(&client, order_id).await?))
}

fn step_key(
    request: &HttpRequest,
    id: &str,
    step: &str,
    document: &Value,
) -> Result<Option<crate::ledger::idempotency::Key>, ApiError> {
    let Some(raw) = request.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let raw = raw
        .to_str()
        .map_err(|_| Invalid::new("Idempotency-Key", "must be visible ASCII characters"))?;
    let scoped = format!("{id}/{step}/{raw}");
    Ok(Some(crate::ledger::idempotency::Key::parse(
        "order-step",
        &scoped,
        document,
    )?))
}

/// Cancel what has not happened yet.
#[utoipa::path(tag = "orders", params(("id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
#[post("/v1/orders/{id}/cancel")]
pub async fn cancel(
    state: web::Data<State>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    order_step(
        &state,
        &request,
        &id,
        "cancel",
        &Value::Null,
        async |order_id, key| orders::cancel(&state.pool, key, order_id).await,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourcedLineBody {
    pub sku: String,
    /// `source` for fulfilment, `location` for returns.
    #[serde(alias = "location")]
    pub source: String,
    pub qty: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourcedLinesBody {
    pub lines: Vec<SourcedLineBody>,
}

fn parse_sourced(lines: &[SourcedLineBody]) -> Result<Vec<(SkuCode, LocationCode, Qty)>, Invalid> {
    if lines.is_empty() || lines.len() > ORDER_LINES_MAX {
        return Err(Invalid::new(
            "lines",
            format!("must have 1 to {ORDER_LINES_MAX} lines"),
        ));
    }
    lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            Ok((
                SkuCode::parse(&format!("lines[{index}].sku"), &line.sku)?,
                LocationCode::parse(&format!("lines[{index}].source"), &line.source)?,
                Qty::parse(&format!("lines[{index}].qty"), line.qty)?,
            ))
        })
        .collect()
}

/// Units of a ship order leave their source.
#[utoipa::path(tag = "orders", params(("id" = String, Path)), request_body = SourcedLinesBody,
    responses((status = 200, body = OrderView), (status = 409, body = ApiError)))]
#[post("/v1/orders/{id}/fulfil")]
pub async fn fulfil(
    state: web::Data<State>,
    request: HttpRequest,
    id: web::Path<String>,
    body: Json<SourcedLinesBody>,
) -> Result<HttpResponse, ApiError> {
    let lines = parse_sourced(&body.value.lines)?;
    order_step(
        &state,
        &request,
        &id,
        "fulfil",
        &body.document(),
        async |order_id, key| orders::fulfil(&state.pool, key, order_id, &lines).await,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinesBody {
    pub lines: Vec<LineBody>,
}

/// The customer collects a batch at the pickup store.
#[utoipa::path(tag = "orders", params(("id" = String, Path)), request_body = LinesBody,
    responses((status = 200, body = OrderView), (status = 409, body = ApiError)))]
#[post("/v1/orders/{id}/pickups")]
pub async fn pickups(
    state: web::Data<State>,
    request: HttpRequest,
    id: web::Path<String>,
    body: Json<LinesBody>,
) -> Result<HttpResponse, ApiError> {
    let lines = parse_lines(&body.value.lines)?;
    order_step(
        &state,
        &request,
        &id,
        "pickups",
        &body.document(),
        async |order_id, key| orders::pick_up(&state.pool, key, order_id, &lines).await,
    )
    .await
}

/// Fulfilled units come back at any location (`lines[].location`) and become its stock.
#[utoipa::path(tag = "orders", params(("id" = String, Path)), request_body = SourcedLinesBody,
    responses((status = 200, body = OrderView), (status = 409, body = ApiError)))]
#[post("/v1/orders/{id}/returns")]
pub async fn returns(
    state: web::Data<State>,
    request: HttpRequest,
    id: web::Path<String>,
    body: Json<SourcedLinesBody>,
) -> Result<HttpResponse, ApiError> {
    let lines = parse_sourced(&body.value.lines)?;
    order_step(
        &state,
        &request,
        &id,
        "returns",
        &body.document(),
        async |order_id, key| orders::take_back(&state.pool, key, order_id, &lines).await,
    )
    .await
}

/// Runs one lifecycle step of an order under its optional `Idempotency-Key`, then lets Redis
/// learn the balances it changed.
async fn order_step(
    state: &State,
    request: &HttpRequest,
    id: &str,
    step: &str,
    document: &Value,
    work: impl AsyncFnOnce(
        i64,
        Option<&crate::ledger::idempotency::Key>,
    ) -> crate::ledger::Result<Reply<OrderView>>,
) -> Result<HttpResponse, ApiError> {
    let order_id = order_id(state, id).await?;
    let key = step_key(request, id, step, document)?;
    let result = work(order_id, key.as_ref()).await?;
    follow(state, order_id).await;
    Ok(reply(result))
}

/// Redis learns the balances an order step changed.
async fn follow(state: &State, order_id: i64) {
    let pairs = match state.pool.get().await {
        Ok(client) => orders::touched(&client, order_id).await.unwrap_or_default(),
        Err(_) => return,
    };
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(s, l)| (s.as_str(), l.as_str()))
        .collect();
    lifecycle::refresh(&state.redis, &state.pool, &pairs).await;
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AttributionQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttributionReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub rows: Vec<AttributionRow>,
}

/// Online sales credited to the store and clerk who served the customer.
#[utoipa::path(tag = "orders", params(AttributionQuery),
    responses((status = 200, body = AttributionReport), (status = 422, body = ApiError)))]
#[get("/v1/reports/attribution")]
pub async fn attribution(
    state: web::Data<State>,
    query: web::Query<AttributionQuery>,
) -> Result<web::Json<AttributionReport>, ApiError> {
    if query.to <= query.from {
        return Err(Invalid::new("to", "must be after from").into());
    }
    let client = state.client().await?;
    let rows = orders::attribution(&client, query.from, query.to).await?;
    Ok(web::Json(AttributionReport {
        from: query.from,
        to: query.to,
        rows,
    }))
}
