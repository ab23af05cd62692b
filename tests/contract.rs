//! The document is the contract: schemathesis fuzzes `/openapi.json` against the running
//! service with every check it has (server errors, undocumented statuses, response schemas and
//! content types, schema-valid requests refused and invalid ones accepted, links, auth…), and
//! the test wants no failure. tests/contract/ holds its pinned version, its configuration (the
//! rules a schema cannot state) and its hooks.

// Shared with tests/api; this test needs only starting the app and seeding it.
#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use std::path::Path;
use std::process::{Command, Output};

/// Test cases per operation and phase, and the seed that makes the run repeatable: about a
/// minute on two cores.
const EXAMPLES: &str = "20";
const SEED: &str = "1";

/// A small chain the document's examples name (`TPE-001`, `TSHIRT-BLK-M`…), so generated
/// requests reach routing, holds and orders and not only validation.
async fn seed(app: &helpers::TestApp) {
    app.warehouse("WH-TPE", 25.0, 121.3).await;
    for (code, latitude, longitude) in [
        ("TPE-001", 25.033, 121.565),
        ("TPE-002", 25.041, 121.543),
        ("TPE-003", 25.062, 121.52),
    ] {
        app.store(code, latitude, longitude).await;
    }
    for sku in ["TSHIRT-BLK-M", "TSHIRT-WHT-L", "CAP-RED"] {
        app.sku(sku).await;
        app.receive("WH-TPE", sku, 500).await;
        app.receive("TPE-001", sku, 8).await;
        app.receive("TPE-002", sku, 3).await;
    }
}

fn schemathesis(address: &str, key: &str) -> Output {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/contract");
    // `allot_live_<id>_<secret>`: the hooks keep the run from revoking its own key.
    let key_id = key.split('_').nth(2).unwrap_or_default();
    let run = Command::new("st")
        .arg("--config-file")
        .arg(here.join("schemathesis.toml"))
        .args(["run", &format!("{address}/openapi.json")])
        .args(["--checks", "all"])
        .args(["--header", &format!("Authorization: Bearer {key}")])
        .args(["--max-examples", EXAMPLES, "--seed", SEED])
        .args(["--generation-database", "none", "--no-color"])
        .env("SCHEMATHESIS_HOOKS", here.join("hooks.py"))
        .env("ALLOT_CONTRACT_KEY_ID", key_id)
        // Hypothesis' caches, out of the checkout.
        .env(
            "HYPOTHESIS_STORAGE_DIRECTORY",
            std::env::temp_dir().join("allot-contract-hypothesis"),
        )
        .output();
    match run {
        Ok(output) => output,
        Err(error) => panic!(
            "cannot run schemathesis (`st`): {error}; install it with \
             `pip install -r tests/contract/requirements.txt` (`make deps` does)"
        ),
    }
}

#[actix_web::test]
async fn the_service_keeps_the_contract_its_document_states() {
    let app = helpers::spawn_app().await;
    seed(&app).await;
    let (address, key) = (app.address.clone(), app.key.clone().unwrap_or_default());
    // The run takes a minute; the service answers it from its own workers meanwhile.
    let output = tokio::task::spawn_blocking(move || schemathesis(&address, &key))
        .await
        .expect("the run finishes");
    let report = String::from_utf8_lossy(&output.stdout);
    // Shown with `--nocapture`: what was covered, for a passing run too.
    println!("{report}");
    assert!(
        output.status.success(),
        "schemathesis found failures ({}):\n{report}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    app.assert_ledger_consistent().await;
}
