//! What Allot leaves in Redis is bounded: nothing for codes the ledger does not know, and an
//! expiry on every key it writes.

use crate::helpers::{spawn_app, TestApp};
use awc::http::StatusCode;
use serde_json::{json, Value};

/// Every key under the test's prefix, sorted.
fn keys(app: &TestApp) -> Vec<String> {
    let mut connection = app.redis_connection();
    let mut keys: Vec<String> = redis::cmd("SCAN")
        .cursor_arg(0)
        .arg("MATCH")
        .arg(app.redis_key("{%:*"))
        .arg("COUNT")
        .arg(1000)
        .clone()
        .iter(&mut *connection)
        .expect("SCAN")
        .collect();
    keys.sort();
    keys
}

fn pttl(app: &TestApp, key: &str) -> i64 {
    redis::cmd("PTTL")
        .arg(key)
        .query(&mut *app.redis_connection())
        .expect("PTTL")
}

async fn chain(app: &TestApp) {
    app.store("S1", 25.03, 121.56).await;
    app.store("S2", 25.04, 121.55).await;
    for sku in ["TEE", "CAP"] {
        app.sku(sku).await;
        app.receive("S1", sku, 10).await;
    }
}

async fn hold(app: &TestApp, body: Value) -> String {
    let placed = app.post("/v1/holds", &body).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.body);
    placed.body["id"].as_str().expect("an id").to_owned()
}

#[actix_web::test]
async fn lookups_of_unknown_skus_leave_nothing_in_redis() {
    let app = spawn_app().await;
    chain(&app).await;
    assert_eq!(app.balance("S1", "TEE").await["on_hand"], 10);
    let before = keys(&app);
    assert!(!before.is_empty(), "the chain has keys in Redis");

    for i in 0..200 {
        let response = app.get(&format!("/v1/stock/MADE-UP-{i}")).await;
        assert_eq!(
            response.status,
            StatusCode::NOT_FOUND,
            "{:?}",
            response.body
        );
    }
    // Holds and orders of unknown codes go through the same reads.
    let held = app
        .post(
            "/v1/holds",
            &json!({"lines": [{"sku": "MADE-UP", "location": "S1", "qty": 1}], "ttl_s": 60}),
        )
        .await;
    assert_eq!(
        held.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        held.body
    );
    let ordered = app
        .post(
            "/v1/orders",
            &json!({"id": "WEB-X", "lines": [{"sku": "MADE-UP", "qty": 1}],
                    "fulfilment": {"mode": "ship", "latitude": 25.03, "longitude": 121.56}}),
        )
        .await;
    assert_eq!(
        ordered.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        ordered.body
    );

    let after = keys(&app);
    assert_eq!(after.len(), before.len(), "{after:#?}");
    assert_eq!(after, before);
}

#[actix_web::test]
async fn every_key_allot_writes_expires() {
    let app = spawn_app().await;
    chain(&app).await;
    // A SKU no write has touched gets its stamp from its first lookup.
    app.sku("NEW").await;
    for _ in 0..2 {
        assert_eq!(app.get("/v1/stock/NEW").await.status, StatusCode::OK);
    }

    let confirmed = hold(
        &app,
        json!({"lines": [{"sku": "TEE", "location": "S1", "qty": 2},
                         {"sku": "CAP", "location": "S1", "qty": 1}],
               "ttl_s": 60, "client_id": "cart-1"}),
    )
    .await;
    let response = app
        .post(
            "/v1/orders",
            &json!({"id": "CART-1", "hold_id": confirmed,
                    "lines": [{"sku": "TEE", "qty": 2}, {"sku": "CAP", "qty": 1}],
                    "fulfilment": {"mode": "pickup", "store": "S1"}}),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
    let released = hold(
        &app,
        json!({"lines": [{"sku": "TEE", "location": "S1", "qty": 1}], "ttl_s": 60,
               "client_id": "cart-2"}),
    )
    .await;
    let response = app
        .request("DELETE", &format!("/v1/holds/{released}"), None, &[])
        .await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    let live = hold(
        &app,
        json!({"lines": [{"sku": "TEE", "location": "S1", "qty": 1}], "ttl_s": 60}),
    )
    .await;
    let response = app
        .post(&format!("/v1/holds/{live}/extend"), &json!({"ttl_s": 600}))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);

    let order = app
        .post(
            "/v1/orders",
            &json!({"id": "WEB-1", "lines": [{"sku": "CAP", "qty": 2}],
                    "fulfilment": {"mode": "ship", "latitude": 25.03, "longitude": 121.56}}),
        )
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
    app.movements(json!([
        {"kind": "sale", "location": "S1", "sku": "TEE", "qty": 1},
        {"kind": "receipt", "location": "S2", "sku": "CAP", "qty": 3},
    ]))
    .await;
    for sku in ["TEE", "CAP", "NEW"] {
        assert_eq!(
            app.get(&format!("/v1/stock/{sku}")).await.status,
            StatusCode::OK
        );
    }

    let keys = keys(&app);
    let sku = |name: &str| app.redis_key(&format!("{{%:s2:{name}}}"));
    for expected in [
        format!("{}:v", sku("NEW")),
        format!("{}:v", sku("TEE")),
        format!("{}:b:S1", sku("TEE")),
        format!("{}:h", sku("TEE")),
        format!("{}:n", sku("TEE")),
        app.redis_key(&format!("{{%:h:{live}}}")),
        app.redis_key("{%:c:cart-1}"),
    ] {
        assert!(keys.contains(&expected), "{expected} in {keys:#?}");
    }
    let without_expiry: Vec<&String> = keys.iter().filter(|key| pttl(&app, key) == -1).collect();
    assert!(without_expiry.is_empty(), "no expiry: {without_expiry:#?}");

    // The live hold's keys outlive it, and expire together.
    let (held, total) = (
        pttl(&app, &format!("{}:h", sku("TEE"))),
        pttl(&app, &format!("{}:n", sku("TEE"))),
    );
    assert!(held > 600_000, "{held} ms");
    assert!((held - total).abs() < 1_000, "{held} ms, {total} ms");
}
