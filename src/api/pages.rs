//! The clerk's and the planner's pages: static files compiled into the binary, so a newcomer
//! runs no build step and the pages ship with the API they use (they call only `/v1`).

use actix_web::http::header::{CacheControl, CacheDirective, ContentType};
use actix_web::{get, web, HttpResponse};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(clerk).service(planner).service(asset);
}

/// (name, content type, body) of every file under `static/`.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../static/app.css"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/api.js"),
    ),
    (
        "clerk.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/clerk.js"),
    ),
    (
        "plans.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/plans.js"),
    ),
];

fn page(body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        // Pages load only their own scripts and talk only to this origin.
        .insert_header((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
        ))
        .insert_header(CacheControl(vec![CacheDirective::NoCache]))
        .body(body)
}

#[get("/")]
pub async fn clerk() -> HttpResponse {
    page(include_str!("../../static/index.html"))
}

#[get("/plans")]
pub async fn planner() -> HttpResponse {
    page(include_str!("../../static/plans.html"))
}

#[get("/static/{file}")]
pub async fn asset(file: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|(name, ..)| *name == file.as_str()) {
        Some((_, content_type, body)) => HttpResponse::Ok()
            .content_type(*content_type)
            // Revalidated each time: the files change with the binary, and they are small.
            .insert_header(CacheControl(vec![CacheDirective::NoCache]))
            .body(*body),
        None => HttpResponse::NotFound()
            .content_type(ContentType::plaintext())
            .body("no such file"),
    }
}
