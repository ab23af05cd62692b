//! Webhooks end to end: a receiver the test starts, signed deliveries of every event in feed
//! order, retries through 500s and timeouts, rotation, disabling and redelivery.

use crate::helpers::{spawn_app_tuned, TestApp};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use awc::http::StatusCode;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::Duration;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// How the receiver answers: 200, 500, or 200 only after longer than the service waits.
const ACCEPT: u8 = 0;
const FAIL: u8 = 1;
const STALL: u8 = 2;

#[derive(Default)]
struct Received {
    mode: AtomicU8,
    /// Accepted deliveries: the headers to verify with and the body as sent.
    accepted: Mutex<Vec<(http::HeaderMap, web::Bytes)>>,
}

async fn receive(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<Received>,
) -> HttpResponse {
    match state.mode.load(Ordering::SeqCst) {
        FAIL => return HttpResponse::InternalServerError().finish(),
        STALL => tokio::time::sleep(Duration::from_secs(1)).await,
        _ => {}
    }
    let mut headers = http::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        if let Some(value) = request.headers().get(name) {
            let value = http::HeaderValue::from_bytes(value.as_bytes()).expect("a header");
            headers.insert(name, value);
        }
    }
    state.accepted.lock().expect("lock").push((headers, body));
    HttpResponse::NoContent().finish()
}

/// Starts the receiver on a free port; its URL and what it saw.
fn receiver() -> (String, web::Data<Received>) {
    let state = web::Data::new(Received::default());
    let shared = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(shared.clone())
            .default_service(web::to(receive))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("a free port");
    let port = server.addrs()[0].port();
    actix_rt::spawn(server.run());
    (format!("http://127.0.0.1:{port}/hooks"), state)
}

async fn chain(app: &TestApp) {
    app.store("S1", 25.03, 121.56).await;
    app.store("S2", 25.05, 121.54).await;
    app.sku("TEE").await;
    app.sku("CAP").await;
}

fn tuned(settings: &mut allot::config::Settings) {
    settings.webhook_timeout_ms = 300;
    settings.webhook_retry_base_ms = 50;
}

async fn subscribe(app: &TestApp, body: Value) -> Value {
    let created = app.post("/v1/webhooks", &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    created.body
}

/// Waits until `done` holds of the subscription's state (or 20 s pass).
async fn until(app: &TestApp, id: i64, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let webhook = app.get(&format!("/v1/webhooks/{id}")).await.body;
        if done(&webhook) {
            return webhook;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("webhook {id} did not get there");
}

/// Every event of the feed, in order, once the relay has numbered every committed one.
async fn feed(app: &TestApp) -> Vec<Value> {
    let db = app.database().await;
    for _ in 0..100 {
        let unnumbered: i64 = db
            .query_one(
                "SELECT count(*) FROM stock_events WHERE position IS NULL",
                &[],
            )
            .await
            .expect("count")
            .get(0);
        if unnumbered == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let page = app.get("/v1/events?after=0&limit=1000").await;
    page.body["events"].as_array().cloned().unwrap_or_default()
}

/// The events the receiver accepted, each once (consumers drop duplicates by id), in order.
fn accepted_events(state: &Received, secrets: &[&str]) -> Vec<Value> {
    let accepted = state.accepted.lock().expect("lock");
    let mut events: Vec<Value> = Vec::new();
    for (headers, raw) in accepted.iter() {
        // Verified as a consumer would, with each secret it was given.
        let verified = secrets.iter().all(|secret| {
            let verifier = standardwebhooks::Webhook::new(secret).expect("a secret");
            verifier.verify(raw, headers).is_ok()
        });
        let body: Value = serde_json::from_slice(raw).expect("a JSON body");
        assert!(verified, "signed with every secret in force: {headers:?}");
        assert_eq!(body["type"], "stock.events");
        for event in body["data"]["events"].as_array().expect("events") {
            if !events.iter().any(|seen| seen["id"] == event["id"]) {
                events.push(event.clone());
            }
        }
    }
    events
}

#[actix_rt::test]
async fn deliveries_are_signed_in_feed_order_and_outlast_500s_and_timeouts() {
    let app = spawn_app_tuned(tuned).await;
    let _second = app.another_instance_tuned(tuned).await;
    chain(&app).await;
    let (url, state) = receiver();
    state.mode.store(FAIL, Ordering::SeqCst);
    let kinds = ["availability_changed", "out_of_stock", "back_in_stock"];
    let webhook = subscribe(&app, json!({"url": url, "events": kinds, "secret": SECRET})).await;
    assert_eq!(webhook["secret"], SECRET);
    let id = webhook["id"].as_i64().expect("id");
    app.receive("S1", "TEE", 5).await;
    app.movements(json!([{"kind": "sale", "location": "S1", "sku": "TEE", "qty": 5}]))
        .await;
    app.receive("S2", "CAP", 3).await;

    let failing = until(&app, id, |w| w["attempts"].as_i64() >= Some(3)).await;
    assert!(failing["failing_since"].is_string(), "{failing}");
    state.mode.store(STALL, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    state.mode.store(ACCEPT, Ordering::SeqCst);
    let feed = feed(&app).await;
    let last = feed.last().expect("events")["position"].as_i64();
    let caught_up = until(&app, id, |w| w["position"].as_i64() == last).await;
    assert_eq!(caught_up["attempts"], 0, "{caught_up}");
    assert!(caught_up["failing_since"].is_null());

    let log = app
        .get(&format!("/v1/webhooks/{id}/deliveries?limit=1000"))
        .await
        .body;
    let attempts = log["deliveries"].as_array().expect("log");
    assert!(attempts.iter().any(|a| a["status_code"] == 500), "{log}");
    assert!(attempts.iter().any(|a| a["error"] == "timed out"), "{log}");
    assert_eq!(attempts[0]["succeeded"], true, "{log}");
    let first = &attempts[attempts.len() - 1];
    let retried: Vec<&Value> = attempts
        .iter()
        .filter(|a| a["message_id"] == first["message_id"])
        .collect();
    assert!(
        retried.len() > 1,
        "a failed batch goes again under its message id"
    );
    assert!(
        retried.iter().all(|a| a["events"] == first["events"]),
        "and with the same events"
    );

    let delivered = accepted_events(&state, &[SECRET]);
    assert_eq!(
        delivered, feed,
        "every event once, none invented, in feed order"
    );
    assert!(feed.iter().any(|e| e["kind"] == "out_of_stock"));
}

#[actix_rt::test]
async fn a_filtered_subscription_gets_its_sku_only_signed_with_both_secrets_after_rotation() {
    let app = spawn_app_tuned(tuned).await;
    chain(&app).await;
    let (url, state) = receiver();
    let body =
        json!({"url": url, "events": ["availability_changed"], "secret": SECRET, "sku": "CAP"});
    let id = subscribe(&app, body).await["id"].as_i64().expect("id");
    let rotated = app
        .post(
            &format!("/v1/webhooks/{id}/secret"),
            &json!({"secret": OTHER_SECRET}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{:?}", rotated.body);
    app.receive("S1", "TEE", 2).await;
    app.receive("S1", "CAP", 4).await;
    let caps: Vec<Value> = feed(&app)
        .await
        .into_iter()
        .filter(|e| e["sku"] == "CAP" && e["kind"] == "availability_changed")
        .collect();
    let last = caps.last().expect("a CAP event")["position"].as_i64();
    until(&app, id, |w| w["position"].as_i64() >= last).await;
    let delivered = accepted_events(&state, &[SECRET, OTHER_SECRET]);
    assert_eq!(delivered, caps, "only CAP's events");
    let generated = app
        .post(&format!("/v1/webhooks/{id}/secret"), &json!({}))
        .await;
    assert!(generated.body["secret"]
        .as_str()
        .is_some_and(|s| s.starts_with("whsec_")));
}

#[actix_rt::test]
async fn a_subscription_failing_too_long_is_disabled_until_redelivered() {
    let app = spawn_app_tuned(|settings| {
        tuned(settings);
        settings.webhook_disable_after_s = 1;
    })
    .await;
    chain(&app).await;
    let (url, state) = receiver();
    state.mode.store(FAIL, Ordering::SeqCst);
    let id = subscribe(
        &app,
        json!({"url": url, "events": ["availability_changed"]}),
    )
    .await["id"]
        .as_i64()
        .expect("id");
    app.receive("S1", "TEE", 1).await;
    let disabled = until(&app, id, |w| w["status"] == "disabled").await;
    assert!(disabled["attempts"].as_i64() > Some(1), "{disabled}");
    state.mode.store(ACCEPT, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        state.accepted.lock().expect("lock").is_empty(),
        "a disabled one gets nothing"
    );
    let again = app
        .post(
            &format!("/v1/webhooks/{id}/redeliver"),
            &json!({"from_position": 0}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(again.body["status"], "enabled");
    let last = feed(&app).await.last().expect("an event")["position"].as_i64();
    until(&app, id, |w| w["position"].as_i64() == last).await;
    assert!(!state.accepted.lock().expect("lock").is_empty());
    assert_eq!(
        app.request("DELETE", &format!("/v1/webhooks/{id}"), None, &[])
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/v1/webhooks/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_rt::test]
async fn bad_subscriptions_name_their_field_and_only_admins_subscribe() {
    let app = spawn_app_tuned(tuned).await;
    chain(&app).await;
    let good = json!({"url": "http://127.0.0.1:9/hooks", "events": ["low_stock"]});
    for (change, field) in [
        (json!({"url": "ftp://x/"}), "url"),
        (json!({"events": ["sold"]}), "events[0]"),
        (json!({"events": []}), "events"),
        (json!({"secret": "hunter2"}), "secret"),
        (json!({"sku": "NOPE"}), "sku"),
        (json!({"location": "NOWHERE"}), "location"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let mut body = good.clone();
        for (key, value) in change.as_object().expect("an object") {
            body[key] = value.clone();
        }
        let refused = app.post("/v1/webhooks", &body).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            refused.body
        );
        assert_eq!(refused.body["field"], field, "{body}");
    }
    let webhooks = app.get("/v1/webhooks").await.body;
    assert_eq!(webhooks["webhooks"], json!([]), "nothing was made");
    let planner = app.as_role(allot::domain::access::Role::Planner, &[]).await;
    assert_eq!(
        planner.post("/v1/webhooks", &good).await.status,
        StatusCode::FORBIDDEN
    );
    let bad = app
        .post("/v1/webhooks/1/redeliver", &json!({"from_position": -1}))
        .await;
    assert_eq!(bad.body["field"], "from_position");
}
