//! Settings from the environment, with defaults that work on a development machine.

use std::net::SocketAddr;

#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// PostgreSQL connection string.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/allot"
    )]
    pub database_url: String,
    /// Redis connection string.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379/")]
    pub redis_url: String,
    /// Seed nodes (`host:port,host:port,…`) of a Redis Cluster to keep holds in instead of the
    /// single Redis at `REDIS_URL`; empty for a single Redis.
    #[arg(long, env = "ALLOT_REDIS_CLUSTER", value_delimiter = ',')]
    pub redis_cluster: Vec<String>,
    /// Prefix of every Redis key this instance uses (tests give each run its own).
    #[arg(long, env = "ALLOT_REDIS_PREFIX", default_value = "allot")]
    pub redis_prefix: String,
    /// Address the HTTP server listens on; port 0 picks a free one.
    #[arg(long, env = "ALLOT_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// PostgreSQL connections in the pool.
    #[arg(long, env = "ALLOT_DB_POOL_SIZE", default_value_t = 32)]
    pub db_pool_size: usize,
    /// Balance rows of SKUs that clerk lookups keep in memory (about 40 bytes each).
    #[arg(long, env = "ALLOT_STOCK_CACHE_ROWS", default_value_t = 2_000_000)]
    pub stock_cache_rows: u64,
    /// Who may read /metrics and /openapi.json without a credential.
    #[arg(
        long,
        env = "ALLOT_METRICS_ACCESS",
        value_enum,
        default_value = "loopback"
    )]
    pub metrics_access: crate::api::access::Exposure,
    /// Origins (`https://shop.example`) whose pages may call the API from a browser,
    /// comma-separated; none by default.
    #[arg(long, env = "ALLOT_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Holds and orders one credential may place per second (the rate refills at this pace).
    #[arg(long, env = "ALLOT_RATE_PER_S", default_value = "1000")]
    pub rate_per_s: std::num::NonZeroU32,
    /// How many it may place at once before the rate applies (default: one second's worth).
    #[arg(long, env = "ALLOT_RATE_BURST")]
    pub rate_burst: Option<std::num::NonZeroU32>,
    /// Live holds one credential may have at once.
    #[arg(long, env = "ALLOT_LIVE_HOLDS_MAX", value_parser = clap::value_parser!(i64).range(1..),
          default_value_t = crate::domain::hold::LIVE_HOLDS_PER_CREDENTIAL_DEFAULT)]
    pub live_holds_max: i64,
    /// The longest a hold lives from its placement, however often it is extended (seconds).
    #[arg(long, env = "ALLOT_HOLD_LIFETIME_S", value_parser = clap::value_parser!(i64).range(1..),
          default_value_t = crate::domain::hold::HOLD_LIFETIME_S_DEFAULT)]
    pub hold_lifetime_s: i64,
    /// The NATS server stock events are published to (JetStream); empty: not published.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// First token of every subject Allot publishes (`allot.stock.<sku>.<location>`).
    #[arg(long, env = "ALLOT_NATS_PREFIX", default_value = "allot")]
    pub nats_prefix: String,
    /// The JetStream stream that stores them (created when missing).
    #[arg(long, env = "ALLOT_NATS_STREAM", default_value = "ALLOT_STOCK")]
    pub nats_stream: String,
    /// How long stock events are kept once every sink delivered them (seconds); a feed
    /// consumer further behind starts again from `GET /v1/availability/export`.
    #[arg(long, env = "ALLOT_EVENTS_RETENTION_S", value_parser = clap::value_parser!(i64).range(1..),
          default_value_t = 7 * 24 * 3600)]
    pub events_retention_s: i64,
    /// Longest a request's SQL statement may run, lock waits included (ms): past it the
    /// request answers 503 instead of hanging.
    #[arg(long, env = "ALLOT_STATEMENT_TIMEOUT_MS",
          value_parser = clap::value_parser!(u64).range(1..=600_000), default_value_t = 5_000)]
    pub statement_timeout_ms: u64,
    /// Longest a planning run's SQL statement may run (ms); runs read whole chunks of the chain.
    #[arg(long, env = "ALLOT_PLANNING_STATEMENT_TIMEOUT_MS",
          value_parser = clap::value_parser!(u64).range(1..=86_400_000), default_value_t = 1_800_000)]
    pub planning_statement_timeout_ms: u64,
    /// How long `Idempotency-Key` records are kept (seconds); a retry later than that runs anew.
    #[arg(long, env = "ALLOT_IDEMPOTENCY_RETENTION_S",
          value_parser = clap::value_parser!(i64).range(1..), default_value_t = 7 * 24 * 3600)]
    pub idempotency_retention_s: i64,
    /// Sourcing solves one instance runs at once; more wait (see `solve_wait_ms`).
    #[arg(long, env = "ALLOT_SOLVES_MAX", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4096),
          default_value_t = crate::app::SOLVES_MAX_DEFAULT)]
    pub solves_max: usize,
    /// How long a request waits for a solver before answering 503 (ms).
    #[arg(long, env = "ALLOT_SOLVE_WAIT_MS", value_parser = clap::value_parser!(u64).range(0..=60_000),
          default_value_t = crate::app::SOLVE_WAIT_MS_DEFAULT)]
    pub solve_wait_ms: u64,
    /// Candidate locations × lines one request may give the solver; more is a 422.
    #[arg(long, env = "ALLOT_SOLVE_CELLS_MAX",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=200_000),
          default_value_t = crate::app::SOLVE_CELLS_MAX_DEFAULT)]
    pub solve_cells_max: usize,
    /// Each day from this UTC time (`HH:MM`) on, the service queues and commits the night's
    /// store-to-store rebalance once; unset: only when asked.
    #[arg(long, env = "ALLOT_REBALANCE_AT", value_parser = crate::app::planner::parse_time)]
    pub rebalance_at: Option<chrono::NaiveTime>,
    /// The same for the warehouse replenishment.
    #[arg(long, env = "ALLOT_REPLENISH_AT", value_parser = crate::app::planner::parse_time)]
    pub replenish_at: Option<chrono::NaiveTime>,
    /// Longest a webhook endpoint may take to answer a delivery (ms); past it the delivery failed.
    #[arg(long, env = "ALLOT_WEBHOOK_TIMEOUT_MS", value_parser = clap::value_parser!(u64).range(1..=60_000),
          default_value_t = 10_000)]
    pub webhook_timeout_ms: u64,
    /// Delay before a failed delivery's first retry (ms); it doubles per failure, to 1 h at most.
    #[arg(long, env = "ALLOT_WEBHOOK_RETRY_BASE_MS", value_parser = clap::value_parser!(u64).range(1..=3_600_000),
          default_value_t = 5_000)]
    pub webhook_retry_base_ms: u64,
    /// A subscription failing this long is disabled (seconds; a redelivery enables it again).
    #[arg(long, env = "ALLOT_WEBHOOK_DISABLE_AFTER_S", value_parser = clap::value_parser!(i64).range(1..),
          default_value_t = 24 * 3600)]
    pub webhook_disable_after_s: i64,
    /// A chain-wide `low_stock` event fires when a SKU's available across every location falls
    /// below this (0: never). Give every instance the same: whichever numbers events applies it.
    #[arg(long, env = "ALLOT_CHAIN_LOW_STOCK_BELOW", value_parser = clap::value_parser!(i64).range(0..=100_000_000),
          default_value_t = 0)]
    pub chain_low_stock_below: i64,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "ALLOT_WORKERS")]
    pub workers: Option<usize>,
}
