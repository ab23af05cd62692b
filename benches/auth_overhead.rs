//! What checking a credential costs a clerk lookup, in one process over warm state, alternating:
//! a route with no I/O served bare (`/health`, no middleware) against one through the access
//! middleware with a key (`GET /v1/session`, answered from the principal). Their difference
//! bounds the check (rule lookup, key hash, cached verification, principal), and is set against
//! a lookup through the middleware. Redis's round trip makes lookups vary more than the check
//! costs, so a lookup with and without the check cannot show it directly.
//!
//! Needs PostgreSQL and Redis as `make test` runs them: `cargo bench --bench auth_overhead`.

use actix_web::middleware::from_fn;
use actix_web::{test, web, App as Web};
use allot::app::access::{self, KeyRequest};
use allot::app::{catalog, movements, App};
use allot::config::Settings;
use allot::domain::access::{Principal, Role};
use allot::domain::codes::{LocationCode, SkuCode};
use allot::domain::geo::Point;
use allot::domain::ledger::Movement;
use allot::domain::location::{Location, LocationKind};
use allot::domain::quantity::Qty;
use allot::domain::sku::Sku;
use clap::Parser;
use std::time::Instant;

/// Requests per measured round, and rounds per variant.
const REQUESTS: u32 = 20_000;
const ROUNDS: usize = 5;
const SERVER: &str = "postgres://postgres@127.0.0.1:5432";

#[derive(Parser)]
struct Defaults {
    #[command(flatten)]
    settings: Settings,
}

async fn seed(app: &App) {
    let by = Principal::system("bench");
    for (index, code) in ["S1", "S2", "S3"].iter().enumerate() {
        let location = Location {
            code: LocationCode::parse("code", code).expect("a code"),
            name: format!("Store {code}"),
            kind: LocationKind::Store,
            point: Point {
                latitude: 25.0 + index as f64 * 0.01,
                longitude: 121.5,
            },
            pickup: true,
            ship: true,
            safety_stock: 0,
            handling_per_unit: None,
            pick_capacity_per_day: None,
            transfers_out: true,
            low_stock_below: 0,
        };
        catalog::put_location(app, &by, &location)
            .await
            .expect("a location");
    }
    let sku = Sku {
        code: SkuCode::parse("code", "TEE").expect("a code"),
        name: "Tee".into(),
        attributes: Default::default(),
    };
    catalog::put_sku(app, &by, &sku).await.expect("a SKU");
    let lines: Vec<_> = ["S1", "S2", "S3"]
        .iter()
        .map(|code| allot::app::Line {
            location: LocationCode::parse("location", code).expect("a code"),
            sku: sku.code.clone(),
            movement: Movement::Receipt(Qty::parse("qty", 5).expect("a qty")),
            occurred_at: chrono::Utc::now(),
        })
        .collect();
    movements::record(app, &by, None, "movements", &lines)
        .await
        .expect("stock");
}

/// Mean time per request of `REQUESTS` calls of `path` (µs).
async fn per_request<S, B>(service: &S, path: &str, header: Option<&(&str, String)>) -> f64
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
{
    let started = Instant::now();
    for _ in 0..REQUESTS {
        let mut request = test::TestRequest::get().uri(path);
        if let Some(header) = header {
            request = request.insert_header(header.clone());
        }
        let answer = test::call_service(service, request.to_request()).await;
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(REQUESTS)
}

#[actix_web::main]
async fn main() {
    let database = format!("allot_bench_auth_{}", std::process::id());
    let (admin, connection) =
        tokio_postgres::connect(&format!("{SERVER}/postgres"), tokio_postgres::NoTls)
            .await
            .expect("PostgreSQL runs");
    tokio::spawn(connection);
    admin
        .execute(&format!("CREATE DATABASE {database}"), &[])
        .await
        .expect("a database");
    let mut settings = Defaults::parse_from(["bench"]).settings;
    settings.database_url = format!("{SERVER}/{database}");
    settings.redis_prefix = database.clone();
    settings.nats_url = String::new();
    let app = web::Data::new(App::open(&settings, 4).await.expect("the app opens"));
    seed(&app).await;
    let request = KeyRequest {
        role: Role::Eshop,
        locations: Vec::new(),
        label: None,
        expires_at: None,
    };
    let key = access::create_key(&app, &Principal::system("bench"), request)
        .await
        .expect("a key")
        .key;
    let guarded = test::init_service(
        Web::new()
            .wrap(from_fn(allot::api::access::guard))
            .app_data(app.clone())
            .configure(allot::api::configure),
    )
    .await;
    let open = test::init_service(
        Web::new()
            .app_data(app.clone())
            .configure(allot::api::configure),
    )
    .await;
    let bearer = ("Authorization", format!("Bearer {key}"));
    let (mut bare, mut checked, mut lookups) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..=ROUNDS {
        // No I/O on either side: `/health` with no middleware against `GET /v1/session` (who
        // am I, answered from the principal) through it with a key.
        let bare_us = per_request(&open, "/health", None).await;
        let checked_us = per_request(&guarded, "/v1/session", Some(&bearer)).await;
        let lookup_us = per_request(&guarded, "/v1/stock/TEE?store=S1", Some(&bearer)).await;
        // Round 0 warms up.
        if round > 0 {
            println!(
                "round {round}: /health bare {bare_us:.2} us, /v1/session with a key {checked_us:.2} us, \
                 a lookup with a key {lookup_us:.2} us"
            );
            bare.push(bare_us);
            checked.push(checked_us);
            lookups.push(lookup_us);
        }
    }
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let (bare, checked, lookup) = (
        median(&mut bare),
        median(&mut checked),
        median(&mut lookups),
    );
    println!(
        "medians of {ROUNDS} rounds of {REQUESTS} requests: /health bare {bare:.2} us, \
         /v1/session with a key {checked:.2} us, a lookup {lookup:.2} us: checking the key costs \
         at most {:.2} us, {:.1} % of a lookup",
        checked - bare,
        (checked - bare) / lookup * 100.0
    );
    drop(
        admin
            .execute(&format!("DROP DATABASE {database} WITH (FORCE)"), &[])
            .await,
    );
}
