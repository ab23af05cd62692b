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
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "ALLOT_WORKERS")]
    pub workers: Option<usize>,
}
