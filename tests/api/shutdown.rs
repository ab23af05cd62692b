//! SIGTERM during a burst of orders: the service stops accepting, finishes what is in flight,
//! and leaves nothing half-done.

use crate::helpers::spawn_app;
use awc::http::StatusCode;
use serde_json::json;
use std::time::Duration;

#[actix_web::test]
async fn sigterm_during_a_burst_of_orders_finishes_them_and_leaves_the_ledger_whole() {
    let app = spawn_app().await;
    app.store("S", 25.03, 121.56).await;
    app.warehouse("W", 25.0, 121.3).await;
    app.sku("TEE").await;
    app.receive("W", "TEE", 1_000).await;
    let (mut child, process) = crate::nats::serve_process(&app, "").await;
    // Eight clients place orders one after the other until the service stops answering.
    let clients: Vec<_> = (0..8)
        .map(|client| {
            let process = process.clone();
            actix_rt::spawn(async move {
                let mut placed = Vec::new();
                for index in 0..500 {
                    let id = format!("TERM-{client}-{index}");
                    let order = json!({"id": id, "lines": [{"sku": "TEE", "qty": 1}],
                                       "fulfilment": {"mode": "ship", "latitude": 25.03, "longitude": 121.56}});
                    match process.try_post("/v1/orders", &order).await {
                        Some(StatusCode::CREATED) => placed.push(id),
                        Some(other) => panic!("{id}: {other}"),
                        None => return (placed, true),
                    }
                }
                (placed, false)
            })
        })
        .collect();
    actix_rt::time::sleep(Duration::from_millis(300)).await;
    let terminated = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(terminated.success());
    let mut placed = Vec::new();
    for task in clients {
        let (ids, cut_off) = task.await.expect("the client task ends");
        assert!(cut_off, "the service stopped answering mid-burst");
        placed.extend(ids);
    }
    assert!(!placed.is_empty());
    let status = child.wait().expect("the service exits");
    assert!(status.success(), "a clean exit after SIGTERM: {status:?}");
    for id in &placed {
        let order = app.get(&format!("/v1/orders/{id}")).await;
        assert_eq!(
            order.status,
            StatusCode::OK,
            "answered 201, so it is kept: {id}"
        );
    }
    let db = app.database().await;
    let orders: i64 = db
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .unwrap()
        .get(0);
    // An order whose answer was lost with the connection may exist beyond those answered.
    assert!(orders as usize >= placed.len());
    let allocated = app.balance("W", "TEE").await["allocated"]
        .as_i64()
        .unwrap_or(0)
        + app.balance("S", "TEE").await["allocated"]
            .as_i64()
            .unwrap_or(0);
    assert_eq!(
        allocated, orders,
        "each order holds its one unit, no more, no less"
    );
    app.assert_ledger_consistent().await;
}
