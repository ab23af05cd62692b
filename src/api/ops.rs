//! Liveness, readiness, and the Prometheus metrics the middleware collects.

use super::State;
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use std::time::Duration;

/// How long a readiness probe waits for each dependency.
pub const READY_TIMEOUT: Duration = Duration::from_secs(1);

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health).service(ready).service(metrics);
}

/// The metrics in Prometheus' text format.
#[get("/metrics")]
pub async fn metrics(registry: web::Data<prometheus::Registry>) -> HttpResponse {
    use prometheus::Encoder;
    let encoder = prometheus::TextEncoder::new();
    let mut body = Vec::new();
    match encoder.encode(&registry.gather(), &mut body) {
        Ok(()) => HttpResponse::Ok()
            .content_type(encoder.format_type())
            .body(body),
        Err(error) => {
            actix_web::ResponseError::error_response(&super::error::ApiError::internal(&error))
        }
    }
}

/// The process is up.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Alive")))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    pub postgres: String,
    pub redis: String,
}

/// PostgreSQL and Redis both answer.
#[utoipa::path(tag = "operations", responses(
    (status = 200, body = Readiness), (status = 503, body = Readiness)))]
#[get("/ready")]
pub async fn ready(state: web::Data<State>) -> HttpResponse {
    let (postgres, redis) = crate::app::queries::readiness(&state, READY_TIMEOUT).await;
    let all_ready = postgres.is_ok() && redis.is_ok();
    let describe = |result: Result<(), String>| result.map_or_else(|e| e, |()| "ok".to_owned());
    let body = Readiness {
        postgres: describe(postgres),
        redis: describe(redis),
    };
    if all_ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
