//! `allot import`: bulk create-or-update from CSV and NDJSON, all or nothing.

use crate::helpers::spawn_app;
use allot::commands::import::{self, Kind};
use allot::config::Settings;
use awc::http::StatusCode;

fn settings(database_url: &str) -> Settings {
    crate::helpers::test_settings(database_url, "redis://127.0.0.1:6379/", "import-test", 2)
}

/// A file in the temporary directory, removed when dropped.
struct Scratch(std::path::PathBuf);

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;

    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn write(name: &str, contents: &str) -> Scratch {
    let path = std::env::temp_dir().join(format!("{}-{name}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, contents).unwrap();
    Scratch(path)
}

#[actix_web::test]
async fn locations_from_csv_and_skus_from_ndjson_are_upserted() {
    let app = spawn_app().await;
    let settings = settings(&app.database_url);
    let locations = write(
        "locations.csv",
        "code,name,kind,latitude,longitude,pickup,ship,safety_stock\n\
         S1,Store one,store,25.03,121.56,true,true,2\n\
         WH,Warehouse,warehouse,25.0,121.3,false,true,\n",
    );
    import::run(&settings, Kind::Locations, &locations)
        .await
        .unwrap();
    let skus = write(
        "skus.ndjson",
        "{\"code\":\"TEE-M\",\"name\":\"Tee M\",\"attributes\":{\"size\":\"M\"}}\n\n\
         {\"code\":\"TEE-L\",\"name\":\"Tee L\"}\n",
    );
    import::run(&settings, Kind::Skus, &skus).await.unwrap();
    let csv_skus = write(
        "skus.csv",
        "code,name,colour\n12345,Numbered,red\nTEE-M,Tee M renamed,black\n",
    );
    import::run(&settings, Kind::Skus, &csv_skus).await.unwrap();

    let store = app.get("/v1/locations/S1").await;
    assert_eq!(store.status, StatusCode::OK);
    assert_eq!(store.body["safety_stock"], 2);
    assert_eq!(app.get("/v1/locations/WH").await.body["kind"], "warehouse");
    let tee = app.get("/v1/skus/TEE-M").await;
    assert_eq!(tee.body["name"], "Tee M renamed");
    assert_eq!(tee.body["attributes"]["colour"], "black");
    assert_eq!(app.get("/v1/skus/12345").await.status, StatusCode::OK);
}

#[actix_web::test]
async fn a_bad_row_names_its_line_and_nothing_is_written() {
    let app = spawn_app().await;
    let settings = settings(&app.database_url);
    let locations = write(
        "locations.csv",
        "code,name,kind,latitude,longitude,pickup,ship,safety_stock\n\
         S1,Store one,store,25.03,121.56,true,true,2\n\
         S2,Store two,store,95.0,121.56,true,true,2\n",
    );
    let error = import::run(&settings, Kind::Locations, &locations)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("line 3") && message.contains("latitude"),
        "{message}"
    );
    assert_eq!(
        app.get("/v1/locations/S1").await.status,
        StatusCode::NOT_FOUND
    );

    let skus = write(
        "skus.ndjson",
        "{\"code\":\"A\",\"name\":\"A\"}\n{\"code\":\"bad code\",\"name\":\"B\"}\n",
    );
    let message = import::run(&settings, Kind::Skus, &skus)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("line 2") && message.contains("code"),
        "{message}"
    );
    assert_eq!(app.get("/v1/skus/A").await.status, StatusCode::NOT_FOUND);

    let wrong = write("skus.txt", "");
    assert!(import::run(&settings, Kind::Skus, &wrong).await.is_err());
}

#[actix_web::test]
async fn a_sku_renamed_by_import_shows_at_once_in_lookups() {
    let app = spawn_app().await;
    app.store("S1", 25.03, 121.56).await;
    app.sku("TEE").await;
    app.receive("S1", "TEE", 2).await;
    // Two lookups: the second answers from this process's copy of the SKU.
    for _ in 0..2 {
        assert_eq!(app.get("/v1/stock/TEE").await.body["name"], "Item TEE");
    }
    let settings = Settings {
        redis_url: app.redis_url.clone(),
        redis_prefix: app.redis_prefix.clone(),
        ..settings(&app.database_url)
    };
    let skus = write(
        "rename.ndjson",
        "{\"code\":\"TEE\",\"name\":\"Tee, renamed\"}\n",
    );
    import::run(&settings, Kind::Skus, &skus).await.unwrap();
    assert_eq!(
        app.get("/v1/stock/TEE").await.body["name"],
        "Tee, renamed",
        "the import moved the SKU's stamp, so the copy was not used"
    );
}

#[actix_web::test]
async fn a_safety_stock_changed_by_import_says_so_in_its_events() {
    let app = spawn_app().await;
    app.store("S1", 25.03, 121.56).await;
    app.sku("TEE").await;
    app.receive("S1", "TEE", 5).await;
    let locations = write(
        "safety.csv",
        "code,name,kind,latitude,longitude,pickup,ship,safety_stock\n\
         S1,Store S1,store,25.03,121.56,true,true,2\n",
    );
    import::run(&settings(&app.database_url), Kind::Locations, &locations)
        .await
        .unwrap();
    // The relay numbers events a moment after their commit.
    let mut events = Vec::new();
    for _ in 0..50 {
        let feed = app.get("/v1/events?after=0&limit=100").await;
        events = feed.body["events"].as_array().cloned().unwrap_or_default();
        if events
            .iter()
            .any(|event| event["cause"]["other"] == "import")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let imported: Vec<&serde_json::Value> = events
        .iter()
        .filter(|event| event["cause"]["other"] == "import")
        .collect();
    assert!(!imported.is_empty(), "{events:#?}");
    for event in imported {
        assert_eq!(event["after"]["available"], 3, "{event}");
        assert_eq!(event["cause"]["actor"], "system:import", "{event}");
    }
}
