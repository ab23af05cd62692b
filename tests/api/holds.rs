//! Holds in Redis: atomic, expiring, never an oversell — also when Redis is flushed or down.

use crate::helpers::{spawn_app, spawn_app_with_redis, OwnRedis, TestApp};
use awc::http::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn chain(app: &TestApp, units: i64) {
    app.store("S1", 25.03, 121.56).await;
    app.store("S2", 25.04, 121.55).await;
    app.sku("TEE").await;
    app.sku("CAP").await;
    app.receive("S1", "TEE", units).await;
    app.receive("S1", "CAP", 10).await;
}

/// An order of `qty` TEE shipped near S1, placed with the cart hold `hold_id`.
fn order_with_hold(id: &str, hold_id: &str, qty: i64) -> Value {
    json!({"id": id, "hold_id": hold_id, "lines": [{"sku": "TEE", "qty": qty}],
           "fulfilment": {"mode": "ship", "latitude": 25.03, "longitude": 121.56}})
}

async fn hold(app: &TestApp, lines: Value, ttl_s: i64) -> crate::helpers::Response {
    app.post("/v1/holds", &json!({"lines": lines, "ttl_s": ttl_s}))
        .await
}

#[actix_web::test]
async fn a_hold_lives_extends_and_resolves_exactly_once() {
    let app = spawn_app().await;
    chain(&app, 5).await;
    let placed = hold(
        &app,
        json!([{"sku": "TEE", "location": "S1", "qty": 2},
                                   {"sku": "CAP", "location": "S1", "qty": 1}]),
        60,
    )
    .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.body);
    let id = placed.body["id"].as_str().unwrap().to_owned();
    assert!(placed.body["expires_at"].is_string());

    let tee = app.balance("S1", "TEE").await;
    assert_eq!(
        (tee["held"].as_i64(), tee["available"].as_i64()),
        (Some(2), Some(3))
    );

    let read = app.get(&format!("/v1/holds/{id}")).await;
    assert_eq!(read.body["status"], "held");
    let extended = app
        .post(&format!("/v1/holds/{id}/extend"), &json!({"ttl_s": 600}))
        .await;
    assert_eq!(extended.status, StatusCode::OK);
    assert!(extended.body["expires_at"].as_str() > placed.body["expires_at"].as_str());

    let released = app
        .request("DELETE", &format!("/v1/holds/{id}"), None, &[])
        .await;
    assert_eq!(released.status, StatusCode::OK);
    assert_eq!(app.balance("S1", "TEE").await["held"], 0);
    let again = app
        .request("DELETE", &format!("/v1/holds/{id}"), None, &[])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["code"], "hold_resolved");
    assert!(again.body["message"].as_str().unwrap().contains("released"));
    let ordered = app
        .post("/v1/orders", &order_with_hold("AFTER-RELEASE", &id, 1))
        .await;
    assert_eq!(
        ordered.status,
        StatusCode::CONFLICT,
        "a released hold orders nothing"
    );
    assert_eq!(ordered.body["field"], "hold_id");
}

#[actix_web::test]
async fn the_cart_hold_of_the_last_units_becomes_its_order_once() {
    let app = spawn_app().await;
    chain(&app, 3).await;
    let placed = hold(
        &app,
        json!([{"sku": "TEE", "location": "S1", "qty": 3}]),
        60,
    )
    .await;
    let id = placed.body["id"].as_str().unwrap();
    assert_eq!(app.balance("S1", "TEE").await["available"], 0);
    let order = |order_id: &str| order_with_hold(order_id, id, 3);
    let ordered = app.post("/v1/orders", &order("WEB-1")).await;
    assert_eq!(ordered.status, StatusCode::CREATED, "{:?}", ordered.body);
    assert_eq!(ordered.body["hold"]["outcome"], "consumed");
    let tee = app.balance("S1", "TEE").await;
    assert_eq!(
        (tee["allocated"].as_i64(), tee["held"].as_i64()),
        (Some(3), Some(0))
    );
    assert_eq!(
        app.get(&format!("/v1/holds/{id}")).await.body["status"],
        "confirmed"
    );
    let retried = app.post("/v1/orders", &order("WEB-1")).await;
    assert_eq!(retried.status, StatusCode::OK, "a retry replays");
    let twice = app.post("/v1/orders", &order("WEB-2")).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{:?}", twice.body);
    assert_eq!(twice.body["code"], "hold_resolved");
    let gone = app
        .post(&format!("/v1/holds/{id}/confirm"), &json!(null))
        .await;
    assert_eq!(gone.status, StatusCode::GONE);
    fulfil_the_last_units(&app, "WEB-1", 3).await;
}

#[actix_web::test]
async fn two_orders_from_one_hold_at_once_exactly_one_wins() {
    let app = spawn_app().await;
    chain(&app, 40).await;
    for round in 0..10 {
        let placed = hold(
            &app,
            json!([{"sku": "TEE", "location": "S1", "qty": 2}]),
            60,
        )
        .await;
        let id = placed.body["id"].as_str().unwrap();
        let order = |n: usize| order_with_hold(&format!("R{round}-{n}"), id, 2);
        let (first, second) = (order(1), order(2));
        let (a, b) = tokio::join!(
            app.post("/v1/orders", &first),
            app.post("/v1/orders", &second)
        );
        let won = [&a, &b]
            .iter()
            .filter(|r| r.status == StatusCode::CREATED)
            .count();
        assert_eq!(won, 1, "{:?} {:?}", a.body, b.body);
    }
    assert_eq!(app.balance("S1", "TEE").await["allocated"], 20);
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn short_lines_are_listed_and_nothing_is_held() {
    let app = spawn_app().await;
    chain(&app, 2).await;
    // Two lines for the same (SKU, location) are summed: 3 > 2.
    let refused = hold(
        &app,
        json!([{"sku": "TEE", "location": "S1", "qty": 2},
                                    {"sku": "CAP", "location": "S1", "qty": 1},
                                    {"sku": "TEE", "location": "S1", "qty": 1}]),
        60,
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
    assert_eq!(
        refused.body["short"],
        json!([{"sku": "TEE", "location": "S1", "requested": 3, "available": 2}])
    );
    assert_eq!(app.balance("S1", "CAP").await["held"], 0, "all or nothing");

    let unknown = hold(
        &app,
        json!([{"sku": "NOPE", "location": "S1", "qty": 1}]),
        60,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.body["code"], "unknown_sku");
    for (body, field) in [
        (json!({"lines": [], "ttl_s": 60}), "lines"),
        (
            json!({"lines": [{"sku": "TEE", "location": "S1", "qty": 1}], "ttl_s": 0}),
            "ttl_s",
        ),
        (
            json!({"lines": [{"sku": "TEE", "location": "S1", "qty": -1}], "ttl_s": 5}),
            "lines[0].qty",
        ),
        (
            json!({"lines": [{"sku": "TEE", "location": "S1", "qty": 1}], "ttl_s": 5, "x": 1}),
            "x",
        ),
    ] {
        let response = app.post("/v1/holds", &body).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(response.body["field"], field, "{body}: {:?}", response.body);
    }
    assert_eq!(
        app.get("/v1/holds/not-a-uuid").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let missing = app
        .get(&format!("/v1/holds/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn an_expired_hold_stops_counting_and_its_order_still_fulfils() {
    let app = spawn_app().await;
    chain(&app, 2).await;
    let placed = hold(&app, json!([{"sku": "TEE", "location": "S1", "qty": 2}]), 1).await;
    let id = placed.body["id"].as_str().unwrap();
    assert_eq!(app.balance("S1", "TEE").await["available"], 0);
    actix_rt::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        app.balance("S1", "TEE").await["available"],
        2,
        "no sweeper needed"
    );
    assert_eq!(
        app.get(&format!("/v1/holds/{id}")).await.body["status"],
        "expired"
    );
    let late = app
        .post("/v1/orders", &order_with_hold("LATE", id, 2))
        .await;
    assert_eq!(late.status, StatusCode::CREATED, "{:?}", late.body);
    assert_eq!(
        late.body["hold"]["outcome"], "expired",
        "routed as if it had none"
    );
    fulfil_the_last_units(&app, "LATE", 2).await;
}

/// Ships `order`'s `qty` units of TEE from S1, which were all S1 had: nothing is left on hand
/// or allocated, and the ledger agrees.
async fn fulfil_the_last_units(app: &TestApp, order: &str, qty: i64) {
    let fulfilled = app
        .post(
            &format!("/v1/orders/{order}/fulfil"),
            &json!({"lines": [{"sku": "TEE", "source": "S1", "qty": qty}]}),
        )
        .await;
    assert_eq!(fulfilled.status, StatusCode::OK, "{:?}", fulfilled.body);
    let tee = app.balance("S1", "TEE").await;
    assert_eq!(
        (tee["on_hand"].as_i64(), tee["allocated"].as_i64()),
        (Some(0), Some(0))
    );
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn the_same_client_id_gets_the_same_hold() {
    let app = spawn_app().await;
    chain(&app, 5).await;
    let body = json!({"lines": [{"sku": "TEE", "location": "S1", "qty": 2}], "ttl_s": 60, "client_id": "cart-42"});
    let first = app.post("/v1/holds", &body).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = app.post("/v1/holds", &body).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body["id"], first.body["id"]);
    assert_eq!(app.balance("S1", "TEE").await["held"], 2, "held once");
    let id = first.body["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/v1/holds/{id}")).await.body["client_id"],
        "cart-42"
    );
    let extended = app
        .post(&format!("/v1/holds/{id}/extend"), &json!({"ttl_s": 900}))
        .await;
    assert_eq!(extended.status, StatusCode::OK);
    let mut redis = app.redis_connection();
    let client_ttl_ms: i64 = redis::cmd("PTTL")
        .arg(app.redis_key("{%:c:cart-42}"))
        .query(&mut *redis)
        .unwrap();
    assert!(
        client_ttl_ms > 800_000,
        "the client id lives as long as its hold: {client_ttl_ms}"
    );
    let different = json!({"lines": [{"sku": "TEE", "location": "S1", "qty": 1}], "ttl_s": 60, "client_id": "cart-42"});
    let reused = app.post("/v1/holds", &different).await;
    assert_eq!(reused.status, StatusCode::CONFLICT);
    assert_eq!(reused.body["field"], "client_id");
}

#[actix_web::test]
async fn two_hundred_clients_race_for_the_last_units() {
    let app = spawn_app().await;
    chain(&app, 7).await;
    let requests = (0..200).map(|_| {
        hold(
            &app,
            json!([{"sku": "TEE", "location": "S1", "qty": 1}]),
            60,
        )
    });
    let responses = futures_util::future::join_all(requests).await;
    let held = responses
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let refused = responses
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT)
        .count();
    assert_eq!((held, refused), (7, 193));
    let tee = app.balance("S1", "TEE").await;
    assert_eq!(
        (tee["held"].as_i64(), tee["available"].as_i64()),
        (Some(7), Some(0))
    );
}

#[actix_web::test]
async fn a_wrong_redis_cannot_make_the_ledger_promise_more_than_it_has() {
    let app = spawn_app().await;
    chain(&app, 2).await;
    // Redis believes (with a newer version) that 100 units are free.
    let mut redis = app.redis_connection();
    let key = app.redis_key("{%:s2:TEE}:b:S1");
    redis::cmd("SET")
        .arg(&key)
        .arg("999999:100")
        .exec(&mut *redis)
        .unwrap();
    let placed = hold(
        &app,
        json!([{"sku": "TEE", "location": "S1", "qty": 5}]),
        60,
    )
    .await;
    assert_eq!(placed.status, StatusCode::CREATED, "Redis was fooled");
    let id = placed.body["id"].as_str().unwrap();
    let confirmed = app
        .post("/v1/orders", &order_with_hold("FOOLED", id, 5))
        .await;
    assert_eq!(
        confirmed.status,
        StatusCode::CONFLICT,
        "{:?}",
        confirmed.body
    );
    assert_eq!(confirmed.body["code"], "insufficient_stock");
    assert_eq!(
        app.balance("S1", "TEE").await["allocated"],
        0,
        "no partial success"
    );
    assert_eq!(
        app.get(&format!("/v1/holds/{id}")).await.body["status"],
        "held"
    );
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn flushall_mid_run_loses_no_confirmed_allocation_and_oversells_nothing() {
    let redis = OwnRedis::start();
    let app = spawn_app_with_redis(&redis.url()).await;
    chain(&app, 40).await;
    let mut confirmed_units = 0;
    let mut vanished = 0;
    for round in 0..30 {
        let placed = hold(
            &app,
            json!([{"sku": "TEE", "location": "S1", "qty": 2}]),
            60,
        )
        .await;
        if round == 12 {
            redis.flushall();
        }
        if placed.status != StatusCode::CREATED {
            assert_eq!(placed.status, StatusCode::CONFLICT, "{:?}", placed.body);
            continue;
        }
        let id = placed.body["id"].as_str().unwrap();
        let confirmed = app
            .post("/v1/orders", &order_with_hold(&format!("F{round}"), id, 2))
            .await;
        match confirmed.status {
            StatusCode::CREATED => {
                confirmed_units += 2;
                if confirmed.body["hold"]["outcome"] == "not_found" {
                    vanished += 1;
                }
            }
            StatusCode::CONFLICT => assert_eq!(confirmed.body["code"], "insufficient_stock"),
            other => panic!("unexpected {other}: {:?}", confirmed.body),
        }
    }
    assert_eq!(
        vanished, 1,
        "the hold placed just before FLUSHALL is reported gone"
    );
    let tee = app.balance("S1", "TEE").await;
    assert_eq!(
        tee["allocated"].as_i64(),
        Some(confirmed_units),
        "every confirmation is in the ledger"
    );
    assert!(tee["allocated"].as_i64() <= tee["on_hand"].as_i64());
    assert_eq!(
        confirmed_units, 40,
        "Redis rebuilt itself from the ledger and kept selling"
    );
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn with_redis_down_holds_fail_fast_lookups_answer_and_service_recovers() {
    let mut redis = OwnRedis::start();
    let app = spawn_app_with_redis(&redis.url()).await;
    chain(&app, 5).await;
    let line = json!([{"sku": "TEE", "location": "S1", "qty": 1}]);
    assert_eq!(
        hold(&app, line.clone(), 60).await.status,
        StatusCode::CREATED
    );

    redis.stop();
    let started = Instant::now();
    let refused = hold(&app, line.clone(), 60).await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        refused.body
    );
    assert!(refused.body["message"].as_str().unwrap().contains("Redis"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded: {:?}",
        started.elapsed()
    );
    let lookup = app.get("/v1/stock/TEE").await;
    assert_eq!(lookup.status, StatusCode::OK);
    assert_eq!(lookup.body["holds_unavailable"], true);
    assert_eq!(lookup.body["locations"][0]["on_hand"], 5);
    assert_eq!(
        app.get("/ready").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );

    redis.restart();
    let mut recovered = false;
    for _ in 0..50 {
        if hold(&app, line.clone(), 60).await.status == StatusCode::CREATED {
            recovered = true;
            break;
        }
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "holds work again without a restart");
    assert_eq!(app.get("/ready").await.status, StatusCode::OK);
}
