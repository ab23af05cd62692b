//! Access control from outside: every route × every role against the one table of rules,
//! location limits, sessions with their CSRF token, who did what, and no secret in clear.

use crate::helpers::{spawn_app, TestApp};
use allot::api::access::{Rule, RULES};
use allot::domain::access::{Principal, Role};
use awc::http::StatusCode;
use serde_json::{json, Value};

async fn chain(app: &TestApp) {
    app.store("S1", 25.03, 121.56).await;
    app.store("S2", 25.05, 121.52).await;
    app.warehouse("WH", 25.0, 121.3).await;
    app.sku("TEE").await;
    app.receive("S1", "TEE", 5).await;
    app.receive("WH", "TEE", 5).await;
}

/// A concrete path for a route pattern, with harmless values: changes that could run find
/// nothing to change (unknown ids), so the matrix leaves the chain as it was.
fn concrete(pattern: &str) -> String {
    pattern
        .replace(
            "/v1/holds/{id}",
            "/v1/holds/00000000-0000-4000-8000-000000000000",
        )
        .replace("/v1/keys/{id}", "/v1/keys/nosuchkey000")
        .replace("/v1/orders/{id}", "/v1/orders/NO-SUCH-ORDER")
        .replace("{id}", "999999")
        .replace("{sku}", "TEE")
        .replace("{code}", "S1")
        .replace("{name}", "nobody")
        .replace("{file}", "app.css")
}

/// Who the matrix calls as: each role (limited to S1 where the role is), plus the refused ones.
async fn callers(app: &TestApp) -> Vec<(String, TestApp, Option<Role>)> {
    let mut callers = Vec::new();
    for role in Role::ALL {
        let locations: &[&str] = match role {
            Role::Pos | Role::Clerk | Role::Warehouse => &["S1"],
            _ => &[],
        };
        let caller = app.as_role(role, locations).await;
        callers.push((role.as_str().to_owned(), caller, Some(role)));
    }
    callers.push(("no credential".into(), app.with_key(None), None));
    let revoked = app.as_role(Role::Admin, &[]).await;
    let id = key_id(revoked.key.as_deref().unwrap_or_default());
    let answer = app
        .request("DELETE", &format!("/v1/keys/{id}"), None, &[])
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    callers.push(("revoked".into(), revoked, None));
    let expired = app.as_role(Role::Admin, &[]).await;
    let id = key_id(expired.key.as_deref().unwrap_or_default());
    app.database()
        .await
        .execute(
            "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1",
            &[&id],
        )
        .await
        .expect("the key expires");
    callers.push(("expired".into(), expired, None));
    callers
}

/// A key's id: `allot_live_<id>_<secret>`.
fn key_id(key: &str) -> String {
    key.trim_start_matches("allot_live_")
        .split('_')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn expected(rule: Rule, role: Option<Role>) -> &'static str {
    match (rule, role) {
        (Rule::Public | Rule::Exposed, _) => "admitted",
        (_, None) => "401",
        (Rule::Authenticated, Some(_)) => "admitted",
        (Rule::Needs(scope), Some(role)) => {
            let principal = Principal {
                actor: allot::domain::access::Actor::Key("matrix".into()),
                role,
                locations: Vec::new(),
            };
            if principal.require(scope).is_ok() {
                "admitted"
            } else {
                "403"
            }
        }
    }
}

fn seen(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "401",
        StatusCode::FORBIDDEN => "403",
        _ => "admitted",
    }
}

#[actix_web::test]
async fn every_route_answers_every_role_as_the_table_says() {
    let app = spawn_app().await;
    chain(&app).await;
    let callers = callers(&app).await;
    let mut wrong = Vec::new();
    for (method, pattern, rule) in RULES {
        let path = concrete(pattern);
        let body = (*method != "GET" && *method != "DELETE").then(|| json!({}));
        for (name, caller, role) in &callers {
            // The matrix's own callers must not sign out of anything, nor revoke themselves.
            let answer = caller.request(method, &path, body.as_ref(), &[]).await;
            let (want, got) = (expected(*rule, *role), seen(answer.status));
            if want != got {
                wrong.push(format!(
                    "{method} {pattern} as {name}: {got}, want {want} ({})",
                    answer.status
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[actix_web::test]
async fn every_documented_route_has_a_rule_and_every_rule_a_route() {
    let app = spawn_app().await;
    let document = app.get("/openapi.json").await.body;
    let paths = document["paths"].as_object().expect("paths");
    let mut documented = Vec::new();
    for (path, operations) in paths {
        for method in operations.as_object().expect("operations").keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    for (method, path) in &documented {
        let ruled = RULES.iter().any(|(m, p, _)| m == method && p == path);
        assert!(
            ruled,
            "{method} {path} is documented but has no access rule"
        );
    }
    for (method, pattern, _) in RULES.iter().filter(|(_, p, _)| p.starts_with("/v1")) {
        let listed = documented.iter().any(|(m, p)| m == method && p == pattern);
        assert!(
            listed,
            "{method} {pattern} has a rule but is not documented"
        );
    }
}

#[actix_web::test]
async fn a_pos_key_records_sales_only_at_its_own_store() {
    let app = spawn_app().await;
    chain(&app).await;
    let pos = app.as_role(Role::Pos, &["S1"]).await;
    let at = |location: &str| {
        json!({"movements": [
        {"kind": "sale", "location": location, "sku": "TEE", "qty": 1}]})
    };
    let elsewhere = pos.post("/v1/movements", &at("S2")).await;
    assert_eq!(
        elsewhere.status,
        StatusCode::FORBIDDEN,
        "{:?}",
        elsewhere.body
    );
    assert_eq!(elsewhere.body["scope"], "write_inventory:S2");
    let mixed = json!({"movements": [
        {"kind": "sale", "location": "S1", "sku": "TEE", "qty": 1},
        {"kind": "sale", "location": "WH", "sku": "TEE", "qty": 1}]});
    assert_eq!(
        pos.post("/v1/movements", &mixed).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.balance("S1", "TEE").await["on_hand"],
        5,
        "nothing was booked"
    );
    let own = pos.post("/v1/movements", &at("S1")).await;
    assert_eq!(own.status, StatusCode::CREATED, "{:?}", own.body);
    let listed = app.get("/v1/movements?location=S1").await.body;
    let last = listed["items"]
        .as_array()
        .and_then(|items| items.last())
        .cloned();
    let key = pos.key.as_deref().map(key_id).unwrap_or_default();
    assert_eq!(
        last.unwrap_or_default()["actor"],
        format!("key:{key}"),
        "who did it"
    );
    let order = json!({"id": "POS-1", "lines": [{"sku": "TEE", "qty": 1}],
                       "fulfilment": {"mode": "pickup", "store": "S1"}});
    assert_eq!(
        pos.post("/v1/orders", &order).await.status,
        StatusCode::FORBIDDEN
    );
}

/// Creates a user through the admin API and signs them in; the client keeps the cookie.
async fn signed_in(app: &TestApp, name: &str, role: &str, locations: Value) -> Session {
    let password = "correct horse battery";
    let created = app
        .post(
            "/v1/users",
            &json!({"name": name, "password": password, "role": role, "locations": locations}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    Session::sign_in(app, name, password).await
}

/// A person's browser: the session cookie and the CSRF token the page got at sign-in.
struct Session {
    app: TestApp,
    cookie: String,
    csrf: String,
}

impl Session {
    async fn sign_in(app: &TestApp, name: &str, password: &str) -> Session {
        let anonymous = app.with_key(None);
        let answer = anonymous
            .post("/v1/session", &json!({"name": name, "password": password}))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        let set_cookie = answer
            .headers
            .get("set-cookie")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        for attribute in ["HttpOnly", "SameSite=Strict"] {
            assert!(set_cookie.contains(attribute), "{set_cookie}");
        }
        let cookie = set_cookie.split(';').next().unwrap_or_default().to_owned();
        Session {
            app: anonymous,
            cookie,
            csrf: answer.body["csrf_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> crate::helpers::Response {
        let headers = [
            ("Cookie", self.cookie.as_str()),
            ("X-CSRF-Token", self.csrf.as_str()),
        ];
        self.app.request(method, path, body, &headers).await
    }
}

#[actix_web::test]
async fn a_clerk_brings_stock_only_into_their_store_and_is_credited_themselves() {
    let app = spawn_app().await;
    chain(&app).await;
    let clerk = signed_in(&app, "mei", "clerk", json!(["S1"])).await;
    let me = clerk.send("GET", "/v1/session", None).await;
    assert_eq!(
        (me.body["name"].as_str(), me.body["locations"][0].as_str()),
        (Some("mei"), Some("S1"))
    );
    let into = |to: &str| json!({"sku": "TEE", "qty": 1, "to": to, "from": "WH"});
    let other = clerk.send("POST", "/v1/transfers", Some(&into("S2"))).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "{:?}", other.body);
    assert_eq!(other.body["scope"], "request_transfers:S2");
    let own = clerk.send("POST", "/v1/transfers", Some(&into("S1"))).await;
    assert_eq!(own.status, StatusCode::CREATED, "{:?}", own.body);
    assert_eq!(own.body["transfers"][0]["requested_by"], "user:mei");
    let order = |referrer: Value| {
        json!({"id": format!("C-{}", referrer["clerk"].as_str().unwrap_or("self")),
        "lines": [{"sku": "TEE", "qty": 1}],
        "fulfilment": {"mode": "ship", "latitude": 25.04, "longitude": 121.55},
        "referrer": referrer})
    };
    let someone_else = json!({"store": "S1", "clerk": "kai", "served_at": "2026-11-30T10:00:00Z"});
    let credited_away = clerk
        .send("POST", "/v1/orders", Some(&order(someone_else)))
        .await;
    assert_eq!(
        credited_away.status,
        StatusCode::FORBIDDEN,
        "{:?}",
        credited_away.body
    );
    let plain = json!({"id": "C-own", "lines": [{"sku": "TEE", "qty": 1}],
        "fulfilment": {"mode": "ship", "latitude": 25.04, "longitude": 121.55}});
    let placed = clerk.send("POST", "/v1/orders", Some(&plain)).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.body);
    assert_eq!(
        placed.body["referrer"]["clerk"], "mei",
        "the credential, not the body"
    );
    assert_eq!(placed.body["referrer"]["store"], "S1");
    assert_eq!(placed.body["placed_by"], "user:mei");
    let window = |hours: i64| {
        (chrono::Utc::now() + chrono::Duration::hours(hours))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let report = app
        .get(&format!(
            "/v1/reports/attribution?from={}&to={}",
            window(-1),
            window(1)
        ))
        .await;
    assert_eq!(report.body["rows"][0]["clerk"], "mei", "{:?}", report.body);
}

#[actix_web::test]
async fn a_session_changes_nothing_without_its_csrf_token_or_from_another_site() {
    let app = spawn_app().await;
    chain(&app).await;
    let clerk = signed_in(&app, "mei", "clerk", json!(["S1"])).await;
    let transfer = json!({"sku": "TEE", "qty": 1, "to": "S1", "from": "WH"});
    let cookie_only = [("Cookie", clerk.cookie.as_str())];
    let forged = clerk
        .app
        .request("POST", "/v1/transfers", Some(&transfer), &cookie_only)
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{:?}", forged.body);
    let cross_site = [
        ("Cookie", clerk.cookie.as_str()),
        ("X-CSRF-Token", clerk.csrf.as_str()),
        ("Origin", "http://evil.example:9999"),
    ];
    let from_elsewhere = clerk
        .app
        .request("POST", "/v1/transfers", Some(&transfer), &cross_site)
        .await;
    assert_eq!(
        from_elsewhere.status,
        StatusCode::FORBIDDEN,
        "{:?}",
        from_elsewhere.body
    );
    assert_eq!(
        app.get("/v1/transfers").await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    let bare = [
        ("Cookie", clerk.cookie.as_str()),
        ("X-CSRF-Token", clerk.csrf.as_str()),
    ];
    let form = clerk
        .app
        .request("POST", "/v1/orders/X/cancel", None, &bare)
        .await;
    assert_eq!(
        form.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{:?}",
        form.body
    );
    let out = clerk.send("DELETE", "/v1/session", None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let after = clerk.send("GET", "/v1/session", None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "signed out at once");
}

#[actix_web::test]
async fn keys_are_shown_once_listed_without_secrets_and_revoked_at_once() {
    let app = spawn_app().await;
    chain(&app).await;
    let created = app
        .post(
            "/v1/keys",
            &json!({"role": "eshop", "label": "web shop", "expires_at": "2099-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let key = created.body["key"].as_str().unwrap_or_default().to_owned();
    assert!(key.starts_with("allot_live_"), "{key}");
    let eshop = app.with_key(Some(key.clone()));
    assert_eq!(eshop.get("/v1/stock/TEE").await.status, StatusCode::OK);
    let listed = app.get("/v1/keys").await.body;
    assert!(
        !listed.to_string().contains(&key),
        "a listing never shows a secret"
    );
    let entry = listed
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["label"] == "web shop").cloned())
        .unwrap_or_default();
    assert!(entry["last_used_at"].is_string(), "{entry}");
    let id = entry["id"].as_str().unwrap_or_default();
    assert_eq!(
        app.request("DELETE", &format!("/v1/keys/{id}"), None, &[])
            .await
            .status,
        StatusCode::OK
    );
    let refused = eshop.get("/v1/stock/TEE").await;
    assert_eq!(
        refused.status,
        StatusCode::UNAUTHORIZED,
        "{:?}",
        refused.body
    );
    assert!(refused.headers.contains_key("www-authenticate"));
    let bad = app
        .with_key(Some("allot_live_nope".into()))
        .get("/v1/stock/TEE")
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let invalid = app
        .post("/v1/keys", &json!({"role": "clerk", "locations": []}))
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.body["field"], "locations");
}

#[actix_web::test]
async fn the_database_holds_no_key_or_password_in_clear() {
    let app = spawn_app().await;
    chain(&app).await;
    let created = app.post("/v1/keys", &json!({"role": "planner"})).await;
    let key = created.body["key"].as_str().unwrap_or_default().to_owned();
    signed_in(&app, "ana", "planner", json!([])).await;
    let database = app.database().await;
    let mut stored = String::new();
    for table in ["api_keys", "users", "sessions"] {
        for row in database
            .query(&format!("SELECT t::text FROM {table} t"), &[])
            .await
            .expect("the table reads")
        {
            stored.push_str(row.get::<_, &str>(0));
        }
    }
    let secret = key.rsplit('_').next().unwrap_or_default();
    assert!(
        secret.len() >= 40 && !stored.contains(secret),
        "no key in clear"
    );
    assert!(
        !stored.contains("correct horse battery"),
        "no password in clear"
    );
    assert!(
        stored.contains("$argon2id$"),
        "passwords are argon2id hashes"
    );
}

#[actix_web::test]
async fn metrics_are_open_on_loopback_and_cross_site_preflights_get_no_cors() {
    let app = spawn_app().await;
    let metrics = app.with_key(None).get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    let preflight = app
        .with_key(None)
        .request(
            "OPTIONS",
            "/v1/movements",
            None,
            &[
                ("Origin", "http://evil.example"),
                ("Access-Control-Request-Method", "POST"),
            ],
        )
        .await;
    assert!(
        !preflight
            .headers
            .contains_key("access-control-allow-origin"),
        "{:?}",
        preflight.headers
    );
}

#[actix_web::test]
async fn the_document_states_what_the_edge_answers_before_any_handler() {
    let app = spawn_app().await;
    let document = app.get("/openapi.json").await.body;
    for (method, pattern, rule) in RULES.iter().filter(|(_, p, _)| p.starts_with("/v1")) {
        let responses = &document["paths"][pattern][method.to_lowercase()]["responses"];
        if matches!(rule, Rule::Needs(_)) {
            for status in ["401", "403"] {
                assert!(
                    responses.get(status).is_some(),
                    "{method} {pattern} lacks {status}"
                );
            }
        }
        if matches!(*method, "POST" | "PUT") {
            assert!(
                responses.get("415").is_some(),
                "{method} {pattern} lacks 415"
            );
        }
    }
    for path in ["/v1/holds", "/v1/orders"] {
        assert!(
            document["paths"][path]["post"]["responses"]
                .get("429")
                .is_some(),
            "{path}"
        );
    }
    let public = &document["paths"]["/health"]["get"]["security"];
    assert_eq!(public, &json!([{}]), "open routes need no credential");
}

#[actix_web::test]
async fn metrics_can_be_kept_for_credentials_with_read_metrics() {
    let app = crate::helpers::spawn_app_tuned(|settings| {
        settings.metrics_access = allot::api::access::Exposure::Credential;
    })
    .await;
    let anonymous = app.with_key(None).get("/metrics").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let planner = app.as_role(Role::Planner, &[]).await;
    assert_eq!(planner.get("/metrics").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/metrics").await.status,
        StatusCode::OK,
        "the admin reads them"
    );
}

/// Runs the `allot` binary against `app`'s database; its stdout.
pub(crate) fn allot(app: &TestApp, args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_allot"))
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("REDIS_URL", &app.redis_url)
        .env("ALLOT_REDIS_PREFIX", &app.redis_prefix)
        .env("RUST_LOG", "error")
        .output()
        .expect("the allot binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[actix_web::test]
async fn the_cli_creates_a_key_alone_on_its_last_line_lists_and_revokes_it() {
    let app = spawn_app().await;
    chain(&app).await;
    let created = allot(
        &app,
        &["keys", "create", "--role", "pos", "--location", "S1"],
    );
    let key = created.lines().last().unwrap_or_default().to_owned();
    let pos = app.with_key(Some(key.clone()));
    let sale = json!({"movements": [{"kind": "sale", "location": "S1", "sku": "TEE", "qty": 1}]});
    assert_eq!(
        pos.post("/v1/movements", &sale).await.status,
        StatusCode::CREATED
    );
    let id = key_id(&key);
    let listed = allot(&app, &["keys", "list"]);
    assert!(
        listed.contains(&id) && !listed.contains(&key),
        "listed, never in clear: {listed}"
    );
    allot(&app, &["keys", "revoke", &id]);
    // Another process revoked it: this one stops trusting its cached check within the TTL.
    let bound = allot::app::access::CREDENTIAL_CACHE_TTL + std::time::Duration::from_secs(2);
    let revoked_at = std::time::Instant::now();
    loop {
        let answer = pos.post("/v1/movements", &sale).await.status;
        if answer == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(
            answer,
            StatusCode::CREATED,
            "until then the key still works"
        );
        assert!(
            revoked_at.elapsed() < bound,
            "still accepted after {bound:?}"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}
