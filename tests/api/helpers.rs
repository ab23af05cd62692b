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
    /// The Redis Cluster's seed nodes when holds live on one (else `redis_url`'s server).
    pub redis_cluster: Vec<String>,
    pub client: awc::Client,
    /// Sent as `Authorization: Bearer` unless a request sets its own (an admin key by default).
    pub key: Option<String>,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: awc::http::header::HeaderMap,
    pub body: Value,
}

/// Starts the service on a free port over a new database named for this test. With
/// `ALLOT_TEST_ON_CLUSTER` set, its holds live on a Redis Cluster this test process starts
/// (once, for all its tests) instead: `make test` runs the hold, order and lookup tests so too.
pub async fn spawn_app() -> TestApp {
    if std::env::var_os("ALLOT_TEST_ON_CLUSTER").is_some() {
        return spawn_app_on_cluster(shared_cluster()).await;
    }
    let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    spawn_app_with_redis(&redis_url).await
}

/// Starts the service with its holds on the Redis Cluster of `nodes`.
pub async fn spawn_app_on_cluster(nodes: &[String]) -> TestApp {
    let nodes = nodes.to_vec();
    spawn_app_tuned(move |settings| settings.redis_cluster = nodes).await
}

/// The seed nodes of a 3-master Redis Cluster shared by this process's tests (each has its own
/// key prefix). Started by a thread that lives as long as the process, and its servers die
/// with the process (see [`OwnCluster`]).
pub fn shared_cluster() -> &'static [String] {
    static NODES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NODES.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let cluster = OwnCluster::start(3, 0);
            let _ = sender.send(cluster.nodes());
            loop {
                std::thread::park();
            }
        });
        receiver.recv().expect("the Redis Cluster starts")
    })
}

/// A Redis Cluster of the test's own on loopback ports: `masters` masters with `replicas`
/// replicas each, joined by `redis-cli --cluster create`. Its servers are killed when it is
/// dropped, and by the kernel when the thread that started them ends (a test that panics, or
/// the process exiting), so none outlives the test run.
pub struct OwnCluster {
    pub ports: Vec<u16>,
    dir: std::path::PathBuf,
    children: Vec<(u16, std::process::Child)>,
}

/// A port whose cluster bus port (port + 10,000) is free too.
fn free_cluster_port() -> u16 {
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let bus_free =
            port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok();
        if bus_free {
            return port;
        }
    }
}

impl OwnCluster {
    pub fn start(masters: usize, replicas: usize) -> Self {
        let dir = std::env::temp_dir().join(format!("allot-cluster-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a folder for the cluster");
        let mut cluster = Self {
            ports: (0..masters * (1 + replicas))
                .map(|_| free_cluster_port())
                .collect(),
            dir,
            children: Vec::new(),
        };
        for port in cluster.ports.clone() {
            cluster.spawn(port);
        }
        let status = std::process::Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(cluster.nodes())
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("redis-cli is installed (make test installs it)");
        assert!(status.success(), "redis-cli --cluster create failed");
        cluster.wait_until_ok();
        cluster
    }

    fn spawn(&mut self, port: u16) {
        // A folder per node: a replica's sync file, and no stray dump.rdb, are its own.
        let dir = self.dir.join(port.to_string());
        std::fs::create_dir_all(&dir).expect("a folder for the node");
        let mut command = std::process::Command::new("redis-server");
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "1000"])
            .args(["--cluster-replica-validity-factor", "0"])
            .args(["--cluster-require-full-coverage", "no"])
            // A replica's first sync starts at once, not after the default 5 s wait.
            .args(["--repl-diskless-sync-delay", "0"])
            .args(["--cluster-config-file", "nodes.conf", "--dir"])
            .arg(&dir)
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null());
        // SAFETY: prctl only, between fork and exec.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command
            .spawn()
            .expect("redis-server is installed (make test installs it)");
        self.children.push((port, child));
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("redis-server did not start on port {port}");
    }

    pub fn nodes(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect()
    }

    /// What `command` answers on the node at `port`.
    pub fn ask(&self, port: u16, command: &mut redis::Cmd) -> redis::RedisResult<redis::Value> {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/"))?;
        let mut connection =
            client.get_connection_with_timeout(std::time::Duration::from_secs(1))?;
        command.query(&mut connection)
    }

    /// The ports of the nodes that are masters now, by `CLUSTER NODES` of a live node.
    pub fn masters(&self) -> Vec<u16> {
        let live = self.children.iter().map(|(port, _)| *port);
        let nodes = live
            .filter_map(|port| self.ask(port, redis::cmd("CLUSTER").arg("NODES")).ok())
            .find_map(|value| redis::from_redis_value::<String>(&value).ok())
            .unwrap_or_default();
        nodes
            .lines()
            .filter(|line| line.contains("master") && !line.contains("fail"))
            .filter_map(|line| {
                line.split_whitespace()
                    .nth(1)?
                    .split(['@', ':'])
                    .nth(1)?
                    .parse()
                    .ok()
            })
            .collect()
    }

    /// The id of the node at `port`.
    pub fn node_id(&self, port: u16) -> String {
        self.ask(port, redis::cmd("CLUSTER").arg("MYID"))
            .and_then(|value| redis::from_redis_value(&value))
            .expect("CLUSTER MYID")
    }

    /// A master and its replica, as (master port, replica port), by `ROLE` of each node.
    pub fn master_with_replica(&self) -> (u16, u16) {
        let master_of = |port: u16| {
            let role = self.ask(port, &mut redis::cmd("ROLE")).ok()?;
            let role: Vec<redis::Value> = redis::from_redis_value(&role).ok()?;
            redis::from_redis_value::<u16>(role.get(2)?).ok()
        };
        self.ports
            .iter()
            .find_map(|&port| Some((master_of(port)?, port)))
            .expect("a master has a replica")
    }

    /// Waits until the replica at `replica` has every write its master at `master` has.
    pub fn wait_in_sync(&self, master: u16, replica: u16) {
        let offset = |port: u16, field: &str| -> Option<i64> {
            let info = self.ask(port, redis::cmd("INFO").arg("replication")).ok()?;
            let info: String = redis::from_redis_value(&info).ok()?;
            let line = info.lines().find(|line| line.starts_with(field))?;
            line.split(':').nth(1)?.trim().parse().ok()
        };
        for _ in 0..300 {
            let written = offset(master, "master_repl_offset:");
            let copied = offset(replica, "slave_repl_offset:");
            if written.is_some() && copied >= written {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("the replica at {replica} did not catch up with its master at {master}");
    }

    /// Waits until every live node reports the cluster whole (all slots served).
    pub fn wait_until_ok(&self) {
        for _ in 0..300 {
            let ok = self.children.iter().all(|(port, _)| {
                self.ask(*port, redis::cmd("CLUSTER").arg("INFO"))
                    .ok()
                    .and_then(|value| redis::from_redis_value::<String>(&value).ok())
                    .is_some_and(|info| info.contains("cluster_state:ok"))
            });
            if ok {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the Redis Cluster did not become whole");
    }

    /// SIGKILLs the node at `port`, as a crash would.
    pub fn kill(&mut self, port: u16) {
        if let Some(index) = self.children.iter().position(|(p, _)| *p == port) {
            let (_, mut child) = self.children.remove(index);
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGSTOPs (`stopped`) or SIGCONTs the node at `port`: a node that stops answering.
    pub fn freeze(&self, port: u16, stopped: bool) {
        let signal = if stopped {
            libc::SIGSTOP
        } else {
            libc::SIGCONT
        };
        if let Some((_, child)) = self.children.iter().find(|(p, _)| *p == port) {
            // SAFETY: a signal to our own child, which we have not yet waited for.
            unsafe { libc::kill(child.id() as i32, signal) };
        }
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
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
    serve(new_database(redis_url, tune).await).await
}

/// Settings over a new database named for this test, with a Redis key prefix of its own.
async fn new_database(redis_url: &str, tune: impl FnOnce(&mut Settings)) -> Settings {
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
    settings
}

/// A migrated database with an admin key, served by no process yet: for tests whose every
/// instance is an `allot serve` process of their own (see `nats::serve_process_with`).
pub async fn unserved_app() -> TestApp {
    let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let settings = new_database(&redis_url, |_| ()).await;
    let key = create_key(&settings, Role::Admin, &[]).await;
    test_app(String::new(), settings, key)
}

async fn serve(settings: Settings) -> TestApp {
    let application = Application::build(&settings).await.expect("the app starts");
    let key = create_key(&settings, Role::Admin, &[]).await;
    let address = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped());
    test_app(address, settings, key)
}

fn test_app(address: String, settings: Settings, key: String) -> TestApp {
    TestApp {
        address,
        database_url: settings.database_url,
        redis_url: settings.redis_url,
        redis_prefix: settings.redis_prefix,
        redis_cluster: settings.redis_cluster,
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
        redis_cluster: Vec::new(),
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
        let settings = self.settings(1);
        self.with_key(Some(create_key(&settings, role, locations).await))
    }

    /// Settings of another process over this one's database and Redis keys.
    fn settings(&self, db_pool_size: usize) -> Settings {
        let mut settings = test_settings(
            &self.database_url,
            &self.redis_url,
            &self.redis_prefix,
            db_pool_size,
        );
        settings.redis_cluster = self.redis_cluster.clone();
        settings
    }

    /// A second service process over the same database and Redis keys, as in a deployment
    /// with several instances.
    pub async fn another_instance(&self) -> TestApp {
        serve(self.settings(8)).await
    }

    /// Another instance with settings of the test's own (its NATS, say).
    pub async fn another_instance_tuned(&self, tune: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = self.settings(8);
        tune(&mut settings);
        serve(settings).await
    }

    /// Another instance whose pool has `size` connections: with one, a request that needs a
    /// second connection while it holds the first waits for itself until the pool times out.
    pub async fn another_instance_with_pool(&self, size: usize) -> TestApp {
        serve(self.settings(size)).await
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

    /// A connection to this app's Redis, or to its Cluster (which routes each key's command).
    pub fn redis_connection(&self) -> Box<dyn redis::ConnectionLike> {
        if self.redis_cluster.is_empty() {
            let client = redis::Client::open(self.redis_url.as_str()).expect("a Redis URL");
            return Box::new(client.get_connection().expect("Redis is running"));
        }
        let nodes = self
            .redis_cluster
            .iter()
            .map(|node| format!("redis://{node}/"));
        let client = redis::cluster::ClusterClient::new(nodes.collect::<Vec<String>>())
            .expect("cluster nodes");
        Box::new(client.get_connection().expect("the Redis Cluster is up"))
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
