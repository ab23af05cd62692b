//! The application layer: one function per use case, the only place that runs a write. HTTP
//! handlers, the CLI, the demo loader and the planning jobs call these; they in turn drive the
//! adapters (`ledger` for PostgreSQL, `holds` for Redis, `routing` for the optimiser).
//!
//! Every ledger write returns the balances it touched, and [`App::synced`] hands them to Redis:
//! the one place "after every ledger write, tell Redis" is kept, so no caller can forget it.
//! Types the adapters answer with are re-exported here, so callers never name an adapter.

pub mod access;
pub mod catalog;
pub mod costs;
pub mod error;
pub mod events;
pub mod hold_events;
pub mod holds;
pub mod housekeeping;
pub mod movements;
pub mod orders;
pub mod planner;
pub mod plans;
pub mod queries;
pub mod retention;
pub mod transfers;
pub mod webhooks;

pub use crate::domain::idempotency::Key;
pub use crate::ledger::movements::{Line, Recorded, Reply};
pub use error::{Dependency, Error, Result};

use crate::broker::Broker;
use crate::domain::access::{Actor, Principal};
use crate::holds::{lifecycle, Base, HoldLimits, Redis};
use crate::ledger::{self, movements::TouchedBalance};
use crate::lookup::StockCache;
use deadpool_postgres::Pool;
use std::sync::Arc;
use std::time::Duration;

/// What every use case runs with: the ledger's pool, Redis and this process's stock copies.
pub struct App {
    pub pool: Pool,
    pub redis: Arc<Redis>,
    pub stock: StockCache,
    pub(crate) credentials: access::Credentials,
    /// Holds and orders each credential may place, per second and in a burst.
    rate: governor::DefaultKeyedRateLimiter<String>,
    /// Where stock events are published; `None` when NATS_URL is empty.
    pub broker: Option<Broker>,
    /// How long stock events are kept once delivered.
    pub events_retention: chrono::Duration,
    /// How long `Idempotency-Key` records are kept.
    pub idempotency_retention: chrono::Duration,
    /// The planning runs' own connections (a longer statement timeout), off the request pool.
    pub planning_pool: Pool,
    /// How many solves may run at once, and how large one may be.
    pub solvers: crate::routing::Solvers,
    /// Wakes this instance's planners when a run is queued here.
    pub(crate) planner_wake: tokio::sync::Notify,
    /// The runs the planners queue each night by themselves, at a UTC time.
    pub schedule: Vec<(crate::domain::plan::Kind, chrono::NaiveTime)>,
    /// Sends webhook deliveries (each request bounded by `webhook_timing.timeout`).
    pub(crate) http: reqwest::Client,
    pub webhook_timing: webhooks::Timing,
    /// A chain-wide `low_stock` event fires when a SKU's total available falls below this.
    pub chain_low_stock_below: i64,
    /// The places hold requests touched, for the coalesced hold events.
    pub(crate) hold_changes: hold_events::HoldChanges,
}

/// Solves one instance runs at once by default (each on a blocking thread, most under 1 ms).
pub const SOLVES_MAX_DEFAULT: usize = 64;
/// How long a request waits for a solver by default before a 503.
pub const SOLVE_WAIT_MS_DEFAULT: u64 = 2_000;
/// Candidate locations × order lines one request may give the solver by default: 1,000
/// stores holding every SKU of a 50-line order.
pub const SOLVE_CELLS_MAX_DEFAULT: usize = 50_000;

/// Connections of the planning pool: a run uses two or three at once (read, solve, save), and
/// the planners of both kinds may run at once.
const PLANNING_POOL_SIZE: usize = 8;

impl App {
    pub fn new(
        pool: Pool,
        redis: Arc<Redis>,
        stock: StockCache,
        rate: governor::Quota,
        broker: Option<Broker>,
    ) -> Self {
        Self {
            redis,
            stock,
            credentials: access::Credentials::default(),
            rate: governor::RateLimiter::keyed(rate),
            planning_pool: pool.clone(),
            pool,
            broker,
            events_retention: chrono::Duration::days(7),
            idempotency_retention: chrono::Duration::days(7),
            solvers: crate::routing::Solvers::new(
                SOLVES_MAX_DEFAULT,
                Duration::from_millis(SOLVE_WAIT_MS_DEFAULT),
                SOLVE_CELLS_MAX_DEFAULT,
            ),
            planner_wake: tokio::sync::Notify::new(),
            schedule: Vec::new(),
            http: reqwest::Client::new(),
            webhook_timing: webhooks::Timing::default(),
            chain_low_stock_below: 0,
            hold_changes: hold_events::HoldChanges::default(),
        }
    }

    /// Routes `request` under the cost model `costs`, within this instance's solver bounds.
    pub(crate) async fn route(
        &self,
        request: &crate::routing::Request,
        costs: &ledger::costs::Versioned,
    ) -> Result<crate::routing::Routed> {
        let (stock, pool, redis) = (&self.stock, &self.pool, &self.redis);
        Ok(crate::routing::route(stock, pool, redis, request, costs, &self.solvers).await?)
    }

    /// Counts a hold or an order against `by`'s rate; trusted code on the server has none.
    pub(crate) fn within_rate(&self, by: &Principal) -> Result<()> {
        if matches!(by.actor, Actor::System(_)) {
            return Ok(());
        }
        match self.rate.check_key(&by.actor.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                ));
                Err(Error::RateLimited {
                    retry_after_s: wait.as_secs().max(1),
                })
            }
        }
    }

    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object> {
        Ok(self.pool.get().await.map_err(ledger::Error::from)?)
    }

    /// Redis learns the bases of the balances a committed write touched, and their SKUs' stamps
    /// move, so holds and every process's lookups see the write.
    pub(crate) async fn synced(&self, balances: &[TouchedBalance]) {
        let bases: Vec<Base> = balances.iter().map(base_of).collect();
        lifecycle::changed(&self.redis, &bases).await;
    }
}

fn base_of(balance: &TouchedBalance) -> Base<'_> {
    Base {
        sku: &balance.sku,
        location: &balance.location,
        units: balance.on_hand - balance.allocated - balance.safety_stock,
        version: balance.version,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Ledger(#[from] ledger::SetupError),
    #[error("REDIS_URL: {0}")]
    Redis(#[from] redis::RedisError),
}

impl App {
    /// Migrates the database and opens the pools, as the service and every CLI command do.
    pub async fn open(
        settings: &crate::config::Settings,
        pool_size: usize,
    ) -> std::result::Result<Self, OpenError> {
        let applied = ledger::migrate(&settings.database_url).await?;
        if applied > 0 {
            tracing::info!(applied, "database migrated");
        }
        let limits = HoldLimits {
            lifetime_ms: settings.hold_lifetime_s.saturating_mul(1000),
            live_per_actor: settings.live_holds_max,
        };
        let rate = governor::Quota::per_second(settings.rate_per_s)
            .allow_burst(settings.rate_burst.unwrap_or(settings.rate_per_s));
        let mut app = Self::new(
            ledger::pool(
                &settings.database_url,
                pool_size,
                Duration::from_millis(settings.statement_timeout_ms),
            )?,
            Arc::new(Redis::new(
                &settings.redis_url,
                &settings.redis_cluster,
                &settings.redis_prefix,
                limits,
            )?),
            StockCache::new(settings.stock_cache_rows),
            rate,
            (!settings.nats_url.is_empty()).then(|| {
                Broker::new(
                    &settings.nats_url,
                    &settings.nats_prefix,
                    &settings.nats_stream,
                )
            }),
        );
        app.events_retention = chrono::Duration::seconds(settings.events_retention_s);
        app.idempotency_retention = chrono::Duration::seconds(settings.idempotency_retention_s);
        app.solvers = crate::routing::Solvers::new(
            settings.solves_max,
            Duration::from_millis(settings.solve_wait_ms),
            settings.solve_cells_max,
        );
        app.webhook_timing = webhooks::Timing {
            timeout: Duration::from_millis(settings.webhook_timeout_ms),
            retry_base: Duration::from_millis(settings.webhook_retry_base_ms),
            disable_after: chrono::TimeDelta::seconds(settings.webhook_disable_after_s),
        };
        app.chain_low_stock_below = settings.chain_low_stock_below;
        use crate::domain::plan::Kind;
        app.schedule = [
            (Kind::Rebalance, settings.rebalance_at),
            (Kind::Replenishment, settings.replenish_at),
        ]
        .into_iter()
        .filter_map(|(kind, at)| Some((kind, at?)))
        .collect();
        app.planning_pool = ledger::pool(
            &settings.database_url,
            PLANNING_POOL_SIZE,
            Duration::from_millis(settings.planning_statement_timeout_ms),
        )?;
        Ok(app)
    }
}
