//! Failures a client can cause are 4xx, never 500: stock that is not there is a 409, input the
//! solver or PostgreSQL could not take is a 422 naming its field, a body that is not JSON is a
//! 415. None of them books anything.

use crate::helpers::{spawn_app, TestApp};
use allot::domain::limits::QTY_MAX;
use awc::http::StatusCode;
use serde_json::{json, Value};

/// How a case's body is sent.
enum Body {
    /// As JSON, with `Content-Type: application/json`.
    Json(Value),
    /// These bytes with this Content-Type, or with none.
    Raw(&'static str, Option<&'static str>),
}

async fn send(app: &TestApp, method: &str, path: &str, body: &Body) -> (StatusCode, Value) {
    match body {
        Body::Json(value) => {
            let response = app.request(method, path, Some(value), &[]).await;
            (response.status, response.body)
        }
        Body::Raw(bytes, content_type) => {
            let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
            let mut request = app
                .client
                .request(method, format!("{}{path}", app.address))
                .insert_header(app.bearer());
            if let Some(content_type) = content_type {
                request = request.insert_header(("Content-Type", *content_type));
            }
            let mut response = request.send_body(*bytes).await.unwrap();
            let body = serde_json::from_slice(&response.body().await.unwrap()).unwrap();
            (response.status(), body)
        }
    }
}

fn ship() -> Value {
    json!({"mode": "ship", "latitude": 25.04, "longitude": 121.55})
}

fn order(id: &str, lines: Value) -> Value {
    json!({"id": id, "lines": lines, "fulfilment": ship()})
}

#[actix_web::test]
async fn expected_failures_are_4xx_and_book_nothing() {
    let app = spawn_app().await;
    app.store("S1", 25.03, 121.56).await;
    app.store("S2", 25.05, 121.54).await;
    app.sku("TEE").await;
    app.sku("SOLD").await;
    app.sku("NONE").await;
    app.receive("S1", "TEE", 5).await;
    app.receive("S1", "SOLD", 2).await;
    app.movements(json!([{"kind": "sale", "location": "S1", "sku": "SOLD", "qty": 2}]))
        .await;
    let over = QTY_MAX + 1;
    let half = QTY_MAX / 2 + 1;
    let receipt =
        r#"{"movements": [{"kind": "receipt", "location": "S1", "sku": "TEE", "qty": 1}]}"#;
    let tee_order = r#"{"id": "RAW-1", "lines": [{"sku": "TEE", "qty": 1}],
        "fulfilment": {"mode": "ship", "latitude": 25.04, "longitude": 121.55}}"#;
    let transfer = r#"{"sku": "TEE", "qty": 1, "to": "S2"}"#;
    let hold = r#"{"lines": [{"sku": "TEE", "location": "S1", "qty": 1}], "ttl_s": 60}"#;
    // (case, method, path, body, status, code, field, a word the message must contain)
    type Case = (
        &'static str,
        &'static str,
        String,
        Body,
        u16,
        &'static str,
        Option<&'static str>,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "sold-out SKU, shipped",
            "POST",
            "/v1/orders".into(),
            Body::Json(order("O-1", json!([{"sku": "SOLD", "qty": 1}]))),
            409,
            "insufficient_stock",
            None,
            "SOLD",
        ),
        (
            "SKU stocked nowhere, shipped (no candidate at all)",
            "POST",
            "/v1/orders".into(),
            Body::Json(order("O-2", json!([{"sku": "NONE", "qty": 1}]))),
            409,
            "insufficient_stock",
            None,
            "NONE",
        ),
        (
            "SKU stocked nowhere next to one in stock",
            "POST",
            "/v1/orders".into(),
            Body::Json(order(
                "O-3",
                json!([{"sku": "TEE", "qty": 1}, {"sku": "NONE", "qty": 2}]),
            )),
            409,
            "insufficient_stock",
            None,
            "NONE",
        ),
        (
            "SKU stocked nowhere, picked up",
            "POST",
            "/v1/orders".into(),
            Body::Json(json!({"id": "O-4", "lines": [{"sku": "NONE", "qty": 1}],
                              "fulfilment": {"mode": "pickup", "store": "S1"}})),
            409,
            "insufficient_stock",
            None,
            "NONE",
        ),
        (
            "transfer of a SKU stocked nowhere",
            "POST",
            "/v1/transfers".into(),
            Body::Json(json!({"sku": "NONE", "qty": 1, "to": "S2"})),
            409,
            "insufficient_stock",
            Some("qty"),
            "NONE",
        ),
        (
            "order line over the limit",
            "POST",
            "/v1/orders".into(),
            Body::Json(order("O-5", json!([{"sku": "TEE", "qty": over}]))),
            422,
            "invalid_field",
            Some("lines[0].qty"),
            "",
        ),
        (
            "order lines of one SKU summing over the limit",
            "POST",
            "/v1/orders".into(),
            Body::Json(order(
                "O-6",
                json!([{"sku": "TEE", "qty": half}, {"sku": "TEE", "qty": half}]),
            )),
            422,
            "invalid_field",
            Some("lines[0].qty"),
            "",
        ),
        (
            "promise line over the limit",
            "POST",
            "/v1/promise".into(),
            Body::Json(json!({"lines": [{"sku": "TEE", "qty": over}], "fulfilment": ship()})),
            422,
            "invalid_field",
            Some("lines[0].qty"),
            "",
        ),
        (
            "routed transfer of 536,017 units",
            "POST",
            "/v1/transfers".into(),
            Body::Json(json!({"sku": "TEE", "qty": 536_017, "to": "S2"})),
            422,
            "invalid_field",
            Some("qty"),
            "",
        ),
        (
            "transfer from a given source over the limit",
            "POST",
            "/v1/transfers".into(),
            Body::Json(json!({"sku": "TEE", "qty": over, "to": "S2", "from": "S1"})),
            422,
            "invalid_field",
            Some("qty"),
            "",
        ),
        (
            "receipt over the limit",
            "POST",
            "/v1/movements".into(),
            Body::Json(
                json!({"movements": [{"kind": "receipt", "location": "S1", "sku": "TEE", "qty": over}]}),
            ),
            422,
            "invalid_field",
            Some("movements[0].qty"),
            "",
        ),
        (
            "hold line over the limit",
            "POST",
            "/v1/holds".into(),
            Body::Json(
                json!({"lines": [{"sku": "TEE", "location": "S1", "qty": over}], "ttl_s": 60}),
            ),
            422,
            "invalid_field",
            Some("lines[0].qty"),
            "",
        ),
        (
            "NUL in a SKU attribute value",
            "PUT",
            "/v1/skus/NEW".into(),
            Body::Json(json!({"name": "New", "attributes": {"colour": "red\u{0}"}})),
            422,
            "invalid_field",
            Some("attributes.colour"),
            "NUL",
        ),
        (
            "NUL in a SKU attribute name",
            "PUT",
            "/v1/skus/NEW".into(),
            Body::Json(json!({"name": "New", "attributes": {"co\u{0}lour": "red"}})),
            422,
            "invalid_field",
            Some("attributes.co\u{0}lour"),
            "control",
        ),
        (
            "NUL in a SKU name",
            "PUT",
            "/v1/skus/NEW".into(),
            Body::Json(json!({"name": "New\u{0}"})),
            422,
            "invalid_field",
            Some("name"),
            "control",
        ),
        (
            "NUL in a location name",
            "PUT",
            "/v1/locations/S9".into(),
            Body::Json(json!({"name": "S\u{0}9", "kind": "store", "latitude": 25.0,
                              "longitude": 121.5, "pickup": true, "ship": true})),
            422,
            "invalid_field",
            Some("name"),
            "control",
        ),
        (
            "NUL in a movement reason",
            "POST",
            "/v1/movements".into(),
            Body::Json(
                json!({"movements": [{"kind": "adjustment", "location": "S1",
                                             "sku": "TEE", "qty": 1, "reason": "\u{0}"}]}),
            ),
            422,
            "invalid_field",
            Some("movements[0].reason"),
            "control",
        ),
        (
            "NUL in a referring clerk",
            "POST",
            "/v1/orders".into(),
            Body::Json(json!({"id": "O-7", "lines": [{"sku": "TEE", "qty": 1}],
                              "fulfilment": ship(), "referrer": {"store": "S1", "clerk": "a\u{0}"}})),
            422,
            "invalid_field",
            Some("referrer.clerk"),
            "control",
        ),
        (
            "movements as text/plain",
            "POST",
            "/v1/movements".into(),
            Body::Raw(receipt, Some("text/plain")),
            415,
            "unsupported_media_type",
            None,
            "JSON",
        ),
        (
            "movements with no Content-Type",
            "POST",
            "/v1/movements".into(),
            Body::Raw(receipt, None),
            415,
            "unsupported_media_type",
            None,
            "JSON",
        ),
        (
            "movements as application/jsonp",
            "POST",
            "/v1/movements".into(),
            Body::Raw(receipt, Some("application/jsonp")),
            415,
            "unsupported_media_type",
            None,
            "JSON",
        ),
        (
            "order as text/plain",
            "POST",
            "/v1/orders".into(),
            Body::Raw(tee_order, Some("text/plain")),
            415,
            "unsupported_media_type",
            None,
            "JSON",
        ),
        (
            "order with no Content-Type",
            "POST",
            "/v1/orders".into(),
            Body::Raw(tee_order, None),
            415,
            "unsupported_media_type",
            None,
            "JSON",
        ),
        (
            "transfer with no Content-Type",
            "POST",
            "/v1/transfers".into(),
            Body::Raw(transfer, None),
            415,
            "unsupported_media_type",
            None,
            "JSON",
        ),
        (
            "hold as text/plain",
            "POST",
            "/v1/holds".into(),
            Body::Raw(hold, Some("text/plain")),
            415,
            "unsupported_media_type",
            None,
            "JSON",
        ),
        (
            "SKU with no Content-Type",
            "PUT",
            "/v1/skus/NEW".into(),
            Body::Raw(r#"{"name": "New"}"#, None),
            415,
            "unsupported_media_type",
            None,
            "JSON",
        ),
        (
            "an empty body with no Content-Type: a change always declares JSON",
            "POST",
            "/v1/movements".into(),
            Body::Raw("", None),
            415,
            "unsupported_media_type",
            None,
            "JSON",
        ),
    ];
    for (case, method, path, body, status, code, field, word) in &cases {
        let (got, body) = send(&app, method, path, body).await;
        assert_eq!(got.as_u16(), *status, "{case}: {body}");
        assert_eq!(body["code"], *code, "{case}: {body}");
        assert_eq!(body["field"].as_str(), *field, "{case}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(word), "{case}: {message}");
    }

    let tee = app.balance("S1", "TEE").await;
    assert_eq!(
        (tee["on_hand"].as_i64(), tee["allocated"].as_i64()),
        (Some(5), Some(0)),
        "nothing was booked: {tee}"
    );
    assert_eq!(app.balance("S2", "TEE").await["in_transit"], 0);
    assert_eq!(app.get("/v1/skus/NEW").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/v1/locations/S9").await.status,
        StatusCode::NOT_FOUND
    );
    let transfers = app.get("/v1/transfers").await;
    assert_eq!(transfers.body["items"], json!([]), "{:?}", transfers.body);
    for id in ["O-1", "O-2", "O-3", "O-4", "O-5", "O-6", "O-7", "RAW-1"] {
        let read = app.get(&format!("/v1/orders/{id}")).await;
        assert_eq!(read.status, StatusCode::NOT_FOUND, "{id}: {:?}", read.body);
    }
    let held = app.balance("S1", "TEE").await["held"].clone();
    assert_eq!(held, 0, "no hold was placed");
    app.assert_ledger_consistent().await;
}

/// A promise is a question, not a booking: for a SKU nobody holds the answer is 200 with
/// nothing promisable (as for any short cart), not a refusal.
#[actix_web::test]
async fn a_promise_for_a_sku_stocked_nowhere_promises_nothing() {
    let app = spawn_app().await;
    app.store("S1", 25.03, 121.56).await;
    app.sku("TEE").await;
    app.sku("NONE").await;
    app.receive("S1", "TEE", 5).await;
    for lines in [
        json!([{"sku": "NONE", "qty": 3}]),
        json!([{"sku": "TEE", "qty": 1}, {"sku": "NONE", "qty": 3}]),
    ] {
        let response = app
            .post(
                "/v1/promise",
                &json!({"lines": lines, "fulfilment": ship()}),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
        assert_eq!(response.body["complete"], false);
        let none = response.body["lines"]
            .as_array()
            .and_then(|lines| lines.iter().find(|line| line["sku"] == "NONE"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            (none["qty"].as_i64(), none["promisable"].as_i64()),
            (Some(3), Some(0))
        );
    }
}

#[actix_web::test]
async fn a_receipt_that_is_not_json_books_nothing() {
    let app = spawn_app().await;
    app.store("S1", 25.03, 121.56).await;
    app.store("S2", 25.05, 121.54).await;
    app.sku("TEE").await;
    app.receive("S1", "TEE", 5).await;
    let created = app
        .post(
            "/v1/transfers",
            &json!({"sku": "TEE", "qty": 2, "to": "S2", "from": "S1"}),
        )
        .await;
    let id = created.body["transfers"][0]["id"].as_i64().unwrap();
    app.post(&format!("/v1/transfers/{id}/ship"), &json!(null))
        .await;
    let path = format!("/v1/transfers/{id}/receive");
    for content_type in [Some("text/plain"), None] {
        let raw = Body::Raw(r#"{"received": 0}"#, content_type);
        let (status, body) = send(&app, "POST", &path, &raw).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body:?}");
    }
    let transfer = app.get(&format!("/v1/transfers/{id}")).await;
    assert_eq!(transfer.body["status"], "shipped", "nothing was received");
    assert_eq!(app.balance("S2", "TEE").await["on_hand"], 0);
    let received = app.post(&path, &json!({"received": 1})).await;
    assert_eq!(received.status, StatusCode::OK, "{:?}", received.body);
    assert_eq!(app.balance("S2", "TEE").await["on_hand"], 1);
    app.assert_ledger_consistent().await;
}
