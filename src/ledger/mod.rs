//! PostgreSQL: the only place with SQL. The ledger is the truth about stock; every function here
//! keeps a balance change and its movements in one transaction.

pub mod access;
pub mod costs;
pub mod events;
pub mod hold_events;
pub mod idempotency;
pub mod locations;
pub mod movements;
pub mod orders;
pub mod plan_runs;
pub mod plans;
pub mod retention;
pub mod skus;
pub mod stock;
pub mod transfers;
pub mod webhooks;

use crate::domain::access::Actor;
use crate::domain::Invalid;
use deadpool_postgres::{
    GenericClient, Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod,
};
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

mod embedded {
    refinery::embed_migrations!("sql");
}

/// Failures of the storage boundary. Expected refusals are values; database faults carry their
/// cause for the log and become an opaque 500 at the HTTP edge.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("{field}: unknown SKU '{code}'")]
    UnknownSku { field: String, code: String },
    #[error("{field}: unknown location '{code}'")]
    UnknownLocation { field: String, code: String },
    /// The request contradicts itself or earlier requests (422).
    #[error("{field}: {message}")]
    Refused { field: String, message: String },
    /// Not enough stock for what the request asks; `field` names the line (409).
    #[error("{field}: {message}")]
    Shortage { field: String, message: String },
    /// The request cannot run now, e.g. it is already in flight (409).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("database error")]
    Database(#[from] tokio_postgres::Error),
    /// A stored row this code wrote does not read back (a fault: it is logged, the client
    /// gets a 500).
    #[error("stored data does not parse: {0}")]
    Corrupt(String),
    #[error("database pool error")]
    Pool(#[from] deadpool_postgres::PoolError),
}

pub type Result<T> = std::result::Result<T, Error>;

/// Makes the rest of the transaction run its statements on generic plans. The writes pass their
/// rows as arrays; for array parameters PostgreSQL re-plans every execution (a custom plan knows
/// the arrays' lengths), and planning cost more than running (0.26 ms against 0.03 ms for the
/// balance lock, docs/BENCHMARKS.md). Their generic plans are index nested loops.
pub async fn generic_plans(transaction: &impl GenericClient) -> Result<()> {
    transaction
        .batch_execute("SET LOCAL plan_cache_mode = force_generic_plan")
        .await?;
    Ok(())
}

/// Attempts of one write that lost to a deadlock or a serialization failure.
pub const TRANSACTION_ATTEMPTS_MAX: usize = 3;

impl Error {
    /// PostgreSQL rolled the transaction back whole to break a deadlock or keep transactions
    /// serializable: running it again is safe, and usually succeeds.
    /// A statement ran past its `statement_timeout`: the database is too slow right now.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Database(error)
            if error.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED))
    }

    pub fn is_transient(&self) -> bool {
        use tokio_postgres::error::SqlState;
        let Self::Database(error) = self else {
            return false;
        };
        [
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::T_R_SERIALIZATION_FAILURE,
        ]
        .iter()
        .any(|state| error.code() == Some(state))
    }
}

/// Runs `work` in a transaction of its own and commits it; a transaction that lost to a
/// deadlock or a serialization failure runs again, at most [`TRANSACTION_ATTEMPTS_MAX`] times,
/// instead of failing the request.
pub async fn in_transaction<T>(
    pool: &Pool,
    actor: &Actor,
    cause: &Cause<'_>,
    work: impl AsyncFn(&deadpool_postgres::Transaction<'_>) -> Result<T>,
) -> Result<T> {
    let mut attempt = 1;
    loop {
        let mut client = pool.get().await?;
        let transaction = client.transaction().await?;
        let done = match act_as(&transaction, actor, cause).await {
            Ok(()) => work(&transaction).await,
            Err(error) => Err(error),
        };
        let error = match done {
            Ok(value) => match transaction.commit().await {
                Ok(()) => return Ok(value),
                Err(error) => Error::from(error),
            },
            Err(error) => error,
        };
        if !error.is_transient() || attempt == TRANSACTION_ATTEMPTS_MAX {
            return Err(error);
        }
        tracing::warn!(attempt, %error, "transaction lost a deadlock or serialization; again");
        attempt += 1;
    }
}

/// Why a write changes stock, as its stock events say (`cause`), beside who made it.
#[derive(Debug, Clone, Copy)]
pub enum Cause<'a> {
    /// A batch of movements, with their kinds and the request's idempotency key.
    Movements {
        kinds: &'a [&'static str],
        key: Option<&'a str>,
    },
    /// An order placed, and the cart hold it consumed.
    Order { id: &'a str, hold: Option<&'a str> },
    /// A step of an order: cancel, fulfil, pickup, return.
    OrderStep { id: &'a str, step: &'static str },
    /// Transfers requested (by a clerk, or for an order).
    Transfers,
    /// A step of a transfer: ship, receive, cancel.
    TransferStep { id: i64, step: &'static str },
    /// A plan's lines committed as transfers.
    Plan { id: i64 },
    /// A location changed (its safety stock moves every balance's availability there).
    Location { code: &'a str },
    /// A test or a tool writing directly.
    Other(&'static str),
}

impl Cause<'_> {
    pub fn to_json(self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Self::Movements { kinds, key } => json!({"movements": kinds, "idempotency_key": key}),
            Self::Order { id, hold } => json!({"order": id, "hold": hold}),
            Self::OrderStep { id, step } => json!({"order": id, "step": step}),
            Self::Transfers => json!({"transfers": "requested"}),
            Self::TransferStep { id, step } => json!({"transfer": id, "step": step}),
            Self::Plan { id } => json!({"plan": id}),
            Self::Location { code } => json!({"location": code}),
            Self::Other(what) => json!({"other": what}),
        }
    }
}

/// Names who makes the transaction's changes and why, in one round trip: the `actor`,
/// `placed_by`, `requested_by`… columns take the actor from here and refuse a write (NOT NULL)
/// whose transaction did not name one; the stock events take both.
pub async fn act_as(
    transaction: &impl GenericClient,
    actor: &Actor,
    cause: &Cause<'_>,
) -> Result<()> {
    transaction
        .cached_query(
            "SELECT set_config('allot.actor', $1, true), set_config('allot.cause', $2, true)",
            &[&actor.to_string(), &cause.to_json().to_string()],
        )
        .await?;
    Ok(())
}

/// Whether the database answers at all (readiness probes).
pub async fn ping(client: &impl GenericClient) -> Result<()> {
    client.execute("SELECT 1", &[]).await?;
    Ok(())
}

/// Queries through each connection's statement cache: a cached statement is one round trip,
/// a fresh one two (prepare, then execute).
#[allow(async_fn_in_trait)]
pub trait Cached: GenericClient {
    async fn cached_query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let statement = self.prepare_cached(sql).await?;
        Ok(self.query(&statement, params).await?)
    }

    async fn cached_query_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>> {
        let statement = self.prepare_cached(sql).await?;
        Ok(self.query_opt(&statement, params).await?)
    }

    async fn cached_query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row> {
        let statement = self.prepare_cached(sql).await?;
        Ok(self.query_one(&statement, params).await?)
    }

    async fn cached_execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let statement = self.prepare_cached(sql).await?;
        Ok(self.execute(&statement, params).await?)
    }
}

impl<T: GenericClient> Cached for T {}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("DATABASE_URL: {0}")]
    Config(#[source] tokio_postgres::Error),
    #[error("database pool: {0}")]
    Pool(#[from] deadpool_postgres::BuildError),
    #[error("connecting to PostgreSQL: {0}")]
    Connect(#[source] tokio_postgres::Error),
    #[error("migrating: {0}")]
    Migrate(#[from] refinery::Error),
}

/// A pool of `size` connections whose statements each run at most `statement_timeout`.
pub fn pool(
    database_url: &str,
    size: usize,
    statement_timeout: Duration,
) -> std::result::Result<Pool, SetupError> {
    let mut config = tokio_postgres::Config::from_str(database_url).map_err(SetupError::Config)?;
    // Per connection, so every statement (and lock wait) is bounded, whoever runs it.
    config.options(format!(
        "-c statement_timeout={}",
        statement_timeout.as_millis()
    ));
    let manager = Manager::from_config(
        config,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Ok(Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(Duration::from_secs(5)))
        .create_timeout(Some(Duration::from_secs(5)))
        .pre_recycle(Hook::sync_fn(|_, metrics| match metrics.age() {
            age if age > CONNECTION_MAX_AGE => Err(HookError::message("replaced by age")),
            _ => Ok(()),
        }))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .build()?)
}

/// A connection is replaced once it is this old. Each connection keeps its statements' generic
/// plans (see [`generic_plans`]), made once from the statistics of that moment; a plan made
/// while `balances` was nearly empty looks rows up by location alone, and where nothing runs
/// ANALYZE (autovacuum off) it would stay: seeding 591,587 new balance rows took 8.4 minutes
/// instead of about half a minute. Replaced connections plan again from the tables' real size.
const CONNECTION_MAX_AGE: Duration = Duration::from_secs(60);

/// Applies pending migrations from `sql/` and says how many ran. Several instances may start at
/// once: an advisory lock lets one migrate while the others wait.
pub async fn migrate(database_url: &str) -> std::result::Result<usize, SetupError> {
    let (mut client, connection) = tokio_postgres::connect(database_url, tokio_postgres::NoTls)
        .await
        .map_err(SetupError::Connect)?;
    let driver = tokio::spawn(connection);
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(SetupError::Connect)?;
    let report = embedded::migrations::runner()
        .run_async(&mut client)
        .await?;
    costs::seed(&client).await.map_err(SetupError::Connect)?;
    drop(client);
    let _ = driver.await;
    Ok(report.applied_migrations().len())
}

const MIGRATION_LOCK: i64 = 7_261_001;
