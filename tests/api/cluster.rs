//! Holds on a Redis Cluster of the test's own: slots moved under a running load, and a master
//! lost mid-run. PostgreSQL decides: nothing oversold, no order lost, and the service recovers
//! by itself. (The hold, order and lookup tests also run on a Cluster: see `make test`.)

use crate::helpers::{spawn_app_on_cluster, OwnCluster, TestApp};
use awc::http::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

const SKUS: usize = 24;
const UNITS: i64 = 6;

fn sku(index: usize) -> String {
    format!("T{index:02}")
}

async fn chain(app: &TestApp) {
    app.store("S1", 25.03, 121.56).await;
    for index in 0..SKUS {
        app.sku(&sku(index)).await;
        app.receive("S1", &sku(index), UNITS).await;
    }
}

/// POSTs `body` to `path` until the answer is not a 503 (Redis failing over), for at most
/// 30 s; the final status and body.
async fn settled(app: &TestApp, path: &str, body: &serde_json::Value) -> (StatusCode, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = app.post(path, body).await;
        if response.status != StatusCode::SERVICE_UNAVAILABLE || Instant::now() > deadline {
            return (
                response.status,
                response.body["id"].as_str().unwrap_or("").to_owned(),
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn hold_one(app: &TestApp, index: usize) -> String {
    let body = json!({"lines": [{"sku": sku(index), "location": "S1", "qty": 1}], "ttl_s": 600});
    let (status, id) = settled(app, "/v1/holds", &body).await;
    assert_eq!(status, StatusCode::CREATED, "hold of {}: {id}", sku(index));
    id
}

#[actix_web::test]
async fn a_master_lost_mid_run_loses_no_order_and_oversells_nothing() {
    let mut cluster = OwnCluster::start(3, 1);
    let app = spawn_app_on_cluster(&cluster.nodes()).await;
    chain(&app).await;
    let replicated: Vec<String> =
        futures_util::future::join_all((0..SKUS).map(|i| hold_one(&app, i))).await;
    let (master, replica) = cluster.master_with_replica();
    // The replica has the first holds, then stops following: frozen, its link to the master
    // cut (a stopped process would still find what the kernel buffered for it).
    cluster.wait_in_sync(master, replica);
    cluster.freeze(replica, true);
    cluster
        .ask(
            master,
            redis::cmd("CLIENT").arg("KILL").arg("TYPE").arg("replica"),
        )
        .expect("the replica's link is cut");
    let unreplicated: Vec<String> =
        futures_util::future::join_all((0..SKUS).map(|i| hold_one(&app, i))).await;
    cluster.kill(master);
    cluster.freeze(replica, false);

    // Every hold becomes an order while the replica takes over: a hold lost with the master
    // is no error, the order is routed through the ledger.
    let holds = replicated.iter().chain(&unreplicated).enumerate();
    for (n, hold) in holds {
        let order = json!({"id": format!("O-{n}"), "hold_id": hold,
            "lines": [{"sku": sku(n % SKUS), "qty": 1}],
            "fulfilment": {"mode": "ship", "latitude": 25.03, "longitude": 121.56}});
        let (status, _) = settled(&app, "/v1/orders", &order).await;
        assert_eq!(status, StatusCode::CREATED, "order O-{n}");
    }
    for index in 0..SKUS {
        let balance = app.balance("S1", &sku(index)).await;
        assert_eq!(balance["allocated"], 2, "{}: each order once", sku(index));
    }
    app.assert_ledger_consistent().await;

    cluster.wait_until_ok();
    let mut gone = 0;
    for id in &unreplicated {
        let read = app.get(&format!("/v1/holds/{id}")).await;
        gone += usize::from(read.status == StatusCode::NOT_FOUND);
    }
    assert!(gone > 0, "some holds lived only on the lost master");
    // The replicated ones survive: confirmed by their order, or still held where the order
    // came while their slot failed over (it was placed without them; they expire).
    for id in &replicated {
        let read = app.get(&format!("/v1/holds/{id}")).await;
        let status = read.body["status"].as_str().unwrap_or_default();
        assert!(
            ["confirmed", "held"].contains(&status),
            "hold {id}: {:?}",
            read.body
        );
    }
    // Recovered without a restart: holds are placed again, on every slot.
    for index in 0..SKUS {
        hold_one(&app, index).await;
    }
}

#[actix_web::test]
async fn holds_follow_their_keys_while_slots_move() {
    let cluster = OwnCluster::start(3, 0);
    let app = spawn_app_on_cluster(&cluster.nodes()).await;
    chain(&app).await;
    let masters = cluster.masters();
    let (from, to) = (cluster.node_id(masters[0]), cluster.node_id(masters[1]));
    let mut reshard = std::process::Command::new("redis-cli")
        .args(["--cluster", "reshard", &format!("127.0.0.1:{}", masters[0])])
        .args(["--cluster-from", &from, "--cluster-to", &to])
        .args(["--cluster-slots", "3000", "--cluster-yes"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-cli");
    // Each round holds a unit and releases it: a count doubled or lost shows at the end.
    let mut during = 0;
    for round in 0.. {
        let moving = reshard.try_wait().expect("redis-cli runs").is_none();
        let body = json!({"lines": [{"sku": sku(round % SKUS), "location": "S1", "qty": 1}],
            "ttl_s": 600});
        let response = app.post("/v1/holds", &body).await;
        match response.status {
            StatusCode::CREATED => {
                let id = response.body["id"].as_str().expect("an id");
                release(&app, id).await;
                during += usize::from(moving);
            }
            StatusCode::SERVICE_UNAVAILABLE => {}
            other => panic!("hold answered {other}: {:?}", response.body),
        }
        if !moving && round >= SKUS {
            break;
        }
    }
    assert!(
        reshard.wait().expect("redis-cli").success(),
        "the reshard ran"
    );
    assert!(during > 0, "holds were placed while the slots moved");
    for index in 0..SKUS {
        hold_one(&app, index).await;
        let balance = app.balance("S1", &sku(index)).await;
        assert_eq!(
            balance["held"],
            1,
            "{}: every hold counted once",
            sku(index)
        );
    }
}

/// Releases a hold, retrying while Redis answers 503.
async fn release(app: &TestApp, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let released = app
            .request("DELETE", &format!("/v1/holds/{id}"), None, &[])
            .await;
        if released.status != StatusCode::SERVICE_UNAVAILABLE || Instant::now() > deadline {
            // A retry after a release whose answer was lost finds it released.
            let again = released.body["message"]
                .as_str()
                .unwrap_or("")
                .contains("released");
            assert!(
                released.status == StatusCode::OK || again,
                "release {id}: {:?}",
                released.body
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
