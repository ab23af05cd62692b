//! Every kind of bad input gets a 4xx naming the problem, and changes nothing.

use crate::helpers::spawn_app;
use awc::http::StatusCode;
use serde_json::{json, Value};

fn line(overrides: Value) -> Value {
    let mut line = json!({"kind": "receipt", "location": "S1", "sku": "TEE", "qty": 1});
    for (key, value) in overrides.as_object().unwrap() {
        if value.is_null() {
            line.as_object_mut().unwrap().remove(key);
        } else {
            line[key] = value.clone();
        }
    }
    json!({ "movements": [line] })
}

#[actix_web::test]
async fn bad_movements_are_refused_with_the_field_named_and_nothing_changes() {
    let app = spawn_app().await;
    app.store("S1", 25.0, 121.5).await;
    app.sku("TEE").await;
    app.receive("S1", "TEE", 5).await;
    let long = "x".repeat(201);
    let future = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    // (case, body, status, code, field)
    let cases: Vec<(&str, Value, u16, &str, Option<&str>)> = vec![
        (
            "zero qty",
            line(json!({"qty": 0})),
            422,
            "invalid_field",
            Some("movements[0].qty"),
        ),
        (
            "negative qty",
            line(json!({"qty": -3})),
            422,
            "invalid_field",
            Some("movements[0].qty"),
        ),
        (
            "fractional qty",
            line(json!({"qty": 1.5})),
            422,
            "invalid_field",
            Some("movements[0].qty"),
        ),
        (
            "huge qty",
            line(json!({"qty": 1e12})),
            422,
            "invalid_field",
            Some("movements[0].qty"),
        ),
        (
            "over the limit",
            line(json!({"qty": 1_000_001})),
            422,
            "invalid_field",
            Some("movements[0].qty"),
        ),
        (
            "qty as text",
            line(json!({"qty": "3"})),
            422,
            "invalid_field",
            Some("movements[0].qty"),
        ),
        (
            "missing qty",
            line(json!({"qty": null})),
            422,
            "invalid_field",
            Some("movements[0]"),
        ),
        (
            "unknown kind",
            line(json!({"kind": "teleport"})),
            422,
            "invalid_field",
            Some("movements[0].kind"),
        ),
        (
            "unknown field",
            line(json!({"colour": "red"})),
            422,
            "invalid_field",
            Some("movements[0].colour"),
        ),
        (
            "unknown sku",
            line(json!({"sku": "NOPE"})),
            422,
            "unknown_sku",
            Some("movements[0].sku"),
        ),
        (
            "unknown location",
            line(json!({"location": "NOPE"})),
            422,
            "unknown_location",
            Some("movements[0].location"),
        ),
        (
            "bad code",
            line(json!({"sku": "a b"})),
            422,
            "invalid_field",
            Some("movements[0].sku"),
        ),
        (
            "long code",
            line(json!({"sku": "x".repeat(65)})),
            422,
            "invalid_field",
            Some("movements[0].sku"),
        ),
        (
            "adjustment without reason",
            line(json!({"kind": "adjustment", "qty": -1})),
            422,
            "invalid_field",
            Some("movements[0].reason"),
        ),
        (
            "long reason",
            line(json!({"kind": "adjustment", "qty": -1, "reason": long})),
            422,
            "invalid_field",
            Some("movements[0].reason"),
        ),
        (
            "reason on a receipt",
            line(json!({"reason": "why"})),
            422,
            "invalid_field",
            Some("movements[0].reason"),
        ),
        (
            "zero adjustment",
            line(json!({"kind": "adjustment", "qty": 0, "reason": "x"})),
            422,
            "invalid_field",
            Some("movements[0].qty"),
        ),
        (
            "negative count",
            line(json!({"kind": "count", "qty": -1})),
            422,
            "invalid_field",
            Some("movements[0].qty"),
        ),
        (
            "future occurred_at",
            line(json!({"occurred_at": future})),
            422,
            "invalid_field",
            Some("movements[0].occurred_at"),
        ),
        (
            "bad occurred_at",
            line(json!({"occurred_at": "yesterday"})),
            422,
            "invalid_field",
            Some("movements[0].occurred_at"),
        ),
        (
            "empty batch",
            json!({"movements": []}),
            422,
            "invalid_field",
            Some("movements"),
        ),
        (
            "not an object",
            json!("movements"),
            422,
            "invalid_field",
            None,
        ),
        (
            "would go negative",
            line(json!({"kind": "adjustment", "qty": -6, "reason": "lost"})),
            409,
            "insufficient_stock",
            Some("movements[0]"),
        ),
    ];
    for (case, body, status, code, field) in cases {
        let response = app.post("/v1/movements", &body).await;
        assert_eq!(
            response.status.as_u16(),
            status,
            "{case}: {:?}",
            response.body
        );
        assert_eq!(response.body["code"], code, "{case}: {:?}", response.body);
        assert!(
            response.body["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{case}"
        );
        match field {
            Some(field) => assert_eq!(response.body["field"], field, "{case}: {:?}", response.body),
            None => assert!(
                response.body.get("field").is_none(),
                "{case}: {:?}",
                response.body
            ),
        }
    }
    let too_many: Vec<Value> = (0..1001)
        .map(|_| json!({"kind": "receipt", "location": "S1", "sku": "TEE", "qty": 1}))
        .collect();
    let response = app
        .post("/v1/movements", &json!({ "movements": too_many }))
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.body["field"], "movements");

    assert_eq!(
        app.balance("S1", "TEE").await["on_hand"],
        5,
        "nothing changed"
    );
    let trail = app.get("/v1/movements?sku=TEE").await;
    assert_eq!(trail.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn malformed_oversized_and_mistyped_bodies_are_refused() {
    let app = spawn_app().await;
    let raw = |body: &'static str, content_type: &'static str| {
        let app = &app;
        async move {
            let mut response = app
                .client
                .post(format!("{}/v1/movements", app.address))
                .insert_header(app.bearer())
                .insert_header(("Content-Type", content_type))
                .send_body(body)
                .await
                .unwrap();
            let body: Value = serde_json::from_slice(&response.body().await.unwrap()).unwrap();
            (response.status(), body)
        }
    };
    let (status, body) = raw("{\"movements\": [", "application/json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "malformed_json");
    let (status, body) = raw("kind=receipt", "application/x-www-form-urlencoded").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body["code"], "unsupported_media_type");

    let huge = format!("{{\"movements\": [{}]}}", "1,".repeat(600_000));
    let mut response = app
        .client
        .post(format!("{}/v1/movements", app.address))
        .insert_header(app.bearer())
        .insert_header(("Content-Type", "application/json"))
        .send_body(huge)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = serde_json::from_slice(&response.body().await.unwrap()).unwrap();
    assert_eq!(body["code"], "payload_too_large");
}

#[actix_web::test]
async fn bad_locations_skus_and_queries_name_the_field() {
    let app = spawn_app().await;
    let location = |overrides: Value| {
        let mut body = json!({"name": "S", "kind": "store", "latitude": 25.0, "longitude": 121.5,
                              "pickup": true, "ship": true});
        for (key, value) in overrides.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        (
            "latitude",
            "/v1/locations/S1",
            location(json!({"latitude": 91})),
            "latitude",
        ),
        (
            "longitude",
            "/v1/locations/S1",
            location(json!({"longitude": -181})),
            "longitude",
        ),
        (
            "kind",
            "/v1/locations/S1",
            location(json!({"kind": "kiosk"})),
            "kind",
        ),
        (
            "empty name",
            "/v1/locations/S1",
            location(json!({"name": "  "})),
            "name",
        ),
        (
            "long name",
            "/v1/locations/S1",
            location(json!({"name": "n".repeat(201)})),
            "name",
        ),
        (
            "safety stock",
            "/v1/locations/S1",
            location(json!({"safety_stock": -1})),
            "safety_stock",
        ),
        (
            "pickup type",
            "/v1/locations/S1",
            location(json!({"pickup": "yes"})),
            "pickup",
        ),
        (
            "path code",
            "/v1/locations/bad%20code",
            location(json!({})),
            "code",
        ),
        ("sku name", "/v1/skus/TEE", json!({"name": ""}), "name"),
        (
            "sku attribute",
            "/v1/skus/TEE",
            json!({"name": "Tee", "attributes": {"size": [1]}}),
            "attributes.size",
        ),
    ];
    for (case, path, body, field) in cases {
        let response = app.put(path, &body).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{case}: {:?}",
            response.body
        );
        assert_eq!(response.body["field"], field, "{case}: {:?}", response.body);
    }
    assert_eq!(
        app.get("/v1/locations/S1").await.status,
        StatusCode::NOT_FOUND,
        "nothing created"
    );

    app.store("S1", 25.0, 121.5).await;
    app.sku("TEE").await;
    let queries: Vec<(&str, u16, Option<&str>)> = vec![
        ("/v1/stock/TEE?near=north", 422, Some("near")),
        ("/v1/stock/TEE?near=95,121", 422, Some("near")),
        ("/v1/stock/TEE?near=25,121&store=S1", 422, Some("store")),
        ("/v1/stock/TEE?store=NOPE", 404, Some("store")),
        ("/v1/stock/NOPE", 404, None),
        ("/v1/stock/TEE?as_of=yesterday", 400, None),
        ("/v1/stock/TEE?colour=red", 400, None),
        ("/v1/movements?limit=0", 422, Some("limit")),
        ("/v1/movements?limit=5000", 422, Some("limit")),
        ("/v1/locations/S1/stock?after=a%20b", 422, Some("after")),
        ("/v1/no-such-route", 404, None),
    ];
    for (path, status, field) in queries {
        let response = app.get(path).await;
        assert_eq!(
            response.status.as_u16(),
            status,
            "{path}: {:?}",
            response.body
        );
        assert!(
            response.body["code"].is_string(),
            "{path}: {:?}",
            response.body
        );
        if let Some(field) = field {
            assert_eq!(response.body["field"], field, "{path}: {:?}", response.body);
        }
    }
}

#[actix_web::test]
async fn a_method_the_path_does_not_take_is_a_405_that_says_which_it_takes() {
    let app = crate::helpers::spawn_app().await;
    for method in ["TRACE", "PATCH", "POST"] {
        let response = app.request(method, "/v1/locations/S1", None, &[]).await;
        assert_eq!(
            response.status,
            awc::http::StatusCode::METHOD_NOT_ALLOWED,
            "{method}"
        );
        let allow = response
            .headers
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(allow.as_deref(), Some("GET, PUT"), "{method}");
        assert_eq!(response.body["code"], "method_not_allowed");
    }
}
