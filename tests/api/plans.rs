//! Planning runs end to end: dry run, commit, one plan per night, resumption after a kill.

use crate::helpers::{spawn_app, TestApp};
use awc::http::StatusCode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use tokio_postgres::NoTls;

fn days_ago(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339()
}

/// Two stores 3 km apart. For each SKU, A sold its 28 units yesterday and has none; B holds
/// 100 that did not sell. A's demand is 28 × 0.5^(1/7) / Σ_{d<28} 0.5^(d/7) ≈ 2.55 a day, so
/// the rebalance should move ⌈14 × 2.55⌉ = 36 from B to A.
pub(crate) async fn trading_chain(app: &TestApp, skus: usize) -> Vec<String> {
    app.store("A", 25.033, 121.565).await;
    app.store("B", 25.050, 121.540).await;
    let codes: Vec<String> = (0..skus).map(|i| format!("SKU-{i:03}")).collect();
    let mut lines = Vec::new();
    for code in &codes {
        app.sku(code).await;
        lines.push(
            json!({"kind": "receipt", "location": "A", "sku": code, "qty": 28,
                          "occurred_at": days_ago(2)}),
        );
        lines.push(
            json!({"kind": "sale", "location": "A", "sku": code, "qty": 28,
                          "occurred_at": days_ago(1)}),
        );
        lines.push(json!({"kind": "receipt", "location": "B", "sku": code, "qty": 100}));
    }
    for batch in lines.chunks(900) {
        app.movements(Value::Array(batch.to_vec())).await;
    }
    codes
}

pub(crate) async fn transfers(app: &TestApp, reason: &str) -> Vec<Value> {
    let response = app
        .get(&format!("/v1/transfers?reason={reason}&limit=1000"))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    response.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[actix_rt::test]
async fn a_dry_run_proposes_and_a_commit_moves_stock_where_it_sells() {
    let app = spawn_app().await;
    trading_chain(&app, 2).await;
    app.sku("IDLE").await;

    let dry = app.post("/v1/plans/rebalance", &json!({})).await;
    assert_eq!(dry.status, StatusCode::CREATED, "{:?}", dry.body);
    let plan = &dry.body;
    assert_eq!(
        (plan["status"].as_str(), plan["outcome"].as_str()),
        (Some("proposed"), Some("planned"))
    );
    assert_eq!(plan["totals"]["transfers"], 2);
    assert_eq!(plan["totals"]["units"], 72);
    assert_eq!(plan["totals"]["skus_considered"], 3);
    assert_eq!(
        plan["skipped"],
        json!([{"reason": "not_stocked", "skus": 1}])
    );
    let line = &plan["transfers"][0];
    assert_eq!(
        (
            line["from"].as_str(),
            line["to"].as_str(),
            line["qty"].as_i64()
        ),
        (Some("B"), Some("A"), Some(36))
    );
    let (gain, cost) = (
        line["gain"].as_f64().unwrap_or(0.0),
        line["cost"].as_f64().unwrap_or(0.0),
    );
    assert_eq!(gain, 36.0 * 150.0, "the default margin per unit");
    assert!(
        cost > 70.0 && cost < gain,
        "fixed plus per-unit costs: {cost}"
    );
    assert_eq!(line["cover_days_before"], 0.0);
    assert!(line["transfer_id"].is_null());
    assert!(
        transfers(&app, "rebalance").await.is_empty(),
        "a dry run creates no transfer"
    );

    let id = plan["id"].as_i64().unwrap_or_default();
    let listed = app.get("/v1/plans?kind=rebalance").await;
    assert_eq!(listed.body["plans"][0]["id"], id);
    let filtered = app
        .get(&format!("/v1/plans/{id}?sku=SKU-001&store=A"))
        .await;
    assert_eq!(filtered.body["transfers"].as_array().map(Vec::len), Some(1));
    let chart = app
        .get(&format!("/v1/plans/{id}/chart.svg?sku=SKU-001"))
        .await;
    assert_eq!(chart.status, StatusCode::OK);
    assert_eq!(
        chart
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/svg+xml")
    );
    assert!(chart
        .body
        .as_str()
        .is_some_and(|svg| svg.contains("<svg") && svg.contains("SKU-001")));
    let csv = app.get(&format!("/v1/plans/{id}/report.csv")).await;
    let csv = csv.body.as_str().unwrap_or_default().to_owned();
    assert!(csv.starts_with("sku,from,to,qty,"), "{csv}");
    assert_eq!(csv.lines().count(), 3);

    // Looked up before the commit, so the service holds a copy that the commit must outdate.
    assert_eq!(
        app.get("/v1/stock/SKU-000?store=A").await.status,
        StatusCode::OK
    );
    let committed = app
        .post(&format!("/v1/plans/{id}/commit"), &json!({}))
        .await;
    assert_eq!(committed.status, StatusCode::OK, "{:?}", committed.body);
    assert_eq!(committed.body["status"], "committed");
    assert!(
        committed.body["committed_by"]
            .as_str()
            .is_some_and(|actor| actor.starts_with("key:")),
        "the commit records who asked for it: {:?}",
        committed.body["committed_by"]
    );
    assert_eq!(committed.body["totals"]["committed"], 2);
    let made = transfers(&app, "rebalance").await;
    assert_eq!(made.len(), 2);
    assert!(made
        .iter()
        .all(|t| t["from"] == "B" && t["to"] == "A" && t["qty"] == 36 && t["status"] == "planned"));
    let stock = app.get("/v1/stock/SKU-000?store=A").await;
    let b = stock.body["locations"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["location"] == "B")
        .cloned();
    assert_eq!(
        b.map(|b| b["allocated"].clone()),
        Some(json!(36)),
        "{:?}",
        stock.body
    );

    // Commit is idempotent; a second run for the night does nothing and says why.
    let again = app
        .post(&format!("/v1/plans/{id}/commit"), &json!({}))
        .await;
    assert_eq!(
        (again.status, again.body["status"].as_str()),
        (StatusCode::OK, Some("committed"))
    );
    let rerun = app
        .post("/v1/plans/rebalance", &json!({"commit": true}))
        .await;
    assert_eq!(rerun.status, StatusCode::CONFLICT, "{:?}", rerun.body);
    assert_eq!(rerun.body["code"], "already_committed");
    assert!(rerun.body["message"]
        .as_str()
        .is_some_and(|m| m.contains(&format!("plan {id}"))));
    assert_eq!(transfers(&app, "rebalance").await.len(), 2);
}

#[actix_rt::test]
async fn replenishment_sends_warehouse_stock_to_short_stores_within_capacity() {
    let app = spawn_app().await;
    trading_chain(&app, 3).await;
    app.warehouse("WH", 25.0, 121.3).await;
    for sku in ["SKU-000", "SKU-001", "SKU-002"] {
        app.receive("WH", sku, 500).await;
    }
    let response = app
        .post(
            "/v1/plans/replenishment",
            &json!({"commit": true, "store_receive_units": 100}),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
    let plan = &response.body;
    assert_eq!(plan["status"], "committed");
    // A needs 18 (7 days of 2.55 a day, its minimum) to 54 (21 days) of each of three SKUs,
    // but it takes 100 units today.
    assert_eq!(plan["totals"]["units"], 100, "{plan}");
    let made = transfers(&app, "replenishment").await;
    assert_eq!(
        made.iter()
            .map(|t| t["qty"].as_i64().unwrap_or(0))
            .sum::<i64>(),
        100
    );
    assert!(made.iter().all(|t| t["from"] == "WH" && t["to"] == "A"));
    // Every SKU first gets its minimum.
    assert_eq!(made.len(), 3);
    assert!(
        made.iter().all(|t| t["qty"].as_i64().unwrap_or(0) >= 18),
        "{made:?}"
    );
}

#[actix_rt::test]
async fn bad_plan_requests_name_the_field_and_change_nothing() {
    let app = spawn_app().await;
    trading_chain(&app, 1).await;
    let cases: [(&str, Value, &str); 6] = [
        (
            "/v1/plans/rebalance",
            json!({"cover_days": -1}),
            "cover_days",
        ),
        (
            "/v1/plans/rebalance",
            json!({"cover_days": 30, "keep_days": 10}),
            "keep_days",
        ),
        ("/v1/plans/rebalance", json!({"date": "tomorrow"}), "date"),
        ("/v1/plans/rebalance", json!({"date": "2001-01-01"}), "date"),
        (
            "/v1/plans/replenishment",
            json!({"trucks_per_store": 0}),
            "trucks_per_store",
        ),
        (
            "/v1/plans/replenishment",
            json!({"warehouse": "NOWHERE"}),
            "warehouse",
        ),
    ];
    for (path, body, field) in cases {
        let response = app.post(path, &body).await;
        assert!(
            response.status.is_client_error(),
            "{body}: {:?}",
            response.body
        );
        assert_eq!(response.body["field"], field, "{body}: {:?}", response.body);
    }
    let unknown = app
        .post("/v1/plans/rebalance", &json!({"coverdays": 3}))
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body["message"]
        .as_str()
        .is_some_and(|m| m.contains("coverdays")));
    assert_eq!(app.get("/v1/plans?kind=weekly").await.body["field"], "kind");
    assert_eq!(app.get("/v1/plans/999").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.post("/v1/plans/999/commit", &json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get("/v1/plans").await.body["plans"], json!([]));
    assert!(transfers(&app, "rebalance").await.is_empty());
}

async fn database(app: &TestApp) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&app.database_url, NoTls)
        .await
        .expect("the test database");
    tokio::spawn(connection);
    client
}

#[actix_rt::test]
async fn a_second_run_while_one_is_in_progress_does_nothing_and_says_why() {
    let app = spawn_app().await;
    trading_chain(&app, 1).await;
    // Another run holds tonight's lock.
    let other = database(&app).await;
    let key = format!("allot:plan:rebalance:{}", chrono::Utc::now().date_naive());
    other
        .execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", &[&key])
        .await
        .expect("lock");
    let busy = app
        .post("/v1/plans/rebalance", &json!({"commit": true}))
        .await;
    assert_eq!(busy.status, StatusCode::CONFLICT, "{:?}", busy.body);
    assert!(busy.body["message"]
        .as_str()
        .is_some_and(|m| m.contains("in progress")));
    assert_eq!(app.get("/v1/plans").await.body["plans"], json!([]));
    other
        .execute(
            "SELECT pg_advisory_unlock(hashtextextended($1, 0))",
            &[&key],
        )
        .await
        .expect("unlock");
    let run = app
        .post("/v1/plans/rebalance", &json!({"commit": true}))
        .await;
    assert_eq!(run.status, StatusCode::CREATED, "{:?}", run.body);
}

/// Starts `allot rebalance --commit` on the test database and kills it (SIGKILL) as soon as
/// it has logged `after` lines containing `marker`; `None` lets it finish.
fn run_cli(app: &TestApp, marker: Option<(&str, usize)>) -> std::process::ExitStatus {
    let mut child: Child = Command::new(env!("CARGO_BIN_EXE_allot"))
        .args([
            "rebalance",
            "--commit",
            "--chunk-skus",
            "1",
            "--commit-batch",
            "1",
            "--report",
        ])
        .arg(std::env::temp_dir().join(format!("allot-reports-{}", std::process::id())))
        .env("DATABASE_URL", &app.database_url)
        .env("ALLOT_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the allot binary runs");
    if let Some((marker, after)) = marker {
        let stderr = child.stderr.take().expect("piped stderr");
        let mut seen = 0;
        for line in BufReader::new(stderr).lines() {
            if line.expect("a log line").contains(marker) {
                seen += 1;
                if seen == after {
                    child.kill().expect("kill the run");
                    break;
                }
            }
        }
    }
    child.wait().expect("the run ends")
}

#[actix_rt::test]
async fn a_run_killed_while_planning_or_committing_resumes_to_one_plan_and_one_set_of_transfers() {
    let app = spawn_app().await;
    let skus = trading_chain(&app, 30).await;
    let db = database(&app).await;
    let plan_state = || async {
        let rows = db
            .query(
                "SELECT id, status, skus_considered FROM plans ORDER BY id",
                &[],
            )
            .await
            .expect("plans");
        rows.iter()
            .map(|r| {
                (
                    r.get::<_, i64>(0),
                    r.get::<_, String>(1),
                    r.get::<_, i64>(2),
                )
            })
            .collect::<Vec<_>>()
    };

    let status = run_cli(&app, Some(("chunk planned", 3)));
    assert!(!status.success(), "killed while planning");
    let state = plan_state().await;
    assert_eq!(state.len(), 1);
    assert_eq!(state[0].1, "running", "stopped mid-plan: {state:?}");

    let status = run_cli(&app, Some(("commit batch saved", 3)));
    assert!(!status.success(), "killed while committing");
    let state = plan_state().await;
    assert_eq!(
        state.len(),
        1,
        "the second run resumed the first plan: {state:?}"
    );
    assert_eq!(state[0].1, "committing", "stopped mid-commit: {state:?}");

    assert!(run_cli(&app, None).success());
    assert!(
        run_cli(&app, None).success(),
        "a run after the commit does nothing"
    );
    let state = plan_state().await;
    assert_eq!(state.len(), 1);
    assert_eq!(state[0].1, "committed");
    assert_eq!(state[0].2, skus.len() as i64, "every SKU counted once");

    let lines: i64 = db
        .query_one(
            "SELECT count(*) FROM plan_lines WHERE transfer_id IS NOT NULL",
            &[],
        )
        .await
        .expect("lines")
        .get(0);
    assert_eq!(lines, skus.len() as i64, "one line per SKU, each committed");
    let made = transfers(&app, "rebalance").await;
    assert_eq!(made.len(), skus.len(), "one transfer per line, none twice");
    let mut seen: Vec<&str> = made.iter().filter_map(|t| t["sku"].as_str()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), skus.len());
    // The ledger agrees: B has each SKU's 36 units allocated once.
    let allocated: Vec<i64> = db
        .query(
            "SELECT b.allocated FROM balances b JOIN locations l ON l.id = b.location_id
             WHERE l.code = 'B'",
            &[],
        )
        .await
        .expect("balances")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(allocated.iter().all(|&a| a == 36), "{allocated:?}");
}

#[actix_rt::test]
async fn a_run_records_what_each_store_sells_and_prices_lanes_with_its_cost_model() {
    let app = spawn_app().await;
    trading_chain(&app, 1).await;
    let mut model = app.get("/v1/settings/costs").await.body;
    model["transfer"]["from_store"]["hours"] = json!(5.0);
    model["transfer"]["from_store"]["hours_per_km"] = json!(0.0);
    let stored = app.put("/v1/settings/costs", &model).await;
    assert_eq!(stored.status, StatusCode::OK, "{:?}", stored.body);
    let dry = app.post("/v1/plans/rebalance", &json!({})).await;
    assert_eq!(dry.status, StatusCode::CREATED, "{:?}", dry.body);
    let db = database(&app).await;
    let sold = db
        .query(
            "SELECT l.code, v.per_day FROM sales_velocity v JOIN locations l ON l.id = v.location_id",
            &[],
        )
        .await
        .unwrap();
    let sold: Vec<(String, f64)> = sold.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(sold.len(), 1, "only A sells: {sold:?}");
    assert!(sold[0].0 == "A" && sold[0].1 > 0.0, "{sold:?}");
    let line = db
        .query_one(
            "SELECT p.cost_version, pl.lead_time_hours FROM plans p
             JOIN plan_lines pl ON pl.plan_id = p.id",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (line.get::<_, Option<i64>>(0), line.get::<_, f64>(1)),
        (Some(2), 5.0),
        "the plan was made with version 2's lanes"
    );
}

#[actix_rt::test]
async fn a_plans_lines_come_in_pages_best_first_with_a_cursor() {
    let app = spawn_app().await;
    trading_chain(&app, 5).await;
    let dry = app.post("/v1/plans/rebalance", &json!({})).await;
    assert_eq!(dry.status, StatusCode::CREATED, "{:?}", dry.body);
    let id = dry.body["id"].as_i64().unwrap();
    let all = app.get(&format!("/v1/plans/{id}?limit=1000")).await.body;
    let every: Vec<Value> = all["transfers"].as_array().unwrap().clone();
    assert_eq!(every.len(), 5);
    assert!(all.get("next").is_none(), "one page holds them all");
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..10 {
        let query = after
            .as_ref()
            .map_or(String::new(), |a| format!("&after={a}"));
        let page = app.get(&format!("/v1/plans/{id}?limit=2{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        paged.extend(page.body["transfers"].as_array().unwrap().iter().cloned());
        match page.body["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        paged, every,
        "pages of two give the same lines in the same order"
    );
    let nets: Vec<f64> = every.iter().map(|l| l["net"].as_f64().unwrap()).collect();
    assert!(
        nets.windows(2).all(|w| w[0] >= w[1]),
        "best first: {nets:?}"
    );
    let bad = app.get(&format!("/v1/plans/{id}?after=nonsense")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["field"], "after");
    let too_many = app.get(&format!("/v1/plans/{id}?limit=1001")).await;
    assert_eq!(too_many.body["field"], "limit");
}

/// Waits for planning run `id` to finish or fail (the planners poll every 2 s).
pub(crate) async fn run_done(app: &TestApp, id: i64) -> Value {
    for _ in 0..150 {
        let run = app.get(&format!("/v1/plans/runs/{id}")).await;
        assert_eq!(run.status, StatusCode::OK, "{:?}", run.body);
        if matches!(run.body["status"].as_str(), Some("finished" | "failed")) {
            return run.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("run {id} did not finish in 30 s");
}

/// Holds `kind`'s turn as another instance's planner would, until dropped.
async fn hold_turn(app: &TestApp, kind: &str) -> tokio_postgres::Client {
    let other = database(app).await;
    let taken: bool = other
        .query_one(
            "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
            &[&format!("allot:plan-turn:{kind}")],
        )
        .await
        .expect("lock")
        .get(0);
    assert!(taken, "the turn is free before the test takes it");
    other
}

#[actix_rt::test]
async fn runs_wait_in_a_queue_one_per_kind_and_plans_lists_them_as_they_go() {
    let app = spawn_app().await;
    trading_chain(&app, 2).await;
    let turn = hold_turn(&app, "rebalance").await;

    let first = app
        .post("/v1/plans/rebalance?wait_s=0", &json!({"commit": true}))
        .await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{:?}", first.body);
    assert_eq!(first.body["run"]["status"], "queued");
    assert_eq!(first.body["run"]["commit"], true);
    let second = app.post("/v1/plans/rebalance?wait_s=1", &json!({})).await;
    assert_eq!(second.status, StatusCode::ACCEPTED, "{:?}", second.body);
    // Another kind has its own turn: it runs while rebalances wait.
    app.warehouse("W", 25.0, 121.3).await;
    let other_kind = app.post("/v1/plans/replenishment", &json!({})).await;
    assert_eq!(
        other_kind.status,
        StatusCode::CREATED,
        "{:?}",
        other_kind.body
    );

    let listed = app.get("/v1/plans?kind=rebalance").await.body;
    let statuses: Vec<&str> = listed["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .filter_map(|run| run["status"].as_str())
        .collect();
    assert_eq!(statuses, ["queued", "queued"], "{listed}");
    assert_eq!(
        listed["plans"],
        json!([]),
        "nothing ran while the turn was taken"
    );

    drop(turn);
    let first = run_done(&app, first.body["run"]["id"].as_i64().expect("id")).await;
    assert_eq!(first["status"], "finished", "{first}");
    assert_eq!(first["outcome"], "planned");
    let plan = app.get(&format!("/v1/plans/{}", first["plan"])).await;
    assert_eq!(plan.body["status"], "committed", "{:?}", plan.body);
    let second = run_done(&app, second.body["run"]["id"].as_i64().expect("id")).await;
    assert_eq!(second["outcome"], "already_committed", "{second}");
    assert_eq!(second["plan"], first["plan"]);
    let db = database(&app).await;
    let overlapping: i64 = db
        .query_one(
            "SELECT count(*) FROM plan_runs a JOIN plan_runs b
               ON a.kind = b.kind AND a.id < b.id
              AND b.started_at < a.finished_at",
            &[],
        )
        .await
        .expect("overlaps")
        .get(0);
    assert_eq!(overlapping, 0, "runs of a kind ran one after another");
}

#[actix_rt::test]
async fn a_full_queue_refuses_with_retry_after_and_queues_nothing() {
    let app = spawn_app().await;
    trading_chain(&app, 1).await;
    let _turn = hold_turn(&app, "rebalance").await;
    for _ in 0..allot::app::planner::QUEUED_RUNS_MAX {
        let queued = app.post("/v1/plans/rebalance?wait_s=0", &json!({})).await;
        assert_eq!(queued.status, StatusCode::ACCEPTED, "{:?}", queued.body);
    }
    let refused = app.post("/v1/plans/rebalance?wait_s=0", &json!({})).await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        refused.body
    );
    assert_eq!(
        refused.headers.get("retry-after").map(|v| v.as_bytes()),
        Some(&b"60"[..])
    );
    let runs = app.get("/v1/plans?limit=100").await.body["runs"].clone();
    assert_eq!(runs.as_array().map(Vec::len), Some(8), "{runs}");
    let bad = app.post("/v1/plans/rebalance?wait_s=26", &json!({})).await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        bad.body
    );
    assert_eq!(bad.body["field"], "wait_s");
}

#[actix_rt::test]
async fn a_run_whose_instance_died_runs_again_and_the_scheduler_queues_each_night_once() {
    let app = spawn_app().await;
    trading_chain(&app, 1).await;
    let db = database(&app).await;
    let today = chrono::Utc::now().date_naive();
    // As a killed instance leaves it: marked running, with no planner holding the turn.
    let orphan: i64 = db
        .query_one(
            "INSERT INTO plan_runs (kind, run_date, status, params, requested_by, started_at)
             VALUES ('rebalance', $1, 'running', $2, 'user:planner', now()) RETURNING id",
            &[&today, &json!({"date": today.to_string(), "commit": false})],
        )
        .await
        .expect("orphan")
        .get(0);
    let orphan = run_done(&app, orphan).await;
    assert_eq!(orphan["status"], "finished", "{orphan}");

    // Two instances whose schedule says the night's rebalance is due: one run between them.
    let tune = |settings: &mut allot::config::Settings| {
        settings.rebalance_at = Some(chrono::NaiveTime::MIN);
    };
    let _first = app.another_instance_tuned(tune).await;
    let _second = app.another_instance_tuned(tune).await;
    let mut scheduled = Vec::new();
    for _ in 0..100 {
        scheduled = db
            .query(
                "SELECT id, status FROM plan_runs WHERE requested_by = 'system:scheduler'",
                &[],
            )
            .await
            .expect("runs");
        if scheduled
            .iter()
            .any(|row| row.get::<_, &str>(1) == "finished")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(scheduled.len(), 1, "queued once for the night");
    let run = run_done(&app, scheduled[0].get(0)).await;
    assert_eq!(run["outcome"], "planned", "{run}");
    let plan = app.get(&format!("/v1/plans/{}", run["plan"])).await;
    assert_eq!(plan.body["status"], "committed", "a scheduled run commits");
}

#[actix_rt::test]
async fn a_plans_csv_is_sent_in_parts_and_holds_every_line_once() {
    let app = spawn_app().await;
    trading_chain(&app, 1).await;
    let dry = app.post("/v1/plans/rebalance", &json!({})).await;
    assert_eq!(dry.status, StatusCode::CREATED, "{:?}", dry.body);
    let id = dry.body["id"].as_i64().expect("id");
    // More lines than one part carries: SKUs and lines straight into the tables.
    let extra = allot::app::queries::CSV_PAGE_LINES * 2 + 7;
    let db = database(&app).await;
    db.execute(
        "INSERT INTO skus (code, name) SELECT 'BULK-' || n, 'bulk' FROM generate_series(1, $1::int8) n",
        &[&extra],
    )
    .await
    .expect("skus");
    db.execute(
        "INSERT INTO plan_lines (plan_id, sku_id, from_location_id, to_location_id, qty,
                                 distance_km, lead_time_hours, gain, cost, from_position,
                                 to_position, to_demand_per_day)
         SELECT $1, s.id, b.id, a.id, 1, 3, 1, 10, 5, 10, 0, 1
         FROM skus s, locations a, locations b
         WHERE s.code LIKE 'BULK-%' AND a.code = 'A' AND b.code = 'B'",
        &[&id],
    )
    .await
    .expect("lines");
    let csv = app.get(&format!("/v1/plans/{id}/report.csv")).await;
    assert_eq!(csv.status, StatusCode::OK);
    let csv = csv.body.as_str().unwrap_or_default().to_owned();
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("sku,from,to,qty,"), "{}", rows[0]);
    assert_eq!(
        rows.len() as i64,
        1 + 1 + extra,
        "a header, the real line, the bulk"
    );
    let headers = rows.iter().filter(|row| row.starts_with("sku,")).count();
    assert_eq!(headers, 1, "one header however many parts");
    let mut skus: Vec<&str> = rows[1..]
        .iter()
        .filter_map(|row| row.split(',').next())
        .collect();
    skus.sort_unstable();
    skus.dedup();
    assert_eq!(skus.len() as i64, 1 + extra, "every line once");
}
