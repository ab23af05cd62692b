//! Promises, orders and their lifecycle over HTTP: what the e-shop calls every minute. The flow
//! itself is in `app::orders`.

use super::error::ApiError;
use super::extract::{next_page, page_limit, Json};
use super::State;
use crate::app::orders::{self, Fulfilment, PlaceOrder, Referral, Routing, Step};
use crate::app::queries::{self, AttributionRow, OrderView};
use crate::app::{Key, Reply};
use crate::domain::access::Principal;
use crate::domain::codes::{LocationCode, OrderId, SkuCode};
use crate::domain::decision::Decision;
use crate::domain::geo::Point;
use crate::domain::geo::{Latitude, Longitude};
use crate::domain::idempotency::{fingerprint, IdempotencyKey};
use crate::domain::limits::ORDER_LINES_MAX;
use crate::domain::quantity::Qty;
use crate::domain::schema::{array_of, schema_rule, text};
use crate::domain::{parse_text, Invalid};
use utoipa::{PartialSchema, ToSchema};

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// How far ahead of the server's clock a referral's `served_at` may be (clock skew).
const SERVED_AT_SKEW_MAX_MINUTES: i64 = 5;

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
    #[schema(value_type = SkuCode)]
    pub sku: String,
    /// Lines of one SKU are summed; the sum too is a `Qty`.
    #[schema(value_type = Qty)]
    pub qty: i64,
}

schema_rule!(
    /// The lines of an order, a promise or one of an order's steps.
    OrderLines = array_of::<LineBody>(1, ORDER_LINES_MAX); uses [LineBody]
);
schema_rule!(
    /// The lines of a fulfilment or a return.
    SourcedLines = array_of::<SourcedLineBody>(1, ORDER_LINES_MAX); uses [SourcedLineBody]
);
schema_rule!(
    /// The clerk credited with a sale.
    Clerk = text(CLERK_LENGTH_MAX)
);

/// Longest clerk id a referral may name, in characters.
const CLERK_LENGTH_MAX: usize = 64;

#[derive(Debug, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum FulfilmentBody {
    Ship { latitude: f64, longitude: f64 },
    Pickup { store: String },
}

/// By hand: the derived schema would leave out that neither variant takes other fields.
impl utoipa::PartialSchema for FulfilmentBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder};
        use utoipa::openapi::Ref;
        let variant = |mode: &str| {
            ObjectBuilder::new()
                .property("mode", crate::domain::schema::one_of(&[mode]))
                .required("mode")
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        };
        let ship = variant("ship")
            .property("latitude", Ref::from_schema_name(Latitude::name()))
            .required("latitude")
            .property("longitude", Ref::from_schema_name(Longitude::name()))
            .required("longitude")
            .examples([json!({"mode": "ship", "latitude": 25.04, "longitude": 121.56})]);
        let pickup = variant("pickup")
            .property("store", Ref::from_schema_name(LocationCode::name()))
            .required("store")
            .examples([json!({"mode": "pickup", "store": "TPE-001"})]);
        let either = OneOfBuilder::new().item(ship).item(pickup);
        utoipa::openapi::RefOr::T(either.into())
    }
}

impl utoipa::ToSchema for FulfilmentBody {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.push((Latitude::name().into(), Latitude::schema()));
        schemas.push((Longitude::name().into(), Longitude::schema()));
        schemas.push((LocationCode::name().into(), LocationCode::schema()));
    }
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
#[schema(example = json!({"lines": [{"sku": "TSHIRT-BLK-M", "qty": 2}],
    "fulfilment": {"mode": "pickup", "store": "TPE-001"}}))]
pub struct PromiseBody {
    #[schema(value_type = OrderLines)]
    pub lines: Vec<LineBody>,
    pub fulfilment: FulfilmentBody,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PromisedSource {
    pub location: String,
    pub qty: i64,
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
    /// How it was decided: solve status, cost-model version, cost by component, runner-up.
    pub decision: Option<Decision>,
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
    let request = Routing {
        lines: parse_lines(&body.value.lines)?,
        fulfilment: body.value.fulfilment.parse()?,
        allow_split: true,
        allow_partial: true,
        restock: false,
        own_held: Vec::new(),
    };
    let promised = orders::promise(&state, &request).await?;
    let lines: Vec<PromisedLine> = promised.lines.into_iter().map(PromisedLine::from).collect();
    let ready_at = lines
        .iter()
        .flat_map(|l| &l.sources)
        .map(|s| s.ready_at)
        .max();
    Ok(web::Json(Promise {
        complete: promised.complete,
        lines,
        ready_at,
        cost: promised.cost,
        decision: promised.decision,
    }))
}

impl From<orders::RoutedLine> for PromisedLine {
    fn from(line: orders::RoutedLine) -> Self {
        Self {
            sku: line.sku.to_string(),
            qty: line.qty,
            promisable: line.promisable,
            sources: line
                .sources
                .into_iter()
                .map(|source| PromisedSource {
                    location: source.location.to_string(),
                    qty: source.qty.get(),
                    route: source.route.as_str().to_owned(),
                    ready_at: source.ready_at,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferrerBody {
    #[schema(value_type = LocationCode)]
    pub store: String,
    #[schema(value_type = Clerk)]
    pub clerk: String,
    /// When the clerk served the customer, not in the future; defaults to now.
    pub served_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id": "WEB-100234", "lines": [{"sku": "TSHIRT-BLK-M", "qty": 1}],
    "fulfilment": {"mode": "ship", "latitude": 25.04, "longitude": 121.56}}))]
pub struct OrderBody {
    /// The e-shop's order id: a retry with the same id returns the same order.
    #[schema(value_type = OrderId)]
    pub id: String,
    #[schema(value_type = OrderLines)]
    pub lines: Vec<LineBody>,
    pub fulfilment: FulfilmentBody,
    #[serde(default = "split_allowed")]
    pub allow_split: bool,
    pub referrer: Option<ReferrerBody>,
    /// The cart's hold (`POST /v1/holds`): its units count for this order, and placing the
    /// order consumes it, once. Expired or lost, the order is routed as if it had none.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub hold_id: Option<String>,
}

fn split_allowed() -> bool {
    true
}

impl ReferrerBody {
    fn parse(&self, now: DateTime<Utc>) -> Result<Referral, Invalid> {
        let served_at = self.served_at.unwrap_or(now);
        if served_at > now + Duration::minutes(SERVED_AT_SKEW_MAX_MINUTES) {
            return Err(Invalid::new(
                "referrer.served_at",
                "must not be in the future",
            ));
        }
        Ok(Referral {
            store: LocationCode::parse("referrer.store", &self.store)?,
            clerk: parse_text("referrer.clerk", &self.clerk, CLERK_LENGTH_MAX)?,
            served_at,
        })
    }
}

impl OrderBody {
    fn parse(&self, request_hash: Vec<u8>) -> Result<PlaceOrder, Invalid> {
        let hold_id = self
            .hold_id
            .as_deref()
            .map(|raw| {
                uuid::Uuid::parse_str(raw)
                    .map(|id| id.to_string())
                    .map_err(|_| Invalid::new("hold_id", "must be a hold id (UUID)"))
            })
            .transpose()?;
        Ok(PlaceOrder {
            id: LocationCode::parse("id", &self.id)?,
            request_hash,
            routing: Routing {
                lines: parse_lines(&self.lines)?,
                fulfilment: self.fulfilment.parse()?,
                allow_split: self.allow_split,
                allow_partial: false,
                restock: false,
                own_held: Vec::new(),
            },
            referral: self
                .referrer
                .as_ref()
                .map(|referrer| referrer.parse(Utc::now()))
                .transpose()?,
            hold_id,
        })
    }
}

/// Place an order: route it, hold the chosen units, allocate them in the ledger; with `hold_id`
/// the cart's hold is consumed by it.
#[utoipa::path(
    tag = "orders",
    request_body = OrderBody,
    responses(
        (status = 201, body = OrderView),
        (status = 200, description = "The order already placed with this id", body = OrderView),
        (status = 409, description = "Not enough stock (or not from one location), or the hold is used", body = ApiError),
        (status = 422, body = ApiError),
    )
)]
#[post("/v1/orders")]
pub async fn place(
    state: web::Data<State>,
    by: Principal,
    body: Json<OrderBody>,
) -> Result<HttpResponse, ApiError> {
    let order = body.value.parse(fingerprint(&body.document()))?;
    Ok(match orders::place(&state, &by, order).await? {
        Reply::Fresh(view) => HttpResponse::Created().json(view),
        Reply::Replayed(document) => HttpResponse::Ok().json(document),
    })
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
#[utoipa::path(tag = "orders", params(("id" = OrderId, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ApiError)))]
#[get("/v1/orders/{id}")]
pub async fn read(
    state: web::Data<State>,
    id: web::Path<String>,
) -> Result<web::Json<OrderView>, ApiError> {
    let id = LocationCode::parse("id", &id)?;
    Ok(web::Json(queries::order(&state, &id).await?))
}

/// The step's `Idempotency-Key`, scoped to the order and the step.
fn step_key(
    request: &HttpRequest,
    id: &str,
    step: &str,
    document: &Value,
) -> Result<Option<Key>, ApiError> {
    let Some(raw) = request.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let raw = raw
        .to_str()
        .map_err(|_| Invalid::new("Idempotency-Key", "must be visible ASCII characters"))?;
    let prefix = format!("{id}/{step}/");
    Ok(Some(Key::scoped("order-step", &prefix, raw, document)?))
}

/// Runs one lifecycle step of an order under its optional `Idempotency-Key`.
async fn order_step(
    by: &Principal,
    state: &State,
    request: &HttpRequest,
    (id, name): (&str, &str),
    document: &Value,
    step: Step<'_>,
) -> Result<HttpResponse, ApiError> {
    let code = LocationCode::parse("id", id)?;
    let key = step_key(request, id, name, document)?;
    Ok(reply(
        orders::step(state, by, &code, key.as_ref(), step).await?,
    ))
}

/// Cancel what has not happened yet.
#[utoipa::path(tag = "orders", params(("id" = OrderId, Path),
    ("Idempotency-Key" = Option<IdempotencyKey>, Header, description = "Makes retries of the step safe")),
    responses((status = 200, body = OrderView), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
#[post("/v1/orders/{id}/cancel")]
pub async fn cancel(
    state: web::Data<State>,
    by: Principal,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    order_step(
        &by,
        &state,
        &request,
        (&id, "cancel"),
        &Value::Null,
        Step::Cancel,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourcedLineBody {
    #[schema(value_type = SkuCode)]
    pub sku: String,
    /// Where the units leave (fulfilment) or come back (returns; `location` is a synonym).
    #[serde(alias = "location")]
    #[schema(value_type = LocationCode)]
    pub source: String,
    #[schema(value_type = Qty)]
    pub qty: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourcedLinesBody {
    #[schema(value_type = SourcedLines)]
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
#[utoipa::path(tag = "orders", params(("id" = OrderId, Path),
    ("Idempotency-Key" = Option<IdempotencyKey>, Header, description = "Makes retries of the step safe")), request_body = SourcedLinesBody,
    responses((status = 200, body = OrderView), (status = 409, body = ApiError)))]
#[post("/v1/orders/{id}/fulfil")]
pub async fn fulfil(
    state: web::Data<State>,
    by: Principal,
    request: HttpRequest,
    id: web::Path<String>,
    body: Json<SourcedLinesBody>,
) -> Result<HttpResponse, ApiError> {
    let lines = parse_sourced(&body.value.lines)?;
    let step = Step::Fulfil(&lines);
    order_step(
        &by,
        &state,
        &request,
        (&id, "fulfil"),
        &body.document(),
        step,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinesBody {
    #[schema(value_type = OrderLines)]
    pub lines: Vec<LineBody>,
}

/// The customer collects a batch at the pickup store.
#[utoipa::path(tag = "orders", params(("id" = OrderId, Path),
    ("Idempotency-Key" = Option<IdempotencyKey>, Header, description = "Makes retries of the step safe")), request_body = LinesBody,
    responses((status = 200, body = OrderView), (status = 409, body = ApiError)))]
#[post("/v1/orders/{id}/pickups")]
pub async fn pickups(
    state: web::Data<State>,
    by: Principal,
    request: HttpRequest,
    id: web::Path<String>,
    body: Json<LinesBody>,
) -> Result<HttpResponse, ApiError> {
    let lines = parse_lines(&body.value.lines)?;
    let step = Step::PickUp(&lines);
    order_step(
        &by,
        &state,
        &request,
        (&id, "pickups"),
        &body.document(),
        step,
    )
    .await
}

/// Fulfilled units come back at any location (`lines[].location`) and become its stock.
#[utoipa::path(tag = "orders", params(("id" = OrderId, Path),
    ("Idempotency-Key" = Option<IdempotencyKey>, Header, description = "Makes retries of the step safe")), request_body = SourcedLinesBody,
    responses((status = 200, body = OrderView), (status = 409, body = ApiError)))]
#[post("/v1/orders/{id}/returns")]
pub async fn returns(
    state: web::Data<State>,
    by: Principal,
    request: HttpRequest,
    id: web::Path<String>,
    body: Json<SourcedLinesBody>,
) -> Result<HttpResponse, ApiError> {
    let lines = parse_sourced(&body.value.lines)?;
    let step = Step::Return(&lines);
    order_step(
        &by,
        &state,
        &request,
        (&id, "returns"),
        &body.document(),
        step,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AttributionQuery {
    pub from: DateTime<Utc>,
    /// At most [`ATTRIBUTION_DAYS_MAX`] days after `from`.
    pub to: DateTime<Utc>,
    /// The `next` of the previous page.
    #[param(value_type = Option<AttributionCursorText>)]
    pub after: Option<String>,
    /// Rows per page.
    #[param(value_type = Option<super::extract::PageLimit>)]
    pub limit: Option<i64>,
}

crate::domain::schema::schema_rule!(
    /// Where a page of the attribution report starts: `STORE/CLERK` as `next` spells it.
    AttributionCursorText = utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(r"^[A-Za-z0-9._-]{1,64}/[!-~]{1,64}$"))
);

/// The longest window one report reads (each request scans the window's orders).
pub const ATTRIBUTION_DAYS_MAX: i64 = 366;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttributionReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// By store, then clerk.
    pub rows: Vec<AttributionRow>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
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
    if query.to - query.from > chrono::Duration::days(ATTRIBUTION_DAYS_MAX) {
        let message = format!("must be at most {ATTRIBUTION_DAYS_MAX} days after from");
        return Err(Invalid::new("to", message).into());
    }
    let limit = page_limit(query.limit)?;
    // A store code has no `/`; a clerk's name may.
    let after = match query.after.as_deref() {
        None => None,
        Some(raw) => Some(
            raw.split_once('/')
                .ok_or_else(|| Invalid::new("after", "must be the `next` of a previous page"))?,
        ),
    };
    let window = (query.from, query.to);
    let rows = queries::attribution(&state, window, after, limit).await?;
    let next = next_page(&rows, limit, |row| format!("{}/{}", row.store, row.clerk));
    Ok(web::Json(AttributionReport {
        from: query.from,
        to: query.to,
        rows,
        next,
    }))
}
