//! What the pages need from the API: the chain's locations, SKU search while typing, and a
//! transfer request that a double click cannot send twice.

use crate::helpers::spawn_app;
use awc::http::StatusCode;
use serde_json::{json, Value};

fn codes(body: &Value, list: &str) -> Vec<String> {
    body[list]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["code"].as_str().map(str::to_owned))
        .collect()
}

#[actix_rt::test]
async fn skus_are_found_by_the_start_of_their_code_or_name() {
    let app = spawn_app().await;
    for (code, name) in [
        ("TSHIRT-BLK-M", "T-shirt black M"),
        ("TSHIRT-WHT-M", "T-shirt white M"),
        ("HOODIE-NVY-L", "Hoodie navy L"),
        ("SOCKS-50", "50% wool socks"),
        ("SOCKS-5X", "5 pack socks"),
    ] {
        let response = app
            .put(&format!("/v1/skus/{code}"), &json!({"name": name}))
            .await;
        assert_eq!(response.status, StatusCode::CREATED);
    }
    let found = async |q: &str| {
        let path = format!("/v1/skus?q={}", q.replace('%', "%25").replace(' ', "%20"));
        let response = app.get(&path).await;
        assert_eq!(response.status, StatusCode::OK, "{q}: {:?}", response.body);
        codes(&response.body, "skus")
    };
    assert_eq!(found("TSHIRT").await, ["TSHIRT-BLK-M", "TSHIRT-WHT-M"]);
    assert_eq!(
        found("hood").await,
        ["HOODIE-NVY-L"],
        "names match in any case"
    );
    assert_eq!(found("HOODIE n").await, ["HOODIE-NVY-L"]);
    assert_eq!(found("t-shirt w").await, ["TSHIRT-WHT-M"]);
    // LIKE's wildcards are plain characters here.
    assert_eq!(found("50%").await, ["SOCKS-50"]);
    assert!(found("5_").await.is_empty());
    assert!(found("tshirt").await.is_empty(), "codes match as written");
    let limited = app.get("/v1/skus?q=T&limit=1").await;
    assert_eq!(codes(&limited.body, "skus"), ["TSHIRT-BLK-M"]);

    for (query, field) in [
        ("", "q"),
        ("?q=", "q"),
        ("?q=%20", "q"),
        ("?q=T&limit=0", "limit"),
        ("?q=T&limit=101", "limit"),
    ] {
        let response = app.get(&format!("/v1/skus{query}")).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(
            response.body["field"], field,
            "{query}: {:?}",
            response.body
        );
    }
    let unknown = app.get("/v1/skus?q=T&sort=name").await;
    assert!(
        unknown.status.is_client_error(),
        "unknown parameters are refused"
    );
    let long = "A".repeat(65);
    let response = app.get(&format!("/v1/skus?q={long}")).await;
    assert_eq!(response.body["field"], "q");
}

#[actix_rt::test]
async fn locations_are_listed_by_code_and_kind() {
    let app = spawn_app().await;
    app.store("TPE-B", 25.05, 121.54).await;
    app.store("TPE-A", 25.03, 121.56).await;
    app.warehouse("WH-1", 25.0, 121.3).await;
    assert_eq!(
        codes(&app.get("/v1/locations").await.body, "locations"),
        ["TPE-A", "TPE-B", "WH-1"]
    );
    let stores = app.get("/v1/locations?kind=store").await;
    assert_eq!(codes(&stores.body, "locations"), ["TPE-A", "TPE-B"]);
    assert_eq!(stores.body["locations"][0]["latitude"], 25.03);
    let bad = app.get("/v1/locations?kind=kiosk").await;
    assert_eq!(
        (bad.status, bad.body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("kind"))
    );
    let first = app.get("/v1/locations?limit=2").await.body;
    assert_eq!(codes(&first, "locations"), ["TPE-A", "TPE-B"]);
    assert_eq!(first["next"], "TPE-B");
    let rest = app.get("/v1/locations?limit=2&after=TPE-B").await.body;
    assert_eq!(codes(&rest, "locations"), ["WH-1"]);
    assert!(rest.get("next").is_none(), "{rest}");
    let too_many = app.get("/v1/locations?limit=1001").await;
    assert_eq!(too_many.body["field"], "limit");
}

#[actix_rt::test]
async fn a_transfer_request_sent_twice_with_its_key_is_made_once() {
    let app = spawn_app().await;
    app.store("TPE-A", 25.03, 121.56).await;
    app.store("TPE-B", 25.05, 121.54).await;
    app.sku("CAP-RED").await;
    app.receive("TPE-B", "CAP-RED", 10).await;
    let body = json!({"sku": "CAP-RED", "qty": 2, "to": "TPE-A"});
    let key = [("Idempotency-Key", "clerk-intent-1")];
    let first = app
        .request("POST", "/v1/transfers", Some(&body), &key)
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let second = app
        .request("POST", "/v1/transfers", Some(&body), &key)
        .await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(
        second
            .headers
            .get("Idempotent-Replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    assert_eq!(second.body, first.body, "the first answer, replayed");
    let listed = app.get("/v1/transfers?reason=clerk").await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
    let other = json!({"sku": "CAP-RED", "qty": 3, "to": "TPE-A"});
    let reused = app
        .request("POST", "/v1/transfers", Some(&other), &key)
        .await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.body["field"], "Idempotency-Key");
    // Without a key, each request is its own.
    let again = app.post("/v1/transfers", &body).await;
    assert_eq!(again.status, StatusCode::CREATED);
    let listed = app.get("/v1/transfers?reason=clerk").await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(2));
}
