//! Abuse limits per credential: a rate on holds and orders, a cap on live holds, and a hold's
//! lifetime however often it is extended.

use crate::helpers::{spawn_app_tuned, TestApp};
use allot::domain::access::Role;
use awc::http::StatusCode;
use serde_json::{json, Value};
use std::num::NonZeroU32;

async fn chain(app: &TestApp) {
    app.store("S1", 25.03, 121.56).await;
    app.sku("TEE").await;
    app.receive("S1", "TEE", 100).await;
}

fn hold(qty: i64, ttl_s: i64) -> Value {
    json!({"lines": [{"sku": "TEE", "location": "S1", "qty": qty}], "ttl_s": ttl_s})
}

#[actix_web::test]
async fn holds_and_orders_beyond_a_credentials_rate_are_told_when_to_retry() {
    let app = spawn_app_tuned(|settings| {
        settings.rate_per_s = NonZeroU32::new(2).expect("not zero");
    })
    .await;
    chain(&app).await;
    let shop = app.as_role(Role::Eshop, &[]).await;
    for _ in 0..2 {
        assert_eq!(
            shop.post("/v1/holds", &hold(1, 60)).await.status,
            StatusCode::CREATED
        );
    }
    let third = shop.post("/v1/holds", &hold(1, 60)).await;
    assert_eq!(
        third.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{:?}",
        third.body
    );
    assert_eq!(third.body["code"], "rate_limited");
    let retry_after: u64 = third
        .headers
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    assert!(retry_after >= 1, "{retry_after}");
    let order = json!({"id": "RATE-1", "lines": [{"sku": "TEE", "qty": 1}],
                       "fulfilment": {"mode": "pickup", "store": "S1"}});
    assert_eq!(
        shop.post("/v1/orders", &order).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    let other = app.as_role(Role::Eshop, &[]).await;
    let placed = other.post("/v1/orders", &order).await;
    assert_eq!(
        placed.status,
        StatusCode::CREATED,
        "another key has its own rate: {:?}",
        placed.body
    );
    assert_eq!(
        app.balance("S1", "TEE").await["allocated"],
        1,
        "the refused order booked nothing"
    );
}

#[actix_web::test]
async fn a_credential_has_at_most_its_cap_of_live_holds() {
    let app = spawn_app_tuned(|settings| settings.live_holds_max = 2).await;
    chain(&app).await;
    let shop = app.as_role(Role::Eshop, &[]).await;
    let first = shop.post("/v1/holds", &hold(1, 60)).await;
    assert_eq!(
        first.body["placed_by"]
            .as_str()
            .map(|by| by.starts_with("key:")),
        Some(true)
    );
    assert_eq!(
        shop.post("/v1/holds", &hold(1, 60)).await.status,
        StatusCode::CREATED
    );
    let capped = shop.post("/v1/holds", &hold(1, 60)).await;
    assert_eq!(
        capped.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{:?}",
        capped.body
    );
    assert_eq!(capped.body["code"], "too_many_holds");
    assert_eq!(
        app.balance("S1", "TEE").await["held"],
        2,
        "the refused hold holds nothing"
    );
    let other = app.as_role(Role::Eshop, &[]).await;
    assert_eq!(
        other.post("/v1/holds", &hold(1, 60)).await.status,
        StatusCode::CREATED
    );
    let id = first.body["id"].as_str().unwrap_or_default();
    let released = shop
        .request("DELETE", &format!("/v1/holds/{id}"), None, &[])
        .await;
    assert_eq!(released.status, StatusCode::OK, "{:?}", released.body);
    let again = shop.post("/v1/holds", &hold(1, 60)).await;
    assert_eq!(
        again.status,
        StatusCode::CREATED,
        "a released hold frees its place: {:?}",
        again.body
    );
}

#[actix_web::test]
async fn extending_never_takes_a_hold_past_its_lifetime() {
    let app = spawn_app_tuned(|settings| settings.hold_lifetime_s = 2).await;
    chain(&app).await;
    let placed = app.post("/v1/holds", &hold(3, 1)).await;
    let id = placed.body["id"].as_str().unwrap_or_default().to_owned();
    let created: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(placed.body["created_at"].clone()).expect("created_at");
    let extended = app
        .post(&format!("/v1/holds/{id}/extend"), &json!({"ttl_s": 3600}))
        .await;
    assert_eq!(extended.status, StatusCode::OK, "{:?}", extended.body);
    let expires: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(extended.body["expires_at"].clone()).expect("expires_at");
    assert_eq!(
        (expires - created).num_milliseconds(),
        2000,
        "capped at the lifetime"
    );
    actix_rt::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        app.get(&format!("/v1/holds/{id}")).await.body["status"],
        "expired"
    );
    assert_eq!(app.balance("S1", "TEE").await["held"], 0);
}

#[actix_web::test]
async fn a_statement_stuck_behind_a_lock_answers_503_at_its_timeout_not_a_hung_request() {
    let app = crate::helpers::spawn_app_tuned(|settings| settings.statement_timeout_ms = 300).await;
    app.store("S", 25.0, 121.5).await;
    app.sku("TEE").await;
    app.receive("S", "TEE", 5).await;
    // Another session holds the balance row, as a long transaction would.
    let mut db = app.database().await;
    let blocker = db.transaction().await.unwrap();
    blocker
        .execute("SELECT 1 FROM balances FOR UPDATE", &[])
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let sale = app
        .post(
            "/v1/movements",
            &serde_json::json!({"movements": [{"kind": "sale", "location": "S", "sku": "TEE", "qty": 1}]}),
        )
        .await;
    let waited = started.elapsed();
    assert_eq!(
        sale.status,
        awc::http::StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        sale.body
    );
    assert_eq!(
        sale.headers.get("retry-after").map(|v| v.to_str().unwrap()),
        Some("1")
    );
    assert!(
        waited < std::time::Duration::from_secs(5),
        "answered in {waited:?}"
    );
    blocker.rollback().await.unwrap();
    assert_eq!(
        app.balance("S", "TEE").await["on_hand"],
        5,
        "nothing was written"
    );
}

#[actix_web::test]
async fn idempotency_records_are_purged_after_their_retention() {
    let app =
        crate::helpers::spawn_app_tuned(|settings| settings.idempotency_retention_s = 1).await;
    app.store("S", 25.0, 121.5).await;
    app.sku("TEE").await;
    let body = serde_json::json!({"movements": [{"kind": "receipt", "location": "S", "sku": "TEE", "qty": 1}]});
    let stored = app
        .request(
            "POST",
            "/v1/movements",
            Some(&body),
            &[("Idempotency-Key", "old-key")],
        )
        .await;
    assert_eq!(
        stored.status,
        awc::http::StatusCode::CREATED,
        "{:?}",
        stored.body
    );
    let db = app.database().await;
    let count = async || -> i64 {
        db.query_one(
            "SELECT count(*) FROM idempotency_keys WHERE key = 'old-key'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
    };
    assert_eq!(count().await, 1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while count().await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the record outlived its retention"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[actix_web::test]
async fn a_request_too_large_for_the_solver_is_a_422_naming_its_lines() {
    let app = spawn_app_tuned(|settings| settings.solve_cells_max = 2).await;
    for (code, latitude) in [("A", 25.0), ("B", 25.01), ("C", 25.02)] {
        app.store(code, latitude, 121.5).await;
    }
    app.sku("TEE").await;
    for code in ["A", "B", "C"] {
        app.receive(code, "TEE", 1).await;
    }
    let order = json!({"id": "BIG-1", "lines": [{"sku": "TEE", "qty": 1}],
                       "fulfilment": {"mode": "ship", "latitude": 25.0, "longitude": 121.5}});
    let refused = app.post("/v1/orders", &order).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        refused.body
    );
    assert_eq!(refused.body["field"], "lines");
    let db = app.database().await;
    let orders: i64 = db
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(orders, 0, "nothing was written");
}

/// Sends `head` (and `body`) on a raw connection, then waits for the server to answer or close.
async fn stalled_request(app: &TestApp, sent: &str) -> (String, std::time::Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(sent.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stream.read_to_end(&mut answer),
    )
    .await;
    assert!(
        read.is_ok(),
        "the server never gave up on the stalled request"
    );
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[actix_web::test]
async fn a_client_that_stalls_in_its_headers_or_body_is_cut_off() {
    let app = crate::helpers::spawn_app().await;
    let (answer, waited) =
        stalled_request(&app, "POST /v1/movements HTTP/1.1\r\nHost: x\r\n").await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    assert!(waited <= allot::startup::HEADER_READ_TIMEOUT + std::time::Duration::from_secs(3));
    let (key_name, key) = app.bearer();
    let head = format!(
        "POST /v1/movements HTTP/1.1\r\nHost: x\r\n{key_name}: {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"movements\""
    );
    let (answer, waited) = stalled_request(&app, &head).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(waited <= allot::api::extract::BODY_READ_TIMEOUT + std::time::Duration::from_secs(3));
}

#[actix_web::test]
async fn the_unfiltered_audit_trail_pages_by_an_index_not_a_sort() {
    let app = crate::helpers::spawn_app().await;
    app.store("S", 25.0, 121.5).await;
    app.sku("TEE").await;
    // A ledger of 20,000 movements, with statistics that say so.
    let batch: Vec<Value> = (0..1_000)
        .map(|_| json!({"kind": "receipt", "location": "S", "sku": "TEE", "qty": 1}))
        .collect();
    for _ in 0..20 {
        app.movements(Value::Array(batch.clone())).await;
    }
    let db = app.database().await;
    db.batch_execute("ANALYZE movements").await.unwrap();
    let plan: Value = db
        .query_one(
            &format!(
                "EXPLAIN (FORMAT JSON) {}",
                allot::ledger::stock::MOVEMENTS_PAGE
            ),
            &[&0_i64, &100_i64],
        )
        .await
        .unwrap()
        .get(0);
    let text = plan.to_string();
    // The ledger is partitioned by month: a merge of each month's part of `movements_by_id`.
    assert!(text.contains("\"Merge Append\""), "{text}");
    assert!(text.contains("_id_idx"), "{text}");
    assert!(
        !text.contains("Seq Scan"),
        "no scan of a whole month: {text}"
    );
    assert!(!text.contains("\"Sort\""), "no sort of the ledger: {text}");
    let page = app.get("/v1/movements?limit=5").await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
}
