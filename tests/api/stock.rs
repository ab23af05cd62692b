use crate::helpers::{spawn_app, spawn_app_with_redis, OwnRedis, TestApp};
use awc::http::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

#[actix_web::test]
async fn a_clerk_sees_every_location_with_the_sku_nearest_first() {
    let app = spawn_app().await;
    // Taipei 101, a store 2 km west, one 10 km north, the warehouse in Taoyuan.
    app.store("XINYI", 25.0340, 121.5645).await;
    app.store("DAAN", 25.0330, 121.5450).await;
    app.store("SHILIN", 25.1200, 121.5250).await;
    app.warehouse("WH", 25.0000, 121.3000).await;
    app.store("EMPTY", 25.0341, 121.5646).await;
    app.sku("HOODIE-L").await;
    for (location, qty) in [("DAAN", 2), ("SHILIN", 5), ("WH", 100)] {
        app.receive(location, "HOODIE-L", qty).await;
    }

    let response = app.get("/v1/stock/HOODIE-L?store=XINYI").await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    let rows = response.body["locations"].as_array().unwrap();
    let order: Vec<_> = rows
        .iter()
        .map(|row| row["location"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["DAAN", "SHILIN", "WH"],
        "nearest first, only where it is stocked"
    );
    let daan = &rows[0];
    let km = daan["distance_km"].as_f64().unwrap();
    assert!((1.8..2.2).contains(&km), "{km}");
    for field in [
        "on_hand",
        "allocated",
        "held",
        "in_transit",
        "safety_stock",
        "available",
    ] {
        assert!(daan[field].is_i64(), "{field} missing");
    }
    assert_eq!(daan["on_hand"], 2);
    assert_eq!(daan["available"], 2);

    let near = app.get("/v1/stock/HOODIE-L?near=25.1201,121.5251").await;
    assert_eq!(near.body["locations"][0]["location"], "SHILIN");
    assert!(response.body.get("next").is_none(), "one page holds three");

    // Pages of two, nearest first, continue where the last ended.
    let first = app.get("/v1/stock/HOODIE-L?store=XINYI&limit=2").await.body;
    assert_eq!(first["locations"].as_array().map(Vec::len), Some(2));
    let next = first["next"].as_str().expect("a next page").to_owned();
    let rest = app
        .get(&format!(
            "/v1/stock/HOODIE-L?store=XINYI&limit=2&after={next}"
        ))
        .await
        .body;
    assert_eq!(rest["locations"][0]["location"], "WH", "{rest}");
    assert!(rest.get("next").is_none(), "{rest}");
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("after=2.0", "after"),
    ] {
        let bad = app.get(&format!("/v1/stock/HOODIE-L?{query}")).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(bad.body["field"], field, "{query}");
    }
}

#[actix_web::test]
async fn safety_stock_is_kept_back_from_available() {
    let app = spawn_app().await;
    let response = app
        .put(
            "/v1/locations/S1",
            &json!({"name": "S1", "kind": "store", "latitude": 25.0, "longitude": 121.5,
                    "pickup": true, "ship": false, "safety_stock": 2}),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED);
    app.sku("TEE").await;
    app.receive("S1", "TEE", 3).await;
    let balance = app.balance("S1", "TEE").await;
    assert_eq!(balance["safety_stock"], 2);
    assert_eq!(balance["available"], 1);
    app.receive("S1", "TEE", 1).await;
    app.movements(json!([{"kind": "sale", "location": "S1", "sku": "TEE", "qty": 3}]))
        .await;
    assert_eq!(
        app.balance("S1", "TEE").await["available"],
        0,
        "never negative"
    );
}

#[actix_web::test]
async fn a_locations_stock_pages_by_sku_code() {
    let app = spawn_app().await;
    app.store("S1", 25.0, 121.5).await;
    let codes: Vec<String> = (0..5).map(|i| format!("SKU-{i}")).collect();
    for code in &codes {
        app.sku(code).await;
        app.receive("S1", code, 1).await;
    }
    let first = app.get("/v1/locations/S1/stock?limit=3").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 3);
    assert_eq!(first.body["next_after"], "SKU-2");
    let second = app.get("/v1/locations/S1/stock?limit=3&after=SKU-2").await;
    let rest: Vec<_> = second.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["sku"].as_str().unwrap())
        .collect();
    assert_eq!(rest, ["SKU-3", "SKU-4"]);
    assert!(second.body["next_after"].is_null());
}

#[actix_web::test]
async fn locations_and_skus_are_created_then_updated_by_code() {
    let app = spawn_app().await;
    app.store("S1", 25.0, 121.5).await;
    let updated = app
        .put(
            "/v1/locations/S1",
            &json!({"name": "Renamed", "kind": "store", "latitude": 25.1, "longitude": 121.6,
                    "pickup": false, "ship": true}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    let read = app.get("/v1/locations/S1").await;
    assert_eq!(read.body["name"], "Renamed");
    assert_eq!(read.body["pickup"], false);

    let sku = app
        .put(
            "/v1/skus/TEE-M",
            &json!({"name": "Tee M", "attributes": {"size": "M", "cotton": true}}),
        )
        .await;
    assert_eq!(sku.status, StatusCode::CREATED);
    let sku = app.get("/v1/skus/TEE-M").await;
    assert_eq!(sku.body["attributes"]["size"], "M");
}

/// The figures of one location in a lookup of `sku`.
async fn row(app: &TestApp, sku: &str, location: &str) -> Value {
    let response = app.get(&format!("/v1/stock/{sku}")).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    response.body["locations"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|row| row["location"] == location)
        .cloned()
        .unwrap_or(Value::Null)
}

#[actix_web::test]
async fn every_write_shows_at_once_in_lookups_on_every_instance() {
    let app = spawn_app().await;
    app.store("S1", 25.03, 121.56).await;
    app.store("S2", 25.04, 121.55).await;
    app.sku("TEE").await;
    app.receive("S1", "TEE", 10).await;
    let other = app.another_instance().await;
    // Both instances answer once, so each keeps a copy of TEE's figures.
    assert_eq!(row(&app, "TEE", "S1").await["on_hand"], 10);
    assert_eq!(row(&other, "TEE", "S1").await["on_hand"], 10);

    let sold = other
        .post(
            "/v1/movements",
            &json!({"movements": [{"kind": "sale", "location": "S1", "sku": "TEE", "qty": 3}]}),
        )
        .await;
    assert_eq!(sold.status, StatusCode::CREATED, "{:?}", sold.body);
    assert_eq!(
        row(&app, "TEE", "S1").await["on_hand"],
        7,
        "a sale on the other instance"
    );

    let held = other
        .post(
            "/v1/holds",
            &json!({"lines": [{"sku": "TEE", "location": "S1", "qty": 2}], "ttl_s": 60}),
        )
        .await;
    assert_eq!(held.status, StatusCode::CREATED, "{:?}", held.body);
    let s1 = row(&app, "TEE", "S1").await;
    assert_eq!(
        (s1["held"].as_i64(), s1["available"].as_i64()),
        (Some(2), Some(5))
    );

    let transfer = other
        .post(
            "/v1/transfers",
            &json!({"sku": "TEE", "qty": 1, "to": "S2", "from": "S1"}),
        )
        .await;
    assert_eq!(transfer.status, StatusCode::CREATED, "{:?}", transfer.body);
    assert_eq!(
        row(&app, "TEE", "S1").await["allocated"],
        1,
        "a transfer's allocation"
    );

    // A SKU renamed on the other instance moves its stamp too; a location changed on this
    // instance shows on it at once.
    let safer = app
        .put(
            "/v1/locations/S1",
            &json!({"name": "S1", "kind": "store", "latitude": 25.03, "longitude": 121.56,
                    "pickup": true, "ship": true, "safety_stock": 1}),
        )
        .await;
    assert_eq!(safer.status, StatusCode::OK, "{:?}", safer.body);
    let renamed = other
        .put("/v1/skus/TEE", &json!({"name": "Tee, renamed"}))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    let lookup = app.get("/v1/stock/TEE").await;
    assert_eq!(lookup.body["name"], "Tee, renamed");
    assert_eq!(lookup.body["locations"][0]["safety_stock"], 1);
    assert_eq!(lookup.body["locations"][0]["available"], 7 - 1 - 2 - 1);
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn a_write_redis_missed_is_not_hidden_by_a_copy() {
    let redis = OwnRedis::start();
    let app = spawn_app_with_redis(&redis.url()).await;
    app.store("S1", 25.03, 121.56).await;
    app.sku("TEE").await;
    app.receive("S1", "TEE", 10).await;
    assert_eq!(row(&app, "TEE", "S1").await["on_hand"], 10);

    // Redis keeps its data but never applies the update that follows the sale: the service
    // gives up waiting for it, and the connection that carried it is dropped.
    redis.pause_writes(Duration::from_secs(20));
    let sold = app
        .post(
            "/v1/movements",
            &json!({"movements": [{"kind": "sale", "location": "S1", "sku": "TEE", "qty": 4}]}),
        )
        .await;
    assert_eq!(sold.status, StatusCode::CREATED, "{:?}", sold.body);
    redis.drop_held_writes();

    // The first call may find the connection gone (the ledger answers alone); once Redis
    // answers again, its unchanged stamp must not revive the copy taken before the failure.
    let mut lookup = app.get("/v1/stock/TEE").await;
    for _ in 0..20 {
        if lookup.body["holds_unavailable"] == false {
            break;
        }
        actix_rt::time::sleep(Duration::from_millis(100)).await;
        lookup = app.get("/v1/stock/TEE").await;
    }
    assert_eq!(lookup.body["holds_unavailable"], false, "{:?}", lookup.body);
    assert_eq!(
        lookup.body["locations"][0]["on_hand"], 6,
        "the copy taken before Redis failed is not used: {:?}",
        lookup.body
    );
}
