//! Two `allot serve` processes on one PostgreSQL and one Redis, clients spread across both,
//! while Redis is flushed and one process is killed (SIGKILL): the last-units race, order
//! placement, the night's plan and its resumption stay exact across instances.

use crate::helpers::{spawn_app_with_redis, unserved_app, OwnRedis, TestApp};
use crate::nats::serve_process_with;
use crate::plans::{run_done, trading_chain, transfers};
use awc::http::StatusCode;
use serde_json::json;
use std::time::Duration;

const UNITS: i64 = 20;

fn kill_9(child: &mut std::process::Child) {
    child.kill().expect("kill -9");
    child.wait().expect("it is gone");
}

/// POSTs an order to the first instance that answers; a dead one's clients go to the other
/// with the same order id, as a retrying client would. The status, and whether it moved.
async fn place(
    instances: &[TestApp],
    first: usize,
    order: &serde_json::Value,
) -> (StatusCode, bool) {
    let mut moved = false;
    for attempt in 0..instances.len() * 3 {
        let instance = &instances[(first + attempt) % instances.len()];
        match instance.try_post("/v1/orders", order).await {
            None => moved = true,
            Some(StatusCode::SERVICE_UNAVAILABLE) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Some(status) => return (status, moved),
        }
    }
    panic!("no instance answered for {order}");
}

#[actix_web::test]
async fn two_processes_race_flushes_and_a_kill_and_the_ledger_stays_exact() {
    let redis = OwnRedis::start();
    let app = spawn_app_with_redis(&redis.url()).await;
    app.store("S1", 25.03, 121.56).await;
    app.sku("TEE").await;
    app.receive("S1", "TEE", UNITS).await;
    let (mut first, a) = serve_process_with(&app, &[]).await;
    let (mut second, b) = serve_process_with(&app, &[]).await;
    let instances = [a.clone(), b.clone()];

    // 200 carts race for the last 20 units, half through each instance.
    let body = json!({"lines": [{"sku": "TEE", "location": "S1", "qty": 1}], "ttl_s": 600});
    let races = (0..200).map(|n| instances[n % 2].post("/v1/holds", &body));
    let answers = futures_util::future::join_all(races).await;
    let holds: Vec<String> = answers
        .iter()
        .filter(|answer| answer.status == StatusCode::CREATED)
        .filter_map(|answer| answer.body["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(holds.len(), UNITS as usize, "exactly the units there are");
    assert!(answers
        .iter()
        .all(|answer| [StatusCode::CREATED, StatusCode::CONFLICT].contains(&answer.status)));

    // Each hold becomes an order, and as many orders without a hold compete for the same
    // units, across both instances, while Redis is flushed and the second instance dies.
    let flusher = actix_rt::spawn(async move {
        for _ in 0..15 {
            redis.flushall();
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        redis
    });
    let answered = std::sync::atomic::AtomicUsize::new(0);
    let clients = (0..4).map(|client| {
        let (instances, holds, answered) = (&instances, &holds, &answered);
        async move {
            let mut answers = Vec::new();
            for n in (client..2 * holds.len()).step_by(4) {
                let hold = holds.get(n / 2).filter(|_| n % 2 == 0);
                let order = json!({"id": format!("RACE-{n}"), "hold_id": hold,
                    "lines": [{"sku": "TEE", "qty": 1}],
                    "fulfilment": {"mode": "ship", "latitude": 25.03, "longitude": 121.56}});
                answers.push((n, place(instances, n % 2, &order).await));
                answered.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            }
            answers
        }
    });
    let placing = futures_util::future::join_all(clients);
    let killing = async {
        while answered.load(std::sync::atomic::Ordering::Acquire) < 8 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        kill_9(&mut second);
    };
    let (answers, ()) = tokio::join!(placing, killing);
    let answers: Vec<(usize, (StatusCode, bool))> = answers.into_iter().flatten().collect();
    let _redis = flusher.await.expect("the flusher ends");
    assert!(
        answers.iter().any(|(_, (_, moved))| *moved),
        "clients of the killed instance went on with the other"
    );
    let answers: Vec<(usize, StatusCode)> = answers
        .into_iter()
        .map(|(n, (status, _))| (n, status))
        .collect();

    let placed: Vec<usize> = answers
        .iter()
        .filter(|(_, status)| *status == StatusCode::CREATED || *status == StatusCode::OK)
        .map(|(n, _)| *n)
        .collect();
    for (n, status) in &answers {
        assert!(
            [StatusCode::CREATED, StatusCode::OK, StatusCode::CONFLICT].contains(status),
            "RACE-{n}: {status}"
        );
    }
    assert!(
        placed.len() <= UNITS as usize,
        "never more orders than units"
    );
    let balance = app.balance("S1", "TEE").await;
    assert_eq!(
        balance["allocated"],
        placed.len(),
        "each order once, none lost"
    );
    for n in &placed {
        let order = a.get(&format!("/v1/orders/RACE-{n}")).await;
        assert_eq!(
            order.status,
            StatusCode::OK,
            "RACE-{n} was answered, so it is kept"
        );
    }
    app.assert_ledger_consistent().await;
    kill_9(&mut first);
}

#[actix_web::test]
async fn the_nights_plan_runs_once_and_resumes_on_the_other_process_after_a_kill() {
    // Only processes serve this database, so the run is the one this test kills.
    let app = unserved_app().await;
    let (mut seeder, seeding) = serve_process_with(&app, &[]).await;
    let skus = trading_chain(&seeding, 6).await;
    kill_9(&mut seeder);
    let db = app.database().await;
    // The commit will wait on B's balances, which this transaction locks.
    let mut blocker = app.database().await;
    let lock = blocker.transaction().await.expect("a transaction");
    lock.execute(
        "SELECT 1 FROM balances b JOIN locations l ON l.id = b.location_id
         WHERE l.code = 'B' FOR UPDATE OF b",
        &[],
    )
    .await
    .expect("B's balances locked");
    let due = [("ALLOT_REBALANCE_AT", "00:00")];
    let (mut first, _) = serve_process_with(&app, &due).await;
    let run = wait_for_run(&db, "running").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    kill_9(&mut first);
    lock.rollback().await.expect("unlocked");
    let left: String = db
        .query_one("SELECT status FROM plan_runs WHERE id = $1", &[&run])
        .await
        .expect("the run")
        .get(0);
    assert_eq!(left, "running", "killed mid-run, as a crash leaves it");

    // The other process finds the run its peer left, and runs it to the end, once.
    let (mut second, other) = serve_process_with(&app, &due).await;
    let done = run_done(&other, run).await;
    assert_eq!(done["status"], "finished", "{done}");
    let runs: i64 = db
        .query_one("SELECT count(*) FROM plan_runs", &[])
        .await
        .expect("runs")
        .get(0);
    assert_eq!(runs, 1, "one run for the night");
    let plans: Vec<String> = db
        .query("SELECT status FROM plans", &[])
        .await
        .expect("plans")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(plans, ["committed"], "one plan, committed");
    let made = transfers(&other, "rebalance").await;
    assert_eq!(made.len(), skus.len(), "one transfer per SKU, none twice");
    other.assert_ledger_consistent().await;
    kill_9(&mut second);
}

/// The id of the only planning run once it has `status`.
async fn wait_for_run(db: &tokio_postgres::Client, status: &str) -> i64 {
    for _ in 0..150 {
        let rows = db
            .query("SELECT id FROM plan_runs WHERE status = $1", &[&status])
            .await
            .expect("runs");
        if let Some(row) = rows.first() {
            return row.get(0);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no run became {status} in 30 s");
}

/// The feed's (before, after) held units of TEE at S1, from the hold events so far.
async fn held_changes(app: &TestApp) -> Vec<(i64, i64)> {
    let page = app.get("/v1/events?after=0&limit=1000").await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    let events = page.body["events"].as_array().cloned().unwrap_or_default();
    events
        .iter()
        .filter(|e| e["cause"]["holds"] == true && e["location"] == "S1" && e["sku"] == "TEE")
        .map(|e| {
            let held = |side: &str| e[side]["held"].as_i64().unwrap_or(-1);
            (held("before"), held("after"))
        })
        .collect()
}

/// A hold's expiry is noted only in the memory of the instance that placed it. That instance
/// dies (SIGKILL) after the feed said "2 held" and before the hold expires: the other
/// instance's sweep finds the place and the feed says "0 held", with no request.
#[actix_web::test]
async fn a_holds_expiry_reaches_the_feed_after_the_instance_that_placed_it_died() {
    let app = crate::helpers::spawn_app().await;
    app.store("S1", 25.03, 121.56).await;
    app.sku("TEE").await;
    app.receive("S1", "TEE", 5).await;
    let (mut doomed, placer) = serve_process_with(&app, &[]).await;
    let hold = json!({"lines": [{"sku": "TEE", "location": "S1", "qty": 2}], "ttl_s": 5});
    let placed = placer.post("/v1/holds", &hold).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.body);
    let waited = |want: (i64, i64), seconds: u64| {
        let app = &app;
        async move {
            let started = std::time::Instant::now();
            while started.elapsed() < Duration::from_secs(seconds) {
                if held_changes(app).await.contains(&want) {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            false
        }
    };
    assert!(waited((0, 2), 10).await, "the placement reached the feed");
    kill_9(&mut doomed);
    let bound_s = 5 + allot::app::hold_events::SWEEP_INTERVAL.as_secs() + 3;
    assert!(
        waited((2, 0), bound_s).await,
        "the expiry reached the feed: {:?}",
        held_changes(&app).await
    );
    assert_eq!(
        held_changes(&app).await,
        [(0, 2), (2, 0)],
        "each change once"
    );
}
