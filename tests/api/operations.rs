use crate::helpers::spawn_app;
use awc::http::StatusCode;

#[actix_web::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    assert_eq!(app.get("/health").await.status, StatusCode::OK);
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, StatusCode::OK, "{:?}", ready.body);
    assert_eq!(ready.body["postgres"], "ok");
    assert_eq!(ready.body["redis"], "ok");
}

#[actix_web::test]
async fn metrics_count_requests_per_route() {
    let app = spawn_app().await;
    app.store("S1", 25.0, 121.5).await;
    app.get("/v1/locations/S1").await;
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = metrics.body.as_str().expect("Prometheus text");
    assert!(text.contains("allot_http_requests_total"), "{text}");
    assert!(
        text.contains("allot_http_requests_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("endpoint=\"/v1/locations/{code}\""), "{text}");
}

#[actix_web::test]
async fn the_openapi_document_covers_every_route() {
    let app = spawn_app().await;
    let document = app.get("/openapi.json").await;
    assert_eq!(document.status, StatusCode::OK);
    let paths = document.body["paths"].as_object().expect("paths");
    let expected = [
        ("/health", "get"),
        ("/ready", "get"),
        ("/v1/locations/{code}", "put"),
        ("/v1/locations/{code}", "get"),
        ("/v1/locations/{code}/stock", "get"),
        ("/v1/skus/{code}", "put"),
        ("/v1/skus/{code}", "get"),
        ("/v1/movements", "post"),
        ("/v1/movements", "get"),
        ("/v1/stock/{sku}", "get"),
        ("/v1/discrepancies", "get"),
        ("/v1/holds", "post"),
        ("/v1/holds/{id}", "get"),
        ("/v1/holds/{id}", "delete"),
        ("/v1/holds/{id}/extend", "post"),
        ("/v1/holds/{id}/confirm", "post"),
        ("/v1/promise", "post"),
        ("/v1/orders", "post"),
        ("/v1/orders/{id}", "get"),
        ("/v1/orders/{id}/cancel", "post"),
        ("/v1/orders/{id}/fulfil", "post"),
        ("/v1/orders/{id}/pickups", "post"),
        ("/v1/orders/{id}/returns", "post"),
        ("/v1/reports/attribution", "get"),
        ("/v1/transfers", "post"),
        ("/v1/transfers", "get"),
        ("/v1/transfers/{id}", "get"),
        ("/v1/transfers/{id}/ship", "post"),
        ("/v1/transfers/{id}/receive", "post"),
        ("/v1/transfers/{id}/cancel", "post"),
        ("/v1/plans/rebalance", "post"),
        ("/v1/locations", "get"),
        ("/v1/skus", "get"),
        ("/v1/settings/costs", "get"),
        ("/v1/settings/costs", "put"),
        ("/v1/plans/replenishment", "post"),
        ("/v1/plans", "get"),
        ("/v1/plans/{id}", "get"),
        ("/v1/plans/{id}/commit", "post"),
        ("/v1/plans/{id}/chart.svg", "get"),
        ("/v1/plans/{id}/report.csv", "get"),
        ("/v1/session", "post"),
        ("/v1/session", "get"),
        ("/v1/session", "delete"),
        ("/v1/keys", "post"),
        ("/v1/keys", "get"),
        ("/v1/keys/{id}", "delete"),
        ("/v1/users", "post"),
        ("/v1/users", "get"),
        ("/v1/users/{name}", "delete"),
        ("/v1/events", "get"),
        ("/v1/availability/export", "get"),
        ("/v1/plans/runs/{id}", "get"),
        ("/v1/webhooks", "post"),
        ("/v1/webhooks", "get"),
        ("/v1/webhooks/{id}", "get"),
        ("/v1/webhooks/{id}", "delete"),
        ("/v1/webhooks/{id}/secret", "post"),
        ("/v1/webhooks/{id}/redeliver", "post"),
        ("/v1/webhooks/{id}/deliveries", "get"),
    ];
    for (path, method) in expected {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        expected.len(),
        "a route is documented but not listed here"
    );
}
