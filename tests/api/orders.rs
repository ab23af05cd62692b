//! The retail scenarios of MISSION.md, end to end through HTTP.

use crate::helpers::{spawn_app, TestApp};
use awc::http::StatusCode;
use serde_json::{json, Value};

/// A small chain around Taipei 101: the pickup store P, a store N 3 km away, a store F 15 km
/// away, and the e-shop warehouse W in Taoyuan.
async fn chain(app: &TestApp) {
    app.store("P", 25.0340, 121.5645).await;
    app.store("N", 25.0600, 121.5500).await;
    app.store("F", 25.1700, 121.5600).await;
    app.warehouse("W", 25.0000, 121.3000).await;
    for sku in ["TEE", "CAP", "JEANS"] {
        app.sku(sku).await;
    }
}

fn units(order: &Value, sku: &str) -> i64 {
    order["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["sku"] == sku)
        .map(|a| a["qty"].as_i64().unwrap())
        .sum()
}

#[actix_web::test]
async fn a_ship_order_is_routed_allocated_fulfilled_and_explained() {
    let app = spawn_app().await;
    chain(&app).await;
    app.receive("N", "TEE", 5).await;
    app.receive("W", "TEE", 50).await;
    let order = app
        .post(
            "/v1/orders",
            &json!({"id": "WEB-1", "lines": [{"sku": "TEE", "qty": 2}],
                    "fulfilment": {"mode": "ship", "latitude": 25.061, "longitude": 121.551}}),
        )
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
    let allocation = &order.body["allocations"][0];
    assert_eq!(allocation["route"], "ship");
    assert_eq!(units(&order.body, "TEE"), 2);
    let cost = &order.body["cost"];
    for part in ["total", "shipping", "handling", "split_penalty"] {
        assert!(
            cost[part].is_number(),
            "cost.{part} explains the choice: {cost}"
        );
    }
    let source = allocation["source"].as_str().unwrap().to_owned();
    assert_eq!(app.balance(&source, "TEE").await["allocated"], 2);

    let fulfilled = app
        .post(
            "/v1/orders/WEB-1/fulfil",
            &json!({"lines": [{"sku": "TEE", "source": source, "qty": 2}]}),
        )
        .await;
    assert_eq!(fulfilled.status, StatusCode::OK, "{:?}", fulfilled.body);
    assert_eq!(fulfilled.body["status"], "completed");
    let balance = app.balance(&source, "TEE").await;
    assert_eq!(balance["allocated"], 0);
    let again = app
        .post(
            "/v1/orders/WEB-1/fulfil",
            &json!({"lines": [{"sku": "TEE", "source": source, "qty": 1}]}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn bopis_with_a_transfer_is_collected_in_batches() {
    let app = spawn_app().await;
    chain(&app).await;
    app.receive("P", "TEE", 2).await; // on the shelf (one kept back as display stock)
    app.receive("N", "CAP", 4).await; // only elsewhere
    let order = app
        .post(
            "/v1/orders",
            &json!({"id": "WEB-2", "lines": [{"sku": "TEE", "qty": 1}, {"sku": "CAP", "qty": 1}],
                    "fulfilment": {"mode": "pickup", "store": "P"}}),
        )
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
    let routes: Vec<(String, String)> = order.body["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["sku"].as_str().unwrap().into(),
                a["route"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        routes.contains(&("TEE".into(), "pickup".into())),
        "{routes:?}"
    );
    assert!(
        routes.contains(&("CAP".into(), "transfer".into())),
        "{routes:?}"
    );
    let transfer = &order.body["transfers"][0];
    assert_eq!(
        (transfer["from"].as_str(), transfer["to"].as_str()),
        (Some("N"), Some("P"))
    );
    assert_eq!(transfer["status"], "planned");
    let batches = order.body["pickup_batches"].as_array().unwrap();
    assert_eq!(
        batches.len(),
        2,
        "one batch now, one when the transfer arrives"
    );
    assert_eq!(batches[0]["status"], "ready");

    // The customer collects what is in the store now; the cap is not there yet.
    let first = app
        .post(
            "/v1/orders/WEB-2/pickups",
            &json!({"lines": [{"sku": "TEE", "qty": 1}]}),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let early = app
        .post(
            "/v1/orders/WEB-2/pickups",
            &json!({"lines": [{"sku": "CAP", "qty": 1}]}),
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{:?}", early.body);

    let id = transfer["id"].as_i64().unwrap();
    assert_eq!(
        app.post(&format!("/v1/transfers/{id}/ship"), &json!({}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(app.balance("P", "CAP").await["in_transit"], 1);
    assert_eq!(app.balance("N", "CAP").await["on_hand"], 3);
    let received = app
        .post(&format!("/v1/transfers/{id}/receive"), &json!({}))
        .await;
    assert_eq!(received.status, StatusCode::OK, "{:?}", received.body);
    let cap = app.balance("P", "CAP").await;
    assert_eq!(
        (cap["on_hand"].as_i64(), cap["allocated"].as_i64()),
        (Some(1), Some(1))
    );

    let second = app
        .post(
            "/v1/orders/WEB-2/pickups",
            &json!({"lines": [{"sku": "CAP", "qty": 1}]}),
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{:?}", second.body);
    assert_eq!(second.body["status"], "completed");
    assert_eq!(app.balance("P", "CAP").await["on_hand"], 0);
    app.assert_ledger_consistent().await;
}

async fn promise_jeans(app: &TestApp) -> Value {
    let response = app
        .post(
            "/v1/promise",
            &json!({"lines": [{"sku": "JEANS", "qty": 3}],
                    "fulfilment": {"mode": "ship", "latitude": 25.05, "longitude": 121.55}}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    response.body
}

#[actix_web::test]
async fn a_store_sale_drops_online_availability_at_once() {
    let app = spawn_app().await;
    chain(&app).await;
    app.receive("N", "JEANS", 3).await;
    let before = promise_jeans(&app).await;
    assert_eq!(before["complete"], true);
    assert_eq!(before["lines"][0]["promisable"], 3);
    assert!(before["ready_at"].is_string());
    app.movements(json!([{"kind": "sale", "location": "N", "sku": "JEANS", "qty": 2}]))
        .await;
    let after = promise_jeans(&app).await;
    assert_eq!(after["complete"], false);
    assert_eq!(after["lines"][0]["promisable"], 1);
}

#[actix_web::test]
async fn a_clerk_requests_stock_and_a_short_arrival_is_flagged() {
    let app = spawn_app().await;
    chain(&app).await;
    app.receive("W", "TEE", 20).await;
    app.receive("N", "TEE", 6).await;
    let created = app
        .post("/v1/transfers", &json!({"sku": "TEE", "qty": 2, "to": "P"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert!(created.body["cost"]["total"].is_number());
    let transfer = &created.body["transfers"][0];
    assert_eq!(transfer["reason"], "clerk");
    assert!(transfer["arrives_at"].is_string());
    let from = transfer["from"].as_str().unwrap().to_owned();
    let id = transfer["id"].as_i64().unwrap();
    assert_eq!(
        app.balance(&from, "TEE").await["allocated"],
        2,
        "units set aside at the source"
    );

    let listed = app
        .get("/v1/transfers?location=P&status=planned&reason=clerk")
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.post(&format!("/v1/transfers/{id}/receive"), &json!({}))
            .await
            .status,
        StatusCode::CONFLICT,
        "not shipped yet"
    );
    assert_eq!(
        app.post(&format!("/v1/transfers/{id}/ship"), &json!({}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.post(&format!("/v1/transfers/{id}/cancel"), &json!({}))
            .await
            .status,
        StatusCode::CONFLICT,
        "a shipped transfer cannot be cancelled"
    );
    let received = app
        .post(
            &format!("/v1/transfers/{id}/receive"),
            &json!({"received": 1}),
        )
        .await;
    assert_eq!(received.status, StatusCode::OK, "{:?}", received.body);
    let by_key = |field: &str| {
        received.body[field]
            .as_str()
            .is_some_and(|actor| actor.starts_with("key:"))
    };
    assert!(
        by_key("requested_by") && by_key("shipped_by") && by_key("received_by"),
        "each step records who took it: {:?}",
        received.body
    );
    let tee = app.balance("P", "TEE").await;
    assert_eq!(
        (tee["on_hand"].as_i64(), tee["in_transit"].as_i64()),
        (Some(1), Some(0))
    );
    let discrepancies = app.get("/v1/discrepancies?location=P").await;
    assert_eq!(discrepancies.body["items"][0]["kind"], "transfer_short");
    assert_eq!(discrepancies.body["items"][0]["shortfall"], 1);

    let explicit = app
        .post(
            "/v1/transfers",
            &json!({"sku": "TEE", "qty": 1, "to": "P", "from": "N"}),
        )
        .await;
    assert_eq!(explicit.status, StatusCode::CREATED);
    let other = explicit.body["transfers"][0]["id"].as_i64().unwrap();
    assert_eq!(
        app.post(&format!("/v1/transfers/{other}/cancel"), &json!({}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.balance("N", "TEE").await["allocated"],
        0,
        "the first transfer left N when shipped; the cancelled one's unit is free again"
    );
    let too_many = app
        .post(
            "/v1/transfers",
            &json!({"sku": "TEE", "qty": 500, "to": "P"}),
        )
        .await;
    assert_eq!(too_many.status, StatusCode::CONFLICT);
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn referred_orders_are_credited_to_the_store_and_clerk() {
    let app = spawn_app().await;
    chain(&app).await;
    app.receive("W", "TEE", 20).await;
    for clerk in ["amy", "bob"] {
        let user = json!({"name": clerk, "password": "a long password", "role": "clerk",
                          "locations": ["N"]});
        assert_eq!(
            app.post("/v1/users", &user).await.status,
            StatusCode::CREATED
        );
    }
    let ship = json!({"mode": "ship", "latitude": 25.0, "longitude": 121.4});
    let long_ago = (chrono::Utc::now() - chrono::Duration::days(40)).to_rfc3339();
    for (id, referrer) in [
        ("R-1", json!({"store": "N", "clerk": "amy"})),
        ("R-2", json!({"store": "N", "clerk": "amy"})),
        (
            "R-3",
            json!({"store": "N", "clerk": "bob", "served_at": long_ago}),
        ),
    ] {
        let order = app
            .post(
                "/v1/orders",
                &json!({"id": id, "lines": [{"sku": "TEE", "qty": 2}], "fulfilment": ship,
                                         "referrer": referrer}),
            )
            .await;
        assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
        let source = order.body["allocations"][0]["source"]
            .as_str()
            .unwrap()
            .to_owned();
        app.post(
            &format!("/v1/orders/{id}/fulfil"),
            &json!({"lines": [{"sku": "TEE", "source": source, "qty": 2}]}),
        )
        .await;
    }
    let from = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let to = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let report = app
        .get(&format!(
            "/v1/reports/attribution?from={}&to={}",
            urlencode(&from),
            urlencode(&to)
        ))
        .await;
    assert_eq!(report.status, StatusCode::OK, "{:?}", report.body);
    assert_eq!(
        report.body["rows"],
        json!([{"store": "N", "clerk": "amy", "orders": 2, "units_ordered": 4, "units_sold": 4}]),
        "bob's referral was past its window"
    );
    let unknown = app
        .post(
            "/v1/orders",
            &json!({"id": "R-4", "lines": [{"sku": "TEE", "qty": 1}], "fulfilment": ship,
                                     "referrer": {"store": "NOPE", "clerk": "x"}}),
        )
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        unknown.body
    );
    assert_eq!(unknown.body["field"], "referrer.store");
    assert_eq!(
        app.balance("W", "TEE").await["allocated"],
        0,
        "nothing kept of the refused order"
    );
    attribution_pages(&app, ship, (&from, &to)).await;
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

#[actix_web::test]
async fn bought_online_returned_in_store_becomes_that_stores_stock() {
    let app = spawn_app().await;
    chain(&app).await;
    app.receive("W", "JEANS", 5).await;
    let order = app
        .post("/v1/orders", &json!({"id": "RET-1", "lines": [{"sku": "JEANS", "qty": 1}],
                                     "fulfilment": {"mode": "ship", "latitude": 25.0, "longitude": 121.35}}))
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
    let early = app
        .post(
            "/v1/orders/RET-1/returns",
            &json!({"lines": [{"sku": "JEANS", "location": "F", "qty": 1}]}),
        )
        .await;
    assert_eq!(
        early.status,
        StatusCode::CONFLICT,
        "nothing was delivered yet"
    );
    app.post(
        "/v1/orders/RET-1/fulfil",
        &json!({"lines": [{"sku": "JEANS", "source": "W", "qty": 1}]}),
    )
    .await;
    let returned = app
        .post(
            "/v1/orders/RET-1/returns",
            &json!({"lines": [{"sku": "JEANS", "location": "F", "qty": 1}]}),
        )
        .await;
    assert_eq!(returned.status, StatusCode::OK, "{:?}", returned.body);
    assert_eq!(returned.body["allocations"][0]["returned"], 1);
    let f = app.balance("F", "JEANS").await;
    assert_eq!(
        (f["on_hand"].as_i64(), f["available"].as_i64()),
        (Some(1), Some(1))
    );
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn cancelling_releases_allocations_and_planned_transfers() {
    let app = spawn_app().await;
    chain(&app).await;
    app.receive("N", "CAP", 3).await;
    app.receive("F", "CAP", 1).await;
    // A clerk's transfer elsewhere is not the order's.
    let clerk = app
        .post(
            "/v1/transfers",
            &json!({"sku": "CAP", "qty": 1, "to": "N", "from": "F"}),
        )
        .await;
    assert_eq!(clerk.status, StatusCode::CREATED, "{:?}", clerk.body);
    let order = app
        .post(
            "/v1/orders",
            &json!({"id": "C-1", "lines": [{"sku": "CAP", "qty": 2}],
                                     "fulfilment": {"mode": "pickup", "store": "P"}}),
        )
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
    assert_eq!(app.balance("N", "CAP").await["allocated"], 2);
    let cancelled = app.post("/v1/orders/C-1/cancel", &json!({})).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(cancelled.body["transfers"][0]["status"], "cancelled");
    assert_eq!(
        cancelled.body["transfers"].as_array().unwrap().len(),
        1,
        "only the order's own"
    );
    assert_eq!(app.balance("N", "CAP").await["allocated"], 0);
    for (path, body) in [
        ("/v1/orders/C-1/cancel", json!({})),
        (
            "/v1/orders/C-1/pickups",
            json!({"lines": [{"sku": "CAP", "qty": 1}]}),
        ),
    ] {
        let response = app.post(path, &body).await;
        assert_eq!(response.status, StatusCode::CONFLICT, "{path}");
        assert!(response.body["message"]
            .as_str()
            .unwrap()
            .contains("cancelled"));
    }
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn an_order_id_makes_retries_safe() {
    let app = spawn_app().await;
    chain(&app).await;
    app.receive("W", "TEE", 3).await;
    let body = json!({"id": "IDEM-1", "lines": [{"sku": "TEE", "qty": 2}],
                      "fulfilment": {"mode": "ship", "latitude": 25.0, "longitude": 121.3}});
    let first = app.post("/v1/orders", &body).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = app.post("/v1/orders", &body).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body, first.body);
    assert_eq!(
        app.balance("W", "TEE").await["allocated"],
        2,
        "allocated once"
    );
    let mut different = body.clone();
    different["lines"][0]["qty"] = json!(1);
    let reused = app.post("/v1/orders", &different).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.body["field"], "id");
    let short = app
        .post("/v1/orders", &json!({"id": "IDEM-2", "lines": [{"sku": "TEE", "qty": 5}],
                                     "fulfilment": {"mode": "ship", "latitude": 25.0, "longitude": 121.3}}))
        .await;
    assert_eq!(short.status, StatusCode::CONFLICT);
    assert_eq!(
        app.get("/v1/orders/IDEM-2").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get("/v1/orders/IDEM-1").await.body["id"], "IDEM-1");
}

/// An order without transfers answers with a view built from its plan, not read back: it must
/// be exactly what reading the order returns.
#[actix_web::test]
async fn a_placed_order_reads_back_as_it_was_answered() {
    let app = spawn_app().await;
    chain(&app).await;
    app.receive("N", "TEE", 1).await;
    app.receive("F", "TEE", 1).await;
    app.receive("P", "CAP", 4).await;
    app.receive("P", "JEANS", 4).await;
    let amy = json!({"name": "amy", "password": "a long password", "role": "clerk",
                     "locations": ["N"]});
    assert_eq!(
        app.post("/v1/users", &amy).await.status,
        StatusCode::CREATED
    );
    let orders = [
        json!({"id": "READ-SHIP", "lines": [{"sku": "TEE", "qty": 2}], "allow_split": true,
               "fulfilment": {"mode": "ship", "latitude": 25.061, "longitude": 121.551}}),
        json!({"id": "READ-PICKUP", "lines": [{"sku": "CAP", "qty": 1}, {"sku": "JEANS", "qty": 2}],
               "fulfilment": {"mode": "pickup", "store": "P"},
               "referrer": {"store": "N", "clerk": "amy"}}),
    ];
    for body in orders {
        let placed = app.post("/v1/orders", &body).await;
        assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.body);
        assert!(placed.body["transfers"].as_array().unwrap().is_empty());
        let id = body["id"].as_str().unwrap();
        let read = app.get(&format!("/v1/orders/{id}")).await;
        assert_eq!(read.body, placed.body, "{id}");
    }
    let split = app.get("/v1/orders/READ-SHIP").await.body;
    assert_eq!(split["allocations"].as_array().unwrap().len(), 2, "{split}");
    let pickup = app.get("/v1/orders/READ-PICKUP").await.body;
    assert_eq!(pickup["pickup_batches"][0]["units"], 3, "{pickup}");
    assert_eq!(pickup["referrer"]["clerk"], "amy");
}

#[actix_web::test]
async fn a_late_pos_sale_of_a_promised_unit_is_flagged_not_hidden() {
    let app = spawn_app().await;
    chain(&app).await;
    app.receive("N", "CAP", 2).await;
    let order = app
        .post("/v1/orders", &json!({"id": "LAST-1", "lines": [{"sku": "CAP", "qty": 2}],
                                     "fulfilment": {"mode": "ship", "latitude": 25.06, "longitude": 121.55}}))
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
    // The POS was offline; its sale of one of those units arrives now.
    let sale = app
        .movements(json!([{"kind": "sale", "location": "N", "sku": "CAP", "qty": 1}]))
        .await;
    assert_eq!(sale["discrepancies"][0]["kind"], "on_hand_below_allocated");
    let cap = app.balance("N", "CAP").await;
    assert_eq!(
        (
            cap["on_hand"].as_i64(),
            cap["allocated"].as_i64(),
            cap["available"].as_i64()
        ),
        (Some(1), Some(2), Some(0))
    );
    assert_eq!(
        app.get("/v1/discrepancies?sku=CAP").await.body["items"][0]["shortfall"],
        1
    );
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn bad_orders_name_the_field() {
    let app = spawn_app().await;
    chain(&app).await;
    let ship = json!({"mode": "ship", "latitude": 25.0, "longitude": 121.3});
    for (body, status, field) in [
        (
            json!({"id": "X", "lines": [], "fulfilment": ship}),
            422,
            "lines",
        ),
        (
            json!({"id": "X", "lines": [{"sku": "TEE", "qty": 0}], "fulfilment": ship}),
            422,
            "lines[0].qty",
        ),
        (
            json!({"id": "X", "lines": [{"sku": "NOPE", "qty": 1}], "fulfilment": ship}),
            422,
            "lines[0].sku",
        ),
        (
            json!({"id": "a b", "lines": [{"sku": "TEE", "qty": 1}], "fulfilment": ship}),
            422,
            "id",
        ),
        (
            json!({"id": "X", "lines": [{"sku": "TEE", "qty": 1}], "fulfilment": {"mode": "ship", "latitude": 99, "longitude": 0}}),
            422,
            "fulfilment.latitude",
        ),
        (
            json!({"id": "X", "lines": [{"sku": "TEE", "qty": 1}], "fulfilment": {"mode": "pickup", "store": "W"}}),
            422,
            "fulfilment.store",
        ),
        (
            json!({"id": "X", "lines": [{"sku": "TEE", "qty": 1}], "fulfilment": {"mode": "pickup", "store": "NOPE"}}),
            422,
            "fulfilment.store",
        ),
        (
            json!({"id": "X", "lines": [{"sku": "TEE", "qty": 1}], "fulfilment": {"mode": "drone"}}),
            422,
            "fulfilment.mode",
        ),
    ] {
        let response = app.post("/v1/orders", &body).await;
        assert_eq!(
            response.status.as_u16(),
            status,
            "{body}: {:?}",
            response.body
        );
        assert_eq!(response.body["field"], field, "{body}: {:?}", response.body);
    }
    for (path, body, field) in [
        (
            "/v1/transfers",
            json!({"sku": "TEE", "qty": 1, "to": "P", "from": "P"}),
            "from",
        ),
        (
            "/v1/transfers",
            json!({"sku": "TEE", "qty": -1, "to": "P"}),
            "qty",
        ),
        (
            "/v1/transfers",
            json!({"sku": "TEE", "qty": 1, "to": "NOPE"}),
            "to",
        ),
    ] {
        let response = app.post(path, &body).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            response.body
        );
        assert_eq!(response.body["field"], field, "{body}: {:?}", response.body);
    }
    assert_eq!(
        app.get("/v1/transfers/abc").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.get("/v1/transfers/999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/v1/transfers?status=lost").await.body["field"],
        "status"
    );
}

#[actix_web::test]
async fn a_receipt_racing_a_cancel_leaves_nothing_allocated_to_the_cancelled_order() {
    let app = spawn_app().await;
    chain(&app).await;
    let rounds = 20;
    app.receive("N", "CAP", rounds).await;
    for round in 0..rounds {
        let id = format!("RACE-{round}");
        let order = app
            .post(
                "/v1/orders",
                &json!({"id": id, "lines": [{"sku": "CAP", "qty": 1}],
                        "fulfilment": {"mode": "pickup", "store": "P"}}),
            )
            .await;
        assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
        let transfer = order.body["transfers"][0]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{:?}", order.body));
        let shipped = app
            .post(&format!("/v1/transfers/{transfer}/ship"), &json!(null))
            .await;
        assert_eq!(shipped.status, StatusCode::OK, "{:?}", shipped.body);
        let (receive, cancel) = (
            format!("/v1/transfers/{transfer}/receive"),
            format!("/v1/orders/{id}/cancel"),
        );
        let (all, nothing) = (json!({}), json!(null));
        let (received, cancelled) =
            tokio::join!(app.post(&receive, &all), app.post(&cancel, &nothing));
        assert_eq!(received.status, StatusCode::OK, "{:?}", received.body);
        assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.body);
        let pickup = app.balance("P", "CAP").await;
        assert_eq!(
            (pickup["on_hand"].as_i64(), pickup["allocated"].as_i64()),
            (Some(1), Some(0)),
            "round {round}: the unit arrived as the store's own"
        );
        // Sold at the counter, so the next order must send for one again.
        app.movements(json!([{"kind": "sale", "location": "P", "sku": "CAP", "qty": 1}]))
            .await;
    }
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn held_units_routing_does_not_choose_are_released_when_the_order_is_placed() {
    let app = spawn_app().await;
    chain(&app).await;
    app.receive("P", "TEE", 5).await;
    app.receive("F", "TEE", 5).await;
    // The cart held the far store's units; the customer lives next to P.
    let held = app
        .post(
            "/v1/holds",
            &json!({"lines": [{"sku": "TEE", "location": "F", "qty": 2}], "ttl_s": 60}),
        )
        .await;
    assert_eq!(held.status, StatusCode::CREATED, "{:?}", held.body);
    assert_eq!(app.balance("F", "TEE").await["held"], 2);
    let order = app
        .post(
            "/v1/orders",
            &json!({"id": "NEAR-P", "hold_id": held.body["id"], "lines": [{"sku": "TEE", "qty": 2}],
                    "fulfilment": {"mode": "ship", "latitude": 25.0341, "longitude": 121.5646}}),
        )
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
    assert_eq!(order.body["hold"]["outcome"], "consumed");
    assert_eq!(
        order.body["allocations"][0]["source"], "P",
        "{:?}",
        order.body
    );
    let far = app.balance("F", "TEE").await;
    assert_eq!(
        (
            far["held"].as_i64(),
            far["allocated"].as_i64(),
            far["available"].as_i64()
        ),
        (Some(0), Some(0), Some(5)),
        "the held units routing did not use are free again"
    );
    assert_eq!(app.balance("P", "TEE").await["allocated"], 2);
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn no_request_needs_two_pooled_connections_at_once() {
    let app = spawn_app().await;
    chain(&app).await;
    app.receive("N", "CAP", 5).await;
    app.receive("F", "TEE", 5).await;
    app.receive("W", "JEANS", 5).await;
    // A fresh instance with one connection: its copies are cold, so routing reads PostgreSQL.
    let narrow = app.another_instance_with_pool(1).await;
    let transfer = narrow
        .request(
            "POST",
            "/v1/transfers",
            Some(&json!({"sku": "CAP", "qty": 2, "to": "P"})),
            &[("Idempotency-Key", "clerk-1")],
        )
        .await;
    assert_eq!(transfer.status, StatusCode::CREATED, "{:?}", transfer.body);
    let order = narrow
        .post(
            "/v1/orders",
            &json!({"id": "NARROW", "lines": [{"sku": "TEE", "qty": 1}, {"sku": "JEANS", "qty": 1},
                                               {"sku": "CAP", "qty": 1}],
                    "fulfilment": {"mode": "pickup", "store": "P"}}),
        )
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
    let cancelled = narrow.post("/v1/orders/NARROW/cancel", &json!(null)).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.body);
    app.assert_ledger_consistent().await;
}

/// Orders (with and without a cart hold), their steps, clerk transfers and their steps, and POS
/// sales, drawn at random: whatever is accepted or refused, every balance equals the fold of its
/// movements and every allocated unit belongs to an open order line or a planned transfer.
#[actix_web::test]
async fn random_orders_transfers_and_sales_leave_every_allocation_owned() {
    let app = spawn_app().await;
    chain(&app).await;
    for (store, units) in [("P", 6), ("N", 8), ("F", 8), ("W", 40)] {
        for sku in ["TEE", "CAP", "JEANS"] {
            app.receive(store, sku, units).await;
        }
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = |bound: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % bound
    };
    let (skus, stores) = (["TEE", "CAP", "JEANS"], ["P", "N", "F"]);
    let (mut orders, mut transfers): (Vec<String>, Vec<i64>) = (Vec::new(), Vec::new());
    for step in 0..120 {
        let sku = skus[next(3) as usize];
        let store = stores[next(3) as usize];
        let qty = 1 + next(3);
        let response = match next(8) {
            0 | 1 => {
                let id = format!("RND-{step}");
                let fulfilment = match next(2) {
                    0 => json!({"mode": "pickup", "store": "P"}),
                    _ => json!({"mode": "ship", "latitude": 25.05, "longitude": 121.55}),
                };
                let mut body = json!({"id": id, "lines": [{"sku": sku, "qty": qty}],
                                      "fulfilment": fulfilment});
                if next(2) == 0 {
                    let held = app
                        .post(
                            "/v1/holds",
                            &json!({"lines": [{"sku": sku, "location": store, "qty": qty}],
                                    "ttl_s": 60}),
                        )
                        .await;
                    if let Some(hold) = held.body["id"].as_str() {
                        body["hold_id"] = json!(hold);
                    }
                }
                let placed = app.post("/v1/orders", &body).await;
                if placed.status == StatusCode::CREATED {
                    orders.push(id);
                    for transfer in placed.body["transfers"].as_array().unwrap() {
                        transfers.push(transfer["id"].as_i64().unwrap());
                    }
                }
                placed
            }
            2 if !orders.is_empty() => {
                let id = &orders[next(orders.len() as u64) as usize];
                app.post(&format!("/v1/orders/{id}/cancel"), &json!(null))
                    .await
            }
            3 if !orders.is_empty() => {
                let id = &orders[next(orders.len() as u64) as usize];
                let view = app.get(&format!("/v1/orders/{id}")).await;
                let line = &view.body["allocations"][0];
                let lines =
                    json!({"lines": [{"sku": line["sku"], "source": line["source"], "qty": 1}]});
                match view.body["fulfilment"]["mode"].as_str() {
                    Some("ship") => app.post(&format!("/v1/orders/{id}/fulfil"), &lines).await,
                    _ => {
                        let pickup = json!({"lines": [{"sku": line["sku"], "qty": 1}]});
                        app.post(&format!("/v1/orders/{id}/pickups"), &pickup).await
                    }
                }
            }
            4 => {
                let created = app
                    .post(
                        "/v1/transfers",
                        &json!({"sku": sku, "qty": qty, "to": store}),
                    )
                    .await;
                if created.status == StatusCode::CREATED {
                    for transfer in created.body["transfers"].as_array().unwrap() {
                        transfers.push(transfer["id"].as_i64().unwrap());
                    }
                }
                created
            }
            5 | 6 if !transfers.is_empty() => {
                let id = transfers[next(transfers.len() as u64) as usize];
                let action = ["ship", "receive", "cancel"][next(3) as usize];
                app.post(&format!("/v1/transfers/{id}/{action}"), &json!({}))
                    .await
            }
            _ => {
                let sale = json!([{"kind": "sale", "location": store, "sku": sku, "qty": 1}]);
                app.post("/v1/movements", &json!({ "movements": sale }))
                    .await
            }
        };
        assert!(
            response.status.is_success()
                || [StatusCode::CONFLICT, StatusCode::UNPROCESSABLE_ENTITY]
                    .contains(&response.status),
            "step {step}: {} {:?}",
            response.status,
            response.body
        );
    }
    assert!(
        orders.len() > 10 && transfers.len() > 5,
        "{orders:?} {transfers:?}"
    );
    app.assert_ledger_consistent().await;
}

/// A referral for bob within its window makes two rows: one a page, with a cursor between.
async fn attribution_pages(app: &TestApp, ship: Value, (from, to): (&str, &str)) {
    let order = json!({"id": "R-5", "lines": [{"sku": "TEE", "qty": 1}], "fulfilment": ship,
                       "referrer": {"store": "N", "clerk": "bob"}});
    assert_eq!(
        app.post("/v1/orders", &order).await.status,
        StatusCode::CREATED
    );
    let window = format!("from={}&to={}", urlencode(from), urlencode(to));
    let first = app
        .get(&format!("/v1/reports/attribution?{window}&limit=1"))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.body["rows"][0]["clerk"], "amy");
    assert_eq!(first.body["next"], "N/amy");
    let second = app
        .get(&format!(
            "/v1/reports/attribution?{window}&limit=1&after=N/amy"
        ))
        .await;
    assert_eq!(second.body["rows"][0]["clerk"], "bob", "{:?}", second.body);
    assert_eq!(
        second.body["rows"][0]["units_sold"], 0,
        "ordered, not yet sold"
    );
    let last = app
        .get(&format!(
            "/v1/reports/attribution?{window}&limit=1&after=N/bob"
        ))
        .await;
    assert_eq!(last.body["rows"], json!([]));
    assert!(last.body.get("next").is_none());
    let too_long = format!(
        "from={}&to={}",
        urlencode(&(chrono::Utc::now() - chrono::Duration::days(367)).to_rfc3339()),
        urlencode(to)
    );
    let refused = app
        .get(&format!("/v1/reports/attribution?{too_long}"))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["field"], "to");
    let bad = app
        .get(&format!("/v1/reports/attribution?{window}&after=nobody"))
        .await;
    assert_eq!(bad.body["field"], "after", "{:?}", bad.body);
}
