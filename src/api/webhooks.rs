//! Webhook subscriptions (admins): create, list, read, delete, rotate the secret, redeliver,
//! and the delivery log. Deliveries themselves are `app::webhooks`' loop.

use super::error::ApiError;
use super::extract::{next_page, page_limit, Cursor, Json, OptionalJson, PageLimit};
use super::State;
use crate::app::webhooks::{self, DeliveryAttempt, Subscription, WebhookView};
use crate::domain::access::Principal;
use crate::domain::schema::schema_rule;
use crate::domain::webhook;
use crate::domain::Invalid;
use actix_web::{delete, get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Type};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(read)
        .service(remove)
        .service(rotate)
        .service(redeliver)
        .service(deliveries);
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    /// Where deliveries are POSTed (http or https).
    #[schema(value_type = WebhookUrl, example = "https://shop.example/hooks/allot")]
    pub url: String,
    /// Event kinds to deliver.
    #[schema(schema_with = webhook_kinds, example = json!(["out_of_stock", "back_in_stock"]))]
    pub events: Vec<String>,
    /// `whsec_` and a base64 key; generated when absent.
    #[schema(value_type = Option<WebhookSecret>)]
    pub secret: Option<String>,
    /// Only this SKU's events.
    #[schema(value_type = Option<crate::domain::codes::SkuCode>)]
    pub sku: Option<String>,
    /// Only this location's events.
    #[schema(value_type = Option<crate::domain::codes::LocationCode>)]
    pub location: Option<String>,
}

schema_rule!(
    /// An absolute http(s) URL with a host.
    WebhookUrl = ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(webhook::URL_LENGTH_MAX))
        .pattern(Some(r"^https?://[a-z0-9]{1,63}(\.[a-z0-9]{1,63}){0,3}(:[0-9]{1,4})?(/[A-Za-z0-9._~/-]*)?$"))
);

schema_rule!(
    /// One of the event kinds.
    WebhookKind = crate::domain::schema::one_of(&webhook::KINDS)
);

schema_rule!(
    /// A Standard Webhooks secret: `whsec_` and the key in base64 (24 to 48 bytes here; the
    /// service also takes keys up to 64 bytes).
    WebhookSecret = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^whsec_([A-Za-z0-9+/]{4}){8,16}$"))
);

fn webhook_kinds() -> utoipa::openapi::schema::ArrayBuilder {
    crate::domain::schema::array_of::<WebhookKind>(1, webhook::KINDS.len())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// The signing secret: shown in this answer only.
    pub secret: String,
}

/// Subscribe a URL to stock events; it gets the events committed from now on, signed.
#[utoipa::path(tag = "webhooks", request_body = WebhookBody,
    responses((status = 201, body = CreatedWebhook), (status = 422, body = ApiError)))]
#[post("/v1/webhooks")]
pub async fn create(
    state: web::Data<State>,
    by: Principal,
    body: Json<WebhookBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.value;
    let ask = Subscription {
        url: body.url,
        events: body.events,
        secret: body.secret,
        sku: body.sku,
        location: body.location,
    };
    let (webhook, secret) = webhooks::create(&state, &by, ask).await?;
    Ok(HttpResponse::Created().json(CreatedWebhook {
        webhook,
        secret: secret.expose().to_owned(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// The `next` of the previous page.
    #[param(value_type = Option<Cursor>)]
    pub after: Option<i64>,
    /// Subscriptions per page.
    #[param(value_type = Option<PageLimit>)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// The subscriptions, oldest first.
#[utoipa::path(tag = "webhooks", params(ListQuery),
    responses((status = 200, body = WebhookList), (status = 422, body = ApiError)))]
#[get("/v1/webhooks")]
pub async fn list(
    state: web::Data<State>,
    by: Principal,
    query: web::Query<ListQuery>,
) -> Result<web::Json<WebhookList>, ApiError> {
    let limit = page_limit(query.limit)?;
    let webhooks = webhooks::list(&state, &by, query.after.unwrap_or(0), limit).await?;
    let next = next_page(&webhooks, limit, |webhook| webhook.id);
    Ok(web::Json(WebhookList { webhooks, next }))
}

/// One subscription, with how far it has delivered and whether it is failing.
#[utoipa::path(tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 200, body = WebhookView), (status = 404, body = ApiError)))]
#[get("/v1/webhooks/{id}")]
pub async fn read(
    state: web::Data<State>,
    by: Principal,
    id: web::Path<i64>,
) -> Result<web::Json<WebhookView>, ApiError> {
    Ok(web::Json(webhooks::get(&state, &by, *id).await?))
}

/// Unsubscribe: deliveries stop, the log goes with it.
#[utoipa::path(tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ApiError)))]
#[delete("/v1/webhooks/{id}")]
pub async fn remove(
    state: web::Data<State>,
    by: Principal,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    webhooks::delete(&state, &by, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretBody {
    /// The new secret (`whsec_…`); generated when absent.
    #[schema(value_type = Option<WebhookSecret>)]
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NewSecret {
    /// Signs from now on; the previous secret signs beside it (a second signature) for 24 h.
    pub secret: String,
}

/// Rotate the signing secret.
#[utoipa::path(tag = "webhooks", params(("id" = i64, Path)), request_body = SecretBody,
    responses((status = 200, body = NewSecret), (status = 404, body = ApiError),
              (status = 422, body = ApiError)))]
#[post("/v1/webhooks/{id}/secret")]
pub async fn rotate(
    state: web::Data<State>,
    by: Principal,
    id: web::Path<i64>,
    body: OptionalJson<SecretBody>,
) -> Result<web::Json<NewSecret>, ApiError> {
    let given = body.0.and_then(|body| body.value.secret);
    let secret = webhooks::rotate(&state, &by, *id, given.as_deref()).await?;
    Ok(web::Json(NewSecret {
        secret: secret.expose().to_owned(),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeliverBody {
    /// Deliver again every matching event after this feed position (events are kept for
    /// `ALLOT_EVENTS_RETENTION_S` once delivered).
    #[schema(minimum = 0)]
    pub from_position: i64,
}

/// Deliver again from a position, and enable a disabled subscription.
#[utoipa::path(tag = "webhooks", params(("id" = i64, Path)), request_body = RedeliverBody,
    responses((status = 200, body = WebhookView), (status = 404, body = ApiError),
              (status = 422, body = ApiError)))]
#[post("/v1/webhooks/{id}/redeliver")]
pub async fn redeliver(
    state: web::Data<State>,
    by: Principal,
    id: web::Path<i64>,
    body: Json<RedeliverBody>,
) -> Result<web::Json<WebhookView>, ApiError> {
    let position = body.value.from_position;
    if position < 0 {
        return Err(Invalid::new("from_position", "must be 0 or more").into());
    }
    Ok(web::Json(
        webhooks::redeliver(&state, &by, *id, position).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// Attempts to show, newest first.
    #[param(value_type = Option<PageLimit>)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryLog {
    pub deliveries: Vec<DeliveryAttempt>,
}

/// The subscription's delivery log: every attempt, newest first (the newest 1,000 are kept).
#[utoipa::path(tag = "webhooks", params(("id" = i64, Path), DeliveriesQuery),
    responses((status = 200, body = DeliveryLog), (status = 404, body = ApiError)))]
#[get("/v1/webhooks/{id}/deliveries")]
pub async fn deliveries(
    state: web::Data<State>,
    by: Principal,
    id: web::Path<i64>,
    query: web::Query<DeliveriesQuery>,
) -> Result<web::Json<DeliveryLog>, ApiError> {
    let limit = page_limit(query.limit)?;
    let deliveries = webhooks::attempts(&state, &by, *id, limit).await?;
    Ok(web::Json(DeliveryLog { deliveries }))
}
