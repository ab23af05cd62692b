//! The planning runs, the imperative shell around [`crate::planning`] and the solver: lock the
//! night, find or start its plan, read the ledger chunk by chunk, solve off the async threads,
//! save each chunk, then (when asked) commit the plan's lines as transfers in batches. Killing a
//! run at any point and starting it again ends with one plan and one set of transfers.

pub mod report;

use crate::app::App;
use crate::domain::access::Actor;
use crate::domain::plan::PlanStatus;
use crate::domain::Invalid;
use crate::ledger::costs;
use crate::ledger::plan_runs;
use crate::ledger::plans::{self, PlanSummary, Start};
use crate::ledger::transfers::Reason;
use crate::ledger::Error as LedgerError;
use crate::planning::params::{run_date, Demand, Rebalance, Replenish};
use crate::planning::rebalance::{plan_chunk, Stores};
use crate::planning::replenish::{Collector, Site};
use crate::planning::{Kind, RebalanceParams, ReplenishParams, SkuRow, StockRow};
use allot_solver::{Coordinates, SolveError};
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::Pool;
use indicatif::ProgressBar;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("the optimiser failed: {0}")]
    Solver(#[from] SolveError),
    #[error("a planning task stopped: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl From<Invalid> for Error {
    fn from(invalid: Invalid) -> Self {
        Self::Ledger(invalid.into())
    }
}

pub type Result<T> = std::result::Result<T, Error>;

pub use crate::domain::plan::Outcome;

#[derive(Debug, Clone)]
pub struct Run {
    pub outcome: Outcome,
    pub plan: PlanSummary,
}

/// Lines committed per transaction, unless a run says otherwise.
const COMMIT_BATCH: i64 = 500;

/// What a run is asked to do, whichever its kind.
struct Ask {
    kind: Kind,
    date: NaiveDate,
    as_of: DateTime<Utc>,
    commit: bool,
    params: Value,
    /// Who started the run: its commit is theirs.
    actor: Actor,
}

impl Ask {
    fn new(
        kind: Kind,
        date: Option<&str>,
        commit: bool,
        params: &impl serde::Serialize,
        actor: &Actor,
    ) -> Result<Self> {
        let (date, as_of) = run_date(date, Utc::now())?;
        Ok(Self {
            kind,
            date,
            as_of,
            commit,
            params: serde_json::to_value(params).unwrap_or_default(),
            actor: actor.clone(),
        })
    }
}

/// Plans the nightly store-to-store rebalance.
pub async fn rebalance(
    app: &App,
    params: &RebalanceParams,
    actor: &Actor,
    progress: &ProgressBar,
) -> Result<Run> {
    let ask = rebalance_ask(params, actor)?;
    locked(app, ask, progress).await
}

fn rebalance_ask(params: &RebalanceParams, actor: &Actor) -> Result<Ask> {
    params.validated()?;
    let date = params.date.as_deref();
    Ask::new(Kind::Rebalance, date, params.commit, params, actor)
}

/// Plans the warehouse-to-stores replenishment.
pub async fn replenish(
    app: &App,
    params: &ReplenishParams,
    actor: &Actor,
    progress: &ProgressBar,
) -> Result<Run> {
    let ask = replenish_ask(app, params, actor).await?;
    locked(app, ask, progress).await
}

async fn replenish_ask(app: &App, params: &ReplenishParams, actor: &Actor) -> Result<Ask> {
    let settings = params.validated()?;
    // Before the run is recorded: a run that cannot start must leave nothing to resume.
    let client = app.planning_pool.get().await.map_err(LedgerError::from)?;
    plans::warehouse(&client, settings.warehouse.as_deref()).await?;
    drop(client);
    let date = params.date.as_deref();
    Ask::new(Kind::Replenishment, date, params.commit, params, actor)
}

/// Checks a run's parameters as its run will (the warehouse of a replenishment included), and
/// gives its night and the parameters with that night fixed, for the queue.
pub async fn prepare(
    app: &App,
    kind: Kind,
    params: Value,
    actor: &Actor,
) -> Result<(NaiveDate, Value)> {
    let ask = ask(app, kind, params, actor).await?;
    let mut params = ask.params;
    params["date"] = Value::from(ask.date.to_string());
    Ok((ask.date, params))
}

async fn ask(app: &App, kind: Kind, params: Value, actor: &Actor) -> Result<Ask> {
    let invalid = |error: serde_json::Error| Invalid::new("params", error.to_string());
    match kind {
        Kind::Rebalance => {
            let params: RebalanceParams = serde_json::from_value(params).map_err(invalid)?;
            rebalance_ask(&params, actor)
        }
        Kind::Replenishment => {
            let params: ReplenishParams = serde_json::from_value(params).map_err(invalid)?;
            replenish_ask(app, &params, actor).await
        }
    }
}

/// Runs a queued run's parameters on `client`, whose session holds `kind`'s turn already.
pub async fn run_queued(
    app: &App,
    client: &deadpool_postgres::Object,
    kind: Kind,
    params: Value,
    actor: &Actor,
) -> Result<Run> {
    let ask = ask(app, kind, params, actor).await?;
    locked_on(app, client, ask, &ProgressBar::hidden()).await
}

/// Commits a proposed plan (from the planner page): idempotent, and under the night's lock.
pub async fn commit(
    app: &App,
    id: i64,
    actor: &Actor,
    progress: &ProgressBar,
) -> Result<PlanSummary> {
    let pool = &app.planning_pool;
    let plan = plans::get(&pool.get().await.map_err(LedgerError::from)?, id).await?;
    let kind = Kind::parse("kind", &plan.kind)?;
    let lock = pool.get().await.map_err(LedgerError::from)?;
    if !plans::try_lock(&lock, kind, plan.date).await? {
        return Err(busy(kind, plan.date));
    }
    let committed = async {
        plans::start_commit(&lock, id, actor).await?;
        commit_lines(app, id, kind, actor, progress).await?;
        Ok(plans::get(&lock, id).await?)
    }
    .await;
    plans::unlock(&lock, kind, plan.date).await?;
    committed
}

fn busy(kind: Kind, date: NaiveDate) -> Error {
    LedgerError::Conflict(format!(
        "another {} run for {date} is in progress; this one did nothing",
        kind.as_str()
    ))
    .into()
}

async fn locked(app: &App, ask: Ask, progress: &ProgressBar) -> Result<Run> {
    let client = app.planning_pool.get().await.map_err(LedgerError::from)?;
    locked_on(app, &client, ask, progress).await
}

/// Runs `ask` under its kind's turn (one run of a kind at a time, across instances and the
/// CLI) and its night's lock (which a plan's commit takes too).
async fn locked_on(
    app: &App,
    client: &deadpool_postgres::Object,
    ask: Ask,
    progress: &ProgressBar,
) -> Result<Run> {
    if !plan_runs::try_turn(client, ask.kind).await? {
        return Err(LedgerError::Conflict(format!(
            "another {} run is in progress; this one did nothing",
            ask.kind.as_str()
        ))
        .into());
    }
    let run = async {
        if !plans::try_lock(client, ask.kind, ask.date).await? {
            return Err(busy(ask.kind, ask.date));
        }
        let run = run(app, client, &ask, progress).await;
        plans::unlock(client, ask.kind, ask.date).await?;
        run
    }
    .await;
    plan_runs::end_turn(client, ask.kind).await?;
    run
}

async fn run(
    app: &App,
    client: &deadpool_postgres::Object,
    ask: &Ask,
    progress: &ProgressBar,
) -> Result<Run> {
    let pool = &app.planning_pool;
    let (kind, date) = (ask.kind, ask.date);
    let span = tracing::info_span!("plan", kind = kind.as_str(), %date, commit = ask.commit);
    let _entered = span.enter();
    let (id, outcome) =
        match plans::open(client, kind, date, ask.commit, &ask.params, &ask.actor).await? {
            Start::Committed(id) => {
                tracing::info!(
                    plan = id,
                    "the night's plan is committed already; nothing to do"
                );
                let plan = plans::get(client, id).await?;
                return Ok(Run {
                    outcome: Outcome::AlreadyCommitted,
                    plan,
                });
            }
            Start::Committing(id) if !ask.commit => {
                return Err(LedgerError::Conflict(format!(
                    "plan {id} for {date} was being committed when its run stopped; \
                 run with commit to finish it"
                ))
                .into());
            }
            Start::Committing(id) => {
                tracing::info!(plan = id, "finishing an interrupted commit");
                (id, Outcome::Resumed)
            }
            Start::Compute {
                id,
                cursor,
                resumed,
            } => {
                let status = compute(pool, client, ask, id, cursor, resumed, progress).await?;
                let outcome = if resumed {
                    Outcome::Resumed
                } else {
                    Outcome::Planned
                };
                if status == PlanStatus::Proposed {
                    return Ok(Run {
                        outcome,
                        plan: plans::get(client, id).await?,
                    });
                }
                (id, outcome)
            }
        };
    commit_lines(app, id, kind, &ask.actor, progress).await?;
    Ok(Run {
        outcome,
        plan: plans::get(client, id).await?,
    })
}

/// Computes plan `id` from SKU `cursor` on (with the parameters it started with, when resumed)
/// and ends its computation: `proposed` for a dry run, else `committing`.
async fn compute(
    pool: &Pool,
    client: &deadpool_postgres::Object,
    ask: &Ask,
    id: i64,
    cursor: i64,
    resumed: bool,
    progress: &ProgressBar,
) -> Result<PlanStatus> {
    if resumed {
        tracing::info!(plan = id, cursor, "resuming an interrupted plan");
    }
    // A resumed plan keeps the parameters it started with.
    let params = if resumed {
        plans::params(client, id).await?
    } else {
        ask.params.clone()
    };
    match ask.kind {
        Kind::Rebalance => {
            let mut settings = serde_json::from_value::<RebalanceParams>(params)
                .map_err(|e| Invalid::new("params", e.to_string()))?
                .validated()?;
            settings.lane = costs::of_plan(client, id).await?.transfer.from_store;
            compute_rebalance(pool, id, cursor, &settings, ask.as_of, progress).await?;
            Ok(plans::finish_compute(client, id).await?)
        }
        Kind::Replenishment => {
            let mut settings = serde_json::from_value::<ReplenishParams>(params)
                .map_err(|e| Invalid::new("params", e.to_string()))?
                .validated()?;
            settings.lane = costs::of_plan(client, id).await?.transfer.from_warehouse;
            compute_replenishment(pool, id, &settings, ask.as_of, progress).await
        }
    }
}

fn position(latitude: f64, longitude: f64) -> Coordinates {
    Coordinates {
        lat: latitude,
        lon: longitude,
    }
}

/// Walks the SKUs after a cursor, a chunk at a time, and shows the progress.
struct Chunks<'a> {
    client: deadpool_postgres::Object,
    cursor: i64,
    chunk: i64,
    progress: &'a ProgressBar,
}

impl<'a> Chunks<'a> {
    async fn new(pool: &Pool, cursor: i64, chunk: i64, progress: &'a ProgressBar) -> Result<Self> {
        let client = pool.get().await.map_err(LedgerError::from)?;
        progress.set_length(plans::sku_count(&client, cursor).await? as u64);
        progress.set_position(0);
        Ok(Self {
            client,
            cursor,
            chunk,
            progress,
        })
    }

    /// The next chunk; `None` at the end.
    async fn next(&mut self) -> Result<Option<Chunk>> {
        let skus = plans::next_skus(&self.client, self.cursor, self.chunk).await?;
        Ok(skus.last().map(|last| last.id).map(|last| {
            let from = std::mem::replace(&mut self.cursor, last);
            Chunk {
                skus,
                cursor: (from, last),
            }
        }))
    }

    /// The next chunk with its stores' stock; `None` at the end.
    async fn next_with_stock(
        &mut self,
        as_of: DateTime<Utc>,
        demand: Demand,
    ) -> Result<Option<(Chunk, Vec<StockRow>)>> {
        let Some(chunk) = self.next().await? else {
            return Ok(None);
        };
        let ids: Vec<i64> = chunk.skus.iter().map(|sku| sku.id).collect();
        let rows = plans::store_stock(&self.client, &ids, as_of, demand).await?;
        Ok(Some((chunk, rows)))
    }

    /// Logs a chunk planned, `cursor` the last SKU it held.
    fn done(&self, count: usize, cursor: i64) {
        self.progress.inc(count as u64);
        tracing::info!(
            skus_done = self.progress.position(),
            skus_total = self.progress.length().unwrap_or(0),
            skus_per_second = self.progress.per_sec().round(),
            eta_seconds = self.progress.eta().as_secs(),
            cursor,
            "chunk planned"
        );
    }
}

/// SKUs planned together, and the plan's cursor before and after them.
struct Chunk {
    skus: Vec<SkuRow>,
    cursor: (i64, i64),
}

async fn compute_rebalance(
    pool: &Pool,
    id: i64,
    cursor: i64,
    settings: &Rebalance,
    as_of: DateTime<Utc>,
    progress: &ProgressBar,
) -> Result<()> {
    let mut chunks = Chunks::new(pool, cursor, settings.chunk_skus, progress).await?;
    let stores = Stores::new(
        plans::stores(&chunks.client)
            .await?
            .into_iter()
            .map(|s| (s.id, s.code, position(s.latitude, s.longitude))),
    );
    let stores = std::sync::Arc::new(stores);
    // A pipeline over chunks: while chunk k is solved (on every core), chunk k + 1 is read and
    // chunk k − 1 saved. Saves run one at a time and in order, so the plan's cursor only ever
    // moves forward and a killed run resumes after the last chunk saved.
    let mut upcoming = chunks.next_with_stock(as_of, settings.demand).await?;
    let mut saving: Option<tokio::task::JoinHandle<Result<()>>> = None;
    while let Some((Chunk { skus, cursor }, rows)) = upcoming {
        record_sales(&chunks.client, &rows, settings.demand).await?;
        let (stores, chunk_settings, count) = (stores.clone(), settings.clone(), skus.len());
        let solving = tokio::task::spawn_blocking(move || {
            plan_chunk(&stores, &skus, &rows, &chunk_settings, None)
        });
        upcoming = chunks.next_with_stock(as_of, settings.demand).await?;
        let plan = solving.await??;
        if let Some(previous) = saving.take() {
            previous.await??;
        }
        let pool = pool.clone();
        saving = Some(tokio::spawn(async move {
            let (lines, skipped) = (&plan.lines, &plan.skipped);
            Ok(plans::save_chunk(&pool, id, cursor, lines, skipped, plan.counts).await?)
        }));
        chunks.done(count, cursor.1);
    }
    if let Some(previous) = saving {
        previous.await??;
    }
    Ok(())
}

async fn compute_replenishment(
    pool: &Pool,
    id: i64,
    settings: &Replenish,
    as_of: DateTime<Utc>,
    progress: &ProgressBar,
) -> Result<PlanStatus> {
    let mut chunks = Chunks::new(pool, 0, 2_000, progress).await?;
    let client = &chunks.client;
    let warehouse = plans::warehouse(client, settings.warehouse.as_deref()).await?;
    let site = |s: plans::Store| Site {
        id: s.id,
        code: s.code,
        position: position(s.latitude, s.longitude),
    };
    let warehouse_id = warehouse.id;
    let stores = plans::stores(client).await?.into_iter().map(site).collect();
    let mut collector = Collector::new(site(warehouse), stores, settings.clone());
    while let Some(chunk) = chunks.next().await? {
        let ids: Vec<i64> = chunk.skus.iter().map(|sku| sku.id).collect();
        let store_rows = plans::store_stock(&chunks.client, &ids, as_of, settings.demand).await?;
        record_sales(&chunks.client, &store_rows, settings.demand).await?;
        let warehouse_rows = plans::location_stock(&chunks.client, warehouse_id, &ids).await?;
        collector.add(&chunk.skus, &store_rows, &warehouse_rows);
        chunks.done(chunk.skus.len(), chunk.cursor.1);
    }
    let plan = tokio::task::spawn_blocking(move || collector.solve()).await??;
    Ok(plans::save_whole(pool, id, &plan.lines, &plan.skipped, plan.counts).await?)
}

/// Keeps each store's measured sales per day, for routing's protection of fast sellers.
async fn record_sales(
    client: &deadpool_postgres::Client,
    rows: &[StockRow],
    demand: Demand,
) -> Result<()> {
    let mut measured: Vec<i64> = rows.iter().map(|row| row.sku_id).collect();
    measured.sort_unstable();
    measured.dedup();
    // Only sellers are kept: a chain has far more (store, SKU) pairs than it sells each week.
    let (mut skus, mut locations, mut per_day) = (Vec::new(), Vec::new(), Vec::new());
    for row in rows {
        let sold = row.position(demand).demand_per_day;
        if sold > 0.0 {
            skus.push(row.sku_id);
            locations.push(row.location_id);
            per_day.push(sold);
        }
    }
    Ok(costs::record_sold_per_day(client, &measured, &skus, &locations, &per_day).await?)
}

async fn commit_lines(
    app: &App,
    id: i64,
    kind: Kind,
    actor: &Actor,
    progress: &ProgressBar,
) -> Result<()> {
    let pool = &app.planning_pool;
    let reason = match kind {
        Kind::Rebalance => Reason::Rebalance,
        Kind::Replenishment => Reason::Replenishment,
    };
    let client = pool.get().await.map_err(LedgerError::from)?;
    // The batch the run was started with (validated then); a resumed commit keeps it.
    let batch_size = plans::params(&client, id)
        .await?
        .get("commit_batch")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(COMMIT_BATCH)
        .clamp(1, 10_000);
    progress.set_length(plans::uncommitted_lines(&client, id).await? as u64);
    progress.set_position(0);
    loop {
        let batch = plans::commit_batch(pool, actor, id, reason, batch_size).await?;
        let done = batch.transfers + batch.dropped;
        if done == 0 {
            break;
        }
        // The sources' allocations grew: Redis's copies follow, as after any ledger write.
        app.synced(&batch.balances).await;
        progress.inc(done as u64);
        tracing::info!(
            plan = id,
            transfers = batch.transfers,
            dropped = batch.dropped,
            units_short = batch.units_short,
            lines_done = progress.position(),
            lines_total = progress.length().unwrap_or(0),
            "commit batch saved"
        );
    }
    plans::finish_commit(&client, id).await?;
    Ok(())
}
