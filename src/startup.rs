//! Building and running the HTTP service: pools, migrations, middleware, routes.

use crate::api::{self, access, error::ApiError};
use crate::app::{self, OpenError};
use crate::config::Settings;
use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use actix_web_prom::PrometheusMetricsBuilder;
use std::net::TcpListener;
use std::time::Duration;
use tracing_actix_web::TracingLogger;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("binding the HTTP listener: {0}")]
    Bind(#[from] std::io::Error),
    #[error("metrics: {0}")]
    Metrics(String),
}

pub struct Application {
    port: u16,
    server: Server,
}

/// Longest a client may take to send a request's headers (a 408 past it).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a closing connection may take to shut down cleanly.
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// On SIGTERM or SIGINT: stop accepting, then give requests in flight this long to finish.
pub const SHUTDOWN_TIMEOUT_S: u64 = 20;

impl Application {
    /// Migrates the database, then binds (port 0 picks a free port, as tests do).
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        let state = web::Data::new(app::App::open(settings, settings.db_pool_size).await?);
        tokio::spawn(app::events::relay(state.clone().into_inner()));
        tokio::spawn(app::housekeeping::run(state.clone().into_inner()));
        tokio::spawn(app::planner::run(state.clone().into_inner()));
        tokio::spawn(app::hold_events::publish_forever(
            state.clone().into_inner(),
        ));
        tokio::spawn(app::webhooks::deliver_forever(state.clone().into_inner()));
        // The `/metrics` route renders the registry, behind the access rules like every route.
        let prometheus = PrometheusMetricsBuilder::new("allot")
            .mask_unmatched_patterns("UNMATCHED")
            .build()
            .map_err(|error| StartupError::Metrics(error.to_string()))?;
        crate::telemetry::register(&prometheus.registry)
            .map_err(|error| StartupError::Metrics(error.to_string()))?;
        let registry = web::Data::new(prometheus.registry.clone());
        let policy = web::Data::new(access::Policy {
            exposure: settings.metrics_access,
        });
        let origins = settings.cors_origins.clone();
        let listener = TcpListener::bind(settings.bind)?;
        let port = listener.local_addr()?.port();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(access::guard))
                .wrap(cors(&origins))
                .wrap(prometheus.clone())
                .wrap(TracingLogger::default())
                .app_data(state.clone())
                .app_data(policy.clone())
                .app_data(registry.clone())
                .configure(api::configure)
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(ApiError::not_found("no such route"))
                }))
        })
        .client_request_timeout(HEADER_READ_TIMEOUT)
        .client_disconnect_timeout(DISCONNECT_TIMEOUT)
        .shutdown_timeout(SHUTDOWN_TIMEOUT_S)
        .listen(listener)?;
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        Ok(Self {
            port,
            server: server.run(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Browsers may call the API from the configured origins only (none by default); preflights
/// from anywhere else are refused.
fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods(["GET", "POST", "PUT", "DELETE"])
        .allowed_headers(["Authorization", "Content-Type", "Idempotency-Key"])
        .max_age(600)
}
