//! `GET /v1/events`: the stock events feed, for consumers that keep their own cursor.

use super::error::ApiError;
use super::State;
use crate::app::events::{self, EventView, EVENTS_PAGE_MAX, WAIT_S_MAX};
use crate::domain::access::Principal;
use crate::domain::schema::{integer, schema_rule};
use crate::domain::Invalid;
use actix_web::{get, web, HttpResponse};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(feed).service(export);
}

/// Every (location, SKU)'s current figures as NDJSON: a first line `{"position": P, "at"}`,
/// then one line per balance (`sku`, `location`, figures, `sequence`). Start from it, then follow
/// `GET /v1/events?after=P`, dropping an event whose `sequence` is not above its row's: no gap,
/// nothing counted twice.
#[utoipa::path(tag = "events", responses(
    (status = 200, description = "NDJSON lines", content_type = "application/x-ndjson", body = String)))]
#[get("/v1/availability/export")]
pub async fn export(state: web::Data<State>, by: Principal) -> Result<HttpResponse, ApiError> {
    let lines = events::export(&state, &by).await?;
    let lines =
        lines.map(|line| line.map_err(|error| actix_web::Error::from(ApiError::from(error))));
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(lines))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// The last position seen (0, or absent, for the start).
    #[param(value_type = Option<FeedPosition>)]
    pub after: Option<i64>,
    #[param(value_type = Option<FeedLimit>)]
    pub limit: Option<i64>,
    /// Wait up to this many seconds for the next event instead of an empty page.
    #[param(value_type = Option<FeedWait>)]
    pub wait_s: Option<u64>,
}

const FEED_LIMIT_DEFAULT: i64 = 100;

schema_rule!(
    /// A position in the feed.
    FeedPosition = integer(0, i64::MAX)
);
schema_rule!(
    /// Events per page.
    FeedLimit = integer(1, EVENTS_PAGE_MAX).default(Some(FEED_LIMIT_DEFAULT.into()))
);
schema_rule!(
    /// Seconds to wait for an event.
    FeedWait = integer(0, WAIT_S_MAX as i64).default(Some(0.into()))
);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedPage {
    pub events: Vec<EventView>,
    /// The cursor to ask with next: the last event's position, or `after` when none came.
    pub next: i64,
}

/// Stock events in order: every committed change of a (location, SKU)'s figures, with its
/// cause, and the out-of-stock / back-in-stock crossings. At least once, in order per
/// (location, SKU) (`sequence` only grows); a consumer drops repeats by `id`.
#[utoipa::path(tag = "events", params(FeedQuery), responses(
    (status = 200, body = FeedPage), (status = 422, body = ApiError)))]
#[get("/v1/events")]
pub async fn feed(
    state: web::Data<State>,
    by: Principal,
    query: web::Query<FeedQuery>,
) -> Result<web::Json<FeedPage>, ApiError> {
    let after = match query.after.unwrap_or(0) {
        after @ 0.. => after,
        _ => return Err(Invalid::new("after", "must be 0 or more").into()),
    };
    let limit = match query.limit.unwrap_or(FEED_LIMIT_DEFAULT) {
        limit @ 1..=EVENTS_PAGE_MAX => limit,
        _ => return Err(Invalid::new("limit", format!("must be 1 to {EVENTS_PAGE_MAX}")).into()),
    };
    let wait_s = match query.wait_s.unwrap_or(0) {
        wait_s @ 0..=WAIT_S_MAX => wait_s,
        _ => return Err(Invalid::new("wait_s", format!("must be 0 to {WAIT_S_MAX}")).into()),
    };
    let page = events::after(&state, &by, after, limit, Duration::from_secs(wait_s)).await?;
    let next = page.last().map_or(after, |event| event.position);
    Ok(web::Json(FeedPage { events: page, next }))
}
