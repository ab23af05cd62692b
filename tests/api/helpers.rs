use allot::config::Settings;
use allot::domain::access::{Principal, Role};
use allot::domain::codes::LocationCode;
use allot::startup::Application;
use awc::http::StatusCode;
use serde_json::{json, Value};
use tokio_postgres::NoTls;
use uuid::Uuid;

pub fn server_url() -> String {
    std::env::var("ALLOT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

#[derive(Clone)]
pub struct TestApp {
    pub address: String,
    pub database_url: String,
    pub redis_url: String,
    pub redis_prefix: String,
    pub client: awc::Client,
    /// Sent as `Authorization: Bearer` unless a request sets its own (an admin key by default).
    pub key: Option<String>,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: awc::http::header::HeaderMap,
    pub body: Value,
}

/// Starts the service on a free port over a new database named for this test.
pub async fn spawn_app() -> TestApp {
    let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    spawn_app_with_redis(&redis_url).await
}

/// A Redis server of the test's own, which it may flush, stop and start again.
pub struct OwnRedis {
    pub port: u16,
    child: Option<std::process::Child>,
}

impl OwnRedis {
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Self { port, child: None };
        redis.restart();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn restart(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed (make test installs it)");
        self.child = Some(child);
        let client = redis::Client::open(self.url()).expect("a Redis URL");
        for _ in 0..100 {
            if client.get_connection().is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Redis holds every write command (scripts included) for `how_long`, answering reads.
    pub fn pause_writes(&self, how_long: std::time::Duration) {
        self.command(
            redis::cmd("CLIENT")
                .arg("PAUSE")
                .arg(how_long.as_millis() as u64)
                .arg("WRITE"),
        );
    }

    /// Disconnects every other client, dropping the commands the pause held, then resumes.
    pub fn drop_held_writes(&self) {
        self.command(
            redis::cmd("CLIENT")
                .arg("KILL")
                .arg("TYPE")
                .arg("normal")
                .arg("SKIPME")
                .arg("yes"),
        );
        self.command(redis::cmd("CLIENT").arg("UNPAUSE"));
    }

    fn command(&self, command: &mut redis::Cmd) {
        let client = redis::Client::open(self.url()).expect("a Redis URL");
        let mut connection = client.get_connection().expect("Redis is up");
        command.exec(&mut connection).expect("a Redis command");
    }

    pub fn flushall(&self) {
        self.command(&mut redis::cmd("FLUSHALL"));
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A NATS server (with JetStream, its store in a folder of its own) the test may stop and
/// start again; what JetStream stored survives a restart.
pub struct OwnNats {
    pub port: u16,
    store: std::path::PathBuf,
    child: Option<std::process::Child>,
}

impl OwnNats {
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let store = std::env::temp_dir().join(format!("allot-nats-{}", Uuid::new_v4().simple()));
        let mut nats = Self {
            port,
            store,
            child: None,
        };
        nats.restart();
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn restart(&mut self) {
        let child = std::process::Command::new("nats-server")
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.store)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server is installed (make test installs it)");
        self.child = Some(child);
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("nats-server did not start on port {}", self.port);
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

pub async fn spawn_app_with_redis(redis_url: &str) -> TestApp {
    spawn_tuned(redis_url, |_| ()).await
}

/// Starts the service with settings of the test's own (limits it wants to reach quickly).
pub async fn spawn_app_tuned(tune: impl FnOnce(&mut Settings)) -> TestApp {
    let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    spawn_tuned(&redis_url, tune).await
}

async fn spawn_tuned(redis_url: &str, tune: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        allot::telemetry::init();
    }
    let database = format!("allot_test_{}", Uuid::new_v4().simple());
    let (admin, connection) = tokio_postgres::connect(&format!("{}/postgres", server_url()), NoTls)
        .await
        .expect("PostgreSQL is running on 127.0.0.1:5432 (see README)");
    tokio::spawn(connection);
    admin
        .execute(&format!("CREATE DATABASE {database}"), &[])
        .await
        .expect("create the test database");
    let database_url = format!("{}/{database}", server_url());
    let prefix = format!("test-{}", Uuid::new_v4().simple());
    let mut settings = test_settings(&database_url, redis_url, &prefix, 8);
    tune(&mut settings);
    serve(settings).await
}

async fn start(database_url: &str, redis_url: &str, redis_prefix: &str) -> TestApp {
    start_with_pool(database_url, redis_url, redis_prefix, 8).await
}

async fn start_with_pool(
    database_url: &str,
    redis_url: &str,
    redis_prefix: &str,
    db_pool_size: usize,
) -> TestApp {
    serve(test_settings(
        database_url,
        redis_url,
        redis_prefix,
        db_pool_size,
    ))
    .await
}

async fn serve(settings: Settings) -> TestApp {
    let application = Application::build(&settings).await.expect("the app starts");
    let key = create_key(&settings, Role::Admin, &[]).await;
    let address = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        database_url: settings.database_url,
        redis_url: settings.redis_url,
        redis_prefix: settings.redis_prefix,
        client: awc::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .finish(),
        key: Some(key),
    }
}

pub fn test_settings(
    database_url: &str,
    redis_url: &str,
    redis_prefix: &str,
    db_pool_size: usize,
) -> Settings {
    Settings {
        database_url: database_url.to_owned(),
        redis_url: redis_url.to_owned(),
        redis_prefix: redis_prefix.to_owned(),
        bind: "127.0.0.1:0".parse().expect("a valid address"),
        db_pool_size,
        stock_cache_rows: 100_000,
        metrics_access: allot::api::access::Exposure::Loopback,
        cors_origins: Vec::new(),
        rate_per_s: std::num::NonZeroU32::new(100_000).expect("not zero"),
        rate_burst: None,
        live_holds_max: allot::domain::hold::LIVE_HOLDS_PER_CREDENTIAL_DEFAULT,
        hold_lifetime_s: allot::domain::hold::HOLD_LIFETIME_S_DEFAULT,
        // Tests that publish to NATS name their own subjects and stream.
        nats_url: String::new(),
        nats_prefix: redis_prefix.to_owned(),
        nats_stream: redis_prefix.to_uppercase(),
        events_retention_s: 7 * 24 * 3600,
        statement_timeout_ms: 5_000,
        planning_statement_timeout_ms: 600_000,
        idempotency_retention_s: 7 * 24 * 3600,
        solves_max: allot::app::SOLVES_MAX_DEFAULT,
        solve_wait_ms: allot::app::SOLVE_WAIT_MS_DEFAULT,
        rebalance_at: None,
        webhook_timeout_ms: 10_000,
        webhook_retry_base_ms: 5_000,
        webhook_disable_after_s: 24 * 3600,
        chain_low_stock_below: 0,
        replenish_at: None,
        solve_cells_max: allot::app::SOLVE_CELLS_MAX_DEFAULT,
        workers: Some(2),
    }
}

/// A new API key of `role`, made as the CLI makes one.
pub async fn create_key(settings: &Settings, role: Role, locations: &[&str]) -> String {
    let app = allot::app::App::open(settings, 1)
        .await
        .expect("the app opens");
    let request = allot::app::access::KeyRequest {
        role,
        locations: locations
            .iter()
            .map(|code| LocationCode::parse("location", code).expect("a code"))
            .collect(),
        label: None,
        expires_at: None,
    };
    allot::app::access::create_key(&app, &Principal::system("test"), request)
        .await
        .expect("the key is created")
        .key
}

impl TestApp {
    /// The `Authorization` header this app's requests carry.
    pub fn bearer(&self) -> (&'static str, String) {
        let key = self.key.as_deref().unwrap_or_default();
        ("Authorization", format!("Bearer {key}"))
    }

    /// The same service, called with another credential (`None`: none at all).
    pub fn with_key(&self, key: Option<String>) -> TestApp {
        TestApp {
            key,
            ..self.clone()
        }
    }

    /// The same service, called with a new key of `role` limited to `locations`.
    pub async fn as_role(&self, role: Role, locations: &[&str]) -> TestApp {
        let settings = test_settings(&self.database_url, &self.redis_url, &self.redis_prefix, 1);
        self.with_key(Some(create_key(&settings, role, locations).await))
    }

    /// A second service process over the same database and Redis keys, as in a deployment
    /// with several instances.
    pub async fn another_instance(&self) -> TestApp {
        start(&self.database_url, &self.redis_url, &self.redis_prefix).await
    }

    /// Another instance with settings of the test's own (its NATS, say).
    pub async fn another_instance_tuned(&self, tune: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings =
            test_settings(&self.database_url, &self.redis_url, &self.redis_prefix, 8);
        tune(&mut settings);
        serve(settings).await
    }

    /// Another instance whose pool has `size` connections: with one, a request that needs a
    /// second connection while it holds the first waits for itself until the pool times out.
    pub async fn another_instance_with_pool(&self, size: usize) -> TestApp {
        start_with_pool(
            &self.database_url,
            &self.redis_url,
            &self.redis_prefix,
            size,
        )
        .await
    }

    pub async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Response {
        let method = awc::http::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        let own_authorization = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("authorization"));
        if let (Some(key), false) = (&self.key, own_authorization) {
            request = request.insert_header(("Authorization", format!("Bearer {key}")));
        }
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        let mut response = match body {
            Some(body) => request.send_json(body).await,
            None => request.send().await,
        }
        .expect("the request is answered");
        let bytes = response
            .body()
            .limit(64 * 1024 * 1024)
            .await
            .expect("a body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Response {
            status: response.status(),
            headers: response.headers().clone(),
            body,
        }
    }

    /// A POST that may find no server (it is shutting down): its status, or `None`.
    pub async fn try_post(&self, path: &str, body: &Value) -> Option<awc::http::StatusCode> {
        let mut request = self.client.post(format!("{}{path}", self.address));
        if let Some(key) = &self.key {
            request = request.insert_header(("Authorization", format!("Bearer {key}")));
        }
        let mut response = request.send_json(body).await.ok()?;
        // A status without its body is no answer: the body is the order.
        response.body().await.ok()?;
        Some(response.status())
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request("GET", path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.request("POST", path, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.request("PUT", path, Some(body), &[]).await
    }

    pub async fn store(&self, code: &str, latitude: f64, longitude: f64) {
        let response = self
            .put(
                &format!("/v1/locations/{code}"),
                &json!({"name": format!("Store {code}"), "kind": "store", "latitude": latitude,
                        "longitude": longitude, "pickup": true, "ship": true}),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
    }

    pub async fn warehouse(&self, code: &str, latitude: f64, longitude: f64) {
        let response = self
            .put(
                &format!("/v1/locations/{code}"),
                &json!({"name": format!("Warehouse {code}"), "kind": "warehouse",
                        "latitude": latitude, "longitude": longitude, "pickup": false, "ship": true}),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
    }

    pub async fn sku(&self, code: &str) {
        let response = self
            .put(
                &format!("/v1/skus/{code}"),
                &json!({"name": format!("Item {code}")}),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
    }

    /// Records movements and insists they were accepted.
    pub async fn movements(&self, movements: Value) -> Value {
        let response = self
            .post("/v1/movements", &json!({ "movements": movements }))
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
        response.body
    }

    pub async fn receive(&self, location: &str, sku: &str, qty: i64) {
        self.movements(json!([{"kind": "receipt", "location": location, "sku": sku, "qty": qty}]))
            .await;
    }

    /// The figures of one (location, SKU) from the clerk lookup; zeros when it is not listed.
    pub async fn balance(&self, location: &str, sku: &str) -> Value {
        let response = self.get(&format!("/v1/stock/{sku}")).await;
        assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
        response.body["locations"]
            .as_array()
            .and_then(|rows| rows.iter().find(|row| row["location"] == location).cloned())
            .unwrap_or_else(
                || json!({"on_hand": 0, "allocated": 0, "in_transit": 0, "available": 0}),
            )
    }

    pub fn redis_connection(&self) -> redis::Connection {
        redis::Client::open(self.redis_url.as_str())
            .and_then(|client| client.get_connection())
            .expect("Redis is running")
    }

    /// A key of this app's, written with `%` for its prefix.
    pub fn redis_key(&self, pattern: &str) -> String {
        pattern.replace('%', &self.redis_prefix)
    }

    pub async fn database(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.database_url, NoTls)
            .await
            .expect("connect to the test database");
        tokio::spawn(connection);
        client
    }

    /// The ledger's own audit must find nothing: balances equal the fold of movements.
    pub async fn assert_ledger_consistent(&self) {
        let pool = allot::ledger::pool(&self.database_url, 1, std::time::Duration::from_secs(60))
            .expect("a pool");
        let client = pool.get().await.expect("a connection");
        let violations = allot::ledger::stock::invariant_violations(&client)
            .await
            .expect("the audit runs");
        assert!(violations.is_empty(), "{violations:#?}");
    }
}
