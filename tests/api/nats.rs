//! Stock events on a real NATS JetStream (the nats-server `make test` starts): each event once
//! in the stream, in order, with its id as `Nats-Msg-Id`; a republish is dropped by the
//! stream; with NATS unreachable, nothing else stops.

use crate::helpers::{spawn_app_tuned, OwnNats, TestApp};
use async_nats::jetstream;
use awc::http::StatusCode;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const NATS_URL: &str = "nats://127.0.0.1:4222";

async fn chain(app: &TestApp) {
    app.store("S1", 25.03, 121.56).await;
    app.sku("TEE.BLK").await;
}

/// Every numbered event, once the relay has numbered `count` of them.
async fn feed(app: &TestApp, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = app.get("/v1/events?limit=1000").await.body["events"].clone();
        let events = page.as_array().cloned().unwrap_or_default();
        if events.len() >= count || Instant::now() > deadline {
            return events;
        }
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sink_position(app: &TestApp) -> i64 {
    app.database()
        .await
        .query_opt("SELECT position FROM event_sinks WHERE name = 'nats'", &[])
        .await
        .expect("the sink reads")
        .map_or(0, |row| row.get(0))
}

#[actix_web::test]
async fn events_reach_the_stream_once_each_in_order_and_a_republish_is_dropped() {
    let app = spawn_app_tuned(|settings| settings.nats_url = NATS_URL.into()).await;
    let client = async_nats::connect(NATS_URL)
        .await
        .expect("nats-server runs on 127.0.0.1:4222 (make test starts it)");
    let mut messages = client
        .subscribe(format!("{}.>", app.redis_prefix))
        .await
        .expect("a subscription");
    chain(&app).await;
    app.receive("S1", "TEE.BLK", 2).await;
    // Numbered before the sale, so the chain's total crosses too (a round's net change does).
    assert_eq!(feed(&app, 3).await.len(), 3);
    app.movements(json!([{"kind": "sale", "location": "S1", "sku": "TEE.BLK", "qty": 2}]))
        .await;
    let events = feed(&app, 6).await;
    assert_eq!(
        events.len(),
        6,
        "receipt and sale, each with its crossing at S1 and for the chain: {events:?}"
    );

    let mut received = Vec::new();
    while received.len() < events.len() {
        let message = tokio::time::timeout(Duration::from_secs(5), messages.next())
            .await
            .expect("each event reaches NATS")
            .expect("the subscription is open");
        received.push(message);
    }
    for (event, message) in events.iter().zip(&received) {
        let body: Value = serde_json::from_slice(&message.payload).expect("a JSON body");
        assert_eq!(body["id"], event["id"], "in the feed's order");
        let id = message
            .headers
            .as_ref()
            .and_then(|headers| headers.get("Nats-Msg-Id"))
            .map(|value| value.as_str().to_owned());
        assert_eq!(
            id.as_deref(),
            event["id"].as_i64().map(|id| id.to_string()).as_deref(),
            "the event id deduplicates"
        );
    }
    let prefix = &app.redis_prefix;
    let subjects: Vec<&str> = received.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(
        subjects[0],
        format!("{prefix}.stock.TEE%2EBLK.S1"),
        "one token per code"
    );
    assert_eq!(subjects[1], format!("{prefix}.alerts.back_in_stock"));
    assert_eq!(
        subjects[2],
        format!("{prefix}.alerts.back_in_stock"),
        "the chain's"
    );
    assert_eq!(subjects[4], format!("{prefix}.alerts.out_of_stock"));

    let jetstream = jetstream::new(client);
    let stream_name = app.redis_prefix.to_uppercase();
    let stored = |jetstream: jetstream::Context| {
        let name = stream_name.clone();
        async move {
            let mut stream = jetstream
                .get_stream(&name)
                .await
                .expect("the stream exists");
            stream.info().await.expect("stream info").state.messages
        }
    };
    assert_eq!(stored(jetstream.clone()).await, 6);
    let top = sink_position(&app).await;
    app.database()
        .await
        .execute(
            "UPDATE event_sinks SET position = 0 WHERE name = 'nats'",
            &[],
        )
        .await
        .expect("the sink rewinds");
    let deadline = Instant::now() + Duration::from_secs(10);
    while sink_position(&app).await < top && Instant::now() < deadline {
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sink_position(&app).await, top, "published again");
    assert_eq!(
        stored(jetstream.clone()).await,
        6,
        "the stream dropped every republished event"
    );
    jetstream
        .delete_stream(&stream_name)
        .await
        .expect("the test's stream goes");
}

#[actix_web::test]
async fn with_nats_unreachable_writes_and_the_feed_go_on() {
    let app = spawn_app_tuned(|settings| settings.nats_url = "nats://127.0.0.1:9".into()).await;
    chain(&app).await;
    app.receive("S1", "TEE.BLK", 1).await;
    // A receipt's change, its crossing at S1, and the chain's.
    assert_eq!(feed(&app, 3).await.len(), 3);
    assert_eq!(sink_position(&app).await, 0, "nothing counted as published");
    assert_eq!(app.get("/ready").await.status, StatusCode::OK);
}

/// Receipts of one unit at S1, one request each.
async fn receipts(app: &TestApp, count: usize) {
    for _ in 0..count {
        app.receive("S1", "TEE.BLK", 1).await;
    }
}

/// The number of messages the stream stored, once it stops growing (or after 10 s).
async fn settled_count(url: &str, stream: &str, want: u64) -> u64 {
    let client = async_nats::connect(url).await.expect("NATS is up");
    let jetstream = jetstream::new(client);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let stored = match jetstream.get_stream(stream).await {
            Ok(mut stream) => stream.info().await.map_or(0, |info| info.state.messages),
            Err(_) => 0,
        };
        if stored >= want || Instant::now() > deadline {
            return stored;
        }
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn a_broker_that_stops_and_starts_again_misses_nothing_and_doubles_nothing() {
    let mut nats = OwnNats::start();
    let url = nats.url();
    let app = spawn_app_tuned(|settings| settings.nats_url = url.clone()).await;
    chain(&app).await;
    receipts(&app, 3).await;
    let stream = app.redis_prefix.to_uppercase();
    // The first receipt crosses from zero at S1 and for the chain: five events.
    assert_eq!(settled_count(&url, &stream, 5).await, 5);
    nats.stop();
    receipts(&app, 3).await;
    assert_eq!(
        feed(&app, 8).await.len(),
        8,
        "the ledger and the feed go on without NATS"
    );
    nats.restart();
    assert_eq!(
        settled_count(&url, &stream, 8).await,
        8,
        "each event once, none lost"
    );
    let top = feed(&app, 8)
        .await
        .last()
        .and_then(|e| e["position"].as_i64());
    assert_eq!(Some(sink_position(&app).await), top, "the cursor caught up");
}

#[actix_web::test]
async fn two_instances_relay_at_once_and_the_stream_holds_each_event_once() {
    let nats = OwnNats::start();
    let url = nats.url();
    let first = spawn_app_tuned(|settings| settings.nats_url = url.clone()).await;
    let second = first
        .another_instance_tuned(|settings| settings.nats_url = url.clone())
        .await;
    chain(&first).await;
    let (a, b) = (first.clone(), second.clone());
    let writes = [
        actix_rt::spawn(async move { receipts(&a, 10).await }),
        actix_rt::spawn(async move { receipts(&b, 10).await }),
    ];
    for write in writes {
        write.await.expect("the writes finished");
    }
    let events = feed(&first, 22).await;
    assert_eq!(
        events.len(),
        22,
        "20 receipts, the first crossing at S1 and the chain's"
    );
    let stream = first.redis_prefix.to_uppercase();
    assert_eq!(settled_count(&url, &stream, 22).await, 22);
    actix_rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(settled_count(&url, &stream, 22).await, 22, "and no more");
}

#[actix_web::test]
async fn events_tail_prints_each_event_as_it_is_published() {
    let nats = OwnNats::start();
    let url = nats.url();
    let app = spawn_app_tuned(|settings| settings.nats_url = url.clone()).await;
    chain(&app).await;
    let mut settings =
        crate::helpers::test_settings(&app.database_url, &app.redis_url, &app.redis_prefix, 1);
    settings.nats_url = url.clone();
    let tail = actix_rt::spawn(async move {
        let mut out = Vec::new();
        allot::commands::events::tail(&settings, "stock.>", Some(2), &mut out)
            .await
            .expect("the tail runs");
        String::from_utf8(out).expect("text")
    });
    actix_rt::time::sleep(Duration::from_millis(300)).await;
    receipts(&app, 2).await;
    let printed = tokio::time::timeout(Duration::from_secs(10), tail)
        .await
        .expect("two events came")
        .expect("the tail finished");
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 2, "{printed}");
    let prefix = format!("{}.stock.TEE%2EBLK.S1 ", app.redis_prefix);
    assert!(
        lines.iter().all(|line| line.starts_with(&prefix)),
        "{printed}"
    );
    let first: Value = serde_json::from_str(&lines[0][prefix.len()..]).expect("JSON");
    assert_eq!(first["after"]["on_hand"], 1);
}

/// `allot serve` as its own process over `app`'s database and Redis keys, publishing to
/// `nats_url`; answers once it is up.
pub(crate) async fn serve_process(app: &TestApp, nats_url: &str) -> (std::process::Child, TestApp) {
    serve_process_with(app, &[("NATS_URL", nats_url)]).await
}

/// `allot serve` as its own process over `app`'s database and Redis keys, with `env` on top.
pub(crate) async fn serve_process_with(
    app: &TestApp,
    env: &[(&str, &str)],
) -> (std::process::Child, TestApp) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_allot"))
        .arg("serve")
        .env("DATABASE_URL", &app.database_url)
        .env("REDIS_URL", &app.redis_url)
        .env("ALLOT_REDIS_CLUSTER", app.redis_cluster.join(","))
        .env("ALLOT_REDIS_PREFIX", &app.redis_prefix)
        .env("ALLOT_BIND", format!("127.0.0.1:{port}"))
        .env("NATS_URL", "")
        .envs(env.iter().copied())
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the allot binary runs");
    let process = TestApp {
        address: format!("http://127.0.0.1:{port}"),
        ..app.clone()
    };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (child, process);
        }
        actix_rt::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("allot serve did not start");
}

#[actix_web::test]
async fn a_service_killed_between_commit_and_publish_loses_no_event() {
    let nats = OwnNats::start();
    let app = spawn_app_tuned(|_| ()).await;
    chain(&app).await;
    // This process commits events but cannot publish them (its NATS is not there) …
    let (mut child, process) = serve_process(&app, "nats://127.0.0.1:9").await;
    receipts(&process, 4).await;
    // … and dies with them unpublished.
    child.kill().expect("kill -9");
    child.wait().expect("it is gone");
    let url = nats.url();
    let restarted = app
        .another_instance_tuned(|settings| settings.nats_url = url.clone())
        .await;
    let events = feed(&restarted, 6).await;
    assert_eq!(
        events.len(),
        6,
        "four receipts and the first crossing (S1's, the chain's) were committed"
    );
    let stream = app.redis_prefix.to_uppercase();
    assert_eq!(
        settled_count(&url, &stream, 6).await,
        6,
        "all reach NATS after the restart"
    );
}
