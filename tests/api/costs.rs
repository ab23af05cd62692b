//! The chain's cost model: stored, versioned, validated, applied to the next decision, and
//! explained on every order and promise.

use crate::helpers::{spawn_app, TestApp};
use allot::domain::access::Role;
use awc::http::StatusCode;
use serde_json::{json, Value};

/// S1 is the pickup store; N is a store 0.7 km away; W a warehouse 90 km south.
async fn pickup_chain(app: &TestApp) {
    app.store("S1", 25.0340, 121.5645).await;
    app.store("N", 25.0403, 121.5645).await;
    app.warehouse("W", 24.2250, 121.5645).await;
    for sku in ["A", "B"] {
        app.sku(sku).await;
    }
    app.receive("S1", "A", 2).await;
    app.receive("N", "B", 3).await;
    app.receive("W", "A", 50).await;
    app.receive("W", "B", 50).await;
}

fn pickup_order(id: &str) -> Value {
    json!({"id": id, "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}],
           "fulfilment": {"mode": "pickup", "store": "S1"}})
}

/// (SKU, source, route) of every allocation, sorted.
fn sources(order: &Value) -> Vec<(String, String, String)> {
    let mut found: Vec<(String, String, String)> = order["allocations"]
        .as_array()
        .expect("allocations")
        .iter()
        .map(|a| {
            let text = |key: &str| a[key].as_str().expect("text").to_owned();
            (text("sku"), text("source"), text("route"))
        })
        .collect();
    found.sort();
    found
}

fn owned(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

async fn costs(app: &TestApp) -> Value {
    let response = app.get("/v1/settings/costs").await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    response.body
}

/// The model in force with `change` applied, stored; the new version's answer.
async fn set_costs(app: &TestApp, change: impl FnOnce(&mut Value)) -> Value {
    let mut model = costs(app).await;
    change(&mut model);
    let response = app.put("/v1/settings/costs", &model).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    response.body
}

#[actix_web::test]
async fn with_the_defaults_a_pickup_takes_the_shelf_and_a_courier_from_the_store_nearby() {
    let app = spawn_app().await;
    pickup_chain(&app).await;
    let order = app.post("/v1/orders", &pickup_order("WEB-1")).await;
    assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
    assert_eq!(
        sources(&order.body),
        owned(&[("A", "S1", "pickup"), ("B", "N", "transfer")]),
        "A off S1's shelf, B by courier from N, not a day's wait for the truck"
    );
    let decision = &order.body["decision"];
    assert_eq!(decision["status"], "optimal");
    assert_eq!(decision["cost_model_version"], 1);
    assert!(
        decision["cost"]["wait"].as_f64().unwrap() > 0.0,
        "{decision}"
    );
    let runner_up = &decision["runner_up"];
    assert_eq!(runner_up["sources"], json!(["W"]), "{decision}");
    assert!(runner_up["extra_cost"].as_f64().unwrap() > 0.0);
    assert!(runner_up["why"].as_str().unwrap().starts_with("without "));
    // The order, its transfer and the answer read back all name the version.
    let read = app.get("/v1/orders/WEB-1").await;
    assert_eq!(read.body["decision"], *decision);
    let db = app.database().await;
    let versions = db
        .query_one(
            "SELECT (SELECT cost_version FROM orders WHERE client_order_id = 'WEB-1'),
                    (SELECT min(cost_version) FROM transfers)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            versions.get::<_, Option<i64>>(0),
            versions.get::<_, Option<i64>>(1)
        ),
        (Some(1), Some(1))
    );
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn a_chain_that_prices_waiting_at_zero_can_still_choose_the_warehouse() {
    let app = spawn_app().await;
    pickup_chain(&app).await;
    let stored = set_costs(&app, |model| model["wait_per_hour"] = json!(0.0)).await;
    assert_eq!(stored["version"], 2);
    let order = app.post("/v1/orders", &pickup_order("WEB-2")).await;
    assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
    assert_eq!(
        sources(&order.body),
        owned(&[("A", "W", "transfer"), ("B", "W", "transfer")]),
        "one truck beats a shelf pick, a courier and a split when waiting is free"
    );
    assert_eq!(order.body["decision"]["cost_model_version"], 2);
}

#[actix_web::test]
async fn the_model_is_validated_whole_and_a_bad_figure_changes_nothing() {
    let app = spawn_app().await;
    let seeded = costs(&app).await;
    assert_eq!(seeded["version"], 1);
    for part in ["parcel", "handling", "transfer", "protection"] {
        assert!(seeded[part].is_object(), "{part} in {seeded}");
    }
    let cases = [
        ("/parcel/fixed", json!(-1.0), "parcel.fixed"),
        (
            "/transfer/from_store/hours",
            json!(1.0e6),
            "transfer.from_store.hours",
        ),
        ("/protection/units", json!(-2), "protection.units"),
        ("/unfulfilled_per_unit", json!(0.0), "unfulfilled_per_unit"),
        (
            "/handling/store/per_unit",
            json!("cheap"),
            "handling.store.per_unit",
        ),
    ];
    for (pointer, value, field) in cases {
        let mut model = seeded.clone();
        *model.pointer_mut(pointer).expect("a field") = value;
        let response = app.put("/v1/settings/costs", &model).await;
        assert!(
            response.status.is_client_error(),
            "{pointer}: {:?}",
            response.body
        );
        assert!(
            response.body.to_string().contains(field),
            "{pointer}: the error names {field}: {}",
            response.body
        );
    }
    let mut missing = seeded.clone();
    missing.as_object_mut().unwrap().remove("split_penalty");
    let response = app.put("/v1/settings/costs", &missing).await;
    assert!(response.status.is_client_error());
    assert!(
        response.body.to_string().contains("split_penalty"),
        "{}",
        response.body
    );
    assert_eq!(costs(&app).await, seeded, "nothing was stored");
}

#[actix_web::test]
async fn an_admin_sets_costs_a_planner_reads_them_and_a_stale_version_is_refused() {
    let app = spawn_app().await;
    let planner = app.as_role(Role::Planner, &[]).await;
    let seeded = costs(&planner).await;
    let refused = planner.put("/v1/settings/costs", &seeded).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:?}", refused.body);
    let eshop = app.as_role(Role::Eshop, &[]).await;
    assert_eq!(
        eshop.get("/v1/settings/costs").await.status,
        StatusCode::FORBIDDEN
    );
    let second = set_costs(&app, |model| model["split_penalty"] = json!(90.0)).await;
    assert_eq!(
        (second["version"].as_i64(), second["split_penalty"].as_f64()),
        (Some(2), Some(90.0))
    );
    // `seeded` still says version 1: another admin changed it since.
    let stale = app.put("/v1/settings/costs", &seeded).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{:?}", stale.body);
    assert_eq!(costs(&app).await["version"], 2);
}

#[actix_web::test]
async fn a_change_applies_to_the_next_decision_on_every_instance() {
    let app = spawn_app().await;
    pickup_chain(&app).await;
    let other = app.another_instance().await;
    let promise = json!({"lines": [{"sku": "B", "qty": 1}],
                         "fulfilment": {"mode": "pickup", "store": "S1"}});
    let before = other.post("/v1/promise", &promise).await;
    assert_eq!(before.status, StatusCode::OK, "{:?}", before.body);
    assert_eq!(before.body["decision"]["cost_model_version"], 1);
    set_costs(&app, |model| model["wait_per_hour"] = json!(0.0)).await;
    let after = other.post("/v1/promise", &promise).await;
    assert_eq!(
        after.body["decision"]["cost_model_version"], 2,
        "{:?}",
        after.body
    );
    let metrics = app.get("/metrics").await;
    assert!(
        metrics
            .body
            .as_str()
            .unwrap_or_default()
            .contains("allot_sourcing_solves_total{status=\"optimal\"}"),
        "solves are counted by status"
    );
    let text = metrics.body.as_str().unwrap_or_default();
    assert!(
        text.contains("allot_sourcing_solve_seconds_count{status=\"optimal\"}"),
        "and timed by status"
    );
}

#[actix_web::test]
async fn a_location_can_refuse_transfers_cap_its_picks_and_price_its_handling() {
    let app = spawn_app().await;
    pickup_chain(&app).await;
    let near = json!({"name": "Store N", "kind": "store", "latitude": 25.0403,
                      "longitude": 121.5645, "pickup": true, "ship": true});
    let mut bad = near.clone();
    bad["handling_per_unit"] = json!(-3.0);
    let response = app.put("/v1/locations/N", &bad).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.to_string().contains("handling_per_unit"));
    let mut closed = near.clone();
    closed["transfers_out"] = json!(false);
    assert_eq!(
        app.put("/v1/locations/N", &closed).await.status,
        StatusCode::OK
    );
    let order = app.post("/v1/orders", &pickup_order("WEB-3")).await;
    assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
    assert!(
        sources(&order.body)
            .iter()
            .all(|(_, source, _)| source != "N"),
        "N sends no transfers: {:?}",
        sources(&order.body)
    );
    // Shipping: S1 may pick one unit a day, so the second order comes from elsewhere.
    let mut capped = json!({"name": "Store S1", "kind": "store", "latitude": 25.0340,
                            "longitude": 121.5645, "pickup": true, "ship": true,
                            "pick_capacity_per_day": 1, "handling_per_unit": 0.0});
    assert_eq!(
        app.put("/v1/locations/S1", &capped).await.status,
        StatusCode::OK
    );
    app.receive("S1", "A", 10).await;
    let ship = |id: &str| {
        json!({"id": id, "lines": [{"sku": "A", "qty": 1}],
                                 "fulfilment": {"mode": "ship", "latitude": 25.0341, "longitude": 121.5646}})
    };
    let first = app.post("/v1/orders", &ship("SHIP-1")).await;
    assert_eq!(sources(&first.body)[0].1, "S1", "{:?}", first.body);
    let second = app.post("/v1/orders", &ship("SHIP-2")).await;
    assert_ne!(
        sources(&second.body)[0].1,
        "S1",
        "S1's pick for today is used: {:?}",
        second.body
    );
    capped["pick_capacity_per_day"] = json!(-1);
    let response = app.put("/v1/locations/S1", &capped).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn a_store_keeps_back_more_of_what_it_sells_every_day() {
    let app = spawn_app().await;
    app.store("FAST", 25.0340, 121.5645).await;
    app.store("SLOW", 25.0340, 121.5646).await;
    app.sku("TEE").await;
    app.receive("FAST", "TEE", 3).await;
    app.receive("SLOW", "TEE", 3).await;
    // FAST sells two a day (as the last planning run measured it), SLOW none.
    let db = app.database().await;
    db.execute(
        "INSERT INTO sales_velocity (sku_id, location_id, per_day)
         SELECT s.id, l.id, 2.0 FROM skus s, locations l WHERE s.code = 'TEE' AND l.code = 'FAST'",
        &[],
    )
    .await
    .unwrap();
    let ship = json!({"id": "SHIP-1", "lines": [{"sku": "TEE", "qty": 2}],
                      "fulfilment": {"mode": "ship", "latitude": 25.0340, "longitude": 121.5645}});
    let order = app.post("/v1/orders", &ship).await;
    assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
    assert_eq!(
        sources(&order.body),
        owned(&[("TEE", "SLOW", "ship")]),
        "FAST keeps two days of its sales (4) back, SLOW only its last unit"
    );
}

#[actix_web::test]
async fn the_cli_shows_and_sets_the_model() {
    let app = spawn_app().await;
    let shown: Value =
        serde_json::from_str(&crate::access::allot(&app, &["costs", "show"])).expect("JSON");
    assert_eq!(shown["version"], 1);
    let mut model = shown.clone();
    model["costs"]["parcel"]["fixed"] = json!(95.0);
    let file = std::env::temp_dir().join(format!("costs-{}.json", app.redis_prefix));
    std::fs::write(&file, model.to_string()).unwrap();
    let set: Value = serde_json::from_str(&crate::access::allot(
        &app,
        &["costs", "set", file.to_str().unwrap()],
    ))
    .expect("JSON");
    assert_eq!(
        (
            set["version"].as_i64(),
            set["costs"]["parcel"]["fixed"].as_f64()
        ),
        (Some(2), Some(95.0))
    );
    assert_eq!(costs(&app).await["created_by"], "system:cli");
    std::fs::remove_file(file).ok();
}
