//! Stock events: every committed change of a (location, SKU) is an event, with its cause, in
//! order per (location, SKU); nothing refused becomes one; a consumer that follows the feed
//! with its own cursor ends with the ledger's figures.

use crate::helpers::{spawn_app, TestApp};
use awc::http::StatusCode;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

async fn chain(app: &TestApp) {
    app.store("S1", 25.03, 121.56).await;
    app.store("S2", 25.05, 121.52).await;
    app.sku("TEE").await;
    app.sku("CAP").await;
}

/// Every event after `cursor`, page by page, until the feed has had nothing new for a while
/// (the relay numbers committed events within a fraction of a second).
async fn follow(app: &TestApp, mut cursor: i64, quiet: Duration) -> (Vec<Value>, i64) {
    let mut seen = Vec::new();
    let mut last_news = Instant::now();
    while last_news.elapsed() < quiet {
        let page = app.get(&format!("/v1/events?after={cursor}&limit=7")).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        let events = page.body["events"].as_array().cloned().unwrap_or_default();
        if events.is_empty() {
            actix_rt::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        last_news = Instant::now();
        cursor = page.body["next"].as_i64().unwrap_or(cursor);
        seen.extend(events);
    }
    (seen, cursor)
}

fn key(event: &Value) -> (String, String) {
    (
        event["location"].as_str().unwrap_or_default().into(),
        event["sku"].as_str().unwrap_or_default().into(),
    )
}

#[actix_web::test]
async fn every_committed_change_is_an_event_with_its_cause_in_order() {
    let app = spawn_app().await;
    chain(&app).await;
    app.receive("S1", "TEE", 3).await;
    app.movements(json!([{"kind": "sale", "location": "S1", "sku": "TEE", "qty": 3}]))
        .await;
    app.receive("S1", "TEE", 2).await;
    let order = json!({"id": "EV-1", "lines": [{"sku": "TEE", "qty": 2}],
                       "fulfilment": {"mode": "pickup", "store": "S1"}});
    assert_eq!(
        app.post("/v1/orders", &order).await.status,
        StatusCode::CREATED
    );
    let cancelled = app.post("/v1/orders/EV-1/cancel", &json!(null)).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.body);
    let refused = app
        .post(
            "/v1/movements",
            &json!({"movements": [
            {"kind": "receipt", "location": "S1", "sku": "TEE", "qty": 1},
            {"kind": "receipt", "location": "S1", "sku": "NOPE", "qty": 1}]}),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a refused batch"
    );

    let (events, _) = follow(&app, 0, Duration::from_millis(600)).await;
    // The locations' events (the chain's crossings have a test of their own).
    let events: Vec<Value> = events
        .into_iter()
        .filter(|e| e["location"] != "*")
        .collect();
    let summary: Vec<(String, i64, i64)> = events
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or_default().to_owned(),
                e["before"]["available"].as_i64().unwrap_or(-1),
                e["after"]["available"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    let expected = [
        ("availability_changed", 0, 3),
        ("back_in_stock", 0, 3),
        ("availability_changed", 3, 0),
        ("out_of_stock", 3, 0),
        ("availability_changed", 0, 2),
        ("back_in_stock", 0, 2),
        ("availability_changed", 2, 0),
        ("out_of_stock", 2, 0),
        ("availability_changed", 0, 2),
        ("back_in_stock", 0, 2),
    ];
    let expected: Vec<(String, i64, i64)> = expected
        .iter()
        .map(|(k, b, a)| ((*k).to_owned(), *b, *a))
        .collect();
    assert_eq!(
        summary, expected,
        "nothing from the refused batch, everything else once"
    );
    assert_eq!(events[0]["cause"]["movements"], json!(["receipt"]));
    assert!(events[0]["cause"]["actor"]
        .as_str()
        .is_some_and(|a| a.starts_with("key:")));
    assert_eq!(events[6]["cause"]["order"], "EV-1");
    assert_eq!(
        (
            events[8]["cause"]["order"].as_str(),
            events[8]["cause"]["step"].as_str()
        ),
        (Some("EV-1"), Some("cancel"))
    );
    let positions: Vec<i64> = events
        .iter()
        .filter_map(|e| e["position"].as_i64())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    let sequences: Vec<i64> = events
        .iter()
        .step_by(2)
        .filter_map(|e| e["sequence"].as_i64())
        .collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
}

#[actix_web::test]
async fn a_consumer_following_the_feed_during_concurrent_writes_ends_with_the_ledger() {
    let app = spawn_app().await;
    chain(&app).await;
    let writers = (0..6).map(|writer| {
        let app = app.clone();
        actix_rt::spawn(async move {
            for round in 0..10 {
                let location = if (writer + round) % 2 == 0 {
                    "S1"
                } else {
                    "S2"
                };
                let sku = if writer % 3 == 0 { "CAP" } else { "TEE" };
                app.movements(
                    json!([{"kind": "receipt", "location": location, "sku": sku, "qty": 2}]),
                )
                .await;
                app.post(
                    "/v1/movements",
                    &json!({"movements": [
                    {"kind": "sale", "location": location, "sku": sku, "qty": 1}]}),
                )
                .await;
            }
        })
    });
    let consumer = {
        let app = app.clone();
        actix_rt::spawn(async move { follow(&app, 0, Duration::from_millis(1500)).await })
    };
    for writer in writers {
        writer.await.expect("a writer finished");
    }
    let (events, _) = consumer.await.expect("the consumer finished");
    let ids: HashSet<i64> = events.iter().filter_map(|e| e["id"].as_i64()).collect();
    assert_eq!(ids.len(), events.len(), "each event once");
    let database = app.database().await;
    let stored: i64 = database
        .query_one("SELECT count(*) FROM stock_events", &[])
        .await
        .expect("a count")
        .get(0);
    assert_eq!(events.len() as i64, stored, "the consumer saw every event");
    let mut last: HashMap<(String, String), (i64, Value)> = HashMap::new();
    for event in events
        .iter()
        .filter(|e| e["kind"] == "availability_changed")
    {
        let sequence = event["sequence"].as_i64().unwrap_or_default();
        if let Some((previous, figures)) = last.get(&key(event)) {
            assert!(
                sequence > *previous,
                "per (location, SKU) in order: {event}"
            );
            assert_eq!(
                &event["before"], figures,
                "each change starts where the last ended"
            );
        }
        last.insert(key(event), (sequence, event["after"].clone()));
    }
    for ((location, sku), (_, figures)) in &last {
        let balance = app.balance(location, sku).await;
        assert_eq!(figures["on_hand"], balance["on_hand"], "{location} {sku}");
    }
    assert_eq!(last.len(), 4, "two SKUs at two stores");
}

#[actix_web::test]
async fn a_waiting_consumer_gets_the_next_event_as_it_commits() {
    let app = spawn_app().await;
    chain(&app).await;
    let waiting = {
        let app = app.clone();
        actix_rt::spawn(async move {
            let started = Instant::now();
            let page = app.get("/v1/events?after=0&wait_s=10").await;
            (page, started.elapsed())
        })
    };
    actix_rt::time::sleep(Duration::from_millis(300)).await;
    app.receive("S2", "CAP", 4).await;
    let (page, waited) = waiting.await.expect("the consumer answered");
    assert_eq!(page.body["events"][0]["location"], "S2", "{:?}", page.body);
    assert!(
        waited < Duration::from_secs(5),
        "answered when the event came: {waited:?}"
    );
    let bad = app.get("/v1/events?wait_s=31").await;
    assert_eq!(
        (bad.status, bad.body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("wait_s"))
    );
}

#[actix_web::test]
async fn an_export_taken_during_writes_then_the_feed_from_its_position_gives_the_ledger() {
    let app = spawn_app().await;
    chain(&app).await;
    app.receive("S1", "TEE", 5).await;
    let writer = {
        let app = app.clone();
        actix_rt::spawn(async move {
            for round in 0..20 {
                let sku = if round % 2 == 0 { "TEE" } else { "CAP" };
                app.receive("S2", sku, 3).await;
                app.movements(json!([{"kind": "sale", "location": "S1", "sku": "TEE", "qty": 1}]))
                    .await;
                app.receive("S1", "TEE", 1).await;
            }
        })
    };
    actix_rt::time::sleep(Duration::from_millis(150)).await;
    let export = app.get("/v1/availability/export").await;
    assert_eq!(export.status, StatusCode::OK);
    let text = export.body.as_str().unwrap_or_default().to_owned();
    let mut lines = text
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("NDJSON"));
    let position = lines
        .next()
        .and_then(|head| head["position"].as_i64())
        .expect("a position");
    let mut view: HashMap<(String, String), (i64, Value)> = lines
        .map(|row| (key(&row), (row["sequence"].as_i64().unwrap_or(0), row)))
        .collect();
    writer.await.expect("the writer finished");
    let (events, _) = follow(&app, position, Duration::from_millis(600)).await;
    for event in events
        .iter()
        .filter(|e| e["kind"] == "availability_changed")
    {
        let sequence = event["sequence"].as_i64().unwrap_or(0);
        let known = view.get(&key(event)).map_or(0, |(seen, _)| *seen);
        if sequence > known {
            view.insert(key(event), (sequence, event["after"].clone()));
        }
    }
    for ((location, sku), (_, figures)) in &view {
        let balance = app.balance(location, sku).await;
        assert_eq!(figures["on_hand"], balance["on_hand"], "{location} {sku}");
        assert_eq!(
            figures["available"], balance["available"],
            "{location} {sku}"
        );
    }
    assert_eq!(view.len(), 3, "TEE at S1 and S2, CAP at S2");
}

async fn stored_events(app: &TestApp) -> i64 {
    app.database()
        .await
        .query_one("SELECT count(*) FROM stock_events", &[])
        .await
        .expect("a count")
        .get(0)
}

#[actix_web::test]
async fn delivered_events_past_their_retention_are_purged_and_undelivered_ones_kept() {
    let kept = crate::helpers::spawn_app_tuned(|settings| {
        settings.events_retention_s = 1;
        settings.nats_url = "nats://127.0.0.1:9".into();
    })
    .await;
    let purged = crate::helpers::spawn_app_tuned(|settings| settings.events_retention_s = 1).await;
    for app in [&kept, &purged] {
        chain(app).await;
        app.receive("S1", "TEE", 1).await;
    }
    assert!(stored_events(&purged).await >= 2);
    let deadline = Instant::now() + Duration::from_secs(10);
    while stored_events(&purged).await > 0 && Instant::now() < deadline {
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        stored_events(&purged).await,
        0,
        "numbered, older than a second: gone"
    );
    assert_eq!(
        stored_events(&kept).await,
        3,
        "NATS has not had them (S1's two, the chain's crossing) yet: kept"
    );
    assert_eq!(
        purged.balance("S1", "TEE").await["on_hand"],
        1,
        "the ledger is untouched"
    );
}

#[actix_rt::test]
async fn low_stock_fires_on_each_fall_below_the_locations_threshold_only() {
    let app = spawn_app().await;
    let body = json!({"name": "Store W", "kind": "store", "latitude": 25.0, "longitude": 121.5,
                      "pickup": true, "ship": true, "low_stock_below": 3});
    let watched = app.put("/v1/locations/WATCHED", &body).await;
    assert_eq!(watched.status, StatusCode::CREATED, "{:?}", watched.body);
    assert_eq!(watched.body["low_stock_below"], 3);
    app.store("PLAIN", 25.1, 121.5).await;
    app.sku("TEE").await;
    let sale = |location: &str, qty: i64| json!([{"kind": "sale", "location": location, "sku": "TEE", "qty": qty}]);
    for location in ["WATCHED", "PLAIN"] {
        app.receive(location, "TEE", 5).await; // 0 → 5: rising, no alert
        app.movements(sale(location, 1)).await; // 5 → 4
        app.movements(sale(location, 2)).await; // 4 → 2: below 3
        app.receive(location, "TEE", 1).await; // 2 → 3
        app.movements(sale(location, 3)).await; // 3 → 0: below 3 again, and out of stock
    }
    let mut alerts = Vec::new();
    for _ in 0..100 {
        let page = app.get("/v1/events?after=0&limit=1000").await.body;
        alerts = page["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["kind"] != "availability_changed" && e["location"] != "*")
            .map(|e| {
                let location = e["location"].as_str().unwrap_or_default().to_owned();
                let kind = e["kind"].as_str().unwrap_or_default().to_owned();
                (
                    location,
                    kind,
                    e["after"]["available"].as_i64().unwrap_or(-1),
                )
            })
            .collect::<Vec<_>>();
        if alerts.len() >= 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let owned = |l: &str, k: &str, a: i64| (l.to_owned(), k.to_owned(), a);
    // Alerts of one change share its sequence; their order among themselves is not promised.
    alerts.sort();
    let mut expected = vec![
        owned("WATCHED", "back_in_stock", 5),
        owned("WATCHED", "low_stock", 2),
        owned("WATCHED", "out_of_stock", 0),
        owned("WATCHED", "low_stock", 0),
        owned("PLAIN", "back_in_stock", 5),
        owned("PLAIN", "out_of_stock", 0),
    ];
    expected.sort();
    assert_eq!(alerts, expected);
    let mut bad = body.clone();
    bad["low_stock_below"] = json!(-1);
    let refused = app.put("/v1/locations/WATCHED", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["field"], "low_stock_below");
}

#[actix_rt::test]
async fn the_chain_as_a_whole_has_its_own_crossings_and_totals() {
    let app = crate::helpers::spawn_app_tuned(|s| s.chain_low_stock_below = 4).await;
    chain(&app).await;
    // The chain's figures move as the relay numbers events: each step waits for it.
    let db = app.database().await;
    let numbered = || async {
        for _ in 0..100 {
            let row = db
                .query_one(
                    "SELECT count(*) FROM stock_events WHERE position IS NULL",
                    &[],
                )
                .await
                .expect("count");
            if row.get::<_, i64>(0) == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    app.receive("S1", "TEE", 3).await; // chain 0 → 3: back in stock
    numbered().await;
    app.receive("S2", "TEE", 3).await; // 3 → 6
    numbered().await;
    let sale =
        |location: &str| json!([{"kind": "sale", "location": location, "sku": "TEE", "qty": 3}]);
    app.movements(sale("S1")).await; // 6 → 3: low
    numbered().await;
    app.movements(sale("S2")).await; // 3 → 0: out of stock
    let mut crossings: Vec<Value> = Vec::new();
    for _ in 0..100 {
        let page = app.get("/v1/events?after=0&limit=1000").await.body;
        crossings = page["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["location"] == "*")
            .cloned()
            .collect();
        if crossings.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen: Vec<(&str, i64, i64)> = crossings
        .iter()
        .map(|e| {
            let kind = e["kind"].as_str().unwrap_or_default();
            let before = e["before"]["available"].as_i64().unwrap_or(-1);
            (kind, before, e["after"]["available"].as_i64().unwrap_or(-1))
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("back_in_stock", 0, 3),
            ("low_stock", 6, 3),
            ("out_of_stock", 3, 0)
        ],
        "{crossings:?}"
    );
    let sequences: Vec<i64> = crossings
        .iter()
        .filter_map(|e| e["sequence"].as_i64())
        .collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    assert_eq!(crossings[0]["cause"]["chain"], true);

    let drift: i64 = db
        .query_one(
            "SELECT count(*) FROM chain_stock c JOIN (
                 SELECT b.sku_id, sum(b.on_hand)::int8 AS on_hand,
                        sum(greatest(b.on_hand - b.allocated - l.safety_stock, 0))::int8 AS available
                 FROM balances b JOIN locations l ON l.id = b.location_id GROUP BY b.sku_id) t
               USING (sku_id)
             WHERE (c.on_hand, c.available) IS DISTINCT FROM (t.on_hand, t.available)",
            &[],
        )
        .await
        .expect("totals")
        .get(0);
    assert_eq!(drift, 0, "the chain's totals are the sum of its balances");
}

#[actix_rt::test]
async fn holds_reach_the_feed_coalesced_and_their_expiry_with_no_request() {
    let app = spawn_app().await;
    chain(&app).await;
    app.receive("S1", "TEE", 5).await;
    let (_, cursor) = follow(&app, 0, Duration::from_millis(300)).await;
    // Three holds within a second: one event for the three.
    for qty in [1, 1, 1] {
        let hold = json!({"lines": [{"sku": "TEE", "location": "S1", "qty": qty}], "ttl_s": 2});
        let placed = app.post("/v1/holds", &hold).await;
        assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.body);
    }
    let started = Instant::now();
    let mut seen: Vec<Value> = Vec::new();
    let expired = |events: &[Value]| events.last().is_some_and(|e| e["after"]["held"] == 0);
    while !expired(&seen) && started.elapsed() < Duration::from_secs(8) {
        let page = app
            .get(&format!("/v1/events?after={cursor}&limit=100"))
            .await
            .body;
        seen = page["events"].as_array().cloned().unwrap_or_default();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let held: Vec<(i64, i64, i64)> = seen
        .iter()
        .map(|e| {
            assert_eq!(e["kind"], "availability_changed");
            assert_eq!(e["cause"]["holds"], true, "{e}");
            (
                e["before"]["held"].as_i64().unwrap_or(-1),
                e["after"]["held"].as_i64().unwrap_or(-1),
                e["after"]["available"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    // Placed within a second: one event (two if a round fell between the requests).
    let (expiry, placements) = held.split_last().expect("events");
    assert!((1..=2).contains(&placements.len()), "{held:?}");
    assert_eq!(
        placements.last().map(|p| (p.1, p.2)),
        Some((3, 2)),
        "{held:?}"
    );
    assert_eq!(*expiry, (3, 0, 5), "expired with no request: {held:?}");
    let at = |event: &Value| {
        serde_json::from_value::<chrono::DateTime<chrono::Utc>>(event["at"].clone())
            .expect("a time")
    };
    let after = (at(&seen[seen.len() - 1]) - at(&seen[0])).num_milliseconds();
    assert!(
        (1_000..=4_500).contains(&after),
        "expiry reached the feed {after} ms later"
    );
}

#[actix_rt::test]
async fn a_safety_stock_change_is_an_event_for_each_balance_it_moves() {
    let app = spawn_app().await;
    chain(&app).await;
    app.receive("S1", "TEE", 3).await;
    app.receive("S1", "CAP", 10).await;
    app.receive("S2", "TEE", 3).await;
    let (_, cursor) = follow(&app, 0, Duration::from_millis(300)).await;
    let body = json!({"name": "Store S1", "kind": "store", "latitude": 25.03, "longitude": 121.56,
                      "pickup": true, "ship": true, "safety_stock": 3});
    assert_eq!(
        app.put("/v1/locations/S1", &body).await.status,
        StatusCode::OK
    );
    let (events, _) = follow(&app, cursor, Duration::from_millis(600)).await;
    let mut seen: Vec<(String, String, i64, i64)> = events
        .iter()
        .filter(|e| e["location"] != "*")
        .map(|e| {
            assert_eq!(e["cause"]["location"], "S1", "{e}");
            (
                e["sku"].as_str().unwrap_or_default().to_owned(),
                e["kind"].as_str().unwrap_or_default().to_owned(),
                e["before"]["available"].as_i64().unwrap_or(-1),
                e["after"]["available"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    seen.sort();
    let owned = |s: &str, k: &str, b: i64, a: i64| (s.to_owned(), k.to_owned(), b, a);
    assert_eq!(
        seen,
        [
            owned("CAP", "availability_changed", 10, 7),
            owned("TEE", "availability_changed", 3, 0),
            owned("TEE", "out_of_stock", 3, 0),
        ],
        "S1's balances only; S2 keeps its safety stock"
    );
    assert!(events.iter().all(|e| e["cause"]["actor"].is_string()));
    // The same figures again change nothing.
    assert_eq!(
        app.put("/v1/locations/S1", &body).await.status,
        StatusCode::OK
    );
    let (again, _) = follow(&app, cursor, Duration::from_millis(600)).await;
    assert_eq!(again.len(), events.len(), "no change, no event");
}

/// With more committed events waiting than a numbering round takes, the oldest go first: a
/// SKU's changes do not overtake older ones of a SKU that sorts after it (under full ingest
/// the last SKUs waited many rounds). Straight on the ledger, with no relay running.
#[actix_rt::test]
async fn a_numbering_round_takes_the_oldest_events_first() {
    let app = crate::helpers::unserved_app().await;
    let db = app.database().await;
    db.batch_execute(
        "INSERT INTO locations (code, name, kind, latitude, longitude, pickup, ship)
             VALUES ('S1', 'S1', 'store', 25.0, 121.5, true, true);
         INSERT INTO skus (code, name) VALUES ('EARLY', 'early'), ('LATE', 'late');
         INSERT INTO balances (sku_id, location_id) SELECT s.id, l.id FROM skus s, locations l;",
    )
    .await
    .expect("a store and two SKUs");
    for sku in ["LATE", "EARLY", "EARLY"] {
        db.execute(
            "UPDATE balances SET on_hand = on_hand + 1, version = version + 1
             WHERE sku_id = (SELECT id FROM skus WHERE code = $1)",
            &[&sku],
        )
        .await
        .expect("a change");
    }
    let pool = allot::ledger::pool(&app.database_url, 1, Duration::from_secs(5)).expect("a pool");
    let numbered = |limit| allot::ledger::events::number(&pool, limit, 0);
    // Each call also numbers the chain's crossings (LATE's first unit is back in stock).
    numbered(1).await.expect("numbers one");
    numbered(10).await.expect("numbers the rest");
    let order: Vec<(String, i64)> = db
        .query(
            "SELECT s.code, e.sequence FROM stock_events e JOIN skus s ON s.id = e.sku_id
             WHERE e.location_id IS NOT NULL AND e.kind = 'availability_changed'
             ORDER BY e.position",
            &[],
        )
        .await
        .expect("the numbered events")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let expected = [("LATE", 1), ("EARLY", 1), ("EARLY", 2)].map(|(sku, seq)| (sku.into(), seq));
    assert_eq!(order, expected);
}

/// A POS batch waits for its balances' row locks behind the batches before it: its events are
/// stamped when its balances change, not when its transaction began, so `at` (and the lag to
/// NATS measured from it) does not count the wait.
#[actix_rt::test]
async fn an_event_is_stamped_when_its_balance_changes_not_when_its_transaction_began() {
    let app = crate::helpers::unserved_app().await;
    let mut db = app.database().await;
    db.batch_execute(
        "INSERT INTO locations (code, name, kind, latitude, longitude, pickup, ship)
             VALUES ('S1', 'S1', 'store', 25.0, 121.5, true, true);
         INSERT INTO skus (code, name) VALUES ('A', 'a');
         INSERT INTO balances (sku_id, location_id) SELECT s.id, l.id FROM skus s, locations l;",
    )
    .await
    .expect("a store and a SKU");
    let transaction = db.transaction().await.expect("a transaction");
    transaction
        .batch_execute(
            "SELECT pg_sleep(0.3);
             UPDATE balances SET on_hand = on_hand + 1, version = version + 1;",
        )
        .await
        .expect("a change after a wait");
    let waited_ms: f64 = transaction
        .query_one(
            "SELECT (extract(epoch FROM min(at) - now()) * 1000)::float8 FROM stock_events",
            &[],
        )
        .await
        .expect("the event's time")
        .get(0);
    transaction.commit().await.expect("committed");
    assert!(waited_ms >= 300.0, "stamped {waited_ms} ms after the start");
}
