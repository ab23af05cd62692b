//! Liveness, readiness. (`/metrics` is served by the Prometheus middleware.)

use super::State;
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use std::time::Duration;

/// How long a readiness probe waits for each dependency.
pub const READY_TIMEOUT: Duration = Duration::from_secs(1);

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The Prometheus middleware writes the body of /metrics; the route only claims the path.
    cfg.service(health)
        .service(ready)
        .route("/metrics", web::get().to(HttpResponse::Ok));
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
