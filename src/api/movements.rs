use super::error::ApiError;
use super::extract::{next_page, page_limit, Cursor, Json, PageLimit};
use super::State;
use crate::app::queries::{self, Listing, MovementRow};
use crate::app::{movements, Key, Line, Recorded, Reply};
use crate::domain::access::Principal;
use crate::domain::codes::{LocationCode, SkuCode};
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::ledger::Movement;
use crate::domain::quantity::{Counted, Delta, Qty};
use crate::domain::schema::{array_of, one_of, schema_rule, text};
use crate::domain::{parse_text, Invalid};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use utoipa::openapi::schema::{
    AdditionalProperties, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat,
    SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// Lines in one `POST /v1/movements`: a POS batch of 1,000 fits.
pub const MOVEMENTS_PER_REQUEST_MAX: usize = 1000;
pub const REASON_LENGTH_MAX: usize = 200;
/// How far ahead of the server's clock `occurred_at` may be (clock skew), and how far back.
pub const OCCURRED_AT_SKEW_MAX_S: i64 = 300;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(post_movements).service(list_movements);
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    Receipt,
    Sale,
    Return,
    Adjustment,
    Count,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MovementBody {
    pub kind: MovementKind,
    pub location: String,
    pub sku: String,
    pub qty: i64,
    pub reason: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
}

schema_rule!(
    /// Why stock was adjusted or counted.
    MovementReason = text(REASON_LENGTH_MAX)
);

/// By hand, one variant per kind: each kind has its own range for `qty` and its own rule for
/// `reason` (as [`MovementBody::parse`] has), which one object could not state.
impl utoipa::PartialSchema for MovementBody {
    fn schema() -> RefOr<Schema> {
        let reference = |name: Cow<'static, str>| Ref::from_schema_name(name);
        let none = || ObjectBuilder::new().schema_type(Type::Null);
        let variant = |kind: &str, qty: Cow<'static, str>, description: &str| {
            ObjectBuilder::new()
                .description(Some(description))
                .property("kind", one_of(&[kind]))
                .property("location", reference(LocationCode::name()))
                .property("sku", reference(SkuCode::name()))
                .property("qty", reference(qty))
                .property(
                    "occurred_at",
                    ObjectBuilder::new()
                        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                        .description(Some(
                            "When it happened, after 2000-01-01 and not in the future; \
                             defaults to now",
                        )),
                )
                .required("kind")
                .required("location")
                .required("sku")
                .required("qty")
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        };
        let moved = |kind: &str, description: &str| {
            variant(kind, Qty::name(), description).property("reason", none())
        };
        let optional_reason = OneOfBuilder::new()
            .item(none())
            .item(reference(MovementReason::name()));
        let kinds = OneOfBuilder::new()
            .item(moved("receipt", "Units received"))
            .item(moved("sale", "Units sold"))
            .item(moved("return", "Units a customer brought back"))
            .item(
                variant(
                    "adjustment",
                    Delta::name(),
                    "On hand changed by a signed qty",
                )
                .property("reason", reference(MovementReason::name()))
                .required("reason"),
            )
            .item(
                variant(
                    "count",
                    Counted::name(),
                    "On hand counted: qty is the figure",
                )
                .property("reason", optional_reason),
            );
        RefOr::T(kinds.into())
    }
}

impl utoipa::ToSchema for MovementBody {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.extend([
            (LocationCode::name().into(), LocationCode::schema()),
            (SkuCode::name().into(), SkuCode::schema()),
            (Qty::name().into(), Qty::schema()),
            (Delta::name().into(), Delta::schema()),
            (Counted::name().into(), Counted::schema()),
            (MovementReason::name().into(), MovementReason::schema()),
        ]);
    }
}
schema_rule!(
    /// The lines of one batch.
    MovementLines = array_of::<MovementBody>(1, MOVEMENTS_PER_REQUEST_MAX); uses [MovementBody]
);

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"movements": [
    {"kind": "receipt", "location": "TPE-001", "sku": "TSHIRT-BLK-M", "qty": 12},
    {"kind": "sale", "location": "TPE-001", "sku": "TSHIRT-BLK-M", "qty": 1}]}))]
pub struct MovementsBody {
    #[schema(value_type = MovementLines)]
    pub movements: Vec<MovementBody>,
}

impl MovementBody {
    fn parse(self, now: DateTime<Utc>) -> Result<Line, Invalid> {
        let reason = self
            .reason
            .as_deref()
            .map(|raw| parse_text("reason", raw, REASON_LENGTH_MAX))
            .transpose()?;
        let movement = match (self.kind, reason) {
            (MovementKind::Receipt, None) => Movement::Receipt(Qty::parse("qty", self.qty)?),
            (MovementKind::Sale, None) => Movement::Sale(Qty::parse("qty", self.qty)?),
            (MovementKind::Return, None) => Movement::Return(Qty::parse("qty", self.qty)?),
            (MovementKind::Adjustment, Some(reason)) => Movement::Adjustment {
                delta: Delta::parse("qty", self.qty)?,
                reason,
            },
            (MovementKind::Adjustment, None) => {
                return Err(Invalid::new("reason", "is required for an adjustment"))
            }
            (MovementKind::Count, reason) => Movement::Count {
                counted: Counted::parse("qty", self.qty)?,
                reason,
            },
            (_, Some(_)) => {
                return Err(Invalid::new(
                    "reason",
                    "is recorded only for adjustment and count",
                ))
            }
        };
        let occurred_at = match self.occurred_at {
            None => now,
            Some(at) if at > now + Duration::seconds(OCCURRED_AT_SKEW_MAX_S) => {
                return Err(Invalid::new("occurred_at", "must not be in the future"))
            }
            Some(at) if at < earliest() => {
                return Err(Invalid::new("occurred_at", "must be after 2000-01-01"))
            }
            Some(at) => at,
        };
        Ok(Line {
            location: LocationCode::parse("location", &self.location)?,
            sku: SkuCode::parse("sku", &self.sku)?,
            movement,
            occurred_at,
        })
    }
}

fn earliest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid constant date")
}

/// Record a batch of movements, all or nothing.
///
/// With an `Idempotency-Key` header, a retry with the same body replays the first response
/// (header `Idempotent-Replayed: true`) and records nothing again.
#[utoipa::path(
    tag = "movements",
    request_body = MovementsBody,
    params(("Idempotency-Key" = Option<IdempotencyKey>, Header, description = "Makes retries safe")),
    responses(
        (status = 201, description = "Recorded", body = Recorded),
        (status = 409, description = "A line would make on hand negative, or the key is in flight", body = ApiError),
        (status = 413, description = "Body too large", body = ApiError),
        (status = 422, description = "Invalid field, unknown SKU or location, or key reused", body = ApiError),
    )
)]
#[post("/v1/movements")]
pub async fn post_movements(
    state: web::Data<State>,
    by: Principal,
    request: HttpRequest,
    body: Json<MovementsBody>,
) -> Result<HttpResponse, ApiError> {
    let lines = &body.value.movements;
    if lines.is_empty() || lines.len() > MOVEMENTS_PER_REQUEST_MAX {
        return Err(Invalid::new(
            "movements",
            format!("must have 1 to {MOVEMENTS_PER_REQUEST_MAX} lines"),
        )
        .into());
    }
    let key = idempotency_key(&request, "movements", || body.document())?;
    let now = Utc::now();
    let lines = body
        .value
        .movements
        .into_iter()
        .enumerate()
        .map(|(index, line)| {
            line.parse(now)
                .map_err(|invalid| invalid.within(&format!("movements[{index}]")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let reply = movements::record(&state, &by, key.as_ref(), "movements", &lines).await?;
    Ok(created_or_replayed(reply))
}

/// The request's idempotency key, if it has one; `document` (the body) is only read then.
pub fn idempotency_key(
    request: &HttpRequest,
    scope: &'static str,
    document: impl FnOnce() -> serde_json::Value,
) -> Result<Option<Key>, ApiError> {
    let Some(raw) = request.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let raw = raw
        .to_str()
        .map_err(|_| Invalid::new("Idempotency-Key", "must be visible ASCII characters"))?;
    Ok(Some(Key::parse(scope, raw, &document())?))
}

pub fn created_or_replayed<T: Serialize>(reply: Reply<T>) -> HttpResponse {
    match reply {
        Reply::Fresh(value) => HttpResponse::Created().json(value),
        Reply::Replayed(document) => HttpResponse::Created()
            .insert_header(("Idempotent-Replayed", "true"))
            .json(document),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MovementQuery {
    #[param(value_type = Option<LocationCode>)]
    pub location: Option<String>,
    #[param(value_type = Option<SkuCode>)]
    pub sku: Option<String>,
    /// Occurred at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Occurred before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Continue after this movement id (the `next_after` of the previous page).
    #[param(value_type = Option<Cursor>)]
    pub after: Option<i64>,
    #[param(value_type = Option<PageLimit>)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MovementPage {
    pub items: Vec<MovementRow>,
    pub next_after: Option<i64>,
}

/// The audit trail, in ledger order, with filters and paging.
#[utoipa::path(
    tag = "movements",
    params(MovementQuery),
    responses((status = 200, body = MovementPage), (status = 404, body = ApiError))
)]
#[get("/v1/movements")]
pub async fn list_movements(
    state: web::Data<State>,
    query: web::Query<MovementQuery>,
) -> Result<web::Json<MovementPage>, ApiError> {
    let query = query.into_inner();
    let limit = page_limit(query.limit)?;
    let listing = Listing {
        location: query.location.as_deref(),
        sku: query.sku.as_deref(),
        after: query.after,
        limit,
    };
    let items = queries::movements(&state, listing, query.from, query.to).await?;
    let next_after = next_page(&items, limit, |item| item.id);
    Ok(web::Json(MovementPage { items, next_after }))
}
