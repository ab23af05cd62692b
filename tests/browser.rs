//! The clerk's and the planner's pages in a real browser: Debian's chromium, driven headless by
//! playwright-core (`tests/browser/*.mjs`), against the real service over a database of its own.
//! `make test` installs chromium and the npm packages; each script fails naming its step.

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use helpers::{spawn_app, TestApp};
use serde_json::{json, Value};
use std::path::Path;

/// Runs one page script against `app`, off the runtime's thread so the service keeps serving.
async fn drive(app: &TestApp, script: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").exists()
            && Path::new("/usr/bin/chromium").exists(),
        "the browser tests need chromium and tests/browser/node_modules: `make test` installs both"
    );
    let (script, base) = (dir.join(script), app.address.clone());
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(&script)
            .arg(&base)
            .output()
            .expect("node runs (make test installs it when missing)")
    })
    .await
    .expect("the script ran");
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn days_ago(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339()
}

/// A person the page scripts sign in as, with the password they use.
async fn person(app: &TestApp, name: &str, role: &str, locations: Value) {
    let user = json!({"name": name, "password": "browser-password", "role": role,
                      "locations": locations});
    let response = app.post("/v1/users", &user).await;
    assert!(response.status.is_success(), "{:?}", response.body);
}

async fn chain(app: &TestApp) {
    app.store("TPE-A", 25.033, 121.565).await;
    app.store("TPE-B", 25.050, 121.540).await;
    app.warehouse("WH-1", 25.0, 121.3).await;
    for (code, name) in [
        ("TSHIRT-BLK-M", "T-shirt BLK M"),
        ("HOODIE-NVY-L", "Hoodie NVY L"),
    ] {
        let response = app
            .put(&format!("/v1/skus/{code}"), &json!({"name": name}))
            .await;
        assert!(response.status.is_success(), "{:?}", response.body);
    }
}

async fn transfers(app: &TestApp, reason: &str) -> Vec<Value> {
    let response = app.get(&format!("/v1/transfers?reason={reason}")).await;
    response.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[actix_rt::test]
async fn a_clerk_finds_stock_requests_a_transfer_once_and_ships_an_order() {
    let app = spawn_app().await;
    chain(&app).await;
    app.movements(json!([
        {"kind": "receipt", "location": "TPE-A", "sku": "TSHIRT-BLK-M", "qty": 1},
        {"kind": "receipt", "location": "TPE-B", "sku": "TSHIRT-BLK-M", "qty": 5},
        {"kind": "receipt", "location": "WH-1", "sku": "TSHIRT-BLK-M", "qty": 50},
        {"kind": "receipt", "location": "WH-1", "sku": "HOODIE-NVY-L", "qty": 50},
    ]))
    .await;
    person(&app, "amy", "clerk", json!(["TPE-A"])).await;

    drive(&app, "clerk.mjs").await;

    // The double click made one transfer of 2 to the clerk's store, and the page on another
    // site made none.
    let made = transfers(&app, "clerk").await;
    let units: i64 = made.iter().map(|t| t["qty"].as_i64().unwrap_or(0)).sum();
    assert_eq!(units, 2, "{made:?}");
    assert!(made
        .iter()
        .all(|t| t["to"] == "TPE-A" && t["sku"] == "TSHIRT-BLK-M"));
    // The order is credited to the store and the clerk.
    let from = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let to = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let report = app
        .get(&format!(
            "/v1/reports/attribution?from={}&to={}",
            from.replace('+', "%2B"),
            to.replace('+', "%2B")
        ))
        .await;
    let rows = report.body["rows"].as_array().cloned().unwrap_or_default();
    assert!(
        rows.iter()
            .any(|r| r["store"] == "TPE-A" && r["clerk"] == "amy"),
        "{:?}",
        report.body
    );
}

#[actix_rt::test]
async fn a_planner_dry_runs_reads_the_chart_and_commits() {
    let app = spawn_app().await;
    chain(&app).await;
    let mut lines = Vec::new();
    for sku in ["TSHIRT-BLK-M", "HOODIE-NVY-L"] {
        lines.push(json!({"kind": "receipt", "location": "TPE-A", "sku": sku, "qty": 28, "occurred_at": days_ago(2)}));
        lines.push(json!({"kind": "sale", "location": "TPE-A", "sku": sku, "qty": 28, "occurred_at": days_ago(1)}));
        lines.push(json!({"kind": "receipt", "location": "TPE-B", "sku": sku, "qty": 100}));
    }
    app.movements(Value::Array(lines)).await;
    person(&app, "pat", "planner", json!([])).await;

    drive(&app, "plans.mjs").await;

    let made = transfers(&app, "rebalance").await;
    assert_eq!(made.len(), 2, "{made:?}");
    assert!(made
        .iter()
        .all(|t| t["from"] == "TPE-B" && t["to"] == "TPE-A"));
}
