//! The ledger by month: movements land in their month's partition, reads stay exact across
//! months, and `allot retention detach` archives old months behind a checkpoint.

use crate::helpers::{spawn_app, TestApp};
use allot::commands::retention::{self, Retention, RetentionError};
use allot::domain::month::Month;
use awc::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

fn this_month() -> Month {
    Month::of(Utc::now())
}

/// An instant `days` into the month `months` from this one (negative: back).
fn day_of(months: i32, days: i64) -> DateTime<Utc> {
    this_month().plus(months).start() + Duration::days(days)
}

fn partition_of(instant: DateTime<Utc>) -> String {
    format!(
        "movements_{}",
        Month::of(instant).to_string().replace('-', "_")
    )
}

async fn line(app: &TestApp, kind: &str, qty: i64, at: DateTime<Utc>) -> i64 {
    let body = app
        .movements(
            json!([{"kind": kind, "location": "S1", "sku": "BAG", "qty": qty,
                           "occurred_at": at.to_rfc3339()}]),
        )
        .await;
    body["movements"][0]["id"].as_i64().unwrap()
}

async fn as_of(app: &TestApp, instant: DateTime<Utc>) -> Value {
    let instant = instant.to_rfc3339().replace('+', "%2B");
    app.get(&format!("/v1/stock/BAG?as_of={instant}"))
        .await
        .body
}

async fn on_hand_as_of(app: &TestApp, instant: DateTime<Utc>) -> i64 {
    let body = as_of(app, instant).await;
    let rows = body["locations"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    rows.first()
        .map_or(0, |row| row["on_hand"].as_i64().unwrap())
}

async fn detach(app: &TestApp, before: Month) -> Result<String, RetentionError> {
    let settings =
        crate::helpers::test_settings(&app.database_url, &app.redis_url, &app.redis_prefix, 2);
    let mut out = Vec::new();
    let command = Retention::Detach {
        before: before.to_string(),
    };
    retention::run(&settings, command, &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

async fn shop() -> TestApp {
    let app = spawn_app().await;
    app.store("S1", 25.0, 121.5).await;
    app.sku("BAG").await;
    app
}

#[actix_web::test]
async fn movements_land_in_their_month_and_reads_stay_exact_across_months() {
    let app = shop().await;
    let now = Utc::now() - Duration::seconds(1);
    // (kind, qty, when): receipts early in a month, sales in its last second.
    let lines = [
        ("receipt", 10, day_of(-3, 9)),
        ("sale", 3, day_of(-2, 0) - Duration::seconds(1)),
        ("receipt", 5, day_of(-2, 0)),
        ("sale", 4, day_of(-1, 0) - Duration::seconds(1)),
        ("receipt", 2, day_of(-1, 20)),
        ("sale", 1, now),
    ];
    let mut ids = Vec::new();
    for (kind, qty, at) in lines {
        ids.push((line(&app, kind, qty, at).await, partition_of(at)));
    }
    let stray = line(&app, "receipt", 7, "2001-03-05T00:00:00Z".parse().unwrap()).await;
    let database = app.database().await;
    for (id, partition) in ids
        .iter()
        .cloned()
        .chain([(stray, "movements_default".into())])
    {
        let row = database
            .query_one(
                "SELECT tableoid::regclass::text FROM movements WHERE id = $1",
                &[&id],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), partition, "movement {id}");
    }
    assert_eq!(on_hand_as_of(&app, day_of(-3, 0)).await, 7);
    assert_eq!(
        on_hand_as_of(&app, day_of(-2, 0) - Duration::seconds(2)).await,
        17
    );
    assert_eq!(
        on_hand_as_of(&app, day_of(-2, 0) - Duration::seconds(1)).await,
        14
    );
    assert_eq!(on_hand_as_of(&app, day_of(-2, 0)).await, 19);
    assert_eq!(on_hand_as_of(&app, day_of(-1, 0)).await, 15);
    assert_eq!(on_hand_as_of(&app, now).await, 16);
    assert_eq!(app.balance("S1", "BAG").await["on_hand"], 16);
    // The unfiltered audit trail pages by id across every month's partition, in ledger order.
    let (mut paged, mut after) = (Vec::new(), 0);
    loop {
        let page = app
            .get(&format!("/v1/movements?limit=2&after={after}"))
            .await
            .body;
        paged.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_i64().unwrap()),
        );
        match page["next_after"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    let mut expected: Vec<i64> = ids.iter().map(|(id, _)| *id).chain([stray]).collect();
    expected.sort_unstable();
    assert_eq!(paged, expected);
    let window = format!(
        "/v1/movements?sku=BAG&from={}&to={}",
        day_of(-2, 0).to_rfc3339().replace('+', "%2B"),
        day_of(0, 0).to_rfc3339().replace('+', "%2B")
    );
    assert_eq!(
        app.get(&window).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    app.assert_ledger_consistent().await;
    let month = partition_of(day_of(-2, 0));
    for statement in [
        format!("UPDATE {month} SET qty = qty"),
        format!("DELETE FROM {month}"),
        format!("TRUNCATE {month}"),
        "DELETE FROM movements_default".to_owned(),
    ] {
        let error = database.execute(statement.as_str(), &[]).await.unwrap_err();
        assert!(
            format!("{error:?}").contains("never updated"),
            "{statement}: {error:?}"
        );
    }
}

/// The migration made the coming months; the service makes them too, from its start (here the
/// last one is gone, as if time had passed, and a second instance starts).
#[actix_web::test]
async fn the_service_makes_the_coming_months_partitions_itself() {
    let app = shop().await;
    let database = app.database().await;
    let last = partition_of(day_of(3, 0));
    database
        .batch_execute(&format!("DROP TABLE {last}"))
        .await
        .unwrap();
    let _second = app.another_instance().await;
    let mut made = false;
    for _ in 0..100 {
        let row = database
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&last])
            .await
            .unwrap();
        made = row.get(0);
        if made {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(made, "{last} was made again");
    let error = database
        .execute(format!("DELETE FROM {last}").as_str(), &[])
        .await
        .unwrap_err();
    assert!(format!("{error:?}").contains("never updated"), "{error:?}");
}

#[actix_web::test]
async fn detached_months_leave_balances_and_later_as_of_exact() {
    let app = shop().await;
    line(&app, "receipt", 10, day_of(-4, 3)).await;
    line(&app, "sale", 2, day_of(-3, 3)).await;
    line(&app, "receipt", 5, day_of(-3, 4)).await;
    line(&app, "receipt", 1, "2001-03-05T00:00:00Z".parse().unwrap()).await;
    line(&app, "sale", 1, day_of(-2, 1)).await;
    line(&app, "receipt", 2, day_of(-1, 1)).await;
    let before = this_month().plus(-2);
    let printed = detach(&app, before).await.unwrap();
    for month in [
        Month::parse("month", "2001-03").unwrap(),
        this_month().plus(-4),
        this_month().plus(-3),
    ] {
        let table = format!("movements_archive_{}", month.to_string().replace('-', "_"));
        assert!(printed.contains(&table), "{printed}");
    }
    assert!(printed.contains("3 months archived"), "{printed}");
    let database = app.database().await;
    let archived: i64 = database
        .query_one(
            &format!(
                "SELECT count(*) FROM movements_archive_{}",
                this_month().plus(-3).to_string().replace('-', "_")
            ),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(archived, 2);
    let left: i64 = database
        .query_one("SELECT count(*) FROM movements", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 2, "only the two months kept stay in the ledger");
    // Balances and the fold from the checkpoint agree; instants from the horizon on are exact.
    assert_eq!(app.balance("S1", "BAG").await["on_hand"], 15);
    app.assert_ledger_consistent().await;
    assert_eq!(on_hand_as_of(&app, before.start()).await, 14);
    assert_eq!(on_hand_as_of(&app, day_of(-2, 5)).await, 13);
    assert_eq!(on_hand_as_of(&app, Utc::now()).await, 15);
    // Inside the detached months: refused, with the field and where the ledger starts.
    let refused = app
        .get(&format!(
            "/v1/stock/BAG?as_of={}",
            day_of(-3, 10).to_rfc3339().replace('+', "%2B")
        ))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        refused.body
    );
    assert_eq!(refused.body["field"], "as_of");
    assert!(refused.body["message"]
        .as_str()
        .unwrap()
        .contains("detached"));
    // No movement can be written into them any more.
    let backdated = app
        .post(
            "/v1/movements",
            &json!({"movements": [{"kind": "receipt", "location": "S1", "sku": "BAG", "qty": 1,
                                   "occurred_at": day_of(-3, 10).to_rfc3339()}]}),
        )
        .await;
    assert_eq!(
        backdated.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        backdated.body
    );
    assert_eq!(backdated.body["field"], "occurred_at");
    // The same bound again, or one that would take the previous month: refused, naming it.
    for bound in [before, this_month()] {
        let error = detach(&app, bound).await.unwrap_err();
        let field = match &error {
            RetentionError::App(allot::app::Error::Invalid(invalid)) => &invalid.field,
            RetentionError::App(allot::app::Error::Refused { field, .. }) => field,
            other => panic!("{bound}: {other:?}"),
        };
        assert_eq!(field, "before", "{bound}: {error}");
    }
    line(&app, "sale", 3, Utc::now()).await;
    assert_eq!(on_hand_as_of(&app, Utc::now()).await, 12);
    app.assert_ledger_consistent().await;
}

#[actix_web::test]
async fn a_ledger_that_does_not_reproduce_its_balances_is_not_detached() {
    let app = shop().await;
    line(&app, "receipt", 4, day_of(-5, 2)).await;
    let database = app.database().await;
    database
        .execute("UPDATE balances SET on_hand = on_hand + 1", &[])
        .await
        .unwrap();
    let error = detach(&app, this_month().plus(-2)).await.unwrap_err();
    assert!(error.to_string().contains("does not reproduce"), "{error}");
    let partition = partition_of(day_of(-5, 2));
    let attached: bool = database
        .query_one(
            "SELECT EXISTS (SELECT FROM pg_inherits WHERE inhrelid = to_regclass($1))",
            &[&partition],
        )
        .await
        .unwrap()
        .get(0);
    assert!(attached, "{partition} stays in the ledger");
}

/// A deployed ledger has rows when V18 runs: they move into their months with their ids, and
/// the identity sequence goes on after them. (The SQL files run as refinery runs them, each
/// whole, on a database of the test's own.)
#[actix_web::test]
async fn existing_movements_move_into_their_months_with_their_ids() {
    let database = format!("allot_test_{}", uuid::Uuid::new_v4().simple());
    let (admin, connection) = tokio_postgres::connect(
        &format!("{}/postgres", crate::helpers::server_url()),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    admin
        .execute(&format!("CREATE DATABASE {database}"), &[])
        .await
        .unwrap();
    let (client, connection) = tokio_postgres::connect(
        &format!("{}/{database}", crate::helpers::server_url()),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let sql = |version: u32| {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sql");
        let prefix = format!("V{version}__");
        let file = std::fs::read_dir(&folder)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .find(|path| {
                path.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with(&prefix)
            })
            .unwrap();
        std::fs::read_to_string(file).unwrap()
    };
    for version in 1..=17 {
        client.batch_execute(&sql(version)).await.unwrap();
    }
    let old = day_of(-2, 3).to_rfc3339();
    client
        .batch_execute(&format!(
            "INSERT INTO skus (code, name) VALUES ('BAG', 'Bag');
             INSERT INTO locations (code, name, kind, latitude, longitude, pickup, ship)
                 VALUES ('S1', 'Store', 'store', 25, 121.5, true, true);
             INSERT INTO balances (sku_id, location_id, on_hand) VALUES (1, 1, 16);
             INSERT INTO movements (sku_id, location_id, kind, qty, on_hand_delta, request_id,
                                    occurred_at, actor)
             VALUES (1, 1, 'receipt', 10, 10, gen_random_uuid(), '2004-07-08T00:00:00Z', 'system:test'),
                    (1, 1, 'receipt', 7, 7, gen_random_uuid(), '{old}', 'system:test'),
                    (1, 1, 'sale', 1, -1, gen_random_uuid(), now(), 'system:test');
             INSERT INTO discrepancies (sku_id, location_id, movement_id, kind, on_hand_before,
                                        on_hand_after, allocated, shortfall)
             VALUES (1, 1, 3, 'sale_exceeded_on_hand', 0, 0, 0, 1);"
        ))
        .await
        .unwrap();
    client.batch_execute(&sql(18)).await.unwrap();
    let rows: Vec<(i64, String)> = client
        .query(
            "SELECT id, tableoid::regclass::text FROM movements ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(
        rows,
        vec![
            (1, "movements_2004_07".to_owned()),
            (2, partition_of(day_of(-2, 3))),
            (3, partition_of(Utc::now())),
        ]
    );
    let next: i64 = client
        .query_one(
            "INSERT INTO movements (sku_id, location_id, kind, qty, on_hand_delta, request_id,
                                    occurred_at, actor)
             VALUES (1, 1, 'receipt', 1, 1, gen_random_uuid(), now(), 'system:test') RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(next, 4, "the sequence goes on after the copied rows");
    let missing = client
        .execute(
            "INSERT INTO discrepancies (sku_id, location_id, movement_id, kind, on_hand_before,
                                        on_hand_after, allocated, shortfall)
             VALUES (1, 1, 99, 'sale_exceeded_on_hand', 0, 0, 0, 1)",
            &[],
        )
        .await
        .unwrap_err();
    assert!(
        format!("{missing:?}").contains("discrepancy_movement_exists"),
        "{missing:?}"
    );
    let rewrite = client
        .execute("DELETE FROM movements_2004_07", &[])
        .await
        .unwrap_err();
    assert!(
        format!("{rewrite:?}").contains("never updated"),
        "{rewrite:?}"
    );
}
