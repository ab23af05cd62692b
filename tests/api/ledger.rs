use crate::helpers::spawn_app;
use allot::domain::access::Actor;
use awc::http::StatusCode;
use serde_json::json;
use std::time::Duration;

#[actix_web::test]
async fn receipts_sales_returns_and_counts_move_on_hand() {
    let app = spawn_app().await;
    app.store("S1", 25.04, 121.56).await;
    app.sku("TEE-M").await;
    app.movements(json!([
        {"kind": "receipt", "location": "S1", "sku": "TEE-M", "qty": 10},
        {"kind": "sale", "location": "S1", "sku": "TEE-M", "qty": 3},
        {"kind": "return", "location": "S1", "sku": "TEE-M", "qty": 1},
        {"kind": "adjustment", "location": "S1", "sku": "TEE-M", "qty": -2, "reason": "damaged"},
    ]))
    .await;
    assert_eq!(app.balance("S1", "TEE-M").await["on_hand"], 6);

    let counted = app
        .movements(
            json!([{"kind": "count", "location": "S1", "sku": "TEE-M", "qty": 4,
                           "reason": "cycle count"}]),
        )
        .await;
    assert_eq!(
        counted["movements"][0]["on_hand_delta"], -2,
        "the difference is recorded"
    );
    assert_eq!(counted["balances"][0]["on_hand"], 4);
    assert_eq!(app.balance("S1", "TEE-M").await["on_hand"], 4);

    let trail = app.get("/v1/movements?location=S1&sku=TEE-M").await;
    let kinds: Vec<_> = trail.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["receipt", "sale", "return", "adjustment", "count"]);
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn a_batch_that_would_go_negative_is_refused_whole_naming_the_line() {
    let app = spawn_app().await;
    app.store("S1", 25.0, 121.5).await;
    app.sku("CAP").await;
    app.receive("S1", "CAP", 2).await;
    let response = app
        .post(
            "/v1/movements",
            &json!({"movements": [
                {"kind": "receipt", "location": "S1", "sku": "CAP", "qty": 5},
                {"kind": "adjustment", "location": "S1", "sku": "CAP", "qty": -9, "reason": "lost"},
            ]}),
        )
        .await;
    assert_eq!(response.status, StatusCode::CONFLICT);
    assert_eq!(response.body["code"], "insufficient_stock");
    assert_eq!(response.body["field"], "movements[1]");
    assert_eq!(
        app.balance("S1", "CAP").await["on_hand"],
        2,
        "the receipt was not applied"
    );
    let trail = app.get("/v1/movements?sku=CAP").await;
    assert_eq!(trail.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn a_pos_sale_beyond_on_hand_is_recorded_and_flagged() {
    let app = spawn_app().await;
    app.store("S1", 25.0, 121.5).await;
    app.sku("JEANS-32").await;
    app.receive("S1", "JEANS-32", 1).await;
    let recorded = app
        .movements(json!([{"kind": "sale", "location": "S1", "sku": "JEANS-32", "qty": 3}]))
        .await;
    assert_eq!(
        recorded["discrepancies"][0]["kind"],
        "sale_exceeded_on_hand"
    );
    let balance = app.balance("S1", "JEANS-32").await;
    assert_eq!(balance["on_hand"], 0);
    assert_eq!(balance["available"], 0);

    let discrepancies = app.get("/v1/discrepancies?location=S1").await;
    assert_eq!(discrepancies.status, StatusCode::OK);
    let item = &discrepancies.body["items"][0];
    assert_eq!(item["sku"], "JEANS-32");
    assert_eq!(item["on_hand_before"], 1);
    assert_eq!(item["shortfall"], 2);
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn an_idempotency_key_replays_and_never_applies_twice() {
    let app = spawn_app().await;
    app.store("S1", 25.0, 121.5).await;
    app.sku("SOCKS").await;
    let body =
        json!({"movements": [{"kind": "receipt", "location": "S1", "sku": "SOCKS", "qty": 4}]});
    let headers = [("Idempotency-Key", "pos-17-batch-1")];
    let first = app
        .request("POST", "/v1/movements", Some(&body), &headers)
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = app
        .request("POST", "/v1/movements", Some(&body), &headers)
        .await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(second.body, first.body, "the first response is replayed");
    assert_eq!(second.headers.get("Idempotent-Replayed").unwrap(), "true");
    assert_eq!(app.balance("S1", "SOCKS").await["on_hand"], 4);

    let other =
        json!({"movements": [{"kind": "receipt", "location": "S1", "sku": "SOCKS", "qty": 5}]});
    let reused = app
        .request("POST", "/v1/movements", Some(&other), &headers)
        .await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.body["field"], "Idempotency-Key");
    assert_eq!(app.balance("S1", "SOCKS").await["on_hand"], 4);
}

#[actix_web::test]
async fn a_key_still_in_flight_is_a_409() {
    let app = spawn_app().await;
    app.store("S1", 25.0, 121.5).await;
    app.sku("SOCKS").await;
    let body =
        json!({"movements": [{"kind": "receipt", "location": "S1", "sku": "SOCKS", "qty": 4}]});
    // Hold the key's lock as a first request in flight would.
    let key = allot::ledger::idempotency::Key::parse("movements", "in-flight", &body).unwrap();
    let mut database = app.database().await;
    let transaction = database.transaction().await.unwrap();
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&key.lock_id()])
        .await
        .unwrap();
    let response = app
        .request(
            "POST",
            "/v1/movements",
            Some(&body),
            &[("Idempotency-Key", "in-flight")],
        )
        .await;
    assert_eq!(response.status, StatusCode::CONFLICT, "{:?}", response.body);
    transaction.rollback().await.unwrap();
    let retried = app
        .request(
            "POST",
            "/v1/movements",
            Some(&body),
            &[("Idempotency-Key", "in-flight")],
        )
        .await;
    assert_eq!(retried.status, StatusCode::CREATED);
    assert_eq!(app.balance("S1", "SOCKS").await["on_hand"], 4);
}

#[actix_web::test]
async fn ledger_rows_can_never_be_updated_or_deleted() {
    let app = spawn_app().await;
    app.store("S1", 25.0, 121.5).await;
    app.sku("HAT").await;
    app.receive("S1", "HAT", 3).await;
    let database = app.database().await;
    for statement in [
        "UPDATE movements SET qty = 99",
        "DELETE FROM movements",
        "TRUNCATE movements CASCADE",
    ] {
        let error = database.execute(statement, &[]).await.unwrap_err();
        assert!(
            error.to_string().contains("never updated or deleted")
                || format!("{error:?}").contains("never updated"),
            "{statement}: {error:?}"
        );
    }
    let direct = database
        .execute("UPDATE balances SET on_hand = -1", &[])
        .await
        .unwrap_err();
    assert!(format!("{direct:?}").contains("balance_on_hand_not_negative"));
}

#[actix_web::test]
async fn stock_as_of_a_past_instant_folds_the_ledger() {
    let app = spawn_app().await;
    app.store("S1", 25.0, 121.5).await;
    app.sku("BAG").await;
    app.movements(json!([
        {"kind": "receipt", "location": "S1", "sku": "BAG", "qty": 10, "occurred_at": "2026-01-01T10:00:00Z"},
        {"kind": "sale", "location": "S1", "sku": "BAG", "qty": 4, "occurred_at": "2026-01-02T10:00:00Z"},
        {"kind": "receipt", "location": "S1", "sku": "BAG", "qty": 1, "occurred_at": "2026-01-03T10:00:00Z"},
    ]))
    .await;
    let on_hand_at = |instant: &'static str| {
        let app = &app;
        async move {
            let response = app.get(&format!("/v1/stock/BAG?as_of={instant}")).await;
            assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
            response.body["locations"]
                .as_array()
                .unwrap()
                .first()
                .map(|row| row["on_hand"].as_i64().unwrap())
                .unwrap_or(0)
        }
    };
    assert_eq!(on_hand_at("2025-12-31T00:00:00Z").await, 0);
    assert_eq!(on_hand_at("2026-01-01T10:00:00Z").await, 10);
    assert_eq!(on_hand_at("2026-01-02T12:00:00Z").await, 6);
    assert_eq!(on_hand_at("2026-02-01T00:00:00Z").await, 7);
    let filtered = app
        .get("/v1/movements?sku=BAG&from=2026-01-02T00:00:00Z&to=2026-01-03T00:00:00Z")
        .await;
    assert_eq!(filtered.body["items"].as_array().unwrap().len(), 1);
}

/// Random batches of every kind, many refused: afterwards every stored balance equals the fold
/// of its movements and nothing is negative.
#[actix_web::test]
async fn random_batches_keep_balances_equal_to_the_fold_of_the_ledger() {
    let app = spawn_app().await;
    let (stores, skus) = (["A", "B", "C"], ["X", "Y"]);
    for (index, store) in stores.iter().enumerate() {
        app.store(store, 25.0 + index as f64 / 100.0, 121.5).await;
    }
    for sku in skus {
        app.sku(sku).await;
    }
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = |bound: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % bound
    };
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..60 {
        let lines: Vec<_> = (0..1 + next(4))
            .map(|_| {
                let location = stores[next(3) as usize];
                let sku = skus[next(2) as usize];
                match next(5) {
                    0 => json!({"kind": "receipt", "location": location, "sku": sku, "qty": 1 + next(9)}),
                    1 => json!({"kind": "sale", "location": location, "sku": sku, "qty": 1 + next(5)}),
                    2 => json!({"kind": "return", "location": location, "sku": sku, "qty": 1 + next(3)}),
                    3 => json!({"kind": "adjustment", "location": location, "sku": sku,
                                "qty": next(12) as i64 - 8, "reason": "audit"}),
                    _ => json!({"kind": "count", "location": location, "sku": sku, "qty": next(10)}),
                }
            })
            .collect();
        let response = app
            .post("/v1/movements", &json!({ "movements": lines }))
            .await;
        match response.status {
            StatusCode::CREATED => accepted += 1,
            StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY => refused += 1,
            other => panic!("unexpected {other}: {:?}", response.body),
        }
    }
    assert!(
        accepted > 10 && refused > 0,
        "accepted {accepted}, refused {refused}"
    );
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn a_write_that_loses_a_deadlock_runs_again_instead_of_failing() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let app = spawn_app().await;
    let pool =
        allot::ledger::pool(&app.database_url, 4, std::time::Duration::from_secs(60)).unwrap();
    let client = pool.get().await.unwrap();
    client
        .batch_execute("CREATE TABLE race (id int PRIMARY KEY); INSERT INTO race VALUES (1), (2)")
        .await
        .unwrap();
    drop(client);
    // The other side holds row 2 and, once the write holds row 1, asks for row 1. It checks
    // for deadlocks only after 5 s, so the write (100 ms) is the one PostgreSQL rolls back.
    let row_one_taken = Arc::new(tokio::sync::Notify::new());
    let (other_pool, taken) = (pool.clone(), row_one_taken.clone());
    let other = actix_rt::spawn(async move {
        let mut client = other_pool.get().await.unwrap();
        let transaction = client.transaction().await.unwrap();
        transaction
            .batch_execute(
                "SET LOCAL deadlock_timeout = '5s';
                 SELECT 1 FROM race WHERE id = 2 FOR UPDATE",
            )
            .await
            .unwrap();
        taken.notified().await;
        transaction
            .batch_execute("SELECT 1 FROM race WHERE id = 1 FOR UPDATE")
            .await
            .unwrap();
        transaction.commit().await.unwrap();
    });
    let attempts = AtomicUsize::new(0);
    let cause = allot::ledger::Cause::Other("test");
    let won =
        allot::ledger::in_transaction(&pool, &Actor::System("test"), &cause, async |transaction| {
            let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
            transaction
                .batch_execute(
                    "SET LOCAL deadlock_timeout = '100ms';
                 SELECT 1 FROM race WHERE id = 1 FOR UPDATE",
                )
                .await?;
            if attempt == 1 {
                row_one_taken.notify_one();
                wait_for_a_lock_waiter(&pool).await;
            }
            transaction
                .batch_execute("SELECT 1 FROM race WHERE id = 2 FOR UPDATE")
                .await?;
            Ok(attempt)
        })
        .await;
    other.await.unwrap();
    // The first attempt lost; a later one committed. Under load the second attempt can take
    // row 1 again before the other side's queued request does, and lose a second deadlock.
    let won = won.map_err(|error| error.to_string());
    assert!(
        matches!(won, Ok(attempt) if (2..=allot::ledger::TRANSACTION_ATTEMPTS_MAX).contains(&attempt)),
        "the first attempt lost the deadlock and the write ran again: {won:?}"
    );
}

/// Until another session of this database waits for a lock (at most 5 s).
async fn wait_for_a_lock_waiter(pool: &deadpool_postgres::Pool) {
    let client = pool.get().await.unwrap();
    for _ in 0..500 {
        let waiting: bool = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                                WHERE datname = current_database() AND wait_event_type = 'Lock')",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting {
            return;
        }
        actix_rt::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the other session never waited for row 1");
}
